"""The outcome rules of the SMSC (``smpp.outcomes``): settling, percentages, validity."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from gateway.adapters.smpp.accounts import parse_accounts
from gateway.adapters.smpp.outcomes import (
    Final,
    OutcomeDraw,
    parse_outcomes,
    parse_validity,
    settle,
)
from gateway.adapters.smpp.receipts import absolute_time
from gateway.domain.handsets import HandsetState
from gateway.errors import SettingError

T0 = datetime(2026, 3, 10, 3, 0, tzinfo=UTC)  # 10:00 at +07:00
END = T0 + timedelta(hours=2)


@pytest.mark.parametrize(
    ("handset", "drawn", "expected"),
    [
        ("on", "DELIVRD", Final("DELIVRD", 0)),
        ("on", "UNDELIV", Final("UNDELIV", 2)),
        ("on", "REJECTD", Final("REJECTD", 3)),
        ("on", "EXPIRED", None),
        ("off", "DELIVRD", None),
        ("absent", "DELIVRD", Final("UNDELIV", 27)),
        ("memory_full", "DELIVRD", Final("UNDELIV", 32)),
        ("barred", "DELIVRD", Final("REJECTD", 13)),
    ],
)
def test_a_message_due_before_its_end_is_settled_by_its_handset_then_its_draw(
    handset: HandsetState, drawn: str, expected: Final | None
) -> None:
    assert settle(handset=handset, drawn=drawn, at=T0, expires_at=END) == expected


@pytest.mark.parametrize("handset", ["on", "off", "barred"])
def test_at_its_end_every_pending_message_is_expired(handset: HandsetState) -> None:
    assert settle(handset=handset, drawn="DELIVRD", at=END, expires_at=END) == Final("EXPIRED", 1)


def test_percentages_parse_in_a_fixed_order_and_must_add_up_to_100() -> None:
    assert parse_outcomes("rejectd=2, DELIVRD=90,UNDELIV=5,EXPIRED=3") == (
        ("DELIVRD", 90),
        ("UNDELIV", 5),
        ("EXPIRED", 3),
        ("REJECTD", 2),
    )
    assert parse_outcomes("UNDELIV=100,DELIVRD=0") == (("UNDELIV", 100),)
    for bad, reason in [
        ("DELIVRD=90", "add up to 90"),
        ("DELIVRD=50,DELIVRD=50", "twice"),
        ("DELETED=100", "STATE one of"),
        ("DELIVRD=99.5,UNDELIV=0.5", "whole number"),
        ("DELIVRD", "STATE=PERCENT"),
    ]:
        with pytest.raises(ValueError, match=reason):
            parse_outcomes(bad)


def test_the_draw_walks_the_shares_with_the_seeded_numbers() -> None:
    """Seed 7's first numbers are 41, 19, 50, 83 (random.Random(7).randrange(100)): with
    40/20/20/20 that is UNDELIV (40-59), DELIVRD (0-39), UNDELIV, REJECTD (80-99)."""
    draw = OutcomeDraw(parse_outcomes("DELIVRD=40,UNDELIV=20,EXPIRED=20,REJECTD=20"), 7)
    assert [draw.draw() for _ in range(4)] == ["UNDELIV", "DELIVRD", "UNDELIV", "REJECTD"]
    assert OutcomeDraw((("DELIVRD", 100),), 7).draw() == "DELIVRD"


def test_validity_periods_relative_and_absolute() -> None:
    """Relative: 1 year 2 months 3 days 04:05:06 is 365 + 60 + 3 days and 04:05:06.
    Absolute 12:00 at +07:00 (28 quarter hours ahead) is 05:00 UTC; at -02:00 (8 behind)
    it is 14:00 UTC."""
    assert parse_validity("", T0) is None
    assert parse_validity("010203040506000R", T0) == T0 + timedelta(
        days=428, hours=4, minutes=5, seconds=6
    )
    assert parse_validity("260310120000028+", T0) == datetime(2026, 3, 10, 5, tzinfo=UTC)
    assert parse_validity("260310120000508-", T0) == datetime(
        2026, 3, 10, 14, 0, 0, 500_000, tzinfo=UTC
    )
    for bad in ("tomorrow", "000000000000000R", "261310120000028+", "260310120000028"):
        with pytest.raises(ValueError, match="validity"):
            parse_validity(bad, T0)


def test_absolute_time_is_in_the_display_zone_with_its_offset() -> None:
    from zoneinfo import ZoneInfo

    assert absolute_time(END, ZoneInfo("Asia/Ho_Chi_Minh")) == "260310120000028+"
    assert absolute_time(END, ZoneInfo("America/Sao_Paulo")) == "260310020000012-"


def test_an_accounts_own_percentages_are_checked_at_start_up() -> None:
    """A bad ``outcomes`` names the file, the field and the reason; a handsets account
    cannot have one."""
    head = '[[accounts]]\nsystem_id = "app"\npassword = "p"\n'
    good = parse_accounts(
        head + 'role = "application"\nshort_codes = ["9029"]\noutcomes = "UNDELIV=100"\n',
        source="a.toml",
    )
    assert good["app"].outcomes == "UNDELIV=100"
    with pytest.raises(SettingError, match=r"a\.toml: accounts\.0\.outcomes: .*add up to 90"):
        parse_accounts(
            head + 'role = "application"\nshort_codes = ["9029"]\noutcomes = "DELIVRD=90"\n',
            source="a.toml",
        )
    with pytest.raises(SettingError, match="outcomes are for application accounts"):
        parse_accounts(head + 'role = "handsets"\noutcomes = "DELIVRD=100"\n', source="a.toml")
