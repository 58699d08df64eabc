"""Recorded mail shaped as Mailpit's API v1 JSON, and Mailpit's search syntax.

Field names are Mailpit's own (``storage.MessageSummary``, ``storage.Message``,
``apiv1.MessagesSummary``), so Mailpit clients read our API; our delivery state rides
along in extension fields. Times are RFC 3339 in the zone asked for, the way Go
prints them. A search is a conjunction of terms, each a case-insensitive substring
test, negated by a leading ``-`` or ``!``.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from gateway.adapters.mailpit import (
    MailSearch,
    SearchTerm,
    list_json,
    matches,
    message_json,
    parse_search,
    rfc3339,
    snippet,
    summary_json,
)
from gateway.domain.mail import OutgoingMail, StoredMail, to_mime

HCM = ZoneInfo("Asia/Ho_Chi_Minh")

SUMMARY_FIELDS = {
    "ID",
    "MessageID",
    "Read",
    "From",
    "To",
    "Cc",
    "Bcc",
    "ReplyTo",
    "Subject",
    "Created",
    "Tags",
    "Size",
    "Attachments",
    "Snippet",
}
MESSAGE_FIELDS = {
    "ID",
    "MessageID",
    "From",
    "To",
    "Cc",
    "Bcc",
    "ReplyTo",
    "ReturnPath",
    "Subject",
    "ListUnsubscribe",
    "Date",
    "Tags",
    "Text",
    "HTML",
    "Size",
    "Inline",
    "Attachments",
}
EXTENSION_FIELDS = {"Status", "Attempts", "LastError", "Kind", "MSISDN", "TicketID"}


def stored(
    *,
    id: str = "01J9ZX4Q7M",
    to: tuple[str, ...] = ("an.nguyen@example.vn",),
    subject: str = "Hủy tài khoản",
    body: str = "Xin chào,\n\nBạn đã hủy gói ZL7 thành công.\n",
    read: bool = False,
) -> StoredMail:
    mail = OutgoingMail(
        id=id,
        sender="noreply@888.vn",
        sender_name="Tổng đài 888",
        to=to,
        subject=subject,
        body=body,
        at=datetime(2025, 3, 1, 2, 30, tzinfo=UTC),
        kind="account_closed",
        msisdn="84912345678",
        ticket_id=17,
    )
    return StoredMail(mail=mail, status="failed", attempts=3, last_error="550 no", read=read)


# -- JSON shapes -------------------------------------------------------------------


def test_summary_has_mailpit_fields_plus_extensions() -> None:
    assert set(summary_json(stored(), tz=HCM)) == SUMMARY_FIELDS | EXTENSION_FIELDS


def test_summary_values() -> None:
    item = stored()
    summary = summary_json(item, tz=HCM)
    assert summary["ID"] == "01J9ZX4Q7M"
    assert summary["MessageID"] == "01J9ZX4Q7M@888.vn"
    assert summary["Read"] is False
    assert summary["From"] == {"Name": "Tổng đài 888", "Address": "noreply@888.vn"}
    assert summary["To"] == [{"Name": "", "Address": "an.nguyen@example.vn"}]
    assert (summary["Cc"], summary["Bcc"], summary["ReplyTo"], summary["Tags"]) == ([], [], [], [])
    assert summary["Subject"] == "Hủy tài khoản"
    assert summary["Created"] == "2025-03-01T09:30:00+07:00"
    assert summary["Size"] == len(to_mime(item.mail))
    assert summary["Attachments"] == 0
    assert summary["Snippet"] == "Xin chào, Bạn đã hủy gói ZL7 thành công."


def test_extensions_carry_delivery_state_and_origin() -> None:
    summary = summary_json(stored(), tz=HCM)
    assert {key: summary[key] for key in EXTENSION_FIELDS} == {
        "Status": "failed",
        "Attempts": 3,
        "LastError": "550 no",
        "Kind": "account_closed",
        "MSISDN": "84912345678",
        "TicketID": 17,
    }


def test_message_has_mailpit_fields_plus_read_and_extensions() -> None:
    fields = set(message_json(stored(), tz=HCM))
    assert fields == MESSAGE_FIELDS | {"Read"} | EXTENSION_FIELDS


def test_message_values() -> None:
    item = stored(read=True)
    message = message_json(item, tz=HCM)
    assert message["Text"] == item.mail.body
    assert message["HTML"] == ""
    assert message["Date"] == "2025-03-01T09:30:00+07:00"
    assert message["ReturnPath"] == "noreply@888.vn"
    assert message["ListUnsubscribe"] == {"Header": "", "Links": [], "Errors": "", "HeaderPost": ""}
    assert (message["Inline"], message["Attachments"]) == ([], [])
    assert message["Size"] == len(to_mime(item.mail))
    assert message["Read"] is True


def test_list_counts_and_pages() -> None:
    page = [stored(id="b"), stored(id="a")]
    listing = list_json(page, total=12, unread=5, start=10, tz=HCM)
    assert {key: value for key, value in listing.items() if key != "messages"} == {
        "total": 12,
        "unread": 5,
        "count": 2,
        "messages_count": 12,
        "messages_unread": 5,
        "start": 10,
        "tags": [],
    }
    assert [summary["ID"] for summary in listing["messages"]] == ["b", "a"]


def test_search_listing_counts_matches_apart_from_the_mailbox() -> None:
    listing = list_json(
        [stored()], total=12, unread=5, start=0, tz=HCM, messages_count=1, messages_unread=1
    )
    assert (listing["total"], listing["messages_count"], listing["messages_unread"]) == (12, 1, 1)


def test_empty_list() -> None:
    listing = list_json([], total=0, unread=0, start=0, tz=HCM)
    assert (listing["count"], listing["messages"]) == (0, [])


def test_everything_serialises_to_json() -> None:
    item = stored()
    for shaped in (
        summary_json(item, tz=HCM),
        message_json(item, tz=HCM),
        list_json([item], total=1, unread=1, start=0, tz=HCM),
    ):
        assert json.loads(json.dumps(shaped)) == shaped


def test_snippet_collapses_whitespace_and_cuts_at_250_characters() -> None:
    assert snippet("  a\n\n\tb  ") == "a b"
    assert snippet("ủ" * 250) == "ủ" * 250
    assert snippet("ủ" * 251) == "ủ" * 250 + "..."
    assert snippet("") == ""


@pytest.mark.parametrize(
    ("at", "tz", "text"),
    [
        pytest.param(datetime(2025, 3, 1, 2, 30, tzinfo=UTC), HCM, "2025-03-01T09:30:00+07:00"),
        pytest.param(datetime(2025, 3, 1, 2, 30, tzinfo=UTC), UTC, "2025-03-01T02:30:00Z"),
        pytest.param(
            datetime(2025, 3, 1, 2, 30, 5, 120_000, tzinfo=UTC),
            HCM,
            "2025-03-01T09:30:05.12+07:00",
            id="millis-trailing-zero-dropped",
        ),
        pytest.param(
            datetime(2025, 3, 1, 2, 30, 5, 999, tzinfo=UTC),
            UTC,
            "2025-03-01T02:30:05Z",
            id="below-a-millisecond-dropped",
        ),
        pytest.param(
            datetime(2025, 3, 1, 2, 30, tzinfo=UTC),
            timezone(-timedelta(hours=3, minutes=30)),
            "2025-02-28T23:00:00-03:30",
            id="negative-offset",
        ),
    ],
)
def test_rfc3339_in_the_zone_asked_for(at: datetime, tz: timezone, text: str) -> None:
    assert rfc3339(at, tz) == text


# -- parse_search --------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "terms"),
    [
        pytest.param("", (), id="empty"),
        pytest.param("   ", (), id="blank"),
        pytest.param("to:An@Example.vn", (SearchTerm("to", "an@example.vn"),), id="to"),
        pytest.param("FROM:noreply", (SearchTerm("from", "noreply"),), id="prefix-any-case"),
        pytest.param("subject:ZL7", (SearchTerm("subject", "zl7"),), id="subject-word"),
        pytest.param(
            'subject:"Hủy  tài khoản"',
            (SearchTerm("subject", "hủy tài khoản"),),
            id="subject-phrase",
        ),
        pytest.param(
            "message-id:<01J9@888.vn>",
            (SearchTerm("message-id", "01j9@888.vn"),),
            id="message-id-brackets-stripped",
        ),
        pytest.param("is:read", (SearchTerm("is", "read"),), id="is-read"),
        pytest.param("is:UNREAD", (SearchTerm("is", "unread"),), id="is-unread"),
        pytest.param("-is:read", (SearchTerm("is", "read", negated=True),), id="negated-flag"),
        pytest.param("!to:an", (SearchTerm("to", "an", negated=True),), id="bang-negates"),
        pytest.param("ZL7", (SearchTerm("text", "zl7"),), id="word"),
        pytest.param('"gói ZL7"', (SearchTerm("text", "gói zl7"),), id="phrase"),
        pytest.param('-"gói ZL7"', (SearchTerm("text", "gói zl7", negated=True),), id="neg-phrase"),
        pytest.param('"is:read"', (SearchTerm("text", "is:read"),), id="quoted-prefix-is-text"),
        pytest.param(
            '!"to:an"', (SearchTerm("text", "to:an", negated=True),), id="negated-quoted-prefix"
        ),
        pytest.param("is:starred", (SearchTerm("text", "is:starred"),), id="unknown-flag-is-text"),
        pytest.param("tag:x", (SearchTerm("text", "tag:x"),), id="unknown-prefix-is-text"),
        pytest.param("-", (SearchTerm("text", "-"),), id="lone-dash-is-text"),
        pytest.param("to:", (), id="prefix-without-value-ignored"),
        pytest.param(
            "to:an subject:ZL7 -is:read hủy",
            (
                SearchTerm("to", "an"),
                SearchTerm("subject", "zl7"),
                SearchTerm("is", "read", negated=True),
                SearchTerm("text", "hủy"),
            ),
            id="combined",
        ),
    ],
)
def test_parse_search(query: str, terms: tuple[SearchTerm, ...]) -> None:
    assert parse_search(query) == MailSearch(terms)


# -- matches -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        pytest.param("", True, id="empty-matches-all"),
        pytest.param("to:an.nguyen@example.vn", True, id="to-full"),
        pytest.param("to:EXAMPLE.VN", True, id="to-part-any-case"),
        pytest.param("to:binh", False, id="to-other"),
        pytest.param("-to:binh", True, id="not-to-other"),
        pytest.param("from:noreply@888.vn", True, id="from-address"),
        pytest.param('from:"tổng đài"', True, id="from-name"),
        pytest.param("from:an.nguyen", False, id="from-is-not-to"),
        pytest.param("subject:hủy", True, id="subject-word"),
        pytest.param('subject:"HỦY TÀI"', True, id="subject-phrase-any-case"),
        pytest.param("subject:ZL7", False, id="subject-is-not-body"),
        pytest.param("message-id:01J9ZX4Q7M@888.vn", True, id="message-id"),
        pytest.param("message-id:<01J9ZX4Q7M@888.vn>", True, id="message-id-bracketed"),
        pytest.param("message-id:other", False, id="message-id-other"),
        pytest.param("is:unread", True, id="unread"),
        pytest.param("is:read", False, id="not-read"),
        pytest.param("!is:read", True, id="bang-not-read"),
        pytest.param("zl7", True, id="word-in-body"),
        pytest.param("khoản", True, id="word-in-subject"),
        pytest.param('"gói ZL7 thành"', True, id="phrase-in-body"),
        pytest.param('"ZL7 gói"', False, id="phrase-order-matters"),
        pytest.param("zl30", False, id="absent-word"),
        pytest.param("-zl7", False, id="negated-present-word"),
        pytest.param('"chào, bạn"', True, id="phrase-across-lines"),
        pytest.param("to:an zl7 -is:read", True, id="all-terms-hold"),
        pytest.param("to:an zl30", False, id="one-term-fails"),
    ],
)
def test_matches(query: str, expected: bool) -> None:
    assert matches(parse_search(query), stored()) is expected


def test_is_read_follows_the_stored_flag() -> None:
    assert matches(parse_search("is:read"), stored(read=True))
    assert not matches(parse_search("is:unread"), stored(read=True))


def test_to_matches_any_recipient() -> None:
    item = stored(to=("an@example.vn", "binh@example.vn"))
    assert matches(parse_search("to:binh"), item)
    assert not matches(parse_search("-to:binh"), item)
