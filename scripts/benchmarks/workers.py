"""The worker roles, each run in its own process by ``bench.py --worker ROLE``.

A worker talks to the parent in JSON lines on stdout: ``ready``, then ``progress`` now
and then, ``start`` where a measured part begins, and ``result``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Callable, Mapping
from typing import Any


def _sync(role: str) -> Callable[[Mapping[str, Any]], None] | None:
    if role in ("echo", "load"):
        from benchmarks import paho_workers

        return paho_workers.echo_worker if role == "echo" else paho_workers.load_worker
    if role == "sqlite":
        from benchmarks.bare_sqlite import sqlite_worker

        return sqlite_worker
    return None


def run_worker(role: str, config: str) -> int:
    """Run one role until it finishes or the parent terminates it."""
    cfg = json.loads(config)
    sync = _sync(role)
    with contextlib.suppress(KeyboardInterrupt):
        if sync is not None:
            sync(cfg)
            return 0
        from benchmarks import aio_workers
        from benchmarks.smpp import echo_worker

        work = {
            "count": aio_workers.count_worker,
            "publish": aio_workers.publish_worker,
            "smpp_echo": echo_worker,
        }
        if role not in work:
            raise SystemExit(f"unknown worker role {role!r}")
        asyncio.run(work[role](cfg))
    return 0
