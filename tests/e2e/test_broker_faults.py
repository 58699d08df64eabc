"""The broker goes away and comes back, and keeps retained messages: nothing lost, nothing twice."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import aiomqtt
import pytest

from tests.broker_support import ConfiguredMosquitto, FreezingProxy
from tests.support import GatewayProcess, mqtt_client, next_json

SUBSCRIBERS = 120
PER_SUBSCRIBER = 10  # DK ZL1, then KTTK_ZL nine times
#: seconds from the broker listening again until every reply has arrived. Replies used to
#: stall for the 30 s publish timeout; the bar is 2 s; the rest is room for a busy machine.
RESUME_BOUND = 5.0


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[ConfiguredMosquitto]:
    """A mosquitto that keeps its sessions and queued messages across a restart."""
    mosquitto = ConfiguredMosquitto(tmp_path, persistent=True).start()
    yield mosquitto
    mosquitto.stop()


def _gateway(
    tmp_path: Path, broker: ConfiguredMosquitto, url: str = "", **env: str
) -> GatewayProcess:
    return GatewayProcess(
        tmp_path,
        {
            "SCGW_MQTT_URL": url or broker.url,
            "SCGW_DATABASE_URL": f"sqlite:///{tmp_path / 'scgw.db'}",
            "SCGW_CLOCK": "virtual",
            "SCGW_CLOCK_START": "2026-03-10T10:00:00+07:00",
            "SCGW_MQTT_CLIENT_ID": f"scgw-test-{broker.port}",
            **env,
        },
    )


async def _watch_replies(
    port: int, seen: list[tuple[float, dict[str, Any]]], ready: asyncio.Event
) -> None:
    """Collect every MT with its arrival time, on a persistent session that reconnects."""
    while True:
        with contextlib.suppress(aiomqtt.MqttError):
            async with aiomqtt.Client(
                "127.0.0.1",
                port,
                identifier=f"mt-watcher-{port}",
                protocol=aiomqtt.ProtocolVersion.V311,
                clean_session=False,
            ) as client:
                await client.subscribe("sms/mt/#", qos=1)
                ready.set()
                async for message in client.messages:
                    assert isinstance(message.payload, bytes)
                    seen.append((time.monotonic(), json.loads(message.payload)))
        await asyncio.sleep(0.05)


async def _publish(port: int, mos: list[dict[str, str]]) -> None:
    """Send ``mos`` to 888 at QoS 1, 200 at a time, each acknowledged by the broker."""
    async with mqtt_client(port) as client:
        client.pending_calls_threshold = len(mos)
        for start in range(0, len(mos), 200):
            await asyncio.gather(
                *(
                    client.publish("sms/mo/888", json.dumps(mo), qos=1)
                    for mo in mos[start : start + 200]
                )
            )


async def _until(condition: Callable[[], bool], wait: float) -> None:
    async with asyncio.timeout(wait):
        while not condition():  # noqa: ASYNC110 - polling what another task collects
            await asyncio.sleep(0.01)


async def test_replies_resume_at_once_when_the_broker_restarts_mid_load(
    tmp_path: Path, broker: ConfiguredMosquitto
) -> None:
    """The broker stops hearing the gateway while MOs are being answered, is stopped, and
    starts again a second later.

    The gateway reaches the broker through a proxy that freezes the gateway's side of the
    connection first (the broker still delivers MOs, the gateway's replies and PUBACKs are
    lost), so MTs are in flight (sent, never acknowledged) when it drops, however fast
    the gateway answered what came before. Every
    MO is answered by exactly one reply (distinct MT ids, by the MO they answer), each
    subscriber is charged once, and the replies waiting at the restart all arrive within
    RESUME_BOUND seconds of the broker listening again: what was in flight is published
    again at once, not after aiomqtt's 30 s timeout.
    """
    proxy = await FreezingProxy(broker.port).listen()
    gateway = _gateway(tmp_path, broker, url=f"mqtt://127.0.0.1:{proxy.port}")
    await asyncio.to_thread(gateway.start)  # the proxy runs on this loop: keep it free
    senders = [f"0912{n:06d}" for n in range(SUBSCRIBERS)]
    mos = [
        {"id": f"load-{s}-{k}", "from": sender, "text": "DK ZL1" if k == 0 else "KTTK_ZL"}
        for k in range(PER_SUBSCRIBER)
        for s, sender in enumerate(senders)
    ]
    seen: list[tuple[float, dict[str, Any]]] = []
    ready = asyncio.Event()
    watcher = asyncio.create_task(_watch_replies(broker.port, seen, ready))
    try:
        async with asyncio.timeout(10):
            await ready.wait()
        # the first half goes out before the freeze, the second while the broker does not
        # hear the gateway: it delivers them, and the replies and acknowledgements are
        # lost, so those MTs are in flight at the drop and the broker delivers those MOs
        # again to the gateway's session after the restart (the gateway answers them
        # from what it stored: the same replies, no second charge)
        half = len(mos) // 2
        await _publish(broker.port, mos[:half])

        def answered() -> int:
            return len({mt["in_reply_to"] for _, mt in seen})

        # at the first reply seen, the gateway is still answering the first half
        await _until(lambda: answered() >= 1, 60)
        proxy.freeze(deaf=True)  # the gateway's publishes from now on are in flight
        await _publish(broker.port, mos[half:])
        await asyncio.sleep(0.5)
        at_stop = answered()
        await asyncio.to_thread(broker.stop)  # SIGTERM: it saves its sessions and queues
        await asyncio.sleep(1.0)  # the broker is away for a second
        await asyncio.to_thread(broker.start)
        await proxy.listen()
        back = time.monotonic()
        try:
            await _until(lambda: answered() == len(mos), RESUME_BOUND)
        except TimeoutError:
            pytest.fail(
                f"{len(mos) - answered()} of {len(mos)} replies still missing"
                f" {RESUME_BOUND} s after the broker came back"
            )
        last = max(at for at, _ in seen)
        first = min(at for at, _ in seen if at >= back)
        with gateway.http() as http:
            balances = {s: http.get(f"/api/subscribers/{s}").json()["balance"] for s in senders}
    finally:
        watcher.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await watcher
        await asyncio.to_thread(gateway.stop)
        proxy.close()
    print(  # the figures for docs/operations.md (pytest -s)
        f"\nbroker restart: {at_stop} of {len(mos)} answered at the freeze; after the restart"
        f" the first reply came {first - back:.2f} s and the last {last - back:.2f} s after"
        f" the broker listened again; {len(seen) - len(mos)} redeliveries of a reply"
    )
    replies: dict[str, set[str]] = {}
    for _, mt in seen:
        replies.setdefault(mt["in_reply_to"], set()).add(mt["id"])
    assert sorted(replies) == sorted(mo["id"] for mo in mos)
    assert {mo_id: len(ids) for mo_id, ids in replies.items() if len(ids) != 1} == {}
    # each registered ZL1 once: 50,000 - 1,000
    assert set(balances.values()) == {49_000}
    interrupted = [e for e in gateway.log_events() if e.get("event") == "mt_publish_interrupted"]
    assert interrupted, "no MT was in flight at the drop: the test did not test it"


@pytest.mark.parametrize("protocol", ["3.1.1", "5"])
async def test_a_retained_mo_is_never_processed_again(
    tmp_path: Path, broker: ConfiguredMosquitto, protocol: str
) -> None:
    """Retained MOs are state, not SMS: reported on sms/errors, cleared, never charged again.

    ``before``'s retained ``DK ZL1`` is on the broker before the gateway first subscribes:
    it arrives flagged retained and is never processed. ``live``'s is published while the
    gateway is subscribed, so it arrives as a plain message and is processed once; at the
    next restart the broker offers it again, flagged retained, and it is not processed.
    A second restart finds nothing left to offer.
    """
    before, live, marker = "84912000001", "84912000002", "84912000003"
    gateway = _gateway(tmp_path, broker, SCGW_MQTT_PROTOCOL=protocol)
    async with mqtt_client(broker.port, "sms/errors", "sms/mt/#", protocol=protocol) as watch:
        await watch.publish(f"sms/mo/888/{before}", b"DK ZL1", qos=1, retain=True)
        events: list[tuple[str, dict[str, Any]]] = []

        async def start_and_settle(run: int) -> None:
            """Start the gateway, then wait for the answer to a marker MO sent after it
            subscribed: whatever the broker handed it at subscribe time came first."""
            gateway.start()
            mo = {"id": f"marker-{run}", "from": marker, "text": "KTTK_ZL"}
            await watch.publish("sms/mo/888", json.dumps(mo), qos=1)
            while not events or events[-1][1].get("in_reply_to") != mo["id"]:
                events.append(await next_json(watch, wait=20))

        await start_and_settle(1)
        await watch.publish(f"sms/mo/888/{live}", b"DK ZL1", qos=1, retain=True)
        events.append(await next_json(watch))  # live's registration
        for run in (2, 3):
            gateway.stop()
            await start_and_settle(run)
        gateway.stop()
    errors = [(topic, e["topic"], e["reason"]) for topic, e in events if topic == "sms/errors"]
    replies = [(topic, e["in_reply_to"]) for topic, e in events if topic.startswith("sms/mt/")]
    reason = "retained message: state, not an SMS; not processed (cleared)"
    assert errors == [
        ("sms/errors", f"sms/mo/888/{before}", reason),  # at the first start
        ("sms/errors", f"sms/mo/888/{live}", reason),  # at the first restart
    ]
    assert [topic for topic, _ in replies] == [
        f"sms/mt/{marker}",
        f"sms/mt/{live}",
        f"sms/mt/{marker}",
        f"sms/mt/{marker}",
    ]
    gateway.start()
    with gateway.http() as http:
        assert http.get(f"/api/subscribers/{before}").status_code == 404
        charges = http.get(f"/api/subscribers/{live}/charges").json()["charges"]
    gateway.stop()
    assert [(c["reason"], c["amount"]) for c in charges] == [("registration", 1_000)]
    # nothing retained is left: a new subscriber's first message is one sent after it
    async with mqtt_client(broker.port, "sms/mo/#", "check/marker") as fresh:
        await fresh.publish("check/marker", b"{}", qos=1)
        topic, _ = await next_json(fresh)
    assert topic == "check/marker"
