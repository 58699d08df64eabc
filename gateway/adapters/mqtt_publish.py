"""MTs out in batches: the lane encodes and queues their PUBLISH packets, one future
waits for all their PUBACKs.

aiomqtt's ``publish`` costs, for every message, a coroutine, a task (to wait on several
at once), an ``asyncio.Event``, a pending-call entry and a ``wait_for`` with its timer;
paho's ``publish`` an ``MQTTMessage``, MQTT 5 ``Properties`` and a packet of its own. A
batch here hands the lane its ``(topic, payload)`` pairs with one small acknowledgement
per message: the lane (``mqtt_io``) matches each PUBACK to it and calls its ``set``,
which counts the batch down to one future.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import aiomqtt

from gateway.adapters.mqtt_connection import CALL_TIMEOUT
from gateway.adapters.mqtt_io import Acknowledged, Lane

__all__ = ["PublishBatch"]


class _Ack:
    """One message of a batch, waiting in the lane for its PUBACK."""

    __slots__ = ("batch", "index")

    def __init__(self, batch: PublishBatch, index: int) -> None:
        self.batch = batch
        self.index = index

    def set(self) -> None:
        self.batch.acknowledged(self.index)


class PublishBatch:
    """QoS 1 publishes of ``(topic, payload)`` pairs on one lane; ``done`` resolves once
    the broker acknowledged every one, ``acked[i]`` says whether message ``i`` was.

    Call ``close`` when giving up on the batch (a dropped connection, a timeout).
    """

    __slots__ = ("_lane", "_mids", "acked", "done", "left")

    def __init__(self, lane: Lane, items: Sequence[tuple[str, bytes]]) -> None:
        self.done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.acked = [False] * len(items)
        self.left = len(items)
        self._lane = lane
        self._mids = lane.publish(items, [_Ack(self, index) for index in range(len(items))])
        if not items:
            self.done.set_result(None)

    def acknowledged(self, index: int) -> None:
        if self.acked[index]:
            return
        self.acked[index] = True
        self.left -= 1
        if not self.left and not self.done.done():
            self.done.set_result(None)

    def close(self) -> None:
        """Forget the messages still waiting for their PUBACK."""
        self._lane.forget(self._mids, self._owns)
        if not self.done.done():
            self.done.cancel()

    def _owns(self, waiter: Acknowledged) -> bool:
        return isinstance(waiter, _Ack) and waiter.batch is self

    async def wait(self) -> None:
        """Wait for every PUBACK; past ``CALL_TIMEOUT`` seconds an ``MqttError`` (as
        aiomqtt's own wait for a PUBACK ends)."""
        try:
            async with asyncio.timeout(CALL_TIMEOUT):
                await asyncio.shield(self.done)
        except TimeoutError as exc:
            raise aiomqtt.MqttError("Operation timed out") from exc
