"""Outcomes on demand over SMPP, on the virtual clock: handset states, validity periods,
seeded percentages, registered_delivery 2, cancel_sm and query_sm; each final state also
on MQTT ``sms/dlr/<code>`` and on the console's event stream.

Two independent clients: smpp34 (a Rust codec) binds as the application and decodes the
receipts; smpplib (pure Python) sends query_sm, and cancel_sm as bytes built here (neither
client has a cancel_sm of its own). The virtual clock starts at 10:00 on 10/03/2026,
Asia/Ho_Chi_Minh (+07:00, 28 quarter hours)."""

from __future__ import annotations

import asyncio
import json
import random
import re
import struct
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import smpp34
import smpplib.client
import smpplib.smpp

from tests.support import GatewayProcess, Mosquitto, mqtt_client, next_json

HEADER = struct.Struct(">LLLL")
CANCEL_SM, CANCEL_SM_RESP = 0x00000008, 0x80000008
TLV_RECEIPTED_MESSAGE_ID, TLV_MESSAGE_STATE = 0x001E, 0x0427
RECEIPT = re.compile(
    r"^id:(?P<id>\S+) sub:001 dlvr:(?P<dlvr>\d{3}) submit date:(?P<submit>\d{10})"
    r" done date:(?P<done>\d{10}) stat:(?P<stat>[A-Z]{7}) err:(?P<err>\d{3}) text:(?P<text>.*)$"
)
TWO_HOURS = "000000020000000R"  # relative validity_period (SMPP 3.4, 7.1.2)


async def _application(gateway: GatewayProcess, bind_type: str = "TRX") -> smpp34.Smsc:
    client = smpp34.Client("127.0.0.1", gateway.smpp_port, "app9029", "s3cret", bind_type=bind_type)
    return await client.connect()


async def _submit(app: smpp34.Smsc, msisdn: str, text: str, **fields: Any) -> str:
    response = await app.submit_sm(msisdn, text.encode(), source_addr="9029", **fields)
    assert response.command_status == 0
    assert response.message_id
    return response.message_id


async def _receipt(app: smpp34.Smsc) -> dict[str, Any]:
    """The next deliver_sm, a receipt: its text's fields and its two TLVs."""
    async with asyncio.timeout(10):
        event = await app.next()
    assert isinstance(event, smpp34.DeliverSmEvent)
    assert event.esm_class == 0x04
    fields = RECEIPT.match(event.short_message.decode("ascii"))
    assert fields is not None, event.short_message
    tlvs = {t.tag: t.value for t in event.tlvs}
    assert tlvs[TLV_RECEIPTED_MESSAGE_ID] == fields["id"].encode() + b"\x00"
    return {
        **fields.groupdict(),
        "message_state": tlvs[TLV_MESSAGE_STATE][0],
        "from": event.source_addr,
        "to": event.destination_addr,
    }


def _smpplib_tx(gateway: GatewayProcess) -> smpplib.client.Client:
    client = smpplib.client.Client(
        "127.0.0.1", gateway.smpp_port, timeout=10, allow_unknown_opt_params=True
    )
    client.connect()
    client.bind_transmitter(system_id="app9029", password="s3cret")  # noqa: S106
    return client


def _query(client: smpplib.client.Client, message_id: str) -> tuple[int, str, int]:
    """query_sm: (message_state, final_date, error_code)."""
    pdu = smpplib.smpp.make_pdu(
        "query_sm", client=client, message_id=message_id, source_addr="9029"
    )
    # smpplib allows query_sm only on a receiver (SMPP 3.4, 4.8: transmitter): sent as is
    client._socket.sendall(pdu.generate())
    response = client.read_pdu()
    assert (response.command, response.status) == ("query_sm_resp", 0)
    final_date = (response.final_date or b"").decode()
    return response.message_state, final_date, response.error_code


def _sm_query(client: smpplib.client.Client, message_id: str) -> tuple[str, int]:
    """query_sm of a message unknown or not ours: the status."""
    pdu = smpplib.smpp.make_pdu("query_sm", client=client, message_id=message_id)
    client._socket.sendall(pdu.generate())
    response = client.read_pdu()
    return response.command, int(response.status)


def _cancel(client: smpplib.client.Client, message_id: str, source: str, destination: str) -> int:
    """cancel_sm (SMPP 3.4, 4.9.1) as bytes on smpplib's socket: the response's status."""
    body = (
        b"\x00"  # service_type
        + message_id.encode()
        + b"\x00\x00\x01"
        + source.encode()
        + b"\x00\x01\x01"
        + destination.encode()
        + b"\x00"
    )
    sequence = 0x7000_0000 + len(message_id)
    client._socket.sendall(HEADER.pack(16 + len(body), CANCEL_SM, 0, sequence) + body)
    head = b""
    while len(head) < 16:
        chunk = client._socket.recv(16 - len(head))
        assert chunk, "the session closed"
        head += chunk
    length, command_id, status, answered = HEADER.unpack(head)
    assert (length, command_id, answered) == (16, CANCEL_SM_RESP, sequence)
    return int(status)


@asynccontextmanager
async def _live_events(gateway: GatewayProcess, kind: str) -> AsyncIterator[list[dict[str, Any]]]:
    """The console's stream (``/api/events``) of one kind, collected while open."""
    seen: list[dict[str, Any]] = []
    connected = asyncio.Event()

    async def read() -> None:
        async with (
            httpx.AsyncClient(base_url=gateway.url, timeout=30) as http,
            http.stream("GET", "/api/events", params={"kind": kind}) as stream,
        ):
            async for line in stream.aiter_lines():
                if line.startswith(": connected"):
                    connected.set()
                if line.startswith("data: "):
                    seen.append(json.loads(line.removeprefix("data: ")))

    task = asyncio.ensure_future(read())
    async with asyncio.timeout(10):
        await connected.wait()
    try:
        yield seen
    finally:
        task.cancel()


async def _until(condition: Callable[[], bool], what: str) -> None:
    for _ in range(200):
        if condition():
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"never happened: {what}")


async def test_an_off_handset_holds_until_its_validity_ends_then_expired(
    gateway_factory: Callable[..., GatewayProcess], mosquitto: Mosquitto
) -> None:
    """Two handsets are off. A message with a two-hour validity to the first waits
    (query_sm: ENROUTE, no final date) through one hour, and at 12:00 its receipt is
    EXPIRED, err 001, message_state 3, done date 12:00. The second handset is put back on
    at 10:00: its held message is DELIVRD at once. Both final states are on MQTT
    sms/dlr/9029 and on the console's stream."""
    gateway = gateway_factory().start()
    held, back = "84912345678", "84912345679"
    with gateway.http() as http:
        for msisdn in (held, back):
            answer = http.put(f"/api/handsets/{msisdn}", json={"state": "off"})
            assert answer.status_code == 200
    app = await _application(gateway)
    tx = _smpplib_tx(gateway)
    async with (
        mqtt_client(mosquitto.port, "sms/dlr/9029") as mqtt,
        _live_events(gateway, "dlr") as console,
    ):
        expiring = await _submit(
            app, held, "Expires at noon", registered_delivery=1, validity_period=TWO_HOURS
        )
        delivered = await _submit(app, back, "Delivered when on", registered_delivery=1)
        assert _query(tx, expiring) == (1, "", 0), "ENROUTE while held"
        with gateway.http() as http:
            assert http.put(f"/api/handsets/0{back[2:]}", json={"state": "on"}).status_code == 200
        first = await _receipt(app)
        assert (first["id"], first["stat"], first["err"], first["dlvr"]) == (
            delivered,
            "DELIVRD",
            "000",
            "001",
        )
        assert (first["submit"], first["done"], first["message_state"]) == (
            "2603101000",
            "2603101000",
            2,
        )
        assert (first["from"], first["to"]) == (back, "9029")
        with gateway.http() as http:
            assert http.post("/api/clock/advance", json={"seconds": 3600}).status_code == 200
        assert _query(tx, expiring) == (1, "", 0), "still ENROUTE at 11:00"
        with gateway.http() as http:
            assert http.post("/api/clock/advance", json={"seconds": 3600}).status_code == 200
        second = await _receipt(app)
        assert (second["id"], second["stat"], second["err"], second["dlvr"]) == (
            expiring,
            "EXPIRED",
            "001",
            "000",
        )
        assert (second["submit"], second["done"], second["message_state"]) == (
            "2603101000",
            "2603101200",
            3,
        )
        assert second["text"] == "Expires at noon"
        assert _query(tx, expiring) == (3, "260310120000028+", 1)
        dlrs = [(await next_json(mqtt))[1] for _ in range(2)]
        await _until(lambda: len(console) >= 2, "two dlr events on the console's stream")
    assert dlrs[0]["id"] == delivered
    assert dlrs[1] == {
        "id": expiring,
        "msisdn": held,
        "shortcode": "9029",
        "account": "app9029",
        "stat": "EXPIRED",
        "err": 1,
        "submitted_at": "2026-03-10T10:00:00+07:00",
        "done_at": "2026-03-10T12:00:00+07:00",
        "receipt": f"id:{expiring} sub:001 dlvr:000 submit date:2603101000"
        " done date:2603101200 stat:EXPIRED err:001 text:Expires at noon",
    }
    assert [(e["id"], e["stat"], e["at"]) for e in console] == [
        (delivered, "DELIVRD", "2026-03-10T10:00:00+07:00"),
        (expiring, "EXPIRED", "2026-03-10T12:00:00+07:00"),
    ]
    tx.disconnect()
    await app.unbind()


async def test_absent_memory_full_and_barred_fail_and_failures_only_skips_delivered(
    gateway_factory: Callable[..., GatewayProcess],
) -> None:
    """absent: UNDELIV err 027; memory_full: UNDELIV err 032; barred: REJECTD err 013
    (message_state 5, 5, 8). With registered_delivery 2 (failures only), a message to a
    barred handset gets its receipt, one to a handset that is on none: query_sm shows it
    DELIVRD, and the next receipt is that of a later message. A validity_period that is
    not SMPP time is ESME_RINVEXPIRY (0x62)."""
    gateway = gateway_factory().start()
    states = {"84912000001": "absent", "84912000002": "memory_full", "84912000003": "barred"}
    with gateway.http() as http:
        for msisdn, state in states.items():
            assert http.put(f"/api/handsets/{msisdn}", json={"state": state}).status_code == 200
    app = await _application(gateway)
    sent = {await _submit(app, m, f"to {s}", registered_delivery=1): m for m, s in states.items()}
    receipts = {}
    for _ in range(3):
        receipt = await _receipt(app)
        receipts[sent[receipt["id"]]] = (
            receipt["stat"],
            receipt["err"],
            receipt["message_state"],
        )
    assert receipts == {
        "84912000001": ("UNDELIV", "027", 5),
        "84912000002": ("UNDELIV", "032", 5),
        "84912000003": ("REJECTD", "013", 8),
    }
    quiet = await _submit(app, "84912000004", "delivered, no receipt", registered_delivery=2)
    failed = await _submit(app, "84912000003", "barred, receipt", registered_delivery=2)
    receipt = await _receipt(app)
    assert (receipt["id"], receipt["stat"]) == (failed, "REJECTD")
    tx = _smpplib_tx(gateway)
    for _ in range(200):
        answer = _query(tx, quiet)
        if answer[0] != 1:
            break
        await asyncio.sleep(0.05)
    assert answer == (2, "260310100000028+", 0)
    later = await _submit(app, "84912000004", "after", registered_delivery=1)
    receipt = await _receipt(app)
    assert (receipt["id"], receipt["stat"]) == (later, "DELIVRD"), "no receipt for DELIVRD with 2"
    refused = await app.submit_sm(
        "84912000004", b"x", source_addr="9029", validity_period="next tuesday"
    )
    assert refused.command_status == 0x62
    tx.disconnect()
    await app.unbind()


async def test_seeded_percentages_give_the_documented_outcomes_in_order(
    gateway_factory: Callable[..., GatewayProcess],
) -> None:
    """SCGW_SMPP_OUTCOMES=DELIVRD=40,UNDELIV=20,EXPIRED=20,REJECTD=20, seed 7: the n-th
    submit_sm gets the n-th random.Random(7).randrange(100) (docs/smpp.md): below 40
    DELIVRD, below 60 UNDELIV, below 80 EXPIRED, else REJECTD. EXPIRED ones wait out their
    one-hour validity (receipts at 11:00), the others are final at 10:00."""
    draw = random.Random(7)
    expected = []
    for _ in range(8):
        point = draw.randrange(100)
        expected.append(
            "DELIVRD"
            if point < 40
            else "UNDELIV"
            if point < 60
            else "EXPIRED"
            if point < 80
            else "REJECTD"
        )
    assert set(expected) == {"DELIVRD", "UNDELIV", "EXPIRED", "REJECTD"}, "a seed showing all"
    gateway = gateway_factory(
        SCGW_SMPP_OUTCOMES="DELIVRD=40,UNDELIV=20,EXPIRED=20,REJECTD=20", SCGW_SMPP_SEED="7"
    ).start()
    app = await _application(gateway)
    ids = [
        await _submit(
            app, "84912345678", f"n{n}", registered_delivery=1, validity_period="000000010000000R"
        )
        for n in range(8)
    ]
    got: dict[str, tuple[str, str]] = {}
    for _ in range(len(expected) - expected.count("EXPIRED")):
        receipt = await _receipt(app)
        got[receipt["id"]] = (receipt["stat"], receipt["done"])
    with gateway.http() as http:
        assert http.post("/api/clock/advance", json={"seconds": 3600}).status_code == 200
    for _ in range(expected.count("EXPIRED")):
        receipt = await _receipt(app)
        got[receipt["id"]] = (receipt["stat"], receipt["done"])
    assert [got[i] for i in ids] == [
        (stat, "2603101100" if stat == "EXPIRED" else "2603101000") for stat in expected
    ]
    await app.unbind()


async def test_cancel_sm_deletes_pending_messages_without_a_receipt_and_query_sm_follows(
    gateway_factory: Callable[..., GatewayProcess], mosquitto: Mosquitto
) -> None:
    """With a ten-minute delivery delay: query_sm says ENROUTE; cancel_sm by id answers
    0 and query_sm then says DELETED (4, err 4, final date 10:00); the same cancel again,
    an unknown id, or another short code's source is ESME_RCANCELFAIL (0x11); cancel_sm
    without an id deletes every pending message from 9029 to that subscriber. None of
    them gets a receipt: at 10:10 the first receipt is that of the one left, DELIVRD.
    MQTT sms/dlr/9029 carries the DELETED ones too."""
    gateway = gateway_factory(SCGW_SMPP_DELIVERY_DELAY="600").start()
    msisdn = "84912345678"
    app = await _application(gateway, bind_type="RX")
    tx = _smpplib_tx(gateway)
    submitted = []
    for n in range(4):
        pdu = smpplib.smpp.make_pdu(
            "submit_sm",
            client=tx,
            source_addr="9029",
            destination_addr=msisdn,
            registered_delivery=1,
        )
        pdu.short_message = f"message {n}".encode()
        tx.send_pdu(pdu)
        response = tx.read_pdu()
        assert (response.command, response.status) == ("submit_sm_resp", 0)
        submitted.append(response.message_id.decode())
    first, second, third, fourth = submitted
    async with mqtt_client(mosquitto.port, "sms/dlr/9029") as mqtt:
        assert _query(tx, first) == (1, "", 0)
        assert _cancel(tx, first, "9029", msisdn) == 0
        assert _query(tx, first) == (4, "260310100000028+", 4)
        assert _cancel(tx, first, "9029", msisdn) == 0x11, "already deleted"
        assert _cancel(tx, "no-such-id", "9029", msisdn) == 0x11
        assert _cancel(tx, fourth, "8100", "") == 0x11, "another source"
        assert _sm_query(tx, "no-such-id") == ("query_sm_resp", 0x67)
        # no id: every message still pending from 9029 to the subscriber
        assert _cancel(tx, "", "9029", "0912345678") == 0
        assert [_query(tx, m)[0] for m in (second, third, fourth)] == [4, 4, 4]
        pdu = smpplib.smpp.make_pdu(
            "submit_sm", client=tx, source_addr="9029", destination_addr=msisdn
        )
        pdu.short_message = b"the one left"
        pdu.registered_delivery = 1
        tx.send_pdu(pdu)
        response = tx.read_pdu()
        left = response.message_id.decode()
        deleted = [(await next_json(mqtt))[1] for _ in range(4)]
        assert sorted(d["id"] for d in deleted) == sorted(submitted)
        assert {(d["stat"], d["err"], d["done_at"]) for d in deleted} == {
            ("DELETED", 4, "2026-03-10T10:00:00+07:00")
        }
        with gateway.http() as http:
            assert http.post("/api/clock/advance", json={"seconds": 600}).status_code == 200
        receipt = await _receipt(app)
        assert (receipt["id"], receipt["stat"], receipt["done"]) == (left, "DELIVRD", "2603101010")
        assert _query(tx, left) == (2, "260310101000028+", 0)
    tx.disconnect()
    await app.unbind()


async def test_a_held_message_survives_kill_9_and_expires_once_after_the_restart(
    gateway_factory: Callable[..., GatewayProcess],
) -> None:
    """A message held for an off handset (validity two hours, receipt asked) is stored
    when submit_sm_resp is sent: the gateway is killed with -9 and restarted, the handset
    is still off, the clock is moved to 12:00, and the receipt is EXPIRED, done at 12:00,
    delivered once."""
    gateway = gateway_factory().start()
    with gateway.http() as http:
        assert http.put("/api/handsets/84912345678", json={"state": "off"}).status_code == 200
    app = await _application(gateway, bind_type="TX")
    held = await _submit(
        app, "84912345678", "kept", registered_delivery=1, validity_period=TWO_HOURS
    )
    gateway.kill()
    gateway.start()
    with gateway.http() as http:
        assert http.get("/api/handsets/84912345678").json()["state"] == "off"
        moved = http.post("/api/clock/advance", json={"seconds": 7200})
        assert moved.json()["now"] == "2026-03-10T12:00:00+07:00"
    app = await _application(gateway, bind_type="RX")
    receipt = await _receipt(app)
    assert (receipt["id"], receipt["stat"], receipt["done"]) == (held, "EXPIRED", "2603101200")
    await app.unbind()

    def delivered() -> list[tuple[str, str]]:
        events = gateway.log_events()
        return [(e["id"], e["kind"]) for e in events if e.get("event") == "smpp_delivered"]

    await _until(lambda: bool(delivered()), "the receipt's delivery logged")
    assert delivered() == [(f"dlr-{held}", "receipt")]


async def test_an_account_with_its_own_percentages_gets_them_the_others_the_setting(
    gateway_factory: Callable[..., GatewayProcess], tmp_path: Path
) -> None:
    """app9029 has outcomes = "REJECTD=100" in the accounts file, app9030 none: with the
    default SCGW_SMPP_OUTCOMES (DELIVRD=100) its receipt is DELIVRD, app9029's REJECTD
    err 003 (message_state 8)."""
    accounts = tmp_path / "accounts.toml"
    accounts.write_text(
        '[[accounts]]\nsystem_id = "app9029"\npassword = "s3cret"\nrole = "application"\n'
        'short_codes = ["9029"]\noutcomes = "REJECTD=100"\n\n'
        '[[accounts]]\nsystem_id = "app9030"\npassword = "s3cret"\nrole = "application"\n'
        'short_codes = ["9030"]\n'
    )
    gateway = gateway_factory(SCGW_SMPP_ACCOUNTS=str(accounts)).start()
    own = await _application(gateway)
    other = await smpp34.Client(
        "127.0.0.1", gateway.smpp_port, "app9030", "s3cret", bind_type="TRX"
    ).connect()
    rejected = await _submit(own, "84912345678", "refused", registered_delivery=1)
    response = await other.submit_sm(
        "84912345678", b"fine", source_addr="9030", registered_delivery=1
    )
    assert response.command_status == 0
    receipt = await _receipt(own)
    assert (receipt["id"], receipt["stat"], receipt["err"], receipt["message_state"]) == (
        rejected,
        "REJECTD",
        "003",
        8,
    )
    receipt = await _receipt(other)
    assert (receipt["id"], receipt["stat"], receipt["to"]) == (
        response.message_id,
        "DELIVRD",
        "9030",
    )
    await own.unbind()
    await other.unbind()


async def test_on_the_real_clock_the_outcome_is_due_after_the_delivery_delay(
    gateway_factory: Callable[..., GatewayProcess], mosquitto: Mosquitto
) -> None:
    """SCGW_CLOCK=real, SCGW_SMPP_DELIVERY_DELAY=1: the receipt comes by itself (no clock
    move), and its final state is dated exactly one second after the submission."""
    gateway = gateway_factory(SCGW_CLOCK="real", SCGW_SMPP_DELIVERY_DELAY="1").start()
    app = await _application(gateway)
    async with mqtt_client(mosquitto.port, "sms/dlr/9029") as mqtt:
        sent = await _submit(app, "84912345678", "a second later", registered_delivery=1)
        receipt = await _receipt(app)
        _, dlr = await next_json(mqtt)
    assert (receipt["id"], receipt["stat"]) == (sent, "DELIVRD")
    assert dlr["id"] == sent
    submitted = datetime.fromisoformat(dlr["submitted_at"])
    assert datetime.fromisoformat(dlr["done_at"]) - submitted == timedelta(seconds=1)
    await app.unbind()
