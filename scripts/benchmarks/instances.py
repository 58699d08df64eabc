"""The instances section: one gateway on SQLite, then 1, 2 and 3 on one PostgreSQL database.

Each run has a broker and a database of its own (a fresh SQLite file, or a fresh
PostgreSQL database on 127.0.0.1:5432 or ``SCGW_TEST_POSTGRES_URL``); the gateways share
the MOs through the MQTT v5 shared subscription ``$share/scgw/sms/mo/#``. The load is
the closed loop of the *mixed* MOs (the scale section's), with a window wide enough to
keep three instances busy; the subscribers are auto-provisioned on their first MO.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import pytest

from benchmarks.common import MQTT_CLOCK, BenchError, Context, Json, say
from benchmarks.mqtt import load_spec, measure
from benchmarks.processes import broker, cpu_seconds, gateway_env, gateway_pid
from tests.postgres_support import fresh_database
from tests.support import GatewayProcess, Mosquitto

#: (engine, instances) measured, in this order
RUNS = (("sqlite", 1), ("postgres", 1), ("postgres", 2), ("postgres", 3))
#: outstanding MOs at most: 64 per instance of the widest run, the same for every run
WINDOW = 192


@contextlib.contextmanager
def _database(ctx: Context, engine: str, tag: str) -> Iterator[str]:
    if engine == "sqlite":
        yield f"sqlite:///{ctx.workdir / f'instances-{tag}.db'}"
        return
    with contextlib.ExitStack() as stack:
        try:
            url = stack.enter_context(fresh_database())
        except (Exception, pytest.skip.Exception) as exc:  # skipped: no server answers
            raise BenchError(f"no PostgreSQL server: {exc}") from exc
        yield url


@contextlib.contextmanager
def _gateways(
    ctx: Context, mosquitto: Mosquitto, url: str, count: int, tag: str
) -> Iterator[list[GatewayProcess]]:
    started: list[GatewayProcess] = []
    try:
        for n in range(count):
            folder = ctx.workdir / f"instances-{tag}-{n}"
            folder.mkdir()
            env = gateway_env(mosquitto, folder / "unused.db", MQTT_CLOCK)
            env.update(
                SCGW_DATABASE_URL=url,
                SCGW_DEFAULT_BALANCE="1000000000",
                SCGW_MO_RATE_LIMIT="0",
            )
            if url.startswith("postgresql://"):
                env["SCGW_INSTANCE_ID"] = f"bench-{n}"
            started.append(GatewayProcess(folder, env).start(timeout=120))
        yield started
    finally:
        for process in started:
            process.stop()


def instances_section(ctx: Context) -> Json:
    cfg = ctx.cfg
    out: Json = {}
    for engine, count in RUNS:
        tag = f"{engine}-{count}"
        label = f"instances: {count} on {engine}"
        with (
            broker(ctx.workdir) as mosquitto,
            _database(ctx, engine, tag) as url,
            _gateways(ctx, mosquitto, url, count, tag) as gateways,
        ):
            pids = [gateway_pid(g) for g in gateways]
            spec = load_spec(cfg, mosquitto.port, f"i{tag}", mix="mixed", senders=cfg.subscribers)
            spec["window"] = WINDOW
            say(f"{label}: closed loop, {cfg.messages} MOs, window {WINDOW}")
            cpu = sum(cpu_seconds(p) for p in pids)
            run = measure(ctx, spec, pids[0], label)
            cpu = sum(cpu_seconds(p) for p in pids) - cpu
        # every gateway's CPU, warm-up included (measure's own figure is one process's)
        run["gateways_cpu_us_per_mo"] = cpu * 1e6 / (cfg.warmup + run["count"])
        out[tag] = {"engine": engine, "instances": count, **run}
        say(f"{label}: {run['rate']:,.0f} MO/s, p99 {run['p99_ms']:.0f} ms")
    base = out["postgres-1"]["rate"]
    out["speedup_2"] = out["postgres-2"]["rate"] / base
    out["speedup_3"] = out["postgres-3"]["rate"] / base
    out["postgres_vs_sqlite"] = base / out["sqlite-1"]["rate"]
    return out
