"""MTs out in batches: paho publishes each one, a single future waits for all their PUBACKs.

aiomqtt's ``publish`` costs, for every message, a coroutine, a task (to wait on several
at once), an ``asyncio.Event``, a pending-call entry and a ``wait_for`` with its timer.
A batch here calls the publish of aiomqtt's underlying paho client for each message and
registers one small acknowledgement per message id in aiomqtt's table of pending
publishes: aiomqtt's own ``on_publish`` callback (run by paho when a PUBACK arrives)
pops it and calls its ``set``, which counts the batch down to one future. The
connection, the session, the reconnects and the inbound side stay aiomqtt's.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any, cast

import aiomqtt
from aiomqtt.exceptions import MqttCodeError
from paho.mqtt.client import MQTT_ERR_SUCCESS

from gateway.adapters.mqtt_connection import CALL_TIMEOUT

__all__ = ["PublishBatch"]


class _Ack:
    """One message of a batch in aiomqtt's pending publishes, where aiomqtt keeps an
    ``asyncio.Event``: aiomqtt's ``on_publish`` calls ``set`` once the PUBACK is in."""

    __slots__ = ("batch", "index")

    def __init__(self, batch: PublishBatch, index: int) -> None:
        self.batch = batch
        self.index = index

    def set(self) -> None:
        self.batch.acknowledged(self.index)


class PublishBatch:
    """QoS 1 publishes of ``(topic, payload)`` pairs on one client; ``done`` resolves
    once the broker acknowledged every one, ``acked[i]`` says whether message ``i`` was.

    Raises ``MqttCodeError`` (as aiomqtt's ``publish`` does) when paho refuses a message;
    those before it are on their way and count as not acknowledged until their PUBACK.
    Call ``close`` when giving up on the batch (a dropped connection, a timeout).
    """

    __slots__ = ("_left", "_mids", "_pending", "acked", "done")

    def __init__(self, client: aiomqtt.Client, items: Sequence[tuple[str, bytes]]) -> None:
        self.done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.acked = [False] * len(items)
        self._left = len(items)
        # aiomqtt only calls `set` on what it finds there
        self._pending = cast("dict[int, Any]", client._pending_publishes)
        self._mids: list[int] = []
        publish = client._client.publish
        try:
            for index, (topic, payload) in enumerate(items):
                info = publish(topic, payload, 1)
                if info.rc != MQTT_ERR_SUCCESS:
                    raise MqttCodeError(info.rc, "Could not publish message")
                self._pending[info.mid] = _Ack(self, index)
                self._mids.append(info.mid)
        except BaseException:
            self.close()
            raise
        if not items:
            self.done.set_result(None)

    def acknowledged(self, index: int) -> None:
        if self.acked[index]:
            return
        self.acked[index] = True
        self._left -= 1
        if not self._left and not self.done.done():
            self.done.set_result(None)

    def close(self) -> None:
        """Forget the messages still waiting for their PUBACK."""
        pending = self._pending
        for mid in self._mids:
            entry = pending.get(mid)
            if isinstance(entry, _Ack) and entry.batch is self:
                del pending[mid]
        if not self.done.done():
            self.done.cancel()

    async def wait(self) -> None:
        """Wait for every PUBACK; past ``CALL_TIMEOUT`` seconds an ``MqttError`` (as
        aiomqtt's own wait for a PUBACK ends)."""
        try:
            async with asyncio.timeout(CALL_TIMEOUT):
                await asyncio.shield(self.done)
        except TimeoutError as exc:
            raise aiomqtt.MqttError("Operation timed out") from exc
