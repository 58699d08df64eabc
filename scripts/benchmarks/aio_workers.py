"""The renewal section's aiomqtt workers: the notification counter and the bare publisher.

The bare publisher sends as many messages of the same size as the gateway's outbox
(which publishes with aiomqtt too), so the drain rates compare like with like.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import time
from collections.abc import Coroutine, Mapping
from typing import Any

import aiomqtt

from benchmarks.common import INFLIGHT, MT_TOPICS, NODELAY, emit, msisdn


def _client(port: int, name: str) -> aiomqtt.Client:
    client = aiomqtt.Client(
        "127.0.0.1",
        port,
        identifier=f"bench-{name}-{os.getpid()}",
        protocol=aiomqtt.ProtocolVersion.V5,
        max_inflight_messages=INFLIGHT,
        timeout=60,
        socket_options=[NODELAY],
    )
    client.pending_calls_threshold = 1_000_000
    return client


def _payload(message: aiomqtt.Message) -> bytes:
    body = message.payload
    return body if isinstance(body, bytes) else str(body).encode()


class _Tasks:
    """Keeps fire-and-forget publish tasks alive and surfaces their first error."""

    def __init__(self) -> None:
        self._tasks: set[asyncio.Task[None]] = set()
        self.error: BaseException | None = None

    def spawn(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None and self.error is None:
            self.error = task.exception()

    async def join(self) -> None:
        await asyncio.gather(*self._tasks)
        if self.error is not None:
            raise self.error


async def count_worker(cfg: Mapping[str, Any]) -> None:
    """Counts distinct MTs (by id) on ``sms/mt/#``; reports first and last arrival. Gives
    up after ``idle`` seconds without a new one (``first_wait`` before the first, when
    set: a renewal burst publishes only once all of it is committed)."""
    expected, seen = cfg["expected"], set()
    stats = {"first": 0.0, "last": 0.0, "bytes": 0, "duplicates": 0}
    async with _client(cfg["port"], "count") as client:
        await client.subscribe(MT_TOPICS, qos=1)

        async def consume() -> None:
            async for message in client.messages:
                now, body = time.monotonic(), _payload(message)
                message_id = json.loads(body)["id"]
                if message_id in seen:
                    stats["duplicates"] += 1
                    continue
                seen.add(message_id)
                stats["first"] = stats["first"] or now
                stats["last"], stats["bytes"] = now, stats["bytes"] + len(body)
                if len(seen) >= expected:
                    return

        task = asyncio.create_task(consume())
        emit("ready")
        ready = time.monotonic()
        while not task.done():
            await asyncio.wait({task}, timeout=0.5)
            emit("progress", done=len(seen))
            waited = cfg["idle"] if stats["last"] else cfg.get("first_wait", cfg["idle"])
            if time.monotonic() - (stats["last"] or ready) > waited:
                task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    emit("result", count=len(seen), **stats)


def _bare_message(index: int, size: int) -> bytes:
    head = {"id": f"{index:032x}", "from": "888", "to": msisdn(index), "text": ""}
    pad = max(0, size - len(json.dumps(head)))
    return json.dumps({**head, "text": "x" * pad}).encode()


async def publish_worker(cfg: Mapping[str, Any]) -> None:
    """A bare publisher: K QoS 1 messages of a given size, at most ``window`` unacknowledged.

    A sliding window, not one gather of thousands: aiomqtt scans every pending call on
    each publish, so gathering 5,000 at once costs O(n²) and quarters the rate.
    """
    count, size, slots = cfg["count"], cfg["size"], asyncio.Semaphore(cfg["window"])
    async with _client(cfg["port"], "publish") as client:
        tasks = _Tasks()

        async def one(index: int) -> None:
            try:
                await client.publish(f"sms/mt/{msisdn(index)}", _bare_message(index, size), qos=1)
            finally:
                slots.release()

        emit("ready")
        start = time.monotonic()
        for index in range(count):
            await slots.acquire()
            tasks.spawn(one(index))
        await tasks.join()
    emit("result", start=start, end=time.monotonic())
