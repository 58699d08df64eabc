"""MqttTransport.status against a real mosquitto: what a readiness check will read."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from gateway.adapters.mqtt import MqttStatus, MqttTransport
from gateway.adapters.mqtt_connection import MqttEndpoint, Version
from tests.broker_support import ConfiguredMosquitto
from tests.service.support import HCM, load_zalo, local, make_service


async def _until(condition: Callable[[], bool]) -> None:
    async with asyncio.timeout(20):
        while not condition():  # noqa: ASYNC110 - the transport has no event for it
            await asyncio.sleep(0.01)


@contextlib.asynccontextmanager
async def _running(transport: MqttTransport) -> AsyncIterator[MqttTransport]:
    async with make_service(load_zalo(), start=local(2026, 3, 10, 10)) as service:
        task = asyncio.create_task(transport.run(service))
        try:
            yield transport
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task


@pytest.mark.parametrize("protocol", ["5", "3.1.1"])
async def test_status_says_why_the_broker_is_not_connected(
    tmp_path: Path, protocol: Version
) -> None:
    """Refused credentials, then a connection, then the broker gone: ``status`` follows.

    The refusal reads the same in both versions: the CONNACK's reason without its code
    (MQTT 5 reason code 135; MQTT 3.1.1 return code 5, which paho names the same way).
    """
    broker = ConfiguredMosquitto(tmp_path, users={"gw": "right"}).start()
    try:

        def transport(password: str) -> MqttTransport:
            return MqttTransport(
                endpoint=MqttEndpoint("127.0.0.1", broker.port, "gw", password),
                client_id=f"status-{password}",
                protocol=protocol,
                tz=HCM,
            )

        refused = transport("wrong")
        assert refused.status == MqttStatus(connected=False, last_error=None, protocol=None)
        async with _running(refused):
            await _until(lambda: refused.status.last_error is not None)
            assert refused.status == MqttStatus(
                connected=False, last_error="Not authorized", protocol=None
            )

        async with _running(transport("right")) as accepted:
            await accepted.connected()
            assert accepted.status == MqttStatus(connected=True, last_error=None, protocol=protocol)
            await asyncio.to_thread(broker.stop)
            await _until(lambda: "Connection refused" in (accepted.status.last_error or ""))
            assert not accepted.status.connected
            assert accepted.status.protocol is None
    finally:
        broker.stop()
