"""The scale and start-up sections: a small vs a large subscriber table; start-up time.

Scale runs the gateway's closed loop (the *mixed* MOs) on each table; start-up times
spawn-to-healthy on the large one.
"""

from __future__ import annotations

import time

from benchmarks.common import MQTT_CLOCK, Context, Json, say
from benchmarks.loading import load_subscribers, remove_db
from benchmarks.mqtt import load_spec, measure
from benchmarks.processes import broker, gateway, gateway_pid


def scale_section(ctx: Context) -> Json:
    cfg = ctx.cfg
    out: Json = {}
    with broker(ctx.workdir) as mosquitto:
        for label, size in zip(("small", "big"), cfg.scale, strict=True):
            db = ctx.workdir / f"scale-{size}.db"
            say(f"scale: loading {size:,} subscribers")
            loaded = load_subscribers(db, size)
            stride = max(1, size // cfg.subscribers)
            with gateway(ctx.workdir, mosquitto, db, MQTT_CLOCK) as gw:
                say(f"scale: closed loop with {size:,} subscribers in the database")
                spec = load_spec(
                    cfg, mosquitto.port, f"s{size}", mix="mixed", senders=cfg.subscribers,
                    stride=stride,
                )  # fmt: skip
                run = measure(ctx, spec, gateway_pid(gw), f"scale: {size:,} subscribers")
                out[label] = {"subscribers": size, "load_s": loaded, **run}
            if label == "big" and "startup" in cfg.sections:
                ctx.big_db = db  # the start-up section reuses it
            else:
                remove_db(db)
    out["ratio"] = out["big"]["rate"] / out["small"]["rate"]
    return out


def startup_section(ctx: Context) -> Json:
    cfg, db = ctx.cfg, ctx.big_db
    if db is None:
        db = ctx.workdir / "startup.db"
        say(f"startup: loading {cfg.startup_subscribers:,} subscribers")
        load_subscribers(db, cfg.startup_subscribers)
    times = []
    with broker(ctx.workdir) as mosquitto:
        for run in range(cfg.startup_runs):
            started = time.monotonic()
            with gateway(ctx.workdir, mosquitto, db, MQTT_CLOCK):
                times.append(time.monotonic() - started)
            say(f"startup: run {run + 1}: {times[-1]:.2f}s to healthy")
    remove_db(db)
    return {
        "subscribers": cfg.startup_subscribers,
        "runs_s": times,
        "median_s": sorted(times)[len(times) // 2],
        "max_s": max(times),
    }
