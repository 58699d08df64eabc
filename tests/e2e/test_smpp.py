"""The SMPP server of the running gateway, driven by two independent clients: smpplib
(pure Python, the codec the server uses too) and smpp34 (a Rust codec), plus raw bytes."""

from __future__ import annotations

import asyncio
import json
import socket
import struct
from collections.abc import Callable
from pathlib import Path

import pytest
import smpp34
import smpplib.client
import smpplib.exceptions
import smpplib.smpp

from tests.support import GatewayProcess, Mosquitto, mqtt_client, next_json

MSISDN = "84912345678"
HEADER = struct.Struct(">LLLL")
PASSWORD = "s3cret"  # noqa: S105 - the demo account app9029's
#: SMPP 3.4 TLV tags (5.3.2)
TLV_RECEIPTED_MESSAGE_ID, TLV_MESSAGE_STATE, TLV_MESSAGE_PAYLOAD = 0x001E, 0x0427, 0x0424


def _smpplib(gateway: GatewayProcess) -> smpplib.client.Client:
    client = smpplib.client.Client(
        "127.0.0.1", gateway.smpp_port, timeout=10, allow_unknown_opt_params=True
    )
    client.connect()
    return client


def _refusal(gateway: GatewayProcess, system_id: str, password: str) -> int:
    client = _smpplib(gateway)
    try:
        with pytest.raises(smpplib.exceptions.PDUError) as refused:
            client.bind_transceiver(system_id=system_id, password=password)
        return int(refused.value.args[1])
    finally:
        client.disconnect()


def test_each_bind_type_and_each_refusal(
    gateway_factory: Callable[..., GatewayProcess], tmp_path: Path
) -> None:
    """transmitter, receiver and transceiver bind (a receiver's submit_sm is
    ESME_RINVBNDSTS, 0x04); an unknown system_id is ESME_RINVSYSID
    (0x0F), a wrong password ESME_RINVPASWD (0x0E), one bind past max_binds ESME_RALYBND (0x05)."""
    accounts = tmp_path / "accounts.toml"
    accounts.write_text(
        '[[accounts]]\nsystem_id = "app9029"\npassword = "s3cret"\nrole = "application"\n'
        'short_codes = ["9029"]\nmax_binds = 3\n'
    )
    gateway = gateway_factory(SCGW_SMPP_ACCOUNTS=str(accounts)).start()
    bound = []
    for bind in ("bind_transmitter", "bind_receiver", "bind_transceiver"):
        client = _smpplib(gateway)
        response = getattr(client, bind)(system_id="app9029", password=PASSWORD)
        assert response.status == 0
        assert response.command == f"{bind}_resp"
        bound.append(client)
    assert _refusal(gateway, "nobody", "s3cret") == 0x0F
    assert _refusal(gateway, "app9029", "wrong") == 0x0E
    assert _refusal(gateway, "app9029", "s3cret") == 0x05, "a fourth bind with max_binds = 3"
    receiver = bound[1]
    submit = smpplib.smpp.make_pdu(
        "submit_sm", client=receiver, source_addr="9029", destination_addr=MSISDN
    )
    submit.short_message = b"x"
    receiver._socket.sendall(submit.generate())  # smpplib itself refuses to send it
    refused = receiver.read_pdu()
    assert (refused.command, refused.status) == ("submit_sm_resp", 0x04), "ESME_RINVBNDSTS"
    last = bound.pop()
    last.unbind()
    last.disconnect()
    again = _smpplib(gateway)
    assert again.bind_transceiver(system_id="app9029", password=PASSWORD).status == 0
    for client in [*bound, again]:
        client.disconnect()


async def test_handset_texts_dk_zl7_to_888_and_gets_the_reply_as_deliver_sm(
    gateway_factory: Callable[..., GatewayProcess],
) -> None:
    """A handsets session's submit_sm from 0912345678 to 888 is an MO: ZL7 costs 5,000đ of
    the default 50,000đ, and the confirmation comes back as a deliver_sm from 888."""
    gateway = gateway_factory().start()
    client = smpp34.Client("127.0.0.1", gateway.smpp_port, "handsets", "handsets", bind_type="TRX")
    session = await client.connect()
    response = await session.submit_sm("888", b"DK ZL7", source_addr="0912345678")
    assert response.command_status == 0
    assert response.message_id
    async with asyncio.timeout(10):
        reply = await session.next()
    assert isinstance(reply, smpp34.DeliverSmEvent)
    assert reply.source_addr == "888"
    assert reply.destination_addr == MSISDN
    assert reply.data_coding == 0
    text = reply.short_message.decode("ascii")
    assert "ZL7" in text
    assert "5.000d" in text
    assert "10:00 17/03/2026" in text  # 10:00 10/03 + 7 days
    await session.unbind()
    with gateway.http() as http:
        assert http.get(f"/api/subscribers/{MSISDN}").json()["balance"] == 45_000


async def test_application_gets_the_mo_for_its_short_code_and_its_reply_reaches_mqtt(
    gateway_factory: Callable[..., GatewayProcess], mosquitto: Mosquitto
) -> None:
    """An MO on sms/mo/9029 is delivered to app9029 as deliver_sm; its submit_sm from 9029
    is an MT published on sms/mt/<msisdn>, with a DELIVRD receipt (registered_delivery 1)."""
    gateway = gateway_factory().start()
    app = await smpp34.Client(
        "127.0.0.1", gateway.smpp_port, "app9029", "s3cret", bind_type="TRX"
    ).connect()
    async with mqtt_client(mosquitto.port, f"sms/mt/{MSISDN}") as mqtt:
        await mqtt.publish(
            "sms/mo/9029", json.dumps({"id": "q-1", "from": "0912345678", "text": "VOTE 7"}), qos=1
        )
        async with asyncio.timeout(10):
            mo = await app.next()
        assert isinstance(mo, smpp34.DeliverSmEvent)
        assert (mo.source_addr, mo.destination_addr) == (MSISDN, "9029")
        assert mo.short_message == b"VOTE 7"
        sent = await app.submit_sm(
            MSISDN, b"Thanks for voting", source_addr="9029", registered_delivery=1
        )
        assert sent.command_status == 0
        topic, mt = await next_json(mqtt)
    assert topic == f"sms/mt/{MSISDN}"
    assert (mt["from"], mt["text"], mt["id"]) == ("9029", "Thanks for voting", sent.message_id)
    async with asyncio.timeout(10):
        receipt = await app.next()
    assert isinstance(receipt, smpp34.DeliverSmEvent)
    assert receipt.esm_class == 0x04
    text = receipt.short_message.decode("ascii")
    assert text.startswith(f"id:{sent.message_id} sub:001 dlvr:001 ")
    assert "submit date:2603101000 done date:2603101000 stat:DELIVRD err:000" in text
    tlvs = {t.tag: t.value for t in receipt.tlvs}
    assert tlvs[TLV_MESSAGE_STATE] == b"\x02"  # DELIVERED
    assert sent.message_id is not None
    assert tlvs[TLV_RECEIPTED_MESSAGE_ID] == sent.message_id.encode() + b"\x00"
    await app.unbind()


async def test_long_ucs2_both_ways(
    gateway_factory: Callable[..., GatewayProcess], mosquitto: Mosquitto
) -> None:
    """A 100-character Vietnamese text in two UDH parts from a handset reaches the
    application whole (re-split 67 + 33 characters); the application's 100-character
    answer in message_payload reaches MQTT as UCS2 in 2 segments (100 > 70, 100 <= 2 x 67)."""
    gateway = gateway_factory().start()
    text = ("Tiếng Việt có dấu " * 6)[:100]
    assert len(text) == 100
    handsets = await smpp34.Client(
        "127.0.0.1", gateway.smpp_port, "handsets", "handsets", bind_type="TRX"
    ).connect()
    app = await smpp34.Client(
        "127.0.0.1", gateway.smpp_port, "app9029", "s3cret", bind_type="TRX"
    ).connect()
    halves = [text[:50], text[50:]]
    for seq, half in enumerate(halves, start=1):
        udh = bytes((0x05, 0x00, 0x03, 0x2A, 2, seq))
        response = await handsets.submit_sm(
            "9029",
            udh + half.encode("utf-16-be"),
            source_addr=MSISDN,
            esm_class=0x40,
            data_coding=8,
        )
        assert response.command_status == 0
    received = []
    for _ in range(2):
        async with asyncio.timeout(10):
            part = await app.next()
        assert isinstance(part, smpp34.DeliverSmEvent)
        assert part.esm_class & 0x40
        assert part.data_coding == 8
        header_length = part.short_message[0]
        received.append(part.short_message[1 + header_length :].decode("utf-16-be"))
    assert [len(r) for r in received] == [67, 33]
    assert "".join(received) == text
    async with mqtt_client(mosquitto.port, f"sms/mt/{MSISDN}") as mqtt:
        response = await app.submit_sm(
            MSISDN,
            b"",
            source_addr="9029",
            data_coding=8,
            tlvs=[smpp34.Tlv(TLV_MESSAGE_PAYLOAD, text.encode("utf-16-be"))],
        )
        assert response.command_status == 0
        _, mt = await next_json(mqtt)
    assert mt["text"] == text
    assert (mt["encoding"], mt["segments"]) == ("UCS2", 2)
    await app.unbind()
    await handsets.unbind()


def _raw_pdu(command_id: int, sequence: int, body: bytes = b"") -> bytes:
    return HEADER.pack(16 + len(body), command_id, 0, sequence) + body


def _read_pdu(sock: socket.socket) -> tuple[int, int, int, bytes]:
    head = b""
    while len(head) < 16:
        head += sock.recv(16 - len(head))
    length, command_id, status, sequence = HEADER.unpack(head)
    body = b""
    while len(body) < length - 16:
        body += sock.recv(length - 16 - len(body))
    return command_id, status, sequence, body


def test_malformed_pdus_get_generic_nack_and_the_session_survives(
    gateway_factory: Callable[..., GatewayProcess],
) -> None:
    """Raw bytes: an unknown command_id gets generic_nack ESME_RINVCMDID (0x03) and a
    submit_sm whose sm_length overruns gets generic_nack ESME_RINVMSGLEN (0x01), each
    with the request's sequence number; enquire_link is still answered after both."""
    gateway = gateway_factory().start()
    with socket.create_connection(("127.0.0.1", gateway.smpp_port), timeout=10) as sock:
        bind = b"handsets\x00handsets\x00\x00\x34\x00\x00\x00"
        sock.sendall(_raw_pdu(0x00000009, 1, bind))
        assert _read_pdu(sock)[:3] == (0x80000009, 0, 1)
        sock.sendall(_raw_pdu(0x00000099, 2))
        assert _read_pdu(sock)[:3] == (0x80000000, 0x03, 2)
        # service_type, ton, npi, source, ton, npi, dest, esm..data_coding, default id,
        # sm_length 50 but 2 octets follow
        body = b"\x00\x01\x01849\x00\x00\x00888\x00" + bytes(3) + b"\x00\x00" + bytes(4)
        sock.sendall(_raw_pdu(0x00000004, 3, body + bytes([50]) + b"DK"))
        assert _read_pdu(sock)[:3] == (0x80000000, 0x01, 3)
        sock.sendall(_raw_pdu(0x00000015, 4))
        assert _read_pdu(sock)[:3] == (0x80000015, 0, 4)


async def test_mo_stored_while_unbound_survives_kill_9_and_is_delivered_once(
    gateway_factory: Callable[..., GatewayProcess], mosquitto: Mosquitto
) -> None:
    """An MO to 9029 while no application session is bound is acknowledged on MQTT once
    stored; the gateway is killed with -9; after the restart the application binds and
    gets it once, and a second bind after that gets nothing more."""
    gateway = gateway_factory().start()
    async with mqtt_client(mosquitto.port) as mqtt:
        await mqtt.publish(
            "sms/mo/9029", json.dumps({"id": "k-1", "from": MSISDN, "text": "KEEP ME"}), qos=1
        )
    deadline = asyncio.get_running_loop().time() + 10
    while not any(e.get("event") == "smpp_mo_stored" for e in gateway.log_events()):
        assert asyncio.get_running_loop().time() < deadline, "the MO was never stored"
        await asyncio.sleep(0.05)
    gateway.kill()
    gateway.start()
    app = await smpp34.Client(
        "127.0.0.1", gateway.smpp_port, "app9029", "s3cret", bind_type="RX"
    ).connect()
    async with asyncio.timeout(10):
        mo = await app.next()
    assert isinstance(mo, smpp34.DeliverSmEvent)
    assert mo.short_message == b"KEEP ME"
    await app.unbind()
    delivered = [e for e in gateway.log_events() if e.get("event") == "smpp_delivered"]
    assert len(delivered) == 1
    again = await smpp34.Client(
        "127.0.0.1", gateway.smpp_port, "app9029", "s3cret", bind_type="TRX"
    ).connect()
    response = await again.submit_sm(MSISDN, b"x", source_addr="9029")
    assert response.command_status == 0
    await again.unbind()
    delivered = [e for e in gateway.log_events() if e.get("event") == "smpp_delivered"]
    assert len(delivered) == 1, "nothing is delivered twice"
