"""The SMSC's records survive a restart on both engines (SQLite, PostgreSQL): an MO that
waited for an application that was not bound, and an MT pending its outcome (its handset
``off``), with query_sm and its receipt after the restart. Driven by smpp34 (the
application) and smpplib (query_sm)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable

import smpp34
import smpplib.client

from tests.support import GatewayProcess, Mosquitto, mqtt_client

SUBSCRIBER = "84912345678"
SENDER = "84911111111"
PASSWORD = "s3cret"  # noqa: S105 - the demo account's
TLV_MESSAGE_STATE = 0x0427  # SMPP 3.4, 5.3.2.35


def _query_state(gateway: GatewayProcess, message_id: str) -> tuple[int, int]:
    """query_sm with smpplib (while nothing waits for app9029: its session would get it):
    (message_state, error_code)."""
    client = smpplib.client.Client(
        "127.0.0.1", gateway.smpp_port, timeout=10, allow_unknown_opt_params=True
    )
    client.connect()
    try:
        client.bind_transceiver(system_id="app9029", password=PASSWORD)
        client.query_message(message_id=message_id, source_addr="9029")
        answer = client.read_pdu()
        assert answer.command == "query_sm_resp"
        return int(answer.message_state), int(answer.error_code)
    finally:
        client.disconnect()


async def test_a_waiting_mo_and_a_pending_mt_survive_a_restart(
    gateway_factory: Callable[..., GatewayProcess],
    mosquitto: Mosquitto,
    storage: dict[str, str],
) -> None:
    """The subscriber's handset is ``off``; app9029 submits an MT asking for a receipt
    (ENROUTE, message_state 1) and unbinds; an MO to 9029 arrives on MQTT while nothing
    is bound. The gateway stops and starts again: the application binds and gets the
    MO; query_sm still says ENROUTE; the handset is set ``on`` and the MT's receipt
    comes, stat:DELIVRD (message_state 2), and query_sm says DELIVERED."""
    gateway = gateway_factory(**storage).start()
    with gateway.http() as http:
        off = http.put(f"/api/handsets/{SUBSCRIBER}", json={"state": "off"})
        assert off.status_code == 200, off.text
    app = await smpp34.Client(
        "127.0.0.1", gateway.smpp_port, "app9029", PASSWORD, bind_type="TRX"
    ).connect()
    mt = await app.submit_sm(SUBSCRIBER, b"held for you", source_addr="9029", registered_delivery=1)
    assert mt.command_status == 0
    assert mt.message_id
    await app.unbind()
    assert await asyncio.to_thread(_query_state, gateway, mt.message_id) == (1, 0)
    async with mqtt_client(mosquitto.port) as mqtt:
        mo = {"id": "m1", "from": SENDER, "text": "waits for the app"}
        await mqtt.publish("sms/mo/9029", json.dumps(mo), qos=1)  # PUBACK: stored

    await asyncio.to_thread(gateway.stop)
    await asyncio.to_thread(gateway.start)

    app = await smpp34.Client(
        "127.0.0.1", gateway.smpp_port, "app9029", PASSWORD, bind_type="TRX"
    ).connect()
    async with asyncio.timeout(20):
        delivered = await app.next()
    assert isinstance(delivered, smpp34.DeliverSmEvent)
    assert (delivered.source_addr, delivered.short_message) == (SENDER, b"waits for the app")
    assert await asyncio.to_thread(_query_state, gateway, mt.message_id) == (1, 0)
    with gateway.http() as http:
        on = http.put(f"/api/handsets/{SUBSCRIBER}", json={"state": "on"})
        assert on.status_code == 200, on.text
    async with asyncio.timeout(20):
        receipt = await app.next()
    assert isinstance(receipt, smpp34.DeliverSmEvent)
    assert receipt.esm_class == 0x04
    text = receipt.short_message.decode("ascii")
    assert text.startswith(f"id:{mt.message_id} sub:001 dlvr:001 ")
    assert "stat:DELIVRD err:000 text:held for you" in text
    assert {t.tag: t.value for t in receipt.tlvs}[TLV_MESSAGE_STATE] == b"\x02"
    await app.unbind()
    assert await asyncio.to_thread(_query_state, gateway, mt.message_id) == (2, 0)
    gateway.stop()
