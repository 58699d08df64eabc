"""The storage side of the MO path, in process: CPU per MO of the store's thread (issue 13).

``.venv/bin/python -m scripts.benchmarks.storage_path [--mix writes,mixed] [--messages N]
[--batch 64] [--repeat 3]`` from the repository. No broker: the real ``GatewayService``
(``Intake``, ``Engine``, ``SqliteStore`` with WAL and ``synchronous = FULL``, the outbox
marking its MTs published through a publisher that accepts everything) takes batches of
``--batch`` MOs of a mix from prepaid subscribers loaded as ``scripts/bench.py`` loads
them, on a fresh database file each run. Printed: CPU µs per MO of the storage thread
(``time.thread_time`` read on that thread), of the event loop's thread, and of the
process, after a warm-up of as many MOs again.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import logging
import sqlite3
import statistics
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import structlog

from gateway.adapters.clock import VirtualClock
from gateway.adapters.sqlite_store import SqliteStore
from gateway.bootstrap import load_catalogs
from gateway.domain.model import InboundSms, Outgoing
from gateway.service.engine import Engine
from gateway.service.gateway import GatewayService
from gateway.settings import DEFAULT_CATALOGS

#: the mixes and senders of ``scripts/benchmarks/common.py`` (the MQTT section's)
MIXES: dict[str, tuple[str, ...]] = {
    "writes": ("DK ZL1", "HUY ZL1"),
    "mixed": ("DK ZL7", "KTTK_ZL", "HUY ZL7"),
}
SENDERS = {"writes": 400, "mixed": 1000}
CLOCK = dt.datetime.fromisoformat("2026-03-10T10:00:00+07:00")
BALANCE = 1_000_000_000


class _Accepting:
    """A publisher that takes every MT at once (the outbox still marks them published)."""

    async def publish(self, messages: Sequence[Outgoing]) -> None:
        return None

    async def publish_error(self, event: dict[str, Any]) -> None:
        return None


def _msisdn(index: int) -> str:
    return f"849{index:08d}"


def _load(db: Path, senders: int) -> None:
    """Prepaid subscribers with a large balance, as the MQTT section loads them."""
    at = int((CLOCK - dt.timedelta(days=30)).timestamp() * 1_000_000)
    conn = sqlite3.connect(db, isolation_level=None)
    conn.execute("BEGIN")
    conn.executemany(
        "INSERT INTO subscribers (msisdn, kind, balance, language, created_at)"
        " VALUES (?, 'prepaid', ?, NULL, ?)",
        ((_msisdn(i), BALANCE, at) for i in range(senders)),
    )
    conn.executemany(
        "INSERT INTO ledger (msisdn, delta, balance_after, reason, at)"
        " VALUES (?, ?, ?, 'provision', ?)",
        ((_msisdn(i), BALANCE, BALANCE, at) for i in range(senders)),
    )
    conn.execute("COMMIT")
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()


async def _run(db: Path, mix: str, messages: int, batch: int) -> dict[str, float]:
    store = await SqliteStore(str(db)).open()
    _load(db, SENDERS[mix])
    engine = Engine(
        catalogs=load_catalogs(list(DEFAULT_CATALOGS)), auto_provision=True, default_balance=50_000
    )
    service = GatewayService(
        engine=engine, store=store, clock=VirtualClock(CLOCK), publisher=_Accepting()
    )
    texts, senders = MIXES[mix], SENDERS[mix]
    sent = 0

    async def send(count: int) -> None:
        nonlocal sent
        for start in range(sent, sent + count, batch):
            futures = []
            for i in range(start, min(start + batch, sent + count)):
                text = texts[(i // senders) % len(texts)]
                mo = InboundSms(
                    id=f"mo-{i}", msisdn=_msisdn(i % senders), shortcode="888", text=text
                )
                futures.append(service.submit(mo))
            await asyncio.gather(*futures)
        sent += count
        await service.drained()

    async def storage_cpu() -> float:
        return await store._run(time.thread_time)  # read on its own thread

    try:
        async with service:
            await send(messages)  # warm-up: caches, statement cache, pages
            s0, l0, p0, w0 = (
                await storage_cpu(),
                time.thread_time(),
                time.process_time(),
                time.perf_counter(),
            )
            await send(messages)
            s1, l1, p1, w1 = (
                await storage_cpu(),
                time.thread_time(),
                time.process_time(),
                time.perf_counter(),
            )
    finally:
        await store.close()
    per = 1e6 / messages
    return {
        "storage_us": (s1 - s0) * per,
        "loop_us": (l1 - l0) * per,
        "process_us": (p1 - p0) * per,
        "wall_us": (w1 - w0) * per,
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mix", default="writes,mixed")
    parser.add_argument("--messages", type=int, default=6000)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--keep", type=Path, help="keep the last database here")
    args = parser.parse_args(argv)
    logging.disable(logging.WARNING)
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.ERROR))
    for mix in args.mix.split(","):
        runs = []
        for n in range(args.repeat):
            with tempfile.TemporaryDirectory(prefix="scgw-storage-") as tmp:
                db = Path(tmp) / "bench.db"
                figures = asyncio.run(_run(db, mix, args.messages, args.batch))
                if args.keep is not None:
                    db.replace(args.keep)
            runs.append(figures)
            print(
                f"{mix} run {n + 1}: storage {figures['storage_us']:6.1f} µs/MO,"
                f" loop {figures['loop_us']:6.1f}, process {figures['process_us']:6.1f},"
                f" wall {figures['wall_us']:6.1f}",
                flush=True,
            )
        median = statistics.median(r["storage_us"] for r in runs)
        print(f"{mix}: storage thread CPU per MO, median of {len(runs)}: {median:.1f} µs")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
