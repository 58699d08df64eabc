"""The streaming service's flows through the engine, by SMS to 8300 (seed 002).

The guide, in short: before the cancellation completes, the service *"menawarkan pelan
alternatif atau penahanan sementara pada langganan anda"* (offers another plan or a
temporary hold); *"Anda masih boleh menggunakan perkhidmatan tersebut sehingga akhir
kitaran pengebilan anda"* (usable to the end of the billing cycle); *"Selepas itu, akaun
anda bertukar secara automatik kepada penstriman percuma"* (then free streaming).
Not from the seed: a paid registration waits for a ``Y`` (double opt-in).

streaming.toml: PFREE free; PBASIC 110,000/month; PSTD 220,000/month, whose HUY offers
1 a one-month pause, 2 PBASIC, 3 cancel; both fall back to PFREE. Questions wait 10
minutes. Every instant is local Asia/Ho_Chi_Minh; every amount and date is by hand.
"""

from __future__ import annotations

from datetime import datetime

import pytest

from tests.service.policy_harness import STREAMING, PolicyHarness, make_policy_harness
from tests.service.stores import StoreUnderTest
from tests.service.support import local

S = "84913000003"
START = 500_000

T0 = local(2026, 3, 2, 10, 0)
#: PSTD confirmed at T0: its first month runs to 10:00 02/04/2026
MONTH_END = local(2026, 4, 2, 10, 0)

CONFIRM_PSTD = "Xac nhan dang ky goi PSTD gia 220.000d/thang: tra loi Y gui 8300 trong 10 phut."
EXPIRED = "Yeu cau truoc cua Quy khach da het han. Vui long soan lai lenh."
NOTHING_WAITING = (
    "Khong co yeu cau nao dang cho xac nhan. DK PFREE (0d/thang); DK PBASIC"
    " (110.000d/thang); DK PSTD (220.000d/thang)."
)
OFFERS = (
    "Truoc khi huy goi PSTD: 1 de tam dung 1 thang, 2 de chuyen sang goi PBASIC gia"
    " 110.000d, 3 de xac nhan huy. Tra loi so tuong ung gui 8300."
)
PENDING_PSTD = (
    "Goi PSTD da dung tu dong gia han, Quy khach van xem phim duoc den 10:00 02/04/2026,"
    " sau do chuyen ve xem phim mien phi. Doi y: soan KH PSTD gui 8300."
)


def _registered(at: str) -> str:
    """``registered`` of streaming.toml (vi) for PSTD bought at ``at`` + 1 month."""
    return (
        "Dang ky thanh cong goi PSTD (Phim va chuong trinh TV, goi Tieu chuan), cuoc"
        f" 220.000d tru vao TK chinh. Hieu luc den {at}, tu dong gia han hang thang. Huy:"
        " soan HUY PSTD gui 8300."
    )


@pytest.fixture
def h(service_store: StoreUnderTest) -> PolicyHarness:
    return make_policy_harness(store=service_store)


async def _customer(h: PolicyHarness) -> None:
    await h.provision(S, at=local(2026, 3, 1), kind="prepaid", balance=START)


# --- double opt-in ------------------------------------------------------------------


async def test_dk_pstd_asks_for_y_and_charges_nothing(h: PolicyHarness) -> None:
    await _customer(h)

    assert await h.texts(STREAMING, S, "DK PSTD", at=T0) == [CONFIRM_PSTD]

    assert h.charges(S) == []
    assert h.subscriptions(S) == []
    assert h.balance(S) == START
    question = h.conversation(S, STREAMING)
    assert question is not None
    assert (question.kind, question.package, question.expires_at) == (
        "opt_in",
        "PSTD",
        local(2026, 3, 2, 10, 10),
    )


@pytest.mark.parametrize(
    ("answered", "expires"),
    [
        pytest.param(local(2026, 3, 2, 10, 2), "10:02 02/04/2026", id="after-2-minutes"),
        pytest.param(local(2026, 3, 2, 10, 10), "10:10 02/04/2026", id="at-10-minutes"),
    ],
)
async def test_y_within_10_minutes_registers_and_charges_220000(
    h: PolicyHarness, answered: datetime, expires: str
) -> None:
    """The month starts at the Y: 500,000 − 220,000 = 280,000 left."""
    await _customer(h)
    await h.texts(STREAMING, S, "DK PSTD", at=T0)

    assert await h.texts(STREAMING, S, "Y", at=answered) == [_registered(expires)]

    assert [(c.reason, c.amount, c.at) for c in h.charges(S)] == [
        ("registration", 220_000, answered)
    ]
    assert h.balance(S) == 280_000
    assert h.states(S) == [("PSTD", "active")]
    assert h.conversation(S, STREAMING) is None


@pytest.mark.parametrize(
    "answered",
    [
        pytest.param(local(2026, 3, 2, 10, 10, 1), id="10-minutes-and-1s"),
        pytest.param(local(2026, 3, 2, 10, 11), id="11-minutes"),
    ],
)
async def test_y_after_10_minutes_has_expired_and_charges_nothing(
    h: PolicyHarness, answered: datetime
) -> None:
    """Expired: nothing registered or charged; the question is gone, so another Y is a
    stray one."""
    await _customer(h)
    await h.texts(STREAMING, S, "DK PSTD", at=T0)

    assert await h.texts(STREAMING, S, "Y", at=answered) == [EXPIRED]

    assert h.charges(S) == []
    assert h.subscriptions(S) == []
    assert h.balance(S) == START
    assert await h.texts(STREAMING, S, "Y", at=answered) == [NOTHING_WAITING]


async def test_a_stray_y_gets_a_helpful_reply(h: PolicyHarness) -> None:
    await _customer(h)

    assert await h.texts(STREAMING, S, "Y", at=T0) == [NOTHING_WAITING]
    assert h.charges(S) == []


async def test_n_to_the_opt_in_registers_nothing(h: PolicyHarness) -> None:
    await _customer(h)
    await h.texts(STREAMING, S, "DK PSTD", at=T0)

    assert await h.texts(STREAMING, S, "N", at=local(2026, 3, 2, 10, 1)) == [
        "Yeu cau da duoc huy, goi cua Quy khach khong thay doi."
    ]
    assert h.subscriptions(S) == []
    assert h.charges(S) == []


async def test_a_digit_to_the_opt_in_asks_for_y_again(h: PolicyHarness) -> None:
    """DK PSTD, then "1" (no answer to a yes/no question): the question is asked again and
    stays open, so a Y at 10:02 (inside the 10 minutes) registers PSTD for 220,000."""
    await _customer(h)
    await h.texts(STREAMING, S, "DK PSTD", at=T0)
    assert await h.texts(STREAMING, S, "1", at=local(2026, 3, 2, 10, 1)) == [CONFIRM_PSTD]

    await h.texts(STREAMING, S, "Y", at=local(2026, 3, 2, 10, 2))
    assert [(c.reason, c.amount) for c in h.charges(S)] == [("registration", 220_000)]


# --- retention offers -----------------------------------------------------------------


async def _pstd(h: PolicyHarness) -> None:
    """PSTD confirmed at T0 (220,000; 280,000 left), then HUY PSTD at 10:00 10/03."""
    await _customer(h)
    await h.texts(STREAMING, S, "DK PSTD", at=T0)
    await h.texts(STREAMING, S, "Y", at=T0)
    assert await h.texts(STREAMING, S, "HUY PSTD", at=local(2026, 3, 10, 10, 0)) == [OFFERS]


async def test_huy_pstd_offers_pause_switch_or_cancel_and_changes_nothing(
    h: PolicyHarness,
) -> None:
    await _pstd(h)

    pstd = h.latest(S, "PSTD")
    assert (pstd.status, pstd.auto_renew, pstd.next_action_at) == ("active", True, MONTH_END)
    question = h.conversation(S, STREAMING)
    assert question is not None
    assert (question.kind, question.expires_at) == ("retention", local(2026, 3, 10, 10, 10))
    assert len(h.charges(S)) == 1


async def test_1_pauses_for_one_cycle_then_renews(h: PolicyHarness) -> None:
    """Pause: the paid month runs to 02/04, the month 02/04 → 02/05 is skipped (nothing
    charged on 02/04), then PSTD renews on 02/05 for 220,000 (280,000 → 60,000) to 02/06."""
    await _pstd(h)

    assert await h.texts(STREAMING, S, "1", at=local(2026, 3, 10, 10, 1)) == [
        "Goi PSTD tam dung den 10:00 02/05/2026, sau do tu dong gia han."
    ]
    assert await h.due_texts(local(2026, 5, 2, 9, 59, 59)) == []
    assert h.balance(S) == 280_000

    assert await h.due_texts(local(2026, 5, 2, 10, 0)) == [
        "Goi PSTD da duoc gia han, cuoc 220.000d tru vao TK chinh. Hieu luc den 10:00"
        " 02/06/2026. Huy: soan HUY PSTD gui 8300."
    ]
    assert [(c.reason, c.amount, c.at) for c in h.charges(S)] == [
        ("registration", 220_000, T0),
        ("renewal", 220_000, local(2026, 5, 2, 10, 0)),
    ]
    assert h.balance(S) == 60_000
    assert h.states(S) == [("PSTD", "active")]


async def test_after_choosing_the_pause_the_paid_month_still_serves(h: PolicyHarness) -> None:
    """The pause skips the *next* month; until 10:00 02/04 the paid month is PSTD's, so
    streaming on 20/03 is PSTD's usage."""
    await _pstd(h)
    await h.texts(STREAMING, S, "1", at=local(2026, 3, 10, 10, 1))

    used = await h.use(S, "stream", 2_000_000, at=local(2026, 3, 20, 20, 0))

    assert (used.zero_rated, used.package) == (True, "PSTD")


async def test_2_switches_to_pbasic_at_the_next_renewal(h: PolicyHarness) -> None:
    """Switch: at 10:00 02/04 the plan becomes PBASIC and is charged 110,000 (280,000 →
    170,000), and again 110,000 on 02/05 (→ 60,000)."""
    await _pstd(h)

    assert await h.texts(STREAMING, S, "2", at=local(2026, 3, 10, 10, 1)) == [
        "Goi xem phim cua Quy khach se chuyen sang PBASIC gia 110.000d tu 10:00 02/04/2026."
    ]
    assert h.balance(S) == 280_000

    assert await h.due_texts(MONTH_END) == [
        "Goi PBASIC da duoc gia han, cuoc 110.000d tru vao TK chinh. Hieu luc den 10:00"
        " 02/05/2026. Huy: soan HUY PBASIC gui 8300."
    ]
    await h.due_texts(local(2026, 5, 2, 10, 0))
    assert [(c.package, c.reason, c.amount, c.at) for c in h.charges(S)] == [
        ("PSTD", "registration", 220_000, T0),
        ("PBASIC", "renewal", 110_000, MONTH_END),
        ("PBASIC", "renewal", 110_000, local(2026, 5, 2, 10, 0)),
    ]
    assert h.balance(S) == 60_000
    assert [(s.package, s.status) for s in h.subscriptions(S)] == [("PBASIC", "active")]


async def test_3_cancels_to_the_end_of_the_cycle_then_pfree(h: PolicyHarness) -> None:
    """Cancel: PSTD runs to 10:00 02/04, nothing more is charged, PFREE from then."""
    await _pstd(h)

    assert await h.texts(STREAMING, S, "3", at=local(2026, 3, 10, 10, 1)) == [PENDING_PSTD]
    assert h.latest(S, "PSTD").status == "pending_cancel"

    assert await h.due_texts(MONTH_END) == [
        "Goi PSTD da ket thuc, tai khoan chuyen sang goi PFREE (noi dung gioi han)."
    ]
    assert h.states(S) == [("PSTD", "cancelled"), ("PFREE", "active")]
    assert h.latest(S, "PFREE").started_at == MONTH_END
    assert len(h.charges(S)) == 1
    assert h.balance(S) == 280_000


async def test_an_invalid_answer_gets_the_offers_again(h: PolicyHarness) -> None:
    """7 is not an offer: the offers again, the question still open; 3 then cancels."""
    await _pstd(h)

    assert await h.texts(STREAMING, S, "7", at=local(2026, 3, 10, 10, 1)) == [OFFERS]
    assert h.latest(S, "PSTD").status == "active"
    assert h.conversation(S, STREAMING) is not None

    assert await h.texts(STREAMING, S, "3", at=local(2026, 3, 10, 10, 2)) == [PENDING_PSTD]


async def test_an_offer_chosen_too_late_has_expired(h: PolicyHarness) -> None:
    """Offered at 10:00 10/03: a 1 at 10:11 is too late; PSTD is unchanged."""
    await _pstd(h)

    assert await h.texts(STREAMING, S, "1", at=local(2026, 3, 10, 10, 11)) == [EXPIRED]
    pstd = h.latest(S, "PSTD")
    assert (pstd.status, pstd.next_action_at) == ("active", MONTH_END)


async def test_kh_after_choosing_cancel_keeps_pstd(h: PolicyHarness) -> None:
    """3, then KH PSTD on 20/03: active again; renewed on 02/04 for 220,000 (→ 60,000)."""
    await _pstd(h)
    await h.texts(STREAMING, S, "3", at=local(2026, 3, 10, 10, 1))

    assert await h.texts(STREAMING, S, "KH PSTD", at=local(2026, 3, 20, 10, 0)) == [
        "Goi PSTD da duoc kich hoat lai va se tu dong gia han tu 10:00 02/04/2026."
    ]
    await h.due_texts(MONTH_END)
    assert h.balance(S) == 60_000
    assert h.states(S) == [("PSTD", "active")]


async def test_a_balance_too_small_is_said_before_asking_for_y(h: PolicyHarness) -> None:
    """50,000 on the balance and PSTD costs 220,000: DK PSTD answers at once that the
    balance is short (no question is opened, so no Y could fail later)."""
    await h.provision(S, at=local(2026, 3, 1), kind="prepaid", balance=50_000)

    replies = await h.texts(STREAMING, S, "DK PSTD", at=T0)

    assert replies == [
        "Dang ky goi PSTD khong thanh cong: TK chinh (50.000d) khong du 220.000d."
        " Vui long nap them tien va thu lai."
    ]
    assert h.conversation(S, STREAMING) is None
    assert h.charges(S) == []
