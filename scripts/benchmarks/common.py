"""Constants, the run's configuration and small helpers shared by every section."""

from __future__ import annotations

import datetime as dt
import json
import math
import socket
import sys
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
BENCH_PY = REPO / "scripts" / "bench.py"

Json = dict[str, Any]

SECTIONS = ("mqtt", "scale", "startup", "renewals", "smpp", "instances")
MO_TOPIC = "sms/mo/888"
MT_TOPICS = "sms/mt/#"
#: the two MO mixes: every MO a write (a daily pack bought and cancelled in turn, so each
#: MO charges or cancels), and the usual mix of a purchase, a balance query and a cancel
MIXES: dict[str, tuple[str, ...]] = {
    "writes": ("DK ZL1", "HUY ZL1"),
    "mixed": ("DK ZL7", "KTTK_ZL", "HUY ZL7"),
}
MIX_SENDERS = {"writes": 400, "mixed": 1000}
#: the same in-flight limit as the gateway's own MQTT client
INFLIGHT = 1000
BALANCE = 1_000_000_000
MQTT_CLOCK = dt.datetime.fromisoformat("2026-03-10T10:00:00+07:00")
#: every postpaid ZL30 renews at 00:00 on the 1st of the month
RENEWAL_DUE = dt.datetime.fromisoformat("2026-04-01T00:00:00+07:00")
RENEWAL_START = dt.datetime.fromisoformat("2026-03-01T00:00:00+07:00")
#: the gateway's chunk of due work (``GatewayService(due_chunk=2000)``)
DUE_CHUNK = 2000
IDLE_TIMEOUT = 120.0
#: the harness's own clients switch Nagle's algorithm off, so that they add no delayed-ACK
#: waits of their own to what they measure (the gateway's client does the same)
NODELAY = (socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


class BenchError(RuntimeError):
    """The benchmark could not measure something (not: a target was missed)."""


def msisdn(index: int) -> str:
    """The canonical MSISDN of bulk-loaded subscriber ``index`` (84 9xxxxxxxx)."""
    return f"849{index:08d}"


def micros(at: dt.datetime) -> int:
    """An aware instant as integer microseconds since the epoch, as the gateway stores it."""
    delta = at - dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def percentile(ordered: Sequence[float], pct: float) -> float:
    """Nearest-rank percentile of an already sorted sequence."""
    if not ordered:
        return 0.0
    rank = max(1, math.ceil(pct / 100 * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


def figures(latencies: Sequence[float], start: float, end: float) -> Json:
    """Count, rate and latency percentiles (ms) of one measured loop."""
    ordered = sorted(latencies)
    seconds = max(end - start, 1e-9)
    return {
        "count": len(ordered),
        "seconds": seconds,
        "rate": len(ordered) / seconds,
        "p50_ms": percentile(ordered, 50) * 1e3,
        "p95_ms": percentile(ordered, 95) * 1e3,
        "p99_ms": percentile(ordered, 99) * 1e3,
        "max_ms": (ordered[-1] if ordered else 0.0) * 1e3,
    }


_OUT = threading.Lock()


def emit(event: str, **fields: Any) -> None:
    """A worker's JSON line to the parent (thread-safe)."""
    line = json.dumps({"event": event, **fields})
    with _OUT:
        print(line, flush=True)


def say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


@dataclass(frozen=True)
class Config:
    sections: tuple[str, ...]
    messages: int
    #: senders of the scale section's loop (the mixes have their own, MIX_SENDERS)
    subscribers: int
    window: int
    warmup: int
    open_seconds: float
    renewals: tuple[int, ...]
    scale: tuple[int, int]
    startup_subscribers: int
    startup_runs: int
    bare_window: int
    mixes: tuple[str, ...] = tuple(MIXES)
    #: broker settings measured: True = ``set_tcp_nodelay true``, False = mosquitto's default
    nodelay: tuple[bool, ...] = (True, False)
    progress: bool = True


@dataclass
class Context:
    cfg: Config
    workdir: Path
    results: Json = field(default_factory=dict)
    #: the large subscriber table of ``scale``, kept for ``startup``
    big_db: Path | None = None
