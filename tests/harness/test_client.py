"""gateway.client against a running gateway: typed answers, errors that carry the
gateway's reason, the asyncio client the same as the blocking one."""

from __future__ import annotations

from datetime import datetime

import pytest

from gateway.client import ApiError, AsyncClient, GatewayUnreachable, Subscriber
from gateway.testing import Scgw
from gateway.testing.brokers import free_port

pytestmark = pytest.mark.scgw(clock_start="2026-03-10T10:00:00+07:00")


def test_answers_are_models(scgw_module: Scgw) -> None:
    client = scgw_module.client
    created = client.provision("0912100001", kind="postpaid", language="en")
    assert isinstance(created, Subscriber)
    assert (created.msisdn, created.kind, created.language) == ("84912100001", "postpaid", "en")
    result = client.sms("+84912100001", "DK ZL7", id="c-1")
    assert result.id == "c-1"
    assert not result.duplicate
    assert result.replies[0].encoding == "GSM7"
    again = client.sms("0912100001", "DK ZL7", id="c-1")
    assert again.duplicate
    assert again.replies[0].id == result.replies[0].id
    # postpaid ZL7: 5,000 on the March invoice, nothing from the balance
    (charge,) = client.charges("0912100001")
    assert (charge.amount, charge.billing, charge.invoice_month) == (5000, "invoice", "2026-03")
    assert client.invoice("0912100001", "2026-03").total == 5000
    sub = client.subscriber("0912100001").subscription("zl7")
    assert sub is not None
    assert sub.expires_at == datetime.fromisoformat("2026-03-17T10:00:00+07:00")
    assert [m.direction for m in client.messages("0912100001")] == ["mo", "mt"]


def test_refusals_carry_the_gateways_reason(scgw_module: Scgw) -> None:
    client = scgw_module.client
    with pytest.raises(ApiError) as unknown:
        client.subscriber("0912100099")
    assert unknown.value.status == 404
    assert unknown.value.detail == "no subscriber 84912100099"
    with pytest.raises(ApiError) as invalid:
        client.topup("0912100001", 0)
    assert invalid.value.status == 422
    assert "body.amount: Input should be greater than 0" in str(invalid.value)
    with pytest.raises(ApiError) as backwards:
        client.advance(to=datetime.fromisoformat("2020-01-01T00:00:00+07:00"))
    assert backwards.value.status == 409
    with pytest.raises(ValueError, match="only moves forward"):
        client.advance(hours=-1)


def test_an_unreachable_gateway_is_named() -> None:
    from gateway.client import Client

    url = f"http://127.0.0.1:{free_port()}"
    with Client(url, timeout=2) as client, pytest.raises(GatewayUnreachable) as down:
        client.clock()
    assert down.value.url == url


async def test_the_async_client_answers_alike(scgw_module: Scgw) -> None:
    async with AsyncClient(scgw_module.http_url) as client:
        before = (await client.clock()).now
        subscriber = await client.provision("0912100002", balance=3000)
        assert subscriber.balance == 3000
        replies = (await client.sms("0912100002", "DK ZL1")).replies
        assert "1.000d" in replies[0].text
        moved = await client.advance(days=1)
        assert (moved.now - before).total_seconds() == 86400
        assert moved.processed >= 1  # at least 0912100002's ZL1 renewal
        assert (await client.subscriber("0912100002")).balance == 1000
        assert [e.reason for e in await client.ledger("0912100002")] == [
            "provision",
            "charge",
            "charge",
        ]
        assert (await client.ready()).status == "ready"
