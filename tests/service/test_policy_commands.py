"""The policy engine's commands and usage across the four short codes.

``TC`` lists what a subscriber has on the short code it is sent to (state and date);
``KT <CODE>`` tells the state of one service; data used in an app is zero-rated by an
active pack that covers the app (``KTTK_ZL`` then reports it), and otherwise charged per
started MB at the catalog's ``out_of_bundle_per_mb``, or at the default rate for an app
no catalog sells, from the prepaid balance or on the postpaid invoice; a usage event is
counted once per id; and every charge keeps the inputs of its rule, so "why was I
charged 7,500 đ?" has an answer (seed 004: postpaid ZL30 from the 16th costs 50 %).

Prices from the shipped catalogs: ZL7 5,000 for 7 × 24 h, ZL30 15,000 (888); PRO
330,000/month, REC 110,000/month (8100); CAPM 500,000/month after a 7-day trial, CMON
700,000/month (8200); PSTD 220,000/month (8300). Every instant is local
Asia/Ho_Chi_Minh; every amount and date is worked out by hand.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import pytest

from carrier_rules import SubscriberKind
from tests.service.policy_harness import (
    CREATIVE,
    MEETINGS,
    STREAMING,
    ZALO,
    PolicyHarness,
    load_shipped,
    make_policy_harness,
    shipped_catalogs,
)
from tests.service.stores import StoreUnderTest
from tests.service.support import HCM, local

A = "84913000004"
START = 2_000_000

MEETINGS_COMMANDS = (
    "DK BASIC (0d/thang); DK PRO (330.000d/thang); DK BIZ (550.000d/thang); DK REC (110.000d/thang)"
)


@pytest.fixture
def h(service_store: StoreUnderTest) -> PolicyHarness:
    return make_policy_harness(store=service_store)


async def _customer(h: PolicyHarness, balance: int, kind: SubscriberKind = "prepaid") -> None:
    await h.provision(A, at=local(2026, 3, 1), kind=kind, balance=balance)


async def _play(h: PolicyHarness, steps: list[tuple[str, str, datetime]]) -> None:
    """Send each (short code, text, time) in order, running what falls due in between."""
    for shortcode, text, at in steps:
        await h.due_texts(at)
        await h.texts(shortcode, A, text, at=at)


# --- TC and KT -------------------------------------------------------------------------


@dataclass(frozen=True)
class Ask:
    """What the subscriber did, then a command and its one reply, by hand."""

    steps: list[tuple[str, str, datetime]]
    shortcode: str
    command: str
    at: datetime
    reply: str
    notes: list[str] = field(default_factory=list)


ASKS = [
    pytest.param(
        Ask(
            # PRO 02/03 → 02/04; REC 10/03 → 10/04, cancelled on 15/03 (runs to 10/04)
            [
                (MEETINGS, "DK PRO", local(2026, 3, 2, 10, 0)),
                (MEETINGS, "DK REC", local(2026, 3, 10, 10, 0)),
                (MEETINGS, "HUY REC", local(2026, 3, 15, 10, 0)),
            ],
            MEETINGS,
            "TC",
            local(2026, 3, 16, 10, 0),
            "Goi hop dang su dung: PRO (dang hoat dong, den 10:00 02/04/2026);"
            " REC (cho ket thuc, den 10:00 10/04/2026).",
        ),
        id="TC-meetings-active-and-ending",
    ),
    pytest.param(
        Ask(
            # the trial of 02/03 ends 7 days later, 09/03
            [(CREATIVE, "DK CAPM", local(2026, 3, 2, 10, 0))],
            CREATIVE,
            "TC",
            local(2026, 3, 3, 10, 0),
            "Goi CreativeSuite dang su dung: CAPM (dung thu, den 10:00 09/03/2026).",
        ),
        id="TC-creative-trial",
    ),
    pytest.param(
        Ask(
            # CMON 09/03, cancelled on day 15 (24/03): runs to the end of its month, 09/04
            [
                (CREATIVE, "DK CMON", local(2026, 3, 9, 10, 0)),
                (CREATIVE, "HUY CMON", local(2026, 3, 24, 10, 0)),
            ],
            CREATIVE,
            "TC",
            local(2026, 3, 25, 10, 0),
            "Goi CreativeSuite dang su dung: CMON (cho ket thuc, den 10:00 09/04/2026).",
        ),
        id="TC-creative-ending",
    ),
    pytest.param(
        Ask(
            # PSTD 02/03 → 02/04, paused one month: renews 02/05
            [
                (STREAMING, "DK PSTD", local(2026, 3, 2, 10, 0)),
                (STREAMING, "Y", local(2026, 3, 2, 10, 0)),
                (STREAMING, "HUY PSTD", local(2026, 3, 10, 10, 0)),
                (STREAMING, "1", local(2026, 3, 10, 10, 1)),
            ],
            STREAMING,
            "TC",
            local(2026, 3, 11, 10, 0),
            "Goi xem phim dang su dung: PSTD (tam dung, den 10:00 02/05/2026).",
        ),
        id="TC-streaming-paused",
    ),
    pytest.param(
        Ask(
            # ZL7 02/03 10:00 + 7 × 24 h = 09/03 10:00
            [(ZALO, "DK ZL7", local(2026, 3, 2, 10, 0))],
            ZALO,
            "TC",
            local(2026, 3, 3, 10, 0),
            "Goi dang su dung: ZL7 (dang hoat dong, het han 10:00 09/03/2026).",
        ),
        id="TC-zalo",
    ),
    pytest.param(
        Ask(
            # a Zalo pack is not a meetings plan: 8100 lists nothing
            [(ZALO, "DK ZL7", local(2026, 3, 2, 10, 0))],
            MEETINGS,
            "TC",
            local(2026, 3, 3, 10, 0),
            f"Quy khach chua dang ky goi hop nao. {MEETINGS_COMMANDS}.",
        ),
        id="TC-only-this-shortcode",
    ),
    pytest.param(
        Ask(
            [(MEETINGS, "DK PRO", local(2026, 3, 2, 10, 0))],
            MEETINGS,
            "KT PRO",
            local(2026, 3, 3, 10, 0),
            "PRO (dang hoat dong, den 10:00 02/04/2026)",
        ),
        id="KT-active",
    ),
    pytest.param(
        Ask(
            [(MEETINGS, "DK PRO", local(2026, 3, 2, 10, 0))],
            MEETINGS,
            "KT REC",
            local(2026, 3, 3, 10, 0),
            "Quy khach chua dang ky goi REC. De dang ky soan DK REC gui 8100.",
        ),
        id="KT-not-held",
    ),
    pytest.param(
        Ask(
            [(CREATIVE, "DK CAPM", local(2026, 3, 2, 10, 0))],
            CREATIVE,
            "KT CAPM",
            local(2026, 3, 3, 10, 0),
            "CAPM (dung thu, den 10:00 09/03/2026)",
        ),
        id="KT-trial",
    ),
]


@pytest.mark.parametrize("ask", ASKS)
async def test_tc_and_kt_tell_states_and_dates(h: PolicyHarness, ask: Ask) -> None:
    await _customer(h, START)
    await _play(h, ask.steps)
    charges = len(h.charges(A))

    assert await h.texts(ask.shortcode, A, ask.command, at=ask.at) == [ask.reply]
    assert len(h.charges(A)) == charges  # asking changes nothing


@pytest.mark.parametrize("command", ["TC", "KTTK HOP"])
async def test_the_free_tier_is_not_shown_with_a_year_9999_end(
    h: PolicyHarness, command: str
) -> None:
    """After PRO is refunded the account is on BASIC, which has no end; the reply should
    not invent one."""
    await _customer(h, START)
    await _play(
        h,
        [
            (MEETINGS, "DK PRO", local(2026, 3, 2, 10, 0)),
            (MEETINGS, "HUY PRO", local(2026, 3, 5, 10, 0)),
            (MEETINGS, "Y", local(2026, 3, 5, 10, 1)),
        ],
    )

    (reply,) = await h.texts(MEETINGS, A, command, at=local(2026, 3, 6, 10, 0))

    expected = {
        "KTTK HOP": "BASIC (dang hoat dong)",
        "TC": "Goi hop dang su dung: BASIC (dang hoat dong).",
    }
    assert reply == expected[command]


# --- usage -----------------------------------------------------------------------------


async def test_zalo_data_under_zl7_is_zero_rated_and_reported(h: PolicyHarness) -> None:
    """ZL7 at 10:00 02/03 (10,000 − 5,000 = 5,000). 1,500,000 + 1,000,000 bytes of Zalo
    on 03/03 cost nothing; KTTK_ZL reports 2,500,000 bytes = 2.5 MB."""
    await _customer(h, 10_000)
    await h.texts(ZALO, A, "DK ZL7", at=local(2026, 3, 2, 10, 0))

    first = await h.use(A, "zalo", 1_500_000, at=local(2026, 3, 3, 8, 0))
    second = await h.use(A, "zalo", 1_000_000, at=local(2026, 3, 3, 9, 0))

    assert [(u.zero_rated, u.package, u.charged) for u in (first, second)] == [
        (True, "ZL7", 0),
        (True, "ZL7", 0),
    ]
    assert h.balance(A) == 5_000
    assert len(h.charges(A)) == 1
    zl7 = h.latest(A, "ZL7")
    assert [(u.bytes, u.subscription_id, u.charge_id) for u in h.usage(A)] == [
        (1_500_000, zl7.id, None),
        (1_000_000, zl7.id, None),
    ]
    assert await h.texts(ZALO, A, "KTTK_ZL", at=local(2026, 3, 3, 10, 0)) == [
        "Goi ZL7: het han 10:00 09/03/2026, tu dong gia han. Data Zalo da dung trong chu ky:"
        " 2.5 MB."
    ]


@pytest.mark.parametrize(
    ("n_bytes", "rate", "megabytes", "amount"),
    [
        pytest.param(2_500_001, 1000, 3, 3000, id="2.5MB-and-1-byte-is-3-started-MB"),
        pytest.param(1_000_000, 1000, 1, 1000, id="exactly-1MB"),
        pytest.param(1, 1000, 1, 1000, id="1-byte-starts-a-MB"),
        pytest.param(2_500_001, 500, 3, 1500, id="the-default-rate-given"),
    ],
)
async def test_data_of_an_app_no_catalog_sells_is_charged_per_started_mb(
    h: PolicyHarness, n_bytes: int, rate: int, megabytes: int, amount: int
) -> None:
    """No pack covers "video" and no catalog sells it: the default rate passed applies,
    per started MB (ceil(bytes / 1,000,000)), from the 10,000 prepaid balance."""
    await _customer(h, 10_000)

    result = await h.use(A, "video", n_bytes, at=local(2026, 3, 3, 8, 0), default_rate_per_mb=rate)

    assert (result.zero_rated, result.package, result.charged) == (False, None, amount)
    assert h.balance(A) == 10_000 - amount
    (charge,) = h.charges(A)
    assert (charge.package, charge.reason, charge.rule, charge.amount, charge.billing) == (
        "DATA",
        "usage",
        "out_of_bundle_per_mb",
        amount,
        "balance",
    )
    assert charge.subscription_id is None
    assert dict(charge.inputs) == {
        "app": "video",
        "bytes": n_bytes,
        "megabytes_started": megabytes,
        "rate_per_mb": rate,
        "subscriber_kind": "prepaid",
    }
    (record,) = h.usage(A)
    assert (record.charge_id, record.subscription_id) == (charge.id, None)


async def test_postpaid_data_out_of_bundle_goes_on_the_invoice(h: PolicyHarness) -> None:
    """3 started MB × 1,000 = 3,000 on the March 2026 invoice; the balance untouched."""
    await _customer(h, 0, kind="postpaid")

    result = await h.use(A, "video", 2_500_001, at=local(2026, 3, 31, 23, 0))

    assert result.charged == 3000
    assert [(x.description, x.amount) for x in h.invoice(A, "2026-03")] == [("DATA usage", 3000)]
    assert h.balance(A) == 0


@pytest.mark.parametrize(
    ("extra", "rate", "amount"),
    [
        pytest.param("", 1000, 3000, id="unset-the-default-rate"),
        pytest.param("out_of_bundle_per_mb = 200", 200, 600, id="the-catalog-rate"),
        pytest.param("out_of_bundle_per_mb = 0", 0, 0, id="a-catalog-that-gives-it-away"),
    ],
)
async def test_a_catalog_prices_data_of_its_app_outside_any_pack(
    extra: str, rate: int, amount: int, service_store: StoreUnderTest
) -> None:
    """Zalo data without a ZL pack, 2,500,001 bytes = 3 started MB: at the Zalo catalog's
    ``out_of_bundle_per_mb`` when it sets one (3 × 200 = 600; 3 × 0 = 0), else at the
    default 1,000 passed (3 × 1,000 = 3,000); from a 10,000 balance."""
    catalogs = shipped_catalogs()
    catalogs[ZALO] = load_shipped("zalo", extra=extra)
    h = make_policy_harness(catalogs, store=service_store)
    await _customer(h, 10_000)

    result = await h.use(A, "zalo", 2_500_001, at=local(2026, 3, 3, 8, 0), default_rate_per_mb=1000)

    assert (result.zero_rated, result.charged) == (False, amount)
    assert [(c.amount, c.inputs["rate_per_mb"]) for c in h.charges(A)] == (
        [(amount, rate)] if amount else []
    )
    assert h.balance(A) == 10_000 - amount
    (record,) = h.usage(A)
    assert (record.app, record.bytes) == ("zalo", 2_500_001)


async def test_a_prepaid_balance_never_goes_below_zero_for_data(h: PolicyHarness) -> None:
    """3 MB × 1,000 = 3,000 against 1,500: 1,500 taken, 1,500 recorded as owed."""
    await _customer(h, 1_500)

    result = await h.use(A, "video", 2_500_001, at=local(2026, 3, 3, 8, 0))

    assert result.charged == 1_500
    assert h.balance(A) == 0
    (charge,) = h.charges(A)
    assert (charge.amount, charge.inputs["owed"]) == (1_500, 1_500)


async def test_a_repeated_usage_event_id_is_counted_once(h: PolicyHarness) -> None:
    """ "ev-1" (1 MB of video, 1,000) twice: charged once (10,000 → 9,000); "ev-2" (1 MB of
    Zalo under ZL7) twice: counted once, KTTK_ZL says 1.0 MB."""
    await _customer(h, 15_000)
    await h.texts(ZALO, A, "DK ZL7", at=local(2026, 3, 2, 10, 0))  # 15,000 → 10,000
    at = local(2026, 3, 3, 8, 0)

    charged = await h.use(A, "video", 1_000_000, at=at, event_id="ev-1")
    again = await h.use(A, "video", 1_000_000, at=at, event_id="ev-1")
    zero = await h.use(A, "zalo", 1_000_000, at=at, event_id="ev-2")
    zero_again = await h.use(A, "zalo", 1_000_000, at=at, event_id="ev-2")

    assert (charged.charged, charged.duplicate) == (1000, False)
    assert (again.charged, again.duplicate) == (0, True)
    assert (zero.zero_rated, zero.duplicate) == (True, False)
    assert zero_again.duplicate is True
    assert h.balance(A) == 9_000
    assert [c.reason for c in h.charges(A)] == ["registration", "usage"]
    assert [u.event_id for u in h.usage(A)] == ["ev-1", "ev-2"]
    assert await h.texts(ZALO, A, "KTTK_ZL", at=at) == [
        "Goi ZL7: het han 10:00 09/03/2026, tu dong gia han. Data Zalo da dung trong chu ky:"
        " 1.0 MB."
    ]


# --- explainability ----------------------------------------------------------------------


async def test_why_was_i_charged_7500(h: PolicyHarness) -> None:
    """Postpaid ZL30 registered 09:00 16/03/2026: from the 16th, 50 % of 15,000 = 7,500,
    on the March invoice; the charge names the rule and keeps its inputs."""
    await _customer(h, 0, kind="postpaid")

    replies = await h.texts(ZALO, A, "DK ZL30", at=local(2026, 3, 16, 9, 0))

    assert replies == [
        "Dang ky thanh cong goi ZL30 (Mien phi data Zalo), cuoc 7.500d tinh vao HD thang"
        " 03/2026. Het han 23:59 31/03/2026, tu dong gia han. Huy: soan HUY ZL30 gui 888."
    ]
    (charge,) = h.charges(A)
    assert (charge.amount, charge.reason, charge.rule, charge.invoice_month) == (
        7_500,
        "registration",
        "postpaid_from_day_16_50pct",
        "2026-03",
    )
    assert dict(charge.inputs) == {
        "list_price": 15_000,
        "price_rule": "list_price",  # no price version: the catalog's price
        "subscriber_kind": "postpaid",
        "local_time": "2026-03-16T09:00:00+07:00",
    }


async def test_every_kind_of_charge_keeps_the_inputs_of_its_rule(h: PolicyHarness) -> None:
    """A registration (PRO, PSTD), renewals (the CAPM trial converting, PRO), a fee (CAPM
    on day 15), a refund (PRO unused since its renewal), data out of bundle, and (for a
    postpaid subscriber) the correction of ZL30 cancelled before the 16th: each charge
    has the subscriber's kind, and each charge of a subscription its list price and the
    local time it was taken."""
    await _customer(h, 10_000_000)
    await _play(
        h,
        [
            (MEETINGS, "DK PRO", local(2026, 3, 2, 10, 0)),
            (CREATIVE, "DK CAPM", local(2026, 3, 2, 10, 0)),
            (STREAMING, "DK PSTD", local(2026, 3, 2, 10, 0)),
            (STREAMING, "Y", local(2026, 3, 2, 10, 1)),
            (CREATIVE, "HUY CAPM", local(2026, 3, 24, 10, 0)),
            (MEETINGS, "HUY PRO", local(2026, 4, 2, 10, 0)),
            (MEETINGS, "Y", local(2026, 4, 2, 10, 1)),
        ],
    )
    await h.use(A, "video", 1, at=local(2026, 4, 3, 8, 0))
    postpaid = "84913000005"
    await h.provision(postpaid, at=local(2026, 3, 1), kind="postpaid", balance=0)
    await h.texts(ZALO, postpaid, "DK ZL30", at=local(2026, 3, 10, 9, 0))
    await h.texts(ZALO, postpaid, "HUY ZL30", at=local(2026, 3, 12, 9, 0))

    charges = h.charges(A) + h.charges(postpaid)

    assert sorted((c.package, c.reason, c.amount) for c in charges) == sorted(
        [
            ("PRO", "registration", 330_000),
            ("PSTD", "registration", 220_000),
            ("CAPM", "renewal", 500_000),  # the trial converts 09/03
            ("CAPM", "fee", 2_750_000),  # (12 − 1) × 500,000 × 50 %
            ("PRO", "renewal", 330_000),  # 02/04 10:00, just before the HUY
            ("PRO", "refund", -330_000),  # nothing used since that renewal
            ("PSTD", "renewal", 220_000),  # 02/04 10:01
            ("DATA", "usage", 1_000),  # 1 byte starts a MB
            ("ZL30", "registration", 15_000),  # 10/03: before the 16th, 100 %
            ("ZL30", "cancellation", -7_500),  # 12/03: the month costs 50 %, 7,500
        ]
    )
    for charge in charges:
        assert charge.inputs["subscriber_kind"] in ("prepaid", "postpaid"), charge
        if charge.subscription_id is not None:
            assert charge.inputs["local_time"] == charge.at.astimezone(HCM).isoformat()
            assert isinstance(charge.inputs["list_price"], int), charge
