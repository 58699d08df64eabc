"""The scenario file a recording becomes, from traffic made by hand: the order of what
was done, the expectations written, and text the runner would read otherwise."""

from __future__ import annotations

import tomllib
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from gateway.domain.model import LedgerEntry, LedgerReason, MessageRecord, Subscriber
from gateway.domain.traffic import BalanceMove, Position, Received, Sent, Traffic
from gateway.service.recording import Mark, RecordingMeta, scenario_toml

ZONE = ZoneInfo("Asia/Ho_Chi_Minh")
T0 = datetime(2026, 3, 10, 3, 0, tzinfo=UTC)  # 10:00 in Hanoi
A = "84912000001"
MARK = Mark(T0, Position(outbox_seq=10, ledger_id=20))


def mo(mid: str, text: str, at: datetime = T0) -> Received:
    return Received(A, MessageRecord("mo", mid, "888", text, at))


def mt(seq: int, text: str, reply_to: str | None, at: datetime = T0) -> Sent:
    return Sent(seq, A, MessageRecord("mt", f"o{seq}", "888", text, at, "GSM7", 1, reply_to))


def move(
    n: int, delta: int, after: int, reason: LedgerReason, by: str | None = None
) -> BalanceMove:
    entry = LedgerEntry(A, delta, after, reason, T0, f"c{n}" if by else None)
    return BalanceMove(n, entry, by)


def steps(traffic: Traffic, balance: int, now: datetime = T0) -> list[dict[str, object]]:
    subscriber = Subscriber(A, "prepaid", balance, None, T0)
    meta = RecordingMeta(now=now, tz=ZONE, auto_provision=True, default_balance=50_000)
    data = tomllib.loads(scenario_toml(MARK, traffic, {A: subscriber}, meta))
    found: list[dict[str, object]] = data["steps"]
    return found


def test_a_top_up_goes_before_the_first_mo_charged_after_it() -> None:
    """At one instant: DK ZL7 refused (no charge), a top-up (ledger 21), DK ZL7 charged
    (ledger 22): refused, top-up, charged. The balance at the mark is 3,000: the top-up's
    13,000 less its 10,000."""
    traffic = Traffic(
        received=[mo("m1", "DK ZL7"), mo("m2", "DK ZL7")],
        sent=[mt(11, "khong du", "m1"), mt(12, "thanh cong", "m2")],
        moves=[move(21, 10_000, 13_000, "topup"), move(22, -5000, 8000, "charge", "m2")],
    )
    found = steps(traffic, 8000)
    assert [next(iter(s)) for s in found] == ["send", "topup", "send", "name"]
    assert found[0]["expect_reply"] == ["^khong du$"]
    assert found[2]["expect_reply"] == ["^thanh cong$"]
    subscriber = Subscriber(A, "prepaid", 8000, None, T0)
    meta = RecordingMeta(now=T0, tz=ZONE, auto_provision=True, default_balance=50_000)
    data = tomllib.loads(scenario_toml(MARK, traffic, {A: subscriber}, meta))
    assert data["subscribers"] == [{"msisdn": A, "kind": "prepaid", "balance": 3000}]


def test_a_top_up_with_no_charged_mo_after_it_goes_after_its_instants_mos() -> None:
    """The documented limit: a top-up then KTTK (charging nothing), at one instant, come
    out as KTTK then the top-up."""
    traffic = Traffic(
        received=[mo("m1", "KTTK_ZL")],
        sent=[mt(11, "TK 13.000d", "m1")],
        moves=[move(21, 10_000, 13_000, "topup")],
    )
    assert [next(iter(s)) for s in steps(traffic, 13_000)] == ["send", "topup", "name"]


def test_mos_before_the_mark_in_its_second_are_left_out_and_the_clock_moves() -> None:
    """m0 at the mark's second, answered before the mark (so its reply is not in the
    traffic after the mark): left out. m1 at the mark's second answered after it: in. m2 a day later, no reply: an advance_to
    first, then ``expect_no_reply``. The clock saved two days on: a last advance_to."""
    day = timedelta(days=1)
    traffic = Traffic(
        received=[mo("m0", "TC"), mo("m1", "DK ZL1"), mo("m2", "hello", T0 + day)],
        sent=[mt(11, "ok", "m1")],
        moves=[],
    )
    found = steps(traffic, 50_000, now=T0 + 2 * day)
    assert found == [
        {"send": {"from": A, "to": "888", "text": "DK ZL1"}, "expect_reply": ["^ok$"]},
        {"advance_to": "2026-03-11T10:00:00+07:00"},
        {"send": {"from": A, "to": "888", "text": "hello"}, "expect_no_reply": True},
        {"advance_to": "2026-03-12T10:00:00+07:00"},
        {
            "name": "where the recording was saved",
            "expect_balance": [{"msisdn": A, "equals": 50_000}],
            "expect_clock": "2026-03-12T10:00:00+07:00",
        },
    ]


def test_text_is_written_as_the_runner_reads_it() -> None:
    """A ``$`` is doubled (``${name}`` is a captured value to the runner); a reply's
    specials are escaped; quotes, backslashes and a DEL survive the TOML."""
    traffic = Traffic(
        received=[mo("m1", 'say "$x" \\ \x7f')],
        sent=[mt(11, "cost (5.000d) $5 [a|b]?", "m1")],
        moves=[],
    )
    (send, _) = steps(traffic, 50_000)
    assert send["send"] == {"from": A, "to": "888", "text": 'say "$$x" \\ \x7f'}
    assert send["expect_reply"] == [r"^cost \(5\.000d\) \$$5 \[a\|b\]\?$"]


def test_a_mark_is_its_token() -> None:
    """``<epoch seconds>-<outbox seq>-<ledger id>``, and back; anything else is not one."""
    assert MARK.token == "1773111600-10-20"  # noqa: S105 - an id, not a secret
    assert Mark.parse("1773111600-10-20", ZONE) == Mark(T0.astimezone(ZONE), Position(10, 20))
    for bad in (
        "yesterday",
        "1-2",
        "1-2-3-4",
        "-1-2-3",
        "9" * 19 + "-1-1",
        "999999999999999999-1-1",
    ):
        assert Mark.parse(bad, ZONE) is None, bad
