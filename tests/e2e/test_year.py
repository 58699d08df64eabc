"""A year of virtual time, 1,000 subscribers on mixed packs: the books reconcile."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import httpx
import pytest

from tests.support import GatewayProcess

PLANS = [
    ("prepaid", "ZL1"),
    ("prepaid", "ZL7"),
    ("prepaid", "ZL30"),
    ("postpaid", "ZL1"),
    ("postpaid", "ZL7"),
    ("postpaid", "ZL30"),
]
N = 1000


def msisdn(i: int) -> str:
    return f"8491{i:07d}"


async def _each(url: str, calls: Sequence[tuple[str, str, Mapping[str, object]]]) -> None:
    async with httpx.AsyncClient(base_url=url, timeout=120) as http:
        for start in range(0, len(calls), 50):
            responses = await asyncio.gather(
                *(http.request(m, p, json=b) for m, p, b in calls[start : start + 50])
            )
            for response in responses:
                assert response.status_code in (200, 201), response.text


@pytest.mark.slow
def test_a_year_with_1000_subscribers_reconciles(
    gateway_factory: Callable[..., GatewayProcess], tmp_path: Path
) -> None:
    """Every balance change and invoice line matches exactly one charge after 12 months of renewals."""
    gateway = gateway_factory(SCGW_CLOCK_START="2026-01-10T10:00:00+07:00").start()
    url = gateway.url
    asyncio.run(
        _each(
            url,
            [("PUT", f"/api/subscribers/{msisdn(i)}", {"kind": PLANS[i % 6][0]}) for i in range(N)],
        )
    )
    asyncio.run(
        _each(
            url,
            [
                ("POST", "/api/sms", {"from": msisdn(i), "text": f"DK {PLANS[i % 6][1]}"})
                for i in range(N)
            ],
        )
    )
    started = time.monotonic()
    processed = 0
    with gateway.http() as http:
        for month in range(2, 14):
            year, m = (2026, month) if month <= 12 else (2027, month - 12)
            moved = http.post(
                "/api/clock/advance", json={"to": f"{year}-{m:02d}-10T10:00:00+07:00"}
            ).json()
            processed += moved["processed"]
            if month == 5:  # every 10th subscriber tops up; every 7th cancels
                asyncio.run(
                    _each(
                        url,
                        [
                            ("POST", f"/api/subscribers/{msisdn(i)}/topup", {"amount": 100_000})
                            for i in range(0, N, 10)
                        ]
                        + [
                            (
                                "POST",
                                "/api/sms",
                                {"from": msisdn(i), "text": f"HUY {PLANS[i % 6][1]}"},
                            )
                            for i in range(3, N, 7)
                        ],
                    )
                )
        elapsed = time.monotonic() - started
        print(f"\nyear of virtual time: {processed} renewals/expiries in {elapsed:.1f}s")

        # hand-worked: postpaid ZL30 (i = 5) registered 10/01/2026 10:00 at 100% (before the 16th),
        # renewed at 00:00 on the 1st of every month Feb 2026 .. Jan 2027, 15,000 each.
        assert http.get(f"/api/subscribers/{msisdn(5)}/invoices/2026-01").json()["total"] == 15_000
        assert http.get(f"/api/subscribers/{msisdn(5)}/invoices/2026-12").json()["total"] == 15_000
        # prepaid ZL30 (i = 2), 50,000: 10/01 (35,000), 09/02 (20,000), 11/03 (5,000), then the
        # renewal of 10/04 10:00 fails; retried daily, it gives up on 17/04 10:00.
        two = http.get(f"/api/subscribers/{msisdn(2)}").json()
        assert two["balance"] == 5_000
        assert two["subscriptions"][0]["status"] == "expired"
        charges = http.get(f"/api/subscribers/{msisdn(2)}/charges").json()["charges"]
        assert [c["at"] for c in charges] == [
            "2026-01-10T10:00:00+07:00",
            "2026-02-09T10:00:00+07:00",
            "2026-03-11T10:00:00+07:00",
        ]
        deadline = time.monotonic() + 120
        while http.get("/api/health").json()["outbox"]["pending"] and time.monotonic() < deadline:
            time.sleep(0.2)
    gateway.stop()

    db = sqlite3.connect(tmp_path / "scgw.db")
    one = db.execute
    assert one("SELECT count(*) FROM subscribers").fetchone()[0] == N
    # a prepaid balance is the sum of its ledger, and never negative
    assert one(
        "SELECT count(*) FROM subscribers s WHERE s.kind = 'prepaid' AND s.balance !="
        " (SELECT sum(delta) FROM ledger l WHERE l.msisdn = s.msisdn)"
    ).fetchone() == (0,)
    assert one("SELECT count(*) FROM subscribers WHERE balance < 0").fetchone() == (0,)
    # every balance charge has exactly one ledger entry of the same amount, and back
    assert one(
        "SELECT count(*) FROM charges c WHERE c.billing = 'balance' AND"
        " (SELECT count(*) FROM ledger l WHERE l.charge_id = c.id AND l.delta = -c.amount) != 1"
    ).fetchone() == (0,)
    assert one(
        "SELECT count(*) FROM ledger l WHERE l.reason = 'charge' AND NOT EXISTS"
        " (SELECT 1 FROM charges c WHERE c.id = l.charge_id AND c.billing = 'balance')"
    ).fetchone() == (0,)
    # every invoice charge has exactly one invoice line of the same amount and month, and back
    assert one(
        "SELECT count(*) FROM charges c WHERE c.billing = 'invoice' AND (SELECT count(*)"
        " FROM invoice_lines i WHERE i.charge_id = c.id AND i.amount = c.amount"
        " AND i.month = c.invoice_month) != 1"
    ).fetchone() == (0,)
    assert one(
        "SELECT count(*) FROM invoice_lines i WHERE NOT EXISTS"
        " (SELECT 1 FROM charges c WHERE c.id = i.charge_id AND c.billing = 'invoice')"
    ).fetchone() == (0,)
    # no subscription ever renewed twice for the same instant
    assert one(
        "SELECT count(*) FROM (SELECT subscription_id, at FROM charges WHERE reason != 'cancellation'"
        " GROUP BY subscription_id, at HAVING count(*) > 1)"
    ).fetchone() == (0,)
    # everything committed was published
    assert one("SELECT count(*) FROM outbox WHERE published = 0").fetchone() == (0,)
    db.close()
