"""The MQTT section: MO -> MT round trips of the gateway against a bare paho echo.

For each broker setting (``set_tcp_nodelay`` on, and mosquitto's default) and each mix
(*writes*, *mixed*): a closed loop against the echo and against the gateway (N MOs, at
most W outstanding, after a warm-up), then an open loop at half the gateway's closed-loop
rate against both. The responder's CPU time over the measured part, divided by the MOs
answered, gives CPU µs per MO of each.
"""

from __future__ import annotations

import uuid
from pathlib import Path

from benchmarks.common import MIX_SENDERS, MIXES, MQTT_CLOCK, BenchError, Config, Context, Json, say
from benchmarks.loading import db_counts, load_subscribers, remove_db
from benchmarks.processes import broker, cpu_seconds, gateway, gateway_pid, worker
from benchmarks.progress import bar
from tests.support import Mosquitto


def load_spec(
    cfg: Config,
    port: int,
    tag: str,
    *,
    mix: str,
    senders: int,
    offset: int = 0,
    stride: int = 1,
    rate: float | None = None,
) -> Json:
    """What a load generator sends: a closed loop, or an open loop at ``rate``."""
    spec: Json = {
        "port": port,
        "mode": "closed" if rate is None else "open",
        "tag": f"{tag}-{uuid.uuid4().hex[:6]}",
        "mix": mix,
        "senders": senders,
        "stride": stride,
        "offset": offset,
        "window": cfg.window,
        "warmup": cfg.warmup if rate is None else 0,
        "count": cfg.messages,
    }
    if rate is not None:
        spec.update(rate=rate, count=max(1, round(rate * cfg.open_seconds)))
    return spec


def measure(ctx: Context, spec: Json, pid: int, label: str) -> Json:
    """One loop against the responder ``pid``; its CPU µs per MO over the measured part."""
    with worker("load", spec, ctx.workdir) as load:
        total = load.expect("start", 3600)["total"]
        cpu = cpu_seconds(pid)
        with bar(label, total) as update:
            result = load.expect("result", 3600, update)
        cpu = cpu_seconds(pid) - cpu
    result.pop("event")
    count = result["count"]
    if count <= 0:
        raise BenchError(f"{label}: the load generator got no replies: {result}")
    result["cpu_us_per_mo"] = cpu * 1e6 / count
    result["load_cpu_us_per_mo"] = result.pop("cpu_s") * 1e6 / count
    return result


def _writes_expected(senders: int, sent: int) -> tuple[int, int]:
    """(DK, HUY) among MOs 0..sent-1 of the *writes* mix: subscriber i % M alternates."""
    dk = sum(1 for i in range(sent) if (i // senders) % 2 == 0)
    return dk, sent - dk


def _check(db: Path, mix: str, senders: int, sent: int) -> Json:
    inbound, charges, closed = db_counts(
        db,
        "SELECT count(*) FROM inbound",
        "SELECT count(*) FROM charges WHERE amount > 0",
        "SELECT count(*) FROM subscriptions WHERE status NOT IN ('active', 'pending_cancel')",
    )
    if inbound != sent:
        raise BenchError(f"{mix}: the gateway recorded {inbound} MOs, {sent} were sent")
    if mix == "writes":
        dk, huy = _writes_expected(senders, sent)
        if (charges, closed) != (dk, huy):
            raise BenchError(
                f"writes: {dk} DK and {huy} HUY sent, but {charges} charges and {closed}"
                " subscriptions ended: not every MO was a write"
            )
    return {"mos_recorded": inbound, "charges": charges, "subscriptions_ended": closed}


def _ratios(run: Json) -> Json:
    echo, gw = run["echo_closed"], run["gateway_closed"]
    return {
        "throughput_ratio": gw["rate"] / echo["rate"],
        "cpu_ratio": gw["cpu_us_per_mo"] / echo["cpu_us_per_mo"],
        "p99_ratio": run["gateway_open"]["p99_ms"] / max(run["echo_open"]["p99_ms"], 1e-9),
    }


def mix_run(ctx: Context, mosquitto: Mosquitto, mix: str, setting: str) -> Json:
    """One mix on one broker: echo and gateway, closed then open loop."""
    cfg, port = ctx.cfg, mosquitto.port
    senders = MIX_SENDERS[mix]
    db = ctx.workdir / f"mqtt-{mix}-{setting}.db"
    load_subscribers(db, senders)
    name = f"{mix}, {setting}"
    out: Json = {"mix": mix, "texts": list(MIXES[mix]), "senders": senders}

    def spec(tag: str, offset: int = 0, rate: float | None = None) -> Json:
        return load_spec(cfg, port, tag, mix=mix, senders=senders, offset=offset, rate=rate)

    say(f"mqtt: {name}: {cfg.messages} MOs from {senders} subscribers, window {cfg.window}")
    with worker("echo", {"port": port}, ctx.workdir) as echo:
        out["echo_closed"] = measure(ctx, spec("echo"), echo.pid, f"{name}: echo, closed")
    with gateway(ctx.workdir, mosquitto, db, MQTT_CLOCK) as gw:
        pid = gateway_pid(gw)
        out["gateway_closed"] = measure(ctx, spec("gw"), pid, f"{name}: gateway, closed")
        sent = cfg.warmup + cfg.messages
        rate = out["open_rate"] = 0.5 * out["gateway_closed"]["rate"]
        opened = spec("gwo", offset=sent, rate=rate)
        out["gateway_open"] = measure(ctx, opened, pid, f"{name}: gateway, open {rate:,.0f}/s")
        sent += opened["count"]
    with worker("echo", {"port": port}, ctx.workdir) as echo:
        label = f"{name}: echo, open {rate:,.0f}/s"
        out["echo_open"] = measure(ctx, spec("echoo", rate=rate), echo.pid, label)
    out.update(_check(db, mix, senders, sent))
    remove_db(db)
    out.update(_ratios(out))
    say(
        f"mqtt: {name}: gateway / echo {out['throughput_ratio']:.2f},"
        f" CPU {out['cpu_ratio']:.1f}x, p99 at half load {out['p99_ratio']:.1f}x"
    )
    return out


def setting_name(nodelay: bool) -> str:
    return "nodelay" if nodelay else "no_nodelay"


def mqtt_section(ctx: Context) -> Json:
    """``{mix: {broker setting: figures}}`` for every mix and broker setting chosen."""
    out: Json = {mix: {} for mix in ctx.cfg.mixes}
    for nodelay in ctx.cfg.nodelay:
        setting = setting_name(nodelay)
        with broker(ctx.workdir, nodelay=nodelay) as mosquitto:
            for mix in ctx.cfg.mixes:
                out[mix][setting] = mix_run(ctx, mosquitto, mix, setting)
    return out
