"""The notice of a new price (seed 001), through the engine.

*"Giá sẽ cố định trong suốt thời hạn gói đăng ký. Giá có thể thay đổi, nhưng chỉ khi
gia hạn và chúng tôi sẽ luôn thông báo cho bạn trước"*: the price is fixed for the term,
may change only at a renewal, and the subscriber is always told first.

creative.toml (8200): CAPM 500,000/month, a 7-day trial, a 12-month commitment billed
month by month; its 550,000 price applies from 01/07/2026, announced 01/05/2026 with 30
days' notice. CMON 700,000/month has no new price. The announcement goes out at local
midnight of 01/05/2026. Every date below is worked out by hand: CAPM signed up 10:00
02/03 converts 10:00 09/03 (payment 1); payments 1–12 fall on the 9th of March 2026 to
February 2027 at the fixed 500,000; the renewal of 10:00 09/03/2027 starts the second
term and is the first to pay 550,000.
"""

from __future__ import annotations

from datetime import timedelta
from importlib.resources import files

from carrier_rules import parse_catalog
from gateway.domain.events import LiveEvent
from gateway.service.engine import Engine
from gateway.service.ports import Transaction
from tests.service.policy_harness import (
    CREATIVE,
    PolicyHarness,
    make_policy_harness,
    shipped_catalogs,
)
from tests.service.stores import StoreUnderTest
from tests.service.support import counter_ids, local

#: also run on PostgreSQL (tests/service/conftest.py)
ON_POSTGRES = True

A = "84913000011"  # CAPM from 02/03, active at the announcement
B = "84913000012"  # CMON: no new price
C = "84913000013"  # CAPM signed 28/04, still in its trial at the announcement
D = "84913000014"  # CAPM cancelled to the end of its month: it will not renew

ANNOUNCED = local(2026, 5, 1, 0, 0)


def _notice(first_renewal: str, price: str = "550.000d", now: str = "500.000d") -> str:
    """The default ``price_notice`` (vi), filled in by hand."""
    return (
        f"Thong bao: tu ky gia han {first_renewal}, cuoc goi CAPM la {price}/thang (hien"
        f" nay {now}). Gia chi thay doi khi gia han. Neu khong muon tiep tuc, soan HUY CAPM"
        f" gui 8200 truoc {first_renewal}."
    )


async def _subscribers(h: PolicyHarness) -> None:
    for msisdn in (A, B, C, D):
        await h.provision(msisdn, at=local(2026, 3, 1), kind="prepaid", balance=20_000_000)
    await h.texts(CREATIVE, A, "DK CAPM", at=local(2026, 3, 2, 10, 0))
    await h.texts(CREATIVE, B, "DK CMON", at=local(2026, 3, 2, 10, 0))
    await h.texts(CREATIVE, D, "DK CAPM", at=local(2026, 3, 2, 10, 0))
    await h.due_texts(local(2026, 3, 9, 10, 0))  # A and D convert
    # D: 16 days after its first payment: no refund, the plan runs to 10:00 09/04
    await h.texts(CREATIVE, D, "HUY CAPM", at=local(2026, 3, 25, 10, 0))
    assert h.latest(D, "CAPM").status == "pending_cancel"
    await h.texts(CREATIVE, C, "DK CAPM", at=local(2026, 4, 28, 10, 0))


def _notices(h: PolicyHarness) -> list[LiveEvent]:
    view = h.store.view()
    return [e for m in (A, B, C, D) for e in view.console.activity(m) if e.kind == "price_notice"]


async def test_the_announcement_tells_each_subscription_the_new_price_will_reach(
    service_store: StoreUnderTest,
) -> None:
    """At 00:00 01/05 A (active) is told 550,000 from 10:00 09/03/2027, and C (in its
    trial, converting at 500,000 on 05/05/2026) from 10:00 05/05/2027; B (CMON) and D
    (ending) are not. Nothing is said a second earlier."""
    h = make_policy_harness(store=service_store)
    await _subscribers(h)

    before = await h.due_texts(ANNOUNCED - timedelta(seconds=1))
    assert [t for t in before if t.startswith("Thong bao")] == []

    assert await h.due_texts(ANNOUNCED) == [
        _notice("10:00 09/03/2027"),
        _notice("10:00 05/05/2027"),
    ]
    assert [(e.msisdn, e.at, e.fields["amount"]) for e in _notices(h)] == [
        (A, ANNOUNCED, 550_000),
        (C, ANNOUNCED, 550_000),
    ]
    assert h.latest(A, "CAPM").price_notice == "CAPM@2026-07-01"
    assert h.latest(B, "CMON").price_notice is None


async def test_the_notice_is_sent_once_across_reruns_and_a_restart(
    service_store: StoreUnderTest,
) -> None:
    """Running the same due work again, then a new engine on the same store (a restart)
    running on to 01/06, sends no second notice; the renewals carry on as before."""
    h = make_policy_harness(store=service_store)
    await _subscribers(h)
    await h.due_texts(ANNOUNCED)

    assert await h.due_texts(ANNOUNCED) == []
    restarted = PolicyHarness(
        Engine(
            catalogs=shipped_catalogs(),
            auto_provision=True,
            default_balance=0,
            new_id=counter_ids("r"),
        ),
        h.store,
    )
    texts = await restarted.due_texts(local(2026, 6, 1))

    assert [t for t in texts if t.startswith("Thong bao")] == []
    assert len(_notices(h)) == 2
    # C converted on 05/05 and A renewed on 09/05, both at the fixed 500,000
    assert [(c.amount, c.at) for c in h.charges(C)] == [(500_000, local(2026, 5, 5, 10, 0))]
    assert (h.charges(A)[-1].amount, h.charges(A)[-1].at) == (500_000, local(2026, 5, 9, 10, 0))


async def test_the_renewal_named_in_the_notice_is_the_first_to_charge_the_new_price(
    service_store: StoreUnderTest,
) -> None:
    """A pays 500,000 twelve times (09/03/2026 to 09/02/2027), then 550,000 on 10:00
    09/03/2027, the date its notice named."""
    h = make_policy_harness(store=service_store)
    await _subscribers(h)

    await h.due_texts(local(2027, 3, 9, 10, 0))

    paid = [(c.amount, c.at) for c in h.charges(A)]
    assert len(paid) == 13
    assert {amount for amount, _ in paid[:12]} == {500_000}
    assert paid[12] == (550_000, local(2027, 3, 9, 10, 0))
    assert h.charges(A)[12].inputs["price_rule"] == "price_from_2026-07-01"


async def test_the_notice_is_mailed_to_a_subscriber_with_an_address(
    service_store: StoreUnderTest,
) -> None:
    """A with an address gets the SMS and one mail whose body holds it."""
    h = make_policy_harness(store=service_store)
    await _subscribers(h)

    def set_email(tx: Transaction) -> None:
        subscriber = tx.subscribers.get(A)
        assert subscriber is not None
        subscriber.email = "a@example.com"
        tx.subscribers.put(subscriber)

    await h.store.transaction(set_email)
    await h.due_texts(ANNOUNCED)

    mails = [m for m in h.store.view().mailbox.newest(100) if m.mail.kind == "price_notice"]
    assert [(m.mail.to, m.mail.subject) for m in mails] == [
        (("a@example.com",), "Thong bao thay doi gia goi CAPM")
    ]
    assert _notice("10:00 09/03/2027") in mails[0].mail.body


async def test_a_sign_up_after_the_announcement_is_told_in_its_confirmation(
    service_store: StoreUnderTest,
) -> None:
    """DK CAPM at 10:00 10/05/2026: a trial to 17/05, converting at 500,000; the new
    price reaches it at 10:00 17/05/2027, said in the sign-up text; the announcement
    (already sent) never tells it again. DK CMON then: nothing to announce."""
    h = make_policy_harness(store=service_store)
    await h.provision(A, at=local(2026, 5, 1), kind="prepaid", balance=20_000_000)
    await h.due_texts(ANNOUNCED)  # nobody to tell yet

    (text,) = await h.texts(CREATIVE, A, "DK CAPM", at=local(2026, 5, 10, 10, 0))

    assert text.endswith(" " + _notice("10:00 17/05/2027"))
    assert h.latest(A, "CAPM").price_notice == "CAPM@2026-07-01"
    assert [t for t in await h.due_texts(local(2026, 6, 1)) if t.startswith("Thong bao")] == []


async def test_a_clock_jump_over_two_announcements_tells_each_once_in_order(
    service_store: StoreUnderTest,
) -> None:
    """With a second version (600,000 from 01/07/2027, announced 01/04/2027), one run
    from 30/04/2026 to 31/12/2027 tells A twice, each once and at its own day: 550,000
    from 09/03/2027, then 600,000 from 09/03/2028 (the start of its third term)."""
    source = "carrier_rules/catalogs/creative.toml"
    raw = (files("carrier_rules") / "catalogs" / "creative.toml").read_text(encoding="utf-8")
    raw = raw.replace(
        "price_versions = [{ amount = 550000, from_date = 2026-07-01, announced = 2026-05-01,"
        " notice_days = 30 }]",
        "price_versions = [{ amount = 550000, from_date = 2026-07-01, announced = 2026-05-01,"
        " notice_days = 30 }, { amount = 600000, from_date = 2027-07-01,"
        " announced = 2027-04-01, notice_days = 30 }]",
    )
    catalogs = shipped_catalogs()
    catalogs[CREATIVE] = parse_catalog(raw, source=source)
    assert len(catalogs[CREATIVE].by_code["CAPM"].price_versions) == 2
    h = make_policy_harness(catalogs, store=service_store)
    await h.provision(A, at=local(2026, 3, 1), kind="prepaid", balance=50_000_000)
    await h.texts(CREATIVE, A, "DK CAPM", at=local(2026, 3, 2, 10, 0))
    await h.due_texts(local(2026, 4, 30))

    texts = await h.due_texts(local(2027, 12, 31))

    assert [t for t in texts if t.startswith("Thong bao")] == [
        _notice("10:00 09/03/2027"),
        _notice("10:00 09/03/2028", price="600.000d", now="550.000d"),
    ]
    assert [e.at for e in _notices(h)] == [ANNOUNCED, local(2027, 4, 1, 0, 0)]
