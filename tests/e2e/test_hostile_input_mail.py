"""Header injection and hostile mail on the running program: CR/LF never stored in a header
field, the mailbox API answers on any stored row, AUTH refused plainly when it is off.

Issue 11 found a subject of ``=?utf-8?q?KTTK=5FZL=0D=0ABcc:_evil@attacker.test?=`` stored
with its CR/LF in the reply's subject, after which ``/api/v1/messages``, ``/search`` and
``/message/latest`` answered 500.
"""

from __future__ import annotations

import json
import smtplib
import sqlite3
from collections.abc import Callable
from pathlib import Path

from tests.support import GatewayProcess

MSISDN = "84912345678"
ADDRESS = "an@example.com"
COMMANDS = "888@sms.local"
INJECTED_SUBJECT = "=?utf-8?q?KTTK=5FZL=0D=0ABcc:_evil@attacker.test?="
#: every column of a mail row that becomes (part of) a header
HEADER_COLUMNS = ("sender", "sender_name", "recipients", "subject", "in_reply_to", "refs")


def _send(gateway: GatewayProcess, subject: str, message_id: str) -> tuple[int, str]:
    raw = (
        f"From: {ADDRESS}\r\nTo: {COMMANDS}\r\nSubject: {subject}\r\n"
        f"Message-ID: <{message_id}>\r\n\r\n"
    ).encode()
    with smtplib.SMTP("127.0.0.1", gateway.smtp_port, timeout=30) as smtp:
        smtp.ehlo()
        assert smtp.mail(ADDRESS)[0] == 250
        assert smtp.rcpt(COMMANDS)[0] == 250
        code, text = smtp.data(raw)
    return code, text.decode()


def _rows_with_line_breaks(db: Path) -> list[tuple[str, str]]:
    """(mail id, column) of every header column holding CR or LF (raw or in JSON)."""
    found = []
    with sqlite3.connect(db) as conn:
        for column in HEADER_COLUMNS:
            query = (
                f"SELECT id, {column} FROM mail WHERE instr({column}, char(13)) > 0"  # noqa: S608
                f" OR instr({column}, char(10)) > 0 OR instr({column}, '\\r') > 0"
                f" OR instr({column}, '\\n') > 0"
            )
            found += [(row[0], column) for row in conn.execute(query)]
    conn.close()
    return found


def _header_lines(raw: str) -> list[str]:
    """The header lines of an RFC 5322 message (continuation lines included)."""
    head, _, _ = raw.replace("\r\n", "\n").partition("\n\n")
    return head.split("\n")


def test_an_encoded_line_break_in_a_subject_is_refused_and_nothing_stored(
    gateway_factory: Callable[..., GatewayProcess], tmp_path: Path
) -> None:
    """The injected subject gets ``550 5.6.0`` naming the Subject header; no mail, charge or
    message is stored; the mailbox endpoints answer; a plain ``KTTK_ZL`` afterwards is
    answered by mail whose header block has no ``Bcc:``."""
    gateway = gateway_factory().start()
    with gateway.http() as http:
        assert http.put("/api/subscribers/0912345678", json={"email": ADDRESS}).status_code == 201
    code, text = _send(gateway, INJECTED_SUBJECT, "inject-1@example.com")
    assert (code, text) == (
        550,
        "5.6.0 invalid Subject header: it decodes to text with a line break (CR/LF) in it",
    )
    with gateway.http() as http:
        assert http.get("/api/v1/messages").json()["total"] == 0
        assert http.get(f"/api/subscribers/{MSISDN}/messages").json()["messages"] == []
        assert http.get(f"/api/subscribers/{MSISDN}/charges").json()["charges"] == []
        assert http.get("/api/v1/search", params={"query": "KTTK"}).status_code == 200
        assert http.get("/api/v1/message/latest").status_code == 404
    code, text = _send(gateway, "KTTK_ZL", "plain-1@example.com")
    assert code == 250, text
    with gateway.http() as http:
        listing = http.get("/api/v1/messages")
        assert listing.status_code == 200
        assert [m["Subject"] for m in listing.json()["messages"]] == ["Re: KTTK_ZL"]
        raw = http.get("/api/v1/message/latest/raw").text
    assert not [line for line in _header_lines(raw) if line.lower().startswith("bcc:")]
    assert _rows_with_line_breaks(tmp_path / "scgw.db") == []


def test_a_portal_ticket_title_with_cr_lf_is_folded_in_the_mail_subject(
    gateway_factory: Callable[..., GatewayProcess], tmp_path: Path
) -> None:
    """A ticket title is free text, but the acknowledgement mail's subject quotes it: the
    stored subject has each CR and LF as a space, and the sent mail no ``Bcc:`` header."""
    gateway = gateway_factory().start()
    with gateway.http() as http:
        assert http.put("/api/subscribers/0912345678", json={"email": ADDRESS}).status_code == 201
        opened = http.post(
            "/api/tickets",
            json={
                "msisdn": MSISDN,
                "category": "Billing",
                "title": "Help\r\nBcc: evil@attacker.test",
                "content": "Please call me.",
            },
        )
        assert opened.status_code == 201, opened.text
        subjects = [m["Subject"] for m in http.get("/api/v1/messages").json()["messages"]]
        raw = http.get("/api/v1/message/latest/raw").text
    ticket = opened.json()["id"]
    # the template is "[#{ticket}] Da tiep nhan yeu cau: {title}"; CR and LF are two spaces
    assert subjects == [f"[#{ticket}] Da tiep nhan yeu cau: Help  Bcc: evil@attacker.test"]
    assert not [line for line in _header_lines(raw) if line.lower().startswith("bcc:")]
    assert _rows_with_line_breaks(tmp_path / "scgw.db") == []


def test_rows_stored_with_cr_lf_by_an_older_version_are_served(
    gateway_factory: Callable[..., GatewayProcess], tmp_path: Path
) -> None:
    """A mail row written before the fix, its subject holding ``\\r\\nBcc: ...``: the
    listing, search, latest and raw endpoints answer 200, the subject shown with spaces
    for CR and LF, and the raw message has no ``Bcc:`` header."""
    gateway = gateway_factory().start()
    gateway.stop()
    with sqlite3.connect(tmp_path / "scgw.db") as conn:
        conn.execute(
            "INSERT INTO mail (id, kind, sender, sender_name, recipients, subject, body, at,"
            " msisdn, in_reply_to, refs, status, attempts, sent_at)"
            " VALUES (?, 'reply', '888@sms.local', 'Carrier 888', ?, ?, 'ok', ?, ?, ?, ?,"
            " 'sent', 1, ?)",
            (
                "legacy1",
                json.dumps([ADDRESS]),
                "Re: KTTK_ZL\r\nBcc: evil@attacker.test",
                1_773_111_600_000_000,  # 2026-03-10T03:00:00Z in microseconds
                MSISDN,
                "inject-1@example.com",
                json.dumps(["inject-1@example.com"]),
                1_773_111_600_000_000,
            ),
        )
    conn.close()
    gateway.start()
    shown = "Re: KTTK_ZL  Bcc: evil@attacker.test"
    with gateway.http() as http:
        listing = http.get("/api/v1/messages")
        assert listing.status_code == 200, listing.text
        assert [m["Subject"] for m in listing.json()["messages"]] == [shown]
        search = http.get("/api/v1/search", params={"query": "subject:KTTK_ZL"})
        assert search.status_code == 200, search.text
        assert [m["ID"] for m in search.json()["messages"]] == ["legacy1"]
        latest = http.get("/api/v1/message/latest")
        assert latest.status_code == 200, latest.text
        assert latest.json()["Subject"] == shown
        raw = http.get("/api/v1/message/legacy1/raw")
        assert raw.status_code == 200
    assert not [line for line in _header_lines(raw.text) if line.lower().startswith("bcc:")]


def test_auth_when_smtp_auth_is_off_is_502_not_535(
    gateway_factory: Callable[..., GatewayProcess],
) -> None:
    """Without ``SCGW_SMTP_AUTH`` the server does not offer AUTH in its EHLO reply, and an
    ``AUTH`` command is ``502 5.5.1`` (not implemented here), not ``535`` (wrong
    credentials); the session goes on and takes mail."""
    gateway = gateway_factory().start()
    with gateway.http() as http:
        assert http.put("/api/subscribers/0912345678", json={"email": ADDRESS}).status_code == 201
    with smtplib.SMTP("127.0.0.1", gateway.smtp_port, timeout=30) as smtp:
        smtp.ehlo()
        assert "auth" not in smtp.esmtp_features
        code, text = smtp.docmd("AUTH", "PLAIN AGhhcm5lc3MAczNjcmV0")
        assert (code, text.decode()) == (
            502,
            "5.5.1 AUTH not available: this server takes mail without it",
        )
        assert smtp.mail(ADDRESS)[0] == 250
        assert smtp.rcpt(COMMANDS)[0] == 250
