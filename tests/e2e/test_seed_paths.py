"""Seeds 000 and 001 in the running program: the notice of a new price (across a restart)
and the two ways out of the refund question.

The gateway runs with a virtual clock from 10:00 10/03/2026 (Asia/Ho_Chi_Minh) on a
SQLite file in the test's folder. Every date and amount is worked out by hand from the
shipped catalogs: creative.toml (8200, seed 001) and meetings.toml (8100, seed 000).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx

from tests.support import GatewayProcess

A = "84912000001"
B = "84912000002"


async def _text(http: httpx.AsyncClient, msisdn: str, to: str, body: str) -> list[str]:
    reply = await http.post("/api/sms", json={"from": msisdn, "to": to, "text": body})
    assert reply.status_code == 200, reply.text
    return [r["text"] for r in reply.json()["replies"]]


async def _notices(http: httpx.AsyncClient, msisdn: str) -> list[dict[str, Any]]:
    messages = (await http.get(f"/api/subscribers/{msisdn}/messages")).json()["messages"]
    return [m for m in messages if m["direction"] == "mt" and m["text"].startswith("Thong bao")]


async def test_the_price_notice_goes_out_on_its_day_once_across_a_restart(
    gateway_factory: Callable[..., GatewayProcess],
) -> None:
    """DK CAPM at 10:00 10/03/2026: a trial to 17/03, then payments of 500,000 on the
    17th, fixed for the 12-month term (17/03/2026 to 17/02/2027). At 00:00 01/05/2026 the
    550,000 price is announced: one SMS naming 10:00 17/03/2027, the first renewal of the
    second term. The gateway is stopped and started again, the clock moved to 01/06: no
    second notice. The notice is on the subscriber's timeline."""
    gateway = gateway_factory(SCGW_DEFAULT_BALANCE="10000000").start()
    async with httpx.AsyncClient(base_url=gateway.url, timeout=30) as http:
        (trial,) = await _text(http, A, "8200", "DK CAPM")
        assert "17/03/2026" in trial
        moved = await http.post("/api/clock/advance", json={"to": "2026-04-30T23:59:59+07:00"})
        assert moved.status_code == 200, moved.text
        assert await _notices(http, A) == []
        await http.post("/api/clock/advance", json={"to": "2026-05-01T00:00:00+07:00"})
        sent = await _notices(http, A)
    gateway.stop()

    gateway = gateway_factory(SCGW_DEFAULT_BALANCE="10000000").start()
    async with httpx.AsyncClient(base_url=gateway.url, timeout=30) as http:
        await http.post("/api/clock/advance", json={"to": "2026-06-01T00:00:00+07:00"})
        after_restart = await _notices(http, A)
        timeline = (await http.get(f"/api/subscribers/{A}/timeline")).json()["events"]
        charges = (await http.get(f"/api/subscribers/{A}/charges")).json()["charges"]

    assert [(m["at"], m["text"]) for m in sent] == [
        (
            "2026-05-01T00:00:00+07:00",
            "Thong bao: tu ky gia han 10:00 17/03/2027, cuoc goi CAPM la 550.000d/thang"
            " (hien nay 500.000d). Gia chi thay doi khi gia han. Neu khong muon tiep tuc,"
            " soan HUY CAPM gui 8200 truoc 10:00 17/03/2027.",
        )
    ]
    assert after_restart == sent
    notes = [e for e in timeline if e["kind"] == "price_notice"]
    assert [(e["at"], e["package"], e["amount"]) for e in notes] == [
        ("2026-05-01T00:00:00+07:00", "CAPM", 550_000)
    ]
    # 17/03, 17/04 and 17/05 at the fixed 500,000
    assert [c["amount"] for c in charges] == [500_000, 500_000, 500_000]


async def test_the_refund_question_cancels_with_or_without_the_refund(
    gateway_factory: Callable[..., GatewayProcess],
) -> None:
    """Seed 000. PRO (330,000/month) bought at 10:00 10/03/2026 by A and by B, unused.
    HUY PRO asks; A answers N: no refund, PRO runs to 10:00 10/04/2026 and then BASIC;
    B answers 1: 330,000 back and BASIC at once."""
    gateway = gateway_factory(SCGW_DEFAULT_BALANCE="1000000").start()
    async with httpx.AsyncClient(base_url=gateway.url, timeout=30) as http:
        for msisdn in (A, B):
            (bought,) = await _text(http, msisdn, "8100", "DK PRO")
            assert "330.000d" in bought
            (asked,) = await _text(http, msisdn, "8100", "HUY PRO")
            assert asked == (
                "Huy goi PRO: tra loi 1 de huy ngay va duoc hoan 330.000d; 2 de huy khong"
                " hoan tien, goi van dung den 10:00 10/04/2026; 3 de giu goi. Gui 8100"
                " trong 10 phut."
            )
        no_refund = await _text(http, A, "8100", "N")
        refund = await _text(http, B, "8100", "1")
        a_before = (await http.get(f"/api/subscribers/{A}")).json()
        await http.post("/api/clock/advance", json={"to": "2026-04-10T10:00:00+07:00"})
        a_after = (await http.get(f"/api/subscribers/{A}")).json()
        b_after = (await http.get(f"/api/subscribers/{B}")).json()

    assert no_refund == [
        "Goi PRO da dung tu dong gia han va van su dung duoc den 10:00 10/04/2026. Doi y:"
        " soan KH PRO gui 8100 truoc thoi diem do."
    ]
    assert "330.000d" in refund[0]
    assert a_before["balance"] == 1_000_000 - 330_000
    assert [(s["package"], s["status"]) for s in a_before["subscriptions"]] == [
        ("PRO", "pending_cancel")
    ]
    assert a_after["balance"] == 670_000  # nothing refunded, nothing renewed
    assert [(s["package"], s["status"]) for s in a_after["subscriptions"]] == [
        ("PRO", "cancelled"),
        ("BASIC", "active"),
    ]
    assert b_after["balance"] == 1_000_000
    assert [(s["package"], s["status"]) for s in b_after["subscriptions"]] == [
        ("PRO", "cancelled"),
        ("BASIC", "active"),
    ]
