"""Out-of-range and invalid input over HTTP and MQTT: a 4xx (or ``sms/errors``) with the
reason, nothing stored, never a 500.

The cases are the ones a fuzzing run found answering 500 (issue 11): integers above
int64, lone surrogates (``\\ud800``, which JSON can carry and UTF-8 cannot), clock
advances of 1e12 s, 1e308, Infinity or NaN, an advance to 9999-12-31, invoice month
``0000-01``. Each is sent to a running gateway, then the stored state is read back.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from tests.support import GatewayProcess, Mosquitto, mqtt_client, next_json

MSISDN = "84912345678"
INT64_MAX = 2**63 - 1
#: the bounds the API documents (docs/http-api.md, "Bounds")
MAX_AMOUNT = 1_000_000_000_000
MAX_USAGE_BYTES = 10_000_000_000_000
LONE = "\ud800"


def _state(http: httpx.Client) -> dict[str, Any]:
    """Everything the refused requests could have changed."""
    subscriber = http.get(f"/api/subscribers/{MSISDN}").json()
    return {
        "balance": subscriber["balance"],
        "email": subscriber["email"],
        "subscriptions": subscriber["subscriptions"],
        "charges": http.get(f"/api/subscribers/{MSISDN}/charges").json(),
        "usage": http.get(f"/api/subscribers/{MSISDN}/usage").json(),
        "ledger": http.get(f"/api/subscribers/{MSISDN}/ledger").json(),
        "messages": http.get(f"/api/subscribers/{MSISDN}/messages").json(),
        "tickets": http.get("/api/tickets").json(),
        "clock": http.get("/api/clock").json(),
    }


def _detail(response: httpx.Response) -> str:
    """The reason of a 4xx as one string (FastAPI's list of errors or our own text)."""
    detail = response.json()["detail"]
    return detail if isinstance(detail, str) else json.dumps(detail, ensure_ascii=True)


#: (method, path, JSON body or raw text, a phrase the reason must contain)
REFUSED: list[tuple[str, str, Any, str]] = [
    # integers above int64, and above the documented bounds
    ("PUT", "/api/subscribers/0912345678", {"balance": 2**63}, "less than or equal to"),
    ("PUT", "/api/subscribers/0912345678", {"balance": MAX_AMOUNT + 1}, "1000000000000"),
    ("POST", "/api/subscribers/0912345678/topup", {"amount": 2**64 + 1}, "less than or equal"),
    ("POST", "/api/subscribers/0912345678/topup", {"amount": MAX_AMOUNT + 1}, "1000000000000"),
    ("POST", "/api/usage", {"msisdn": MSISDN, "app": "zalo", "bytes": 2**63}, "bytes"),
    (
        "POST",
        "/api/usage",
        {"msisdn": MSISDN, "app": "zalo", "bytes": MAX_USAGE_BYTES + 1},
        "10000000000000",
    ),
    ("GET", f"/api/tickets/{INT64_MAX + 1}", None, "less than or equal"),
    ("GET", "/api/tickets/0", None, "greater than or equal to 1"),
    ("POST", f"/api/tickets/{2**70}/close", {}, "ticket_id"),
    ("POST", f"/api/tickets/{2**70}/verify", {"code": "123456"}, "ticket_id"),
    ("GET", f"/api/v1/messages?start={2**63}", None, "start"),
    ("GET", f"/api/v1/search?query=x&start={2**64}", None, "start"),
    ("GET", "/api/v1/messages?start=1000000001", None, "1000000000"),
    # lone surrogates in texts, ids and keys
    ("POST", "/api/sms", {"from": "0912345678", "text": f"DK ZL7{LONE}"}, "lone surrogate"),
    ("POST", "/api/sms", {"from": "0912345678", "text": "DK ZL7", "id": LONE}, "id"),
    ("POST", "/api/usage", {"msisdn": MSISDN, "app": f"za{LONE}lo", "bytes": 1}, "app"),
    ("POST", "/api/usage", {"msisdn": MSISDN, "app": "zalo", "bytes": 1, "id": LONE}, "id"),
    ("PUT", "/api/subscribers/0912345678", {"email": f"a{LONE}@example.com"}, "email"),
    ("PUT", "/api/subscribers/0912345678", {LONE: 1}, "lone surrogate"),
    (
        "POST",
        "/api/tickets",
        {"msisdn": MSISDN, "category": "Other", "title": f"t{LONE}", "content": "c"},
        "title",
    ),
    ("POST", "/api/tickets/1/verify", {"code": LONE}, "code"),
    ("POST", "/api/tickets/1/close", {"resolution": LONE}, "resolution"),
    # invoice months out of 2000-01..2100-12
    ("GET", "/api/subscribers/0912345678/invoices/0000-01", None, "pattern"),
    ("GET", "/api/subscribers/0912345678/invoices/1999-12", None, "pattern"),
    ("GET", "/api/subscribers/0912345678/invoices/2101-01", None, "pattern"),
]


def test_out_of_range_and_invalid_unicode_are_422_and_change_nothing(
    gateway_factory: Callable[..., GatewayProcess],
) -> None:
    """Every case of :data:`REFUSED` is a 422 whose reason names the problem; afterwards
    balance, ledger, charges, usage, messages, tickets and the clock are as before."""
    gateway = gateway_factory().start()
    with gateway.http() as http:
        created = http.put("/api/subscribers/0912345678", json={"balance": 20_000})
        assert created.status_code == 201, created.text
        before = _state(http)
        for method, path, body, phrase in REFUSED:
            # json.dumps escapes the surrogate as \ud800, as a hostile client would send it
            content = None if body is None else json.dumps(body)
            response = http.request(
                method, path, content=content, headers={"content-type": "application/json"}
            )
            assert response.status_code == 422, (method, path, body, response.text)
            assert phrase in _detail(response), (method, path, body, response.text)
        assert _state(http) == before
        # the 422 echoes what it refused, the surrogate shown as U+FFFD, Infinity as text
        echoed = http.post(
            "/api/sms",
            content='{"from": "0912345678", "text": "DK\\ud800"}',
            headers={"content-type": "application/json"},
        ).json()["detail"][0]["input"]
        assert echoed == {"from": "0912345678", "text": "DK\ufffd"}
        echoed = http.post(
            "/api/clock/advance",
            content='{"seconds": Infinity}',
            headers={"content-type": "application/json"},
        ).json()["detail"][0]["input"]
        assert echoed == "Infinity"


def test_the_bounds_themselves_are_accepted(
    gateway_factory: Callable[..., GatewayProcess],
) -> None:
    """The largest documented values pass: a top-up of 10^12 đồng on a zero balance leaves
    exactly 10^12; a report of 10^13 bytes is taken; ticket INT64_MAX is just unknown
    (404); ``start`` 10^9 is an empty page; months 2000-01 and 2100-12 are empty invoices."""
    gateway = gateway_factory().start()
    with gateway.http() as http:
        assert http.put("/api/subscribers/0912345678", json={"balance": 0}).status_code == 201
        topped = http.post("/api/subscribers/0912345678/topup", json={"amount": MAX_AMOUNT})
        assert topped.status_code == 200, topped.text
        assert topped.json()["balance"] == 1_000_000_000_000
        usage = http.post(
            "/api/usage", json={"msisdn": MSISDN, "app": "zalo", "bytes": MAX_USAGE_BYTES}
        )
        assert usage.status_code == 200, usage.text
        missing = http.get(f"/api/tickets/{INT64_MAX}")
        assert missing.status_code == 404
        assert missing.json()["detail"] == f"no ticket #{INT64_MAX}"
        page = http.get("/api/v1/messages", params={"start": 1_000_000_000})
        assert page.status_code == 200
        assert (page.json()["start"], page.json()["messages"]) == (1_000_000_000, [])
        for month in ("2000-01", "2100-12"):
            invoice = http.get(f"/api/subscribers/0912345678/invoices/{month}")
            assert invoice.status_code == 200, invoice.text
            assert invoice.json() == {"month": month, "lines": [], "total": 0}


#: (raw JSON body of POST /api/clock/advance, a phrase the reason must contain)
CLOCK_REFUSED = [
    ('{"seconds": 1e12}', "less than or equal to 316224000"),
    ('{"seconds": 1e308}', "less than or equal to 316224000"),
    ('{"seconds": Infinity}', "finite"),
    ('{"seconds": NaN}', "finite"),
    ('{"seconds": -1}', "greater than or equal to 0"),
    ('{"to": "9999-12-31T00:00:00+07:00"}', "2100-01-01"),
    ('{"to": "9999-12-31T23:59:59-23:59"}', "out of range"),
    ('{"to": "2100-01-01T00:00:01Z"}', "2100-01-01"),
    # 2026-03-10 10:00 +07:00 plus 3,661 days (see below): one day over ten years a call
    ('{"to": "2036-03-18T10:00:00+07:00"}', "at most 3660 days"),
]


def test_clock_advances_are_finite_and_bounded(
    gateway_factory: Callable[..., GatewayProcess],
) -> None:
    """1e12 s, 1e308, Infinity, NaN, a negative advance, 9999-12-31, a date past 2100-01-01
    and a jump of more than ten years are 422 and leave the clock where it was; the
    reports still answer. Ten years exactly (3,660 days) is accepted."""
    gateway = gateway_factory().start()
    with gateway.http() as http:
        start = http.get("/api/clock").json()["now"]
        assert start == "2026-03-10T10:00:00+07:00"
        for body, phrase in CLOCK_REFUSED:
            response = http.post(
                "/api/clock/advance", content=body, headers={"content-type": "application/json"}
            )
            assert response.status_code == 422, (body, response.text)
            assert phrase in _detail(response), (body, response.text)
        assert http.get("/api/clock").json()["now"] == start
        # 2026-03-10 to 2036-03-10 is 10 × 365 days plus the leap days 2028-02-29,
        # 2032-02-29 and 2036-02-29: 3,653 days; 3,660 days is 7 more, 2036-03-17
        moved = http.post("/api/clock/advance", json={"seconds": 3660 * 86400})
        assert moved.status_code == 200, moved.text
        assert moved.json()["now"] == "2036-03-17T10:00:00+07:00"
        for path in ("/api/reports/revenue", "/api/reports/subscriptions", "/api/reports/renewals"):
            assert http.get(path, params={"days": 366}).status_code == 200, path


async def test_hostile_mqtt_input_goes_to_sms_errors(
    gateway_factory: Callable[..., GatewayProcess], mosquitto: Mosquitto
) -> None:
    """A lone surrogate in an MO's text or id, and a usage report above the byte bound,
    are answered on ``sms/errors`` with the reason and change nothing; a good MO after
    them is still answered."""
    gateway = gateway_factory().start()
    with gateway.http() as http:
        assert http.put("/api/subscribers/0912345678", json={"balance": 20_000}).status_code == 201
        before = _state(http)
    bad = [
        ("sms/mo/888", {"from": "0912345678", "text": f"DK ZL7{LONE}"}, '"text" is not valid'),
        ("sms/mo/888", {"from": "0912345678", "text": "DK ZL7", "id": LONE}, '"id" is not valid'),
        ("usage/0912345678", {"app": "zalo", "bytes": 2**64}, '"bytes" must be from 1 to'),
        ("usage/0912345678", {"app": f"z{LONE}", "bytes": 5}, '"app" is not valid'),
    ]
    async with mqtt_client(mosquitto.port, "sms/errors", f"sms/mt/{MSISDN}") as client:
        for topic, payload, _ in bad:
            await client.publish(topic, json.dumps(payload).encode(), qos=1)
        reasons = {}
        for _ in bad:
            topic, event = await next_json(client)
            assert topic == "sms/errors", event
            reasons[event["topic"], event["payload"]] = event["reason"]
        for topic, payload, phrase in bad:
            reason = reasons[topic, json.dumps(payload)]
            assert phrase in reason, (payload, reason)
        await client.publish("sms/mo/888/0912345678", b"KTTK_ZL", qos=1)
        topic, _reply = await next_json(client)
        assert topic == f"sms/mt/{MSISDN}"
    with gateway.http() as http:
        after = _state(http)
    assert after["balance"] == before["balance"]
    assert after["charges"] == before["charges"]
    assert after["usage"] == before["usage"]
    # the good MO and its reply are the only new messages
    assert len(after["messages"]["messages"]) == len(before["messages"]["messages"]) + 2


@pytest.mark.parametrize("path", ["/api/clock/advance"])
def test_a_real_clock_is_still_a_409(
    gateway_factory: Callable[..., GatewayProcess], path: str
) -> None:
    """The bounds do not change the answer for a real clock: it cannot be moved (409)."""
    gateway = gateway_factory(SCGW_CLOCK="real").start()
    with gateway.http() as http:
        response = http.post(path, json={"seconds": 60})
    assert response.status_code == 409
    assert "the clock is real" in response.json()["detail"]
