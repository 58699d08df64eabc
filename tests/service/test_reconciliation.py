"""Money reconciles after a month of several subscribers, worked out by hand.

Scenario, default balance 4,000đ, clock from 10/03/2026 10:00 (UTC+7):

* A prepaid 20,000đ: DK ZL7 (15,000đ left); renews 17, 24, 31/03 10:00 (0đ left);
  fails 07/04 10:00; retries 08, 09, 10/04 10:00 silently.
* B auto-provisioned (4,000đ): DK ZL30 refused; DK ZL1 (3,000đ); renews 11/03 10:00
  (2,000đ); tops up 10,000đ at 12/03 09:00 (12,000đ); renews 12..23/03 10:00 (0đ);
  fails 24/03; retries 25..30/03; gives up 31/03 10:00 (expired).
* C postpaid: DK ZL30 10/03 (15,000đ on March), HUY 12/03 09:00 (-7,500đ on March).
* D postpaid: DK ZL7 10/03 10:00; renews 17, 24, 31/03 10:00 (the last one capped at
  23:59:59 31/03), then 00:00 01/04 and 00:00 08/04: 4 × 5,000đ on March, 2 on April.

Then for every prepaid subscriber the ledger deltas add up to the balance and every
balance charge has exactly one ledger entry; every invoice charge has exactly one
invoice line.
"""

from __future__ import annotations

from carrier_rules import Catalog
from gateway.domain.model import ChargeRecord, InvoiceLine, LedgerEntry
from gateway.service.gateway import GatewayService
from tests.service.fakes import FakePublisher
from tests.service.support import local, make_service, sms

A = "84912000001"
B = "84912000002"
C = "84912000003"
D = "84912000004"


async def _books(
    svc: GatewayService, msisdn: str
) -> tuple[list[ChargeRecord], list[LedgerEntry], list[InvoiceLine]]:
    charges = await svc.reads.charges(msisdn)
    ledger = await svc.reads.ledger(msisdn)
    months = sorted({c.invoice_month for c in charges if c.invoice_month is not None})
    lines = [line for month in months for line in await svc.reads.invoice(msisdn, month)]
    return charges, ledger, lines


async def test_a_month_of_several_subscribers_reconciles(catalog: Catalog) -> None:
    publisher = FakePublisher()
    async with make_service(
        catalog, start=local(2026, 3, 10, 10, 0), publisher=publisher, default_balance=4000
    ) as svc:
        await svc.provision(A, kind="prepaid", balance=20_000, language=None)
        await svc.provision(C, kind="postpaid", balance=0, language=None)
        await svc.provision(D, kind="postpaid", balance=0, language=None)
        await svc.handle_sms(sms(A, "DK ZL7"))
        refused = await svc.handle_sms(sms(B, "DK ZL30"))
        await svc.handle_sms(sms(B, "DK ZL1"))
        await svc.handle_sms(sms(C, "DK ZL30"))
        await svc.handle_sms(sms(D, "DK ZL7"))

        first = await svc.advance(to=local(2026, 3, 12, 9, 0))
        await svc.handle_sms(sms(C, "HUY ZL30"))
        await svc.topup(B, 10_000)
        second = await svc.advance(to=local(2026, 4, 10, 10, 0))
        await svc.drained()

        views = {m: await svc.reads.subscriber(m) for m in (A, B, C, D)}
        books = {m: await _books(svc, m) for m in (A, B, C, D)}
        c_march = await svc.reads.invoice(C, "2026-03")
        d_march = await svc.reads.invoice(D, "2026-03")
        d_april = await svc.reads.invoice(D, "2026-04")

    assert refused.replies[0].text == (
        "Dang ky goi ZL30 khong thanh cong: TK chinh (4.000d) khong du 15.000d."
        " Vui long nap them tien va thu lai."
    )
    assert (first.processed, second.processed) == (1, 7 + 20 + 5)

    # hand-computed end state
    assert {m: v.subscriber.balance for m, v in views.items()} == {A: 0, B: 0, C: 0, D: 0}
    assert [
        (s.package, s.status, s.failed_since, s.next_action_at) for s in views[A].subscriptions
    ] == [("ZL7", "renewal_failed", local(2026, 4, 7, 10, 0), local(2026, 4, 11, 10, 0))]
    assert [(s.package, s.status, s.next_action_at) for s in views[B].subscriptions] == [
        ("ZL1", "expired", None)
    ]
    assert [(s.package, s.status) for s in views[C].subscriptions] == [("ZL30", "cancelled")]
    assert [(s.package, s.status, s.expires_at) for s in views[D].subscriptions] == [
        ("ZL7", "active", local(2026, 4, 15))
    ]
    charges_a, _, _ = books[A]
    assert [(c.amount, c.at) for c in charges_a] == [
        (5000, local(2026, 3, 10, 10, 0)),
        (5000, local(2026, 3, 17, 10, 0)),
        (5000, local(2026, 3, 24, 10, 0)),
        (5000, local(2026, 3, 31, 10, 0)),
    ]
    charges_b, _, _ = books[B]
    assert len(charges_b) == 14  # 10/03 registration, renewals 11/03..23/03
    assert sum(c.amount for c in charges_b) == 14_000  # 4,000đ + 10,000đ top-up
    assert charges_b[-1].at == local(2026, 3, 23, 10, 0)
    assert [(x.amount, x.description) for x in c_march] == [
        (15_000, "ZL30 registration"),
        (-7500, "ZL30 cancellation"),
    ]
    assert [(x.amount, x.at) for x in d_march] == [
        (5000, local(2026, 3, 10, 10, 0)),
        (5000, local(2026, 3, 17, 10, 0)),
        (5000, local(2026, 3, 24, 10, 0)),
        (5000, local(2026, 3, 31, 10, 0)),
    ]
    assert [(x.amount, x.at) for x in d_april] == [
        (5000, local(2026, 4, 1)),
        (5000, local(2026, 4, 8)),
    ]
    assert [len(publisher.texts_to(m)) for m in (A, B, C, D)] == [5, 17, 2, 6]

    # reconciliation
    for msisdn, view in views.items():
        charges, ledger, lines = books[msisdn]
        if view.subscriber.kind == "prepaid":
            assert sum(e.delta for e in ledger) == view.subscriber.balance, msisdn
            running = 0
            for entry in ledger:
                running += entry.delta
                assert entry.balance_after == running >= 0, (msisdn, entry)
            for charge in charges:
                assert charge.billing == "balance"
                entries = [e for e in ledger if e.charge_id == charge.id]
                assert [(e.delta, e.reason) for e in entries] == [(-charge.amount, "charge")]
            assert lines == []
        else:
            assert [e.reason for e in ledger] == ["provision"], msisdn
            for charge in charges:
                assert charge.billing == "invoice"
                invoiced = [x for x in lines if x.charge_id == charge.id]
                assert [(x.amount, x.month) for x in invoiced] == [
                    (charge.amount, charge.invoice_month)
                ], (msisdn, charge)
            assert len(lines) == len(charges)
