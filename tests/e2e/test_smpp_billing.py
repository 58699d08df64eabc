"""MT billing over SMPP (an account's ``mt_price``), driven by smpp34 and by smpplib: each
accepted submit_sm is charged once, prepaid or postpaid; a balance too low fails the
message with an UNDELIV receipt (err 100) and charges nothing."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import smpp34
import smpplib.client
import smpplib.consts
import smpplib.gsm

from tests.support import GatewayProcess, Mosquitto, mqtt_client, next_json

PREPAID, POSTPAID = "84912345678", "84987654321"
TLV_MESSAGE_STATE = 0x0427  # SMPP 3.4, 5.3.2.35
PASSWORD = "s3cret"  # noqa: S105 - the account of this test
ACCOUNTS = (
    '[[accounts]]\nsystem_id = "app9029"\npassword = "s3cret"\nrole = "application"\n'
    'short_codes = ["9029"]\nmt_price = 1000\n'
)


def _start(factory: Callable[..., GatewayProcess], tmp_path: Path, **env: str) -> GatewayProcess:
    accounts = tmp_path / "accounts.toml"
    accounts.write_text(ACCOUNTS)
    gateway = factory(SCGW_SMPP_ACCOUNTS=str(accounts), **env).start()
    with gateway.http() as http:
        for msisdn, body in (
            (PREPAID, {"kind": "prepaid", "balance": 2_500}),
            (POSTPAID, {"kind": "postpaid"}),
        ):
            assert http.put(f"/api/subscribers/{msisdn}", json=body).status_code == 201
    return gateway


def _billing(gateway: GatewayProcess, msisdn: str) -> dict[str, Any]:
    with gateway.http() as http:
        return {
            "balance": http.get(f"/api/subscribers/{msisdn}").json()["balance"],
            "charges": http.get(f"/api/subscribers/{msisdn}/charges").json()["charges"],
            "ledger": http.get(f"/api/subscribers/{msisdn}/ledger").json()["entries"],
            "invoice": http.get(f"/api/subscribers/{msisdn}/invoices/2026-03").json(),
        }


async def test_prepaid_mt_charged_once_each_then_undeliv_err_100_when_the_balance_is_short(
    gateway_factory: Callable[..., GatewayProcess],
    mosquitto: Mosquitto,
    tmp_path: Path,
    storage: dict[str, str],
) -> None:
    """2,500đ pays two MTs at 1,000đ (2,500 - 1,000 - 1,000 = 500); the third is accepted
    (ESME_ROK, a message id), then fails: receipt stat:UNDELIV err:100, message_state 5,
    no MT on MQTT (the next MT published is the one after it), no charge; query_sm says
    UNDELIV with error 100. The balance equals the sum of the ledger. On SQLite and on
    PostgreSQL."""
    gateway = _start(gateway_factory, tmp_path, **storage)
    app = await smpp34.Client(
        "127.0.0.1", gateway.smpp_port, "app9029", PASSWORD, bind_type="TRX"
    ).connect()
    sent: list[str] = []
    async with mqtt_client(mosquitto.port, "sms/mt/+") as mqtt:
        for n in (1, 2):
            response = await app.submit_sm(PREPAID, f"tip {n}".encode(), source_addr="9029")
            assert response.command_status == 0
            topic, mt = await next_json(mqtt)
            assert (topic, mt["id"], mt["text"]) == (
                f"sms/mt/{PREPAID}",
                response.message_id,
                f"tip {n}",
            )
            assert response.message_id is not None
            sent.append(response.message_id)
        short = await app.submit_sm(PREPAID, b"tip 3", source_addr="9029", registered_delivery=1)
        assert short.command_status == 0
        assert short.message_id
        after = await app.submit_sm(POSTPAID, b"after", source_addr="9029")
        assert after.command_status == 0
        topic, mt = await next_json(mqtt)
        assert (topic, mt["id"]) == (f"sms/mt/{POSTPAID}", after.message_id)
    async with asyncio.timeout(10):
        receipt = await app.next()
    assert isinstance(receipt, smpp34.DeliverSmEvent)
    assert receipt.esm_class == 0x04
    text = receipt.short_message.decode("ascii")
    assert text.startswith(f"id:{short.message_id} sub:001 dlvr:000 ")
    assert "stat:UNDELIV err:100 text:tip 3" in text
    assert {t.tag: t.value for t in receipt.tlvs}[TLV_MESSAGE_STATE] == b"\x05"
    await app.unbind()

    billing = _billing(gateway, PREPAID)
    assert billing["balance"] == 500
    assert [(c["reason"], c["amount"], c["billing"]) for c in billing["charges"]] == [
        ("mt", 1000, "balance"),
        ("mt", 1000, "balance"),
    ]
    assert sorted(c["message_id"] for c in billing["charges"]) == sorted(sent)
    assert {c["rule"] for c in billing["charges"]} == {"mt_price"}
    assert [e["delta"] for e in billing["ledger"]] == [2500, -1000, -1000]
    assert sum(e["delta"] for e in billing["ledger"]) == billing["balance"]

    with _smpplib(gateway) as query:
        query.bind_transceiver(system_id="app9029", password=PASSWORD)
        query.query_message(message_id=short.message_id, source_addr="9029")
        answer = query.read_pdu()
        assert answer.command == "query_sm_resp"
        assert (answer.message_state, answer.error_code) == (5, 100)  # UNDELIVERABLE


@contextlib.contextmanager
def _smpplib(gateway: GatewayProcess) -> Iterator[smpplib.client.Client]:
    """An smpplib client, connected; disconnected at the end."""
    client = smpplib.client.Client(
        "127.0.0.1", gateway.smpp_port, timeout=10, allow_unknown_opt_params=True
    )
    client.connect()
    try:
        yield client
    finally:
        client.disconnect()


def test_postpaid_long_mt_is_one_invoice_line_and_unknown_msisdn_is_err_101(
    gateway_factory: Callable[..., GatewayProcess], tmp_path: Path
) -> None:
    """smpplib sends a 200-character text as two UDH parts (153 + 47): one message, so one
    1,000đ line on the postpaid invoice of March 2026 ("9029 mt"), linked to the id the
    last part's submit_sm_resp carries. An MT to an MSISDN that is no subscriber is
    accepted, then UNDELIV err:101, and charges nobody."""
    gateway = _start(gateway_factory, tmp_path)
    text = "Ket qua xo so hom nay: " + "0123456789" * 18
    assert len(text) == 203
    parts, encoding, msg_type = smpplib.gsm.make_parts(text)
    assert len(parts) == 2
    receipts: list[Any] = []
    responses: list[Any] = []
    with _smpplib(gateway) as client:
        client.set_message_received_handler(lambda pdu: receipts.append(pdu))
        client.set_message_sent_handler(lambda pdu: responses.append(pdu))
        client.bind_transceiver(system_id="app9029", password=PASSWORD)
        for part in parts:
            client.send_message(
                source_addr_ton=smpplib.consts.SMPP_TON_SBSCR,
                source_addr="9029",
                destination_addr=POSTPAID,
                short_message=part,
                data_coding=encoding,
                esm_class=msg_type,
            )
        client.send_message(
            source_addr="9029",
            destination_addr="84900000001",
            short_message=b"to nobody",
            registered_delivery=1,
        )
        for _ in range(20):  # three responses and the receipt, in whatever order
            if len(responses) == 3 and receipts:
                break
            client.read_once()
    assert [r.status for r in responses] == [0, 0, 0]
    ids = [r.message_id.decode() for r in responses]
    [receipt] = receipts
    assert receipt.short_message.startswith(f"id:{ids[2]} sub:001 dlvr:000 ".encode())
    assert b"stat:UNDELIV err:101 text:to nobody" in receipt.short_message

    billing = _billing(gateway, POSTPAID)
    assert billing["balance"] == 50_000, "the default balance, untouched: postpaid pays later"
    assert [e["reason"] for e in billing["ledger"]] == ["provision"]
    [charge] = billing["charges"]
    assert (charge["reason"], charge["amount"], charge["billing"]) == ("mt", 1000, "invoice")
    assert (charge["invoice_month"], charge["message_id"]) == ("2026-03", ids[1])
    assert charge["inputs"]["segments"] == 2
    assert billing["invoice"]["total"] == 1000
    assert [(line["description"], line["amount"]) for line in billing["invoice"]["lines"]] == [
        ("9029 mt", 1000)
    ]
    with gateway.http() as http:
        assert http.get("/api/subscribers/84900000001").status_code == 404
