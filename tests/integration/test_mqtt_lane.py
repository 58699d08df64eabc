"""The MQTT lane against a real mosquitto, with paho (another client) on the other side.

What paho publishes (MQTT 5 properties, QoS 0 and 1, retained, a payload larger than
one read, a non-ASCII topic) must reach ``on_publish`` exactly; what the lane
acknowledges must not come back after a reconnect, what it does not must; MTs the lane
publishes must reach a paho subscriber intact and their PUBACKs resolve the batch,
while aiomqtt's own publishes (whose PUBACKs the lane passes on to paho) still complete.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
import threading
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import aiomqtt
import paho.mqtt.client as paho
import pytest
from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from gateway.adapters.mqtt_connection import MqttEndpoint, Version, make_client
from gateway.adapters.mqtt_io import Lane, install_lane
from gateway.adapters.mqtt_publish import PublishBatch
from tests.broker_support import ConfiguredMosquitto, make_tls_files
from tests.support import Mosquitto

Taken = tuple[str, bytes, int, bool]


@contextlib.contextmanager
def _paho(port: int, version: Version) -> Iterator[paho.Client]:
    protocol = MQTTProtocolVersion.MQTTv5 if version == "5" else MQTTProtocolVersion.MQTTv311
    client = paho.Client(CallbackAPIVersion.VERSION2, protocol=protocol)
    client.connect("127.0.0.1", port)
    client.loop_start()
    try:
        yield client
    finally:
        client.disconnect()
        client.loop_stop()


@contextlib.asynccontextmanager
async def _laned(
    port: int, version: Version, client_id: str, taken: list[tuple[Taken, int]]
) -> AsyncIterator[tuple[aiomqtt.Client, Lane]]:
    client = make_client(MqttEndpoint("127.0.0.1", port), version, client_id)
    async with client:
        lane = install_lane(client, version)

        def take(topic: str, payload: bytes, qos: int, mid: int, retain: bool) -> None:
            taken.append(((topic, payload, qos, retain), mid))

        lane.on_publish = take
        while not client._queue.empty():  # what paho decoded before the lane took over
            m = client._queue.get_nowait()
            assert isinstance(m.payload, bytes)
            take(m.topic.value, m.payload, m.qos, m.mid, m.retain)
        await client.subscribe("lane/#", qos=1)
        yield client, lane


async def _until(condition: object, seconds: float = 10) -> None:
    async with asyncio.timeout(seconds):
        while not condition():  # type: ignore[operator]  # noqa: ASYNC110
            await asyncio.sleep(0.01)


@pytest.mark.parametrize("version", ["5", "3.1.1"])
async def test_what_paho_publishes_reaches_the_lane_exactly(
    mosquitto: Mosquitto, version: Version
) -> None:
    client_id = f"lane-{uuid.uuid4().hex[:8]}"
    big = bytes(range(256)) * 800  # 204,800 bytes: several reads, a 3-byte length
    with _paho(mosquitto.port, version) as sender:
        sender.publish("lane/kept", b"state", qos=1, retain=True).wait_for_publish(5)
        taken: list[tuple[Taken, int]] = []
        async with _laned(mosquitto.port, version, client_id, taken) as (_, lane):
            props: Properties | None = None
            if version == "5":
                props = Properties(PacketTypes.PUBLISH)  # type: ignore[no-untyped-call]
                props.UserProperty = ("k", "v")
                props.MessageExpiryInterval = 60
                props.ContentType = "application/json"
            sender.publish("lane/sms/mo/888", b'{"text": "DK ZL7"}', qos=1, properties=props)
            sender.publish("lane/zero", b"fire and forget", qos=0)
            sender.publish("lane/big", big, qos=1)
            sender.publish("lane/tiếng việt", "Chào bạn".encode(), qos=1)
            await _until(lambda: len(taken) == 5)
            messages = [message for message, _ in taken]
            assert messages[0] == ("lane/kept", b"state", 1, True)
            assert messages[1:] == [
                ("lane/sms/mo/888", b'{"text": "DK ZL7"}', 1, False),
                ("lane/zero", b"fire and forget", 0, False),
                ("lane/big", big, 1, False),
                ("lane/tiếng việt", "Chào bạn".encode(), 1, False),
            ]
            qos1 = [mid for message, mid in taken if message[2] == 1]
            assert len(set(qos1)) == len(qos1)
            assert all(0 < mid < 65536 for mid in qos1)
            # everything but the last QoS 1 message is acknowledged
            lane.ack(qos1[:-1])
            await asyncio.sleep(0.3)  # the PUBACKs reach the broker before we leave

    # the same session again: only the unacknowledged message comes back (and the
    # retained one, which the broker hands to every new subscription)
    again: list[tuple[Taken, int]] = []
    async with _laned(mosquitto.port, version, client_id, again):
        await _until(lambda: len(again) >= 2)
        await asyncio.sleep(0.3)
    live = [message[:2] for message, _ in again if not message[3]]
    assert live == [("lane/tiếng việt", "Chào bạn".encode())]


@pytest.mark.parametrize("version", ["5", "3.1.1"])
async def test_mts_the_lane_publishes_arrive_and_resolve_their_batch(
    mosquitto: Mosquitto, version: Version
) -> None:
    received: list[tuple[str, bytes]] = []
    subscribed = threading.Event()
    with _paho(mosquitto.port, version) as handset:
        handset.on_subscribe = lambda *_: subscribed.set()
        handset.on_message = lambda _c, _u, m: received.append((m.topic, bytes(m.payload)))
        handset.subscribe("sms/mt/#", qos=1)
        assert subscribed.wait(5)
        items = [
            (f"sms/mt/8490{i:07d}", f'{{"n": {i}, "text": "Đã đăng ký"}}'.encode())
            for i in range(300)
        ]
        taken: list[tuple[Taken, int]] = []
        async with _laned(mosquitto.port, version, f"lane-{uuid.uuid4().hex[:8]}", taken) as (
            client,
            lane,
        ):
            first = PublishBatch(lane, items[:200])
            # aiomqtt's own publish between two batches: its PUBACK goes to paho
            await asyncio.wait_for(client.publish("sms/mt/event", b"e", qos=1), 10)
            second = PublishBatch(lane, items[200:])
            await asyncio.wait_for(asyncio.gather(first.wait(), second.wait()), 10)
            assert all(first.acked)
            assert all(second.acked)
            assert (first.left, second.left) == (0, 0)
        await _until(lambda: len(received) == 301)
    assert [m for m in received if m[0] != "sms/mt/event"] == items


async def test_over_tls_a_payload_of_many_records_arrives_whole(tmp_path: Path) -> None:
    """TLS hands the lane at most one record (16 KiB) a read, and may hold decrypted
    bytes the socket no longer signals: a 200 KB MO and 50 small ones still arrive whole."""
    tls = make_tls_files(tmp_path / "certs")
    broker = ConfiguredMosquitto(tmp_path, tls=tls).start()
    try:
        endpoint = MqttEndpoint("127.0.0.1", broker.port, tls=True, ca_file=tls.ca)
        big = bytes(range(256)) * 800
        taken: list[tuple[str, bytes]] = []
        client = make_client(endpoint, "5", f"lane-{uuid.uuid4().hex[:8]}")
        async with client:
            lane = install_lane(client, "5")
            lane.on_publish = lambda topic, payload, *_: taken.append((topic, payload))
            await client.subscribe("lane/#", qos=1)
            context = ssl.create_default_context(cafile=str(tls.ca))
            async with aiomqtt.Client(
                "127.0.0.1", broker.port, tls_context=context, identifier="lane-sender"
            ) as sender:
                await sender.publish("lane/big", big, qos=1)
                for n in range(50):
                    await sender.publish(f"lane/{n}", str(n).encode(), qos=1)
            await _until(lambda: len(taken) == 51)
    finally:
        broker.stop()
    assert taken == [("lane/big", big)] + [(f"lane/{n}", str(n).encode()) for n in range(50)]
