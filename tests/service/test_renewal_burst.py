"""A burst of renewals due at one instant, in one chunk: each renewal gets the terms of its
own facts, whatever the renewals before it in the chunk (``renewal_terms``).

Zalo ZL30 (15,000đ): prepaid 720 h, postpaid until 23:59:59 on the last day of the month,
renewed at 00:00 on the 1st at full price (a registration from the 16th pays 50%: 7,500đ).
A (prepaid) registered 02/03 00:00, so its 720 h end at 00:00 01/04 like the postpaid
packs of P (registered 02/03) and Q (registered 20/03, 7,500đ). B (prepaid, ZL30 on
02/03 00:00 too) has 10,000đ left: its renewal fails. Figures worked out by hand (UTC+7).
"""

from __future__ import annotations

from carrier_rules import Catalog
from tests.service.support import EngineHarness, local, make_engine

A, B = "84912000001", "84912000002"
P, Q = "84918000001", "84918000002"
RENEWED_PREPAID = (
    "Goi ZL30 da duoc gia han, cuoc 15.000d tru vao TK chinh. Het han 00:00 01/05/2026."
    " Huy: soan HUY ZL30 gui 888."
)
RENEWED_POSTPAID = (
    "Goi ZL30 da duoc gia han, cuoc 15.000d tinh vao HD thang 04/2026. Het han 23:59 30/04/2026."
    " Huy: soan HUY ZL30 gui 888."
)


async def test_renewals_due_together_each_get_the_terms_of_their_own_facts(
    catalog: Catalog,
) -> None:
    """In one chunk at 00:00 01/04: P and Q (postpaid) share their terms, A (prepaid) does
    not, and B's failed renewal charges nothing; the same in chunks of 1 and 100."""
    for limit in (100, 1):
        harness = EngineHarness(make_engine(catalog, default_balance=0))
        march_2 = local(2026, 3, 2, 0, 0)
        await harness.provision(P, at=march_2, kind="postpaid", balance=0)
        await harness.provision(A, at=march_2, kind="prepaid", balance=30_000)
        await harness.provision(B, at=march_2, kind="prepaid", balance=25_000)
        await harness.provision(Q, at=march_2, kind="postpaid", balance=0)
        for msisdn in (P, A, B):
            await harness.send(msisdn, "DK ZL30", at=march_2)
        await harness.send(Q, "DK ZL30", at=local(2026, 3, 20, 9, 0))

        out = await harness.run_all_due(local(2026, 4, 1, 0, 0), limit=limit)

        april_1 = local(2026, 4, 1, 0, 0)
        assert sorted((m.msisdn, m.at, m.text) for m in out) == [
            (A, april_1, RENEWED_PREPAID),
            (
                B,
                april_1,
                "Gia han goi ZL30 khong thanh cong do TK chinh (10.000d) khong du 15.000d."
                " Goi tam ngung va se duoc gia han khi Quy khach nap tien.",
            ),
            (P, april_1, RENEWED_POSTPAID),
            (Q, april_1, RENEWED_POSTPAID),
        ], f"limit={limit}"
        # A: 30,000 - 15,000 (02/03) - 15,000 (01/04) = 0; B: 25,000 - 15,000 = 10,000
        assert (harness.subscriber(A).balance, harness.subscriber(B).balance) == (0, 10_000)
        view = harness.store.view().billing
        for msisdn, march in ((P, 15_000), (Q, 7_500)):
            assert [(c.amount, c.reason, c.invoice_month) for c in view.charges(msisdn)] == [
                (march, "registration", "2026-03"),
                (15_000, "renewal", "2026-04"),
            ]
            assert view.invoice_months(msisdn) == [("2026-04", 15_000, 1), ("2026-03", march, 1)]
        assert harness.only_subscription(A).expires_at == local(2026, 5, 1, 0, 0)
        assert harness.only_subscription(P).expires_at == local(2026, 4, 30, 23, 59, 59)
        assert harness.only_subscription(B).status == "renewal_failed"
