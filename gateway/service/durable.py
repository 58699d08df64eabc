"""Storage that refuses a write holds the work: retried with backoff, readiness told."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

import structlog

from gateway.errors import StorageUnavailable
from gateway.service.health import Health
from gateway.service.metrics import Metrics

__all__ = ["Durable"]

log = structlog.get_logger("gateway.service")
T = TypeVar("T")


class Durable:
    """Runs storage work until storage takes it (``docs/operations.md``)."""

    def __init__(self, *, health: Health, metrics: Metrics) -> None:
        self._health = health
        self._metrics = metrics

    async def run(self, what: str, work: Callable[[], Awaitable[T]]) -> T:
        """Run ``work`` until storage takes it. A ``StorageUnavailable`` (disk full, I/O
        error, read-only, locked) wrote nothing: the work is held and tried again with
        backoff, and readiness says ``storage`` is failing until a write succeeds."""
        delay = 0.05
        while True:
            try:
                result = await work()
            except StorageUnavailable as exc:
                self._metrics.storage_errors.inc()
                if self._health.is_ready("storage"):
                    log.error("storage_unavailable", reason=exc.reason, during=what)
                self._health.set("storage", ready=False, detail=exc.reason)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 2.0)
                continue
            if not self._health.is_ready("storage"):
                log.warning("storage_recovered", during=what)
                self._health.set("storage", ready=True)
            return result
