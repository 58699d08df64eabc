"""The running program, driven through MQTT and HTTP against a real mosquitto, on a SQLite
file and on a PostgreSQL database."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest

from tests.support import GatewayProcess, Mosquitto, mqtt_client, next_json

MSISDN = "84912345678"


@pytest.fixture
def gateway_database_url(any_database_url: str) -> str:
    """Every test here runs on SQLite, then on PostgreSQL."""
    return any_database_url


@pytest.mark.parametrize("protocol", ["3.1.1", "5"])
async def test_dk_zl7_over_mqtt_gets_a_confirmation(
    gateway_factory: Callable[..., GatewayProcess], mosquitto: Mosquitto, protocol: str
) -> None:
    """A JSON MO on sms/mo/888 is charged and answered on sms/mt/<canonical msisdn>, on MQTT 3.1.1 and 5."""
    gateway = gateway_factory(SCGW_MQTT_PROTOCOL=protocol).start()
    async with mqtt_client(mosquitto.port, f"sms/mt/{MSISDN}", protocol=protocol) as client:
        await client.publish(
            "sms/mo/888", json.dumps({"id": "m-1", "from": "0912345678", "text": "DK ZL7"}), qos=1
        )
        topic, mt = await next_json(client)
    assert topic == f"sms/mt/{MSISDN}"
    assert mt["from"] == "888"
    assert mt["to"] == MSISDN
    assert mt["in_reply_to"] == "m-1"
    assert mt["encoding"] == "GSM7"
    assert mt["segments"] == 1
    # registered 10:00 10/03/2026 (the virtual start) + 7 x 24 h
    assert "ZL7" in mt["text"]
    assert "5.000d" in mt["text"]
    assert "10:00 17/03/2026" in mt["text"]
    assert "HUY ZL7" in mt["text"]
    assert mt["at"] == "2026-03-10T10:00:00+07:00"
    with gateway.http() as http:
        body = http.get(f"/api/subscribers/{MSISDN}").json()
    assert body["balance"] == 50_000 - 5_000
    assert body["subscriptions"][0]["expires_at"] == "2026-03-17T10:00:00+07:00"


async def test_raw_text_topic_is_a_command(
    gateway_factory: Callable[..., GatewayProcess], mosquitto: Mosquitto
) -> None:
    """sms/mo/888/<msisdn> with the raw UTF-8 text as payload works like the JSON form, diacritics folded."""
    gateway_factory().start()
    async with mqtt_client(mosquitto.port, "sms/mt/84987654321") as client:
        await client.publish("sms/mo/888/84987654321", b"dk zl1", qos=1)
        _, registered = await next_json(client)
        await client.publish("sms/mo/888/0987654321", "HỦY   zl1".encode(), qos=1)
        _, cancelled = await next_json(client)
    assert "ZL1" in registered["text"]
    assert "1.000d" in registered["text"]
    assert "huy thanh cong goi ZL1" in cancelled["text"]


async def test_redelivered_mo_is_charged_once(
    gateway_factory: Callable[..., GatewayProcess], mosquitto: Mosquitto
) -> None:
    """The same MO id published twice (a QoS 1 redelivery or a client retry) is processed once."""
    gateway = gateway_factory().start()
    mo = json.dumps({"id": "dup-7", "from": "0912345678", "text": "DK ZL30"})
    async with mqtt_client(mosquitto.port, f"sms/mt/{MSISDN}") as client:
        await client.publish("sms/mo/888", mo, qos=1)
        _, first = await next_json(client)
        await client.publish("sms/mo/888", mo, qos=1)
        await client.publish(
            "sms/mo/888", json.dumps({"id": "after", "from": MSISDN, "text": "KTTK_ZL"}), qos=1
        )
        _, second = await next_json(client)
    assert first["in_reply_to"] == "dup-7"
    assert second["in_reply_to"] == "after", "the duplicate must not be answered again"
    with gateway.http() as http:
        charges = http.get(f"/api/subscribers/{MSISDN}/charges").json()["charges"]
        balance = http.get(f"/api/subscribers/{MSISDN}").json()["balance"]
    assert [c["amount"] for c in charges] == [15_000]
    assert balance == 35_000


async def test_bad_messages_get_error_events_and_the_gateway_keeps_serving(
    gateway_factory: Callable[..., GatewayProcess], mosquitto: Mosquitto
) -> None:
    """Malformed payloads, bad numbers and unknown short codes go to sms/errors; nothing is stored."""
    gateway = gateway_factory().start()
    bad = [
        ("sms/mo/888", b"{not json"),
        ("sms/mo/888", json.dumps({"text": "DK ZL7"}).encode()),
        ("sms/mo/888", json.dumps({"from": "12345", "text": "DK ZL7"}).encode()),
        ("sms/mo/888", json.dumps(["DK ZL7"]).encode()),
        ("sms/mo/999", json.dumps({"from": "0912345678", "text": "DK ZL7"}).encode()),
        ("sms/mo/888/0912345678", b"\xff\xfe DK"),
    ]
    async with mqtt_client(mosquitto.port, "sms/errors", f"sms/mt/{MSISDN}") as client:
        for topic, payload in bad:
            await client.publish(topic, payload, qos=1)
        reasons = []
        for _ in bad:
            topic, event = await next_json(client)
            assert topic == "sms/errors"
            reasons.append(event["reason"])
        await client.publish("sms/mo/888/0912345678", b"KTTK_ZL", qos=1)
        topic, _reply = await next_json(client)
    assert topic == f"sms/mt/{MSISDN}"
    assert "not JSON" in reasons[0]
    assert '"from"' in reasons[1]
    assert "invalid MSISDN" in reasons[2]
    assert "JSON object" in reasons[3]
    assert "unknown short code" in reasons[4]
    assert "UTF-8" in reasons[5]
    with gateway.http() as http:
        assert http.get(f"/api/subscribers/{MSISDN}/charges").json()["charges"] == []


def test_http_api_contract(gateway_factory: Callable[..., GatewayProcess]) -> None:
    """Provision, top up, SMS, invoices and the clock through HTTP; bad input is 4xx and changes nothing."""
    gateway = gateway_factory().start()
    with gateway.http() as http:
        created = http.put("/api/subscribers/+84911000001", json={"kind": "postpaid"})
        assert created.status_code == 201
        assert created.json()["kind"] == "postpaid"
        sms = http.post("/api/sms", json={"from": "0911000001", "to": "888", "text": "DK ZL30"})
        assert sms.status_code == 200
        reply = sms.json()["replies"][0]
        # postpaid ZL30 registered on 10/03 (before the 16th): 100%, until the end of March
        assert "15.000d" in reply["text"]
        assert "23:59 31/03/2026" in reply["text"]
        assert reply["encoding"] == "GSM7"
        invoice = http.get("/api/subscribers/0911000001/invoices/2026-03").json()
        assert invoice["month"] == "2026-03"
        assert invoice["total"] == 15_000
        assert [line["amount"] for line in invoice["lines"]] == [15_000]

        prepaid = http.put("/api/subscribers/0911000002", json={"kind": "prepaid", "balance": 700})
        assert prepaid.json()["balance"] == 700
        refused = http.post("/api/sms", json={"from": "0911000002", "text": "DK ZL1"}).json()
        assert "khong du" in refused["replies"][0]["text"]
        topped = http.post("/api/subscribers/0911000002/topup", json={"amount": 300})
        assert topped.json()["balance"] == 1_000

        for method, path, body, status in [
            ("put", "/api/subscribers/0911000002", {"kind": "corporate"}, 422),
            ("put", "/api/subscribers/0911000002", {"balance": -1}, 422),
            ("put", "/api/subscribers/12", {"kind": "prepaid"}, 422),
            ("post", "/api/subscribers/0911000002/topup", {"amount": 0}, 422),
            ("post", "/api/subscribers/0911000099/topup", {"amount": 10}, 404),
            ("get", "/api/subscribers/0911000099", None, 404),
            ("get", "/api/subscribers/0911000001/invoices/2026-13", None, 422),
            ("post", "/api/sms", {"from": "0911000002", "to": "999", "text": "DK ZL1"}, 404),
            ("post", "/api/sms", {"from": "abc", "text": "DK ZL1"}, 422),
            ("post", "/api/sms", {"text": "DK ZL1"}, 422),
            ("post", "/api/clock/advance", {"to": "2026-01-01T00:00:00+07:00"}, 409),
            ("post", "/api/clock/advance", {"seconds": -5}, 422),
            ("post", "/api/clock/advance", {}, 422),
        ]:
            response = http.request(method, path, json=body)
            assert response.status_code == status, (path, body, response.text)
            assert response.json()["detail"], "every error says what is wrong"
        assert http.get("/api/subscribers/0911000002").json()["balance"] == 1_000
        assert http.get("/api/subscribers/0911000002/charges").json()["charges"] == []

        clock = http.get("/api/clock").json()
        assert clock == {"now": "2026-03-10T10:00:00+07:00", "mode": "virtual"}
        moved = http.post("/api/clock/advance", json={"to": "2026-04-01T00:00:00+07:00"}).json()
        assert moved["now"] == "2026-04-01T00:00:00+07:00"
        # the postpaid ZL30 renewed at 00:00 on 1 April, at 100%, on the April invoice
        april = http.get("/api/subscribers/0911000001/invoices/2026-04").json()
        assert april["total"] == 15_000
        assert april["lines"][0]["at"] == "2026-04-01T00:00:00+07:00"
        subscription = http.get("/api/subscribers/0911000001").json()["subscriptions"][0]
        assert subscription["expires_at"] == "2026-04-30T23:59:59+07:00"
        assert http.get("/openapi.json").status_code == 200


def test_auto_provision_off_answers_not_a_subscriber(
    gateway_factory: Callable[..., GatewayProcess],
) -> None:
    """With SCGW_AUTO_PROVISION=false an unknown number gets a reply and is not stored."""
    gateway = gateway_factory(SCGW_AUTO_PROVISION="false").start()
    with gateway.http() as http:
        reply = http.post("/api/sms", json={"from": "0911000003", "text": "DK ZL7"}).json()
        assert "khong phai thue bao" in reply["replies"][0]["text"]
        assert http.get("/api/subscribers/0911000003").status_code == 404
