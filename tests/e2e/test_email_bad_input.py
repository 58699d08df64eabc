"""Bad input on the running program's SMTP server: refused with the right reply, nothing kept.

Every refusal is checked three ways: the exact SMTP reply (with its enhanced code
where there is one), the ``smtp_refused`` event in the gateway's log, and the state
read back over HTTP (balance, subscriptions, charges, tickets, mailbox), which must
not have moved. A good mail on a new connection afterwards shows the server survived.
"""

from __future__ import annotations

import base64
import os
import select
import smtplib
import socket
import struct
import subprocess
import sys
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from types import TracebackType
from typing import Any

import pytest

from tests.support import GatewayProcess, free_port

MSISDN = "84912345678"
ADDRESS = "an@example.com"
COMMANDS = "888@sms.local"
SUPPORT = "support@sms.local"
ZL7_PRICE = 5_000


# -- helpers -----------------------------------------------------------------------------


def _provision(gateway: GatewayProcess, msisdn: str = "0912345678", email: str = ADDRESS) -> None:
    with gateway.http() as http:
        response = http.put(f"/api/subscribers/{msisdn}", json={"email": email})
    assert response.status_code == 201, response.text


def _stored(gateway: GatewayProcess, msisdn: str = MSISDN) -> dict[str, Any]:
    """Everything a mail could have changed, as the HTTP API shows it."""
    with gateway.http() as http:
        subscriber = http.get(f"/api/subscribers/{msisdn}").json()
        return {
            "balance": subscriber["balance"],
            "subscriptions": subscriber["subscriptions"],
            "charges": http.get(f"/api/subscribers/{msisdn}/charges").json()["charges"],
            "tickets": http.get("/api/tickets").json()["tickets"],
            "mailbox": http.get("/api/v1/messages").json()["total"],
        }


def _mail(*headers: str, body: bytes | str = b"") -> bytes:
    """A raw message: header lines, a blank line, the body (CRLF line ends)."""
    raw = body.encode() if isinstance(body, str) else body
    return "\r\n".join(headers).encode() + b"\r\n\r\n" + raw


def _command_mail(text: str, message_id: str, sender: str = ADDRESS) -> bytes:
    return _mail(
        f"From: {sender}",
        f"To: {COMMANDS}",
        f"Subject: {text}",
        f"Message-ID: <{message_id}>",
        body="",
    )


def _smtp(gateway: GatewayProcess) -> smtplib.SMTP:
    return smtplib.SMTP("127.0.0.1", gateway.smtp_port, timeout=30)


def _send(
    gateway: GatewayProcess,
    data: bytes,
    *,
    to: Iterable[str] = (COMMANDS,),
) -> str:
    """One session from ADDRESS on a new connection; the envelope must be accepted.
    Returns the reply to the end of DATA as ``"<code> <text>"``."""
    with _smtp(gateway) as smtp:
        smtp.ehlo()
        code, text = smtp.mail(ADDRESS)
        assert code == 250, text
        for recipient in to:
            code, text = smtp.rcpt(recipient)
            assert code == 250, (recipient, text)
        code, text = smtp.data(data)
    return f"{code} {text.decode()}"


def _reply(result: tuple[int, bytes]) -> str:
    code, text = result
    return f"{code} {text.decode()}"


def _refusals(gateway: GatewayProcess) -> list[str]:
    """The replies the gateway logged as ``smtp_refused``, oldest first."""
    return [e["reply"] for e in gateway.log_events() if e.get("event") == "smtp_refused"]


def _assert_commands_still_work(gateway: GatewayProcess, before: dict[str, Any]) -> None:
    """A good ``DK ZL7`` on a new connection is charged: the server survived the bad input."""
    reply = _send(
        gateway, _command_mail("DK ZL7", f"still-alive-{time.monotonic_ns()}@example.com")
    )
    assert reply.startswith("250 2.0.0 OK"), reply
    after = _stored(gateway)
    assert after["balance"] == before["balance"] - ZL7_PRICE
    assert [c["amount"] for c in after["charges"]] == [
        *(c["amount"] for c in before["charges"]),
        ZL7_PRICE,
    ]
    assert "ZL7" in {s["package"] for s in after["subscriptions"]}


class _RawClient:
    """SMTP over a bare socket, for clients that stall or vanish in the middle of a mail."""

    def __init__(self, port: int) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.reader = self.sock.makefile("rb")

    def __enter__(self) -> _RawClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def reply(self) -> str:
        """The next (possibly multi-line) reply; its last line, ``"<code> <text>"``."""
        while True:
            line = self.reader.readline()
            if not line:
                raise EOFError("the server closed the connection")
            if line[3:4] != b"-":
                return line.decode().rstrip("\r\n")

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def command(self, line: str) -> str:
        self.send(line.encode() + b"\r\n")
        return self.reply()

    def wait_for_eof(self) -> float:
        """Seconds until the server closes the connection (the socket timeout if it does not)."""
        start = time.monotonic()
        assert self.reader.read() == b"", "the server sent something instead of closing"
        return time.monotonic() - start

    def close(self, *, reset: bool = False) -> None:
        """Close; ``reset`` aborts the connection with a TCP RST instead of a FIN."""
        if reset:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.reader.close()
        self.sock.close()


# -- size ----------------------------------------------------------------------------------


def test_oversized_mail_is_refused_with_552(gateway_factory: Callable[..., GatewayProcess]) -> None:
    """With SCGW_SMTP_MAX_SIZE=2048 the server advertises SIZE 2048; a 10 kB mail gets
    aiosmtpd's ``552 Error: Too much mail data`` after DATA, ``MAIL FROM:<..> SIZE=999999``
    a 552 at MAIL, and a 1,500-character line ``500 Line too long``. Nothing is kept and
    the next session works."""
    gateway = gateway_factory(SCGW_SMTP_MAX_SIZE="2048").start()
    _provision(gateway)
    before = _stored(gateway)

    big_body = "\r\n".join(f"DK ZL7 line {n:04d} " + "x" * 80 for n in range(110))
    big = _mail(
        f"From: {ADDRESS}", "Subject: DK ZL7", "Message-ID: <big@example.com>", body=big_body
    )
    assert len(big) > 10_000
    with _smtp(gateway) as smtp:
        smtp.ehlo()
        assert smtp.esmtp_features["size"] == "2048"
        assert smtp.mail(ADDRESS)[0] == 250
        assert smtp.rcpt(COMMANDS)[0] == 250
        assert _reply(smtp.data(big)) == "552 Error: Too much mail data"
        assert _reply(smtp.docmd("RSET")) == "250 OK"
        declared = _reply(smtp.mail(ADDRESS, ["SIZE=999999"]))
        assert declared == "552 Error: message size exceeds fixed maximum message size"
        assert smtp.mail(ADDRESS, ["SIZE=1500"])[0] == 250, (
            "a declared size under the limit is fine"
        )
        assert smtp.rcpt(COMMANDS)[0] == 250
        long_line = _mail(f"From: {ADDRESS}", "Subject: DK ZL7", body="x" * 1_500)
        assert _reply(smtp.data(long_line)) == "500 Line too long (see RFC5321 4.5.3.1.6)"

    assert _stored(gateway) == before
    refused = _refusals(gateway)
    assert "552 Error: Too much mail data" in refused
    assert "552 Error: message size exceeds fixed maximum message size" in refused
    assert "500 Line too long (see RFC5321 4.5.3.1.6)" in refused
    _assert_commands_still_work(gateway, before)


# -- content -------------------------------------------------------------------------------

_MALFORMED = {
    "a multipart whose boundary never appears": (
        _mail(
            f"From: {ADDRESS}",
            "Subject: DK ZL7",
            "Message-ID: <no-boundary@example.com>",
            "MIME-Version: 1.0",
            'Content-Type: multipart/mixed; boundary="never-seen"',
            body="DK ZL7\r\n",
        ),
        "550 5.6.0 malformed MIME: multipart start boundary not found",
    ),
    "a multipart without its closing boundary": (
        _mail(
            f"From: {ADDRESS}",
            "Subject: DK ZL7",
            "Message-ID: <no-close@example.com>",
            "MIME-Version: 1.0",
            'Content-Type: multipart/mixed; boundary="b1"',
            body="--b1\r\nContent-Type: text/plain\r\n\r\nDK ZL7\r\n",
        ),
        "550 5.6.0 malformed MIME: multipart closing boundary missing",
    ),
    "8-bit bytes that are not UTF-8, without a charset": (
        _mail(
            f"From: {ADDRESS}",
            "Subject: DK ZL7",
            "Message-ID: <bad-bytes@example.com>",
            "Content-Transfer-Encoding: 8bit",
            body=b"\xff\xfeD\x00K\x00 \x00Z\x00L\x007\x00\r\n",
        ),
        "550 5.6.0 body is not valid us-ascii (nor UTF-8)",
    ),
    "bytes that are not valid in the declared charset": (
        _mail(
            f"From: {ADDRESS}",
            "Subject: DK ZL7",
            "Message-ID: <bad-utf8@example.com>",
            "Content-Type: text/plain; charset=utf-8",
            "Content-Transfer-Encoding: 8bit",
            body=b"caf\xe9\r\n",
        ),
        "550 5.6.0 body is not valid utf-8",
    ),
    "no From header": (
        _mail(f"To: {COMMANDS}", "Subject: DK ZL7", "Message-ID: <no-from@example.com>"),
        "550 5.6.0 missing From header",
    ),
}


def test_malformed_mail_is_refused_with_550_5_6_0(
    gateway_factory: Callable[..., GatewayProcess],
) -> None:
    """A mail the gateway cannot trust or read (a multipart whose boundary never appears or
    never closes, 8-bit bytes that are not UTF-8 without a charset, bytes invalid in the
    declared charset, no From header), to 888@ or to support@, and a command mail with
    neither subject nor body, are refused at the end of DATA with ``550 5.6.0 <reason>``:
    nothing is charged, no ticket is opened, no mail is recorded."""
    gateway = gateway_factory().start()
    _provision(gateway)
    before = _stored(gateway)

    for case, (raw, expected) in _MALFORMED.items():
        assert _send(gateway, raw) == expected, case
        assert _send(gateway, raw, to=(SUPPORT,)) == expected, f"{case} (to support)"
        assert _stored(gateway) == before, case
    no_command = "550 5.6.0 no command: the subject and the body are empty"
    empty = _mail(f"From: {ADDRESS}", "Subject: ", "Message-ID: <empty@example.com>", body="\r\n")
    assert _send(gateway, empty) == no_command
    assert _stored(gateway) == before

    refused = _refusals(gateway)
    for _, expected in _MALFORMED.values():
        assert refused.count(expected) == 2, expected
    assert refused.count(no_command) == 1
    _assert_commands_still_work(gateway, before)


def test_declared_charsets_and_html_only_mail_are_read(
    gateway_factory: Callable[..., GatewayProcess],
) -> None:
    """8-bit bodies that declare their charset (windows-1258 with combining tone marks,
    iso-8859-1) are accepted and decoded into the ticket's content (NFC); an HTML-only
    command mail with an empty subject is read from its text: ``<p>DK ZL7</p>`` registers
    ZL7 (50,000 - 5,000 = 45,000 đ)."""
    gateway = gateway_factory().start()
    _provision(gateway)

    # "Tôi cần hỗ trợ" as Windows-1258 writes it: "â ô ơ" are single bytes, the tone
    # marks combining characters after them (U+0300, U+0303, U+0323)
    vietnamese = "Tôi câ\u0300n hô\u0303 trơ\u0323".encode("cp1258")
    assert vietnamese == b"T\xf4i c\xe2\xccn h\xf4\xde tr\xf5\xf2"
    reply = _send(
        gateway,
        _mail(
            f"From: {ADDRESS}",
            "Subject: Ho tro",
            "Message-ID: <cp1258@example.com>",
            "MIME-Version: 1.0",
            "Content-Type: text/plain; charset=windows-1258",
            "Content-Transfer-Encoding: 8bit",
            body=vietnamese + b"\r\n",
        ),
        to=(SUPPORT,),
    )
    assert reply.startswith("250 2.0.0 OK: ticket #"), reply
    reply = _send(
        gateway,
        _mail(
            f"From: {ADDRESS}",
            "Subject: Facture",
            "Message-ID: <latin1@example.com>",
            "MIME-Version: 1.0",
            "Content-Type: text/plain; charset=iso-8859-1",
            "Content-Transfer-Encoding: 8bit",
            body="Café crème à 5 EUR?".encode("iso-8859-1") + b"\r\n",
        ),
        to=(SUPPORT,),
    )
    assert reply.startswith("250 2.0.0 OK: ticket #"), reply
    tickets = {t["title"]: t for t in _stored(gateway)["tickets"]}
    assert tickets["Ho tro"]["content"] == "Tôi cần hỗ trợ"
    assert tickets["Facture"]["content"] == "Café crème à 5 EUR?"
    before = _stored(gateway)
    assert before["balance"] == 50_000
    assert before["charges"] == []

    reply = _send(
        gateway,
        _mail(
            f"From: {ADDRESS}",
            "Subject: ",
            "Message-ID: <html-only@example.com>",
            "MIME-Version: 1.0",
            "Content-Type: text/html; charset=utf-8",
            body="<html><body><p>DK ZL7</p></body></html>\r\n",
        ),
    )
    assert reply == "250 2.0.0 OK: 1 reply(ies) from 888", reply
    after = _stored(gateway)
    assert after["balance"] == 45_000
    assert [(s["package"], s["status"]) for s in after["subscriptions"]] == [("ZL7", "active")]
    assert [(c["package"], c["reason"], c["amount"]) for c in after["charges"]] == [
        ("ZL7", "registration", 5_000)
    ]
    assert after["tickets"] == before["tickets"]
    assert any(e.get("event") == "mail_html_only" for e in gateway.log_events())


# -- envelope ------------------------------------------------------------------------------


def test_recipients_are_checked_at_rcpt(gateway_factory: Callable[..., GatewayProcess]) -> None:
    """At RCPT: the 11th recipient (default limit 10) gets ``452 4.5.3``; a command from an
    address that is no subscriber's, a command or a support mail from the null sender
    (``MAIL FROM:<>``), ``550 5.7.1``; an unknown
    mailbox ``550 5.1.1``; another domain ``550 5.7.1`` (relaying denied); a malformed
    address 553 (aiosmtpd's parser) or ``501 5.1.3`` (ours). A mailbox named more than
    once gets the mail once. Nothing refused is kept."""
    gateway = gateway_factory().start()
    _provision(gateway)
    before = _stored(gateway)

    with _smtp(gateway) as smtp:
        smtp.ehlo()
        assert smtp.mail(ADDRESS)[0] == 250
        for _ in range(10):
            assert _reply(smtp.rcpt(SUPPORT)) == "250 2.1.5 OK"
        too_many = _reply(smtp.rcpt(COMMANDS))
        assert too_many == "452 4.5.3 Too many recipients: at most 10 per mail"
        # without Message-ID: nothing but the envelope can tell the ten copies apart
        reply = _reply(smtp.data(_mail(f"From: {ADDRESS}", "Subject: help", body="please\r\n")))
    assert reply == "250 2.0.0 OK: ticket #1", "ten RCPTs of one mailbox are one delivery"
    after = _stored(gateway)
    assert [t["title"] for t in after["tickets"]] == ["help"]
    assert after["charges"] == [], "the refused 11th recipient (888@) got nothing"
    assert too_many in _refusals(gateway)
    before = after

    stranger = "stranger@example.net"
    refusals = {
        (stranger, COMMANDS): (
            f"550 5.7.1 Sender <{stranger}> is not the email of any subscriber"
            ' (set it with PUT /api/subscribers/{msisdn} {"email": ...})'
        ),
        ("", COMMANDS): "550 5.7.1 Commands need a sender: MAIL FROM:<> cannot send commands",
        ("", SUPPORT): "550 5.7.1 The support desk does not take mail from the null sender",
        (ADDRESS, "999@sms.local"): (
            "550 5.1.1 No such mailbox <999@sms.local>: write to <shortcode>@sms.local (8100, 8200, 8300, 888)"
            " or support@sms.local"
        ),
        (ADDRESS, "nobody@sms.local"): (
            "550 5.1.1 No such mailbox <nobody@sms.local>: write to <shortcode>@sms.local (8100, 8200, 8300, 888)"
            " or support@sms.local"
        ),
        (ADDRESS, "888@example.org"): (
            "550 5.7.1 Relaying denied: this server takes mail for @sms.local only"
        ),
        (ADDRESS, "888@@sms.local"): "553 5.1.3 Error: malformed address",
        (ADDRESS, "888@sms..local"): "553 5.1.3 Error: malformed address",
        (ADDRESS, "888"): "501 5.1.3 Bad recipient address: expected exactly one '@'",
        (ADDRESS, ""): "501 5.1.3 Bad recipient address: empty address",
        (ADDRESS, "888@-sms.local"): (
            "501 5.1.3 Bad recipient address: domain '-sms.local'"
            " is not dot-separated letters, digits and hyphens"
        ),
        (ADDRESS, '"a b"@sms.local'): ("501 5.1.3 Bad recipient address: local part contains '\"'"),
        (ADDRESS, "x" * 65 + "@sms.local"): (
            "501 5.1.3 Bad recipient address: local part longer than 64 characters"
        ),
    }
    with _smtp(gateway) as smtp:
        smtp.ehlo()
        for (sender, recipient), expected in refusals.items():
            assert smtp.docmd("MAIL", f"FROM:<{sender}>")[0] == 250
            assert _reply(smtp.docmd("RCPT", f"TO:<{recipient}>")) == expected, recipient
            assert _reply(smtp.docmd("DATA")) == "503 Error: need RCPT command"
            assert smtp.docmd("RSET")[0] == 250
        # anyone may write to support: the sender check is for commands only
        assert smtp.docmd("MAIL", f"FROM:<{stranger}>")[0] == 250
        assert _reply(smtp.docmd("RCPT", f"TO:<{SUPPORT}>")) == "250 2.1.5 OK"

    assert _stored(gateway) == before
    logged = _refusals(gateway)
    for expected in refusals.values():
        assert expected in logged, expected
    _assert_commands_still_work(gateway, before)


# -- clients that stall or vanish ----------------------------------------------------------


def test_a_silent_client_is_disconnected(gateway_factory: Callable[..., GatewayProcess]) -> None:
    """With SCGW_SMTP_TIMEOUT=1 the server hangs up on a client that says nothing after
    EHLO, and on one that stops in the middle of DATA, about a second later; the half
    mail is not kept and the next session works."""
    gateway = gateway_factory(SCGW_SMTP_TIMEOUT="1").start()
    _provision(gateway)
    before = _stored(gateway)

    with _RawClient(gateway.smtp_port) as client:
        assert client.reply().startswith("220 ")
        assert client.command("EHLO silent.example.com").startswith("250 ")
        waited = client.wait_for_eof()
    assert 0.5 < waited < 5, waited

    with _RawClient(gateway.smtp_port) as client:
        assert client.reply().startswith("220 ")
        assert client.command("EHLO slow.example.com").startswith("250 ")
        assert client.command(f"MAIL FROM:<{ADDRESS}>") == "250 OK"
        assert client.command(f"RCPT TO:<{COMMANDS}>") == "250 2.1.5 OK"
        assert client.command(f"RCPT TO:<{SUPPORT}>") == "250 2.1.5 OK"
        assert client.command("DATA").startswith("354 ")
        client.send(b"From: " + ADDRESS.encode() + b"\r\nSubject: DK ZL7\r\n\r\nDK")
        waited = client.wait_for_eof()
    assert 0.5 < waited < 5, waited

    # smtplib notices on its next command
    with _smtp(gateway) as smtp:
        smtp.ehlo()
        assert smtp.sock is not None
        readable, _, _ = select.select([smtp.sock], [], [], 5)
        assert readable, "the server did not hang up within 5 s"
        with pytest.raises(smtplib.SMTPServerDisconnected):
            smtp.noop()

    assert _stored(gateway) == before
    _assert_commands_still_work(gateway, before)


def test_a_vanishing_client_leaves_nothing(gateway_factory: Callable[..., GatewayProcess]) -> None:
    """Clients that close the connection (with a FIN, or abort it with a RST) halfway
    through the body of a mail to 888@ and support@ leave no pack and no ticket; the
    server takes the next session as usual."""
    gateway = gateway_factory().start()
    _provision(gateway)
    before = _stored(gateway)

    for attempt, reset in enumerate([False, True, False, True]):
        client = _RawClient(gateway.smtp_port)
        try:
            assert client.reply().startswith("220 ")
            assert client.command("EHLO vanishing.example.com").startswith("250 ")
            assert client.command(f"MAIL FROM:<{ADDRESS}>") == "250 OK"
            assert client.command(f"RCPT TO:<{COMMANDS}>") == "250 2.1.5 OK"
            assert client.command(f"RCPT TO:<{SUPPORT}>") == "250 2.1.5 OK"
            assert client.command("DATA").startswith("354 ")
            client.send(
                f"From: {ADDRESS}\r\nSubject: DK ZL7\r\nMessage-ID: <gone-{attempt}@example.com>"
                "\r\n\r\nDK ZL7\r\nplease regi".encode()
            )
        finally:
            client.close(reset=reset)

    # checked after the next session, which ends long after the server saw them go
    _assert_commands_still_work(gateway, before)
    after = _stored(gateway)
    assert after["tickets"] == []
    assert [c["package"] for c in after["charges"]] == ["ZL7"]


# -- authentication ------------------------------------------------------------------------


def test_auth_is_required_when_configured(
    gateway_factory: Callable[..., GatewayProcess],
) -> None:
    """With SCGW_SMTP_AUTH=required: MAIL before AUTH is ``530 5.7.0``; a wrong password or
    an unknown user ``535 5.7.8`` (PLAIN and LOGIN) and nothing is kept; the right password,
    with PLAIN or with LOGIN, lets a command mail through (the pack is registered)."""
    gateway = gateway_factory(
        SCGW_SMTP_AUTH="required", SCGW_SMTP_USERS='{"harness": "s3cret"}'
    ).start()
    _provision(gateway)
    _provision(gateway, "0987654321", "binh@example.com")
    before = (_stored(gateway), _stored(gateway, "84987654321"))

    def plain(user: str, password: str) -> str:
        return base64.b64encode(f"\0{user}\0{password}".encode()).decode()

    def b64(text: str) -> str:
        return base64.b64encode(text.encode()).decode()

    invalid = "535 5.7.8 Authentication credentials invalid"
    with _smtp(gateway) as smtp:
        smtp.ehlo()
        assert set(smtp.esmtp_features["auth"].split()) == {"LOGIN", "PLAIN"}
        assert _reply(smtp.mail(ADDRESS)) == "530 5.7.0 Authentication required"
        assert _reply(smtp.docmd("AUTH", f"PLAIN {plain('harness', 'wrong')}")) == invalid
        assert _reply(smtp.docmd("AUTH", f"PLAIN {plain('intruder', 's3cret')}")) == invalid
        assert smtp.docmd("AUTH", "LOGIN")[0] == 334
        assert smtp.docmd(b64("harness"))[0] == 334
        assert _reply(smtp.docmd(b64("S3CRET"))) == invalid
        assert _reply(smtp.mail(ADDRESS)) == "530 5.7.0 Authentication required"
    with _smtp(gateway) as smtp, pytest.raises(smtplib.SMTPAuthenticationError) as refused:
        smtp.login("harness", "s3cre")
    assert refused.value.smtp_code == 535
    assert (_stored(gateway), _stored(gateway, "84987654321")) == before
    logged = _refusals(gateway)
    assert "530 5.7.0 Authentication required" in logged
    assert invalid in logged
    assert sum(e.get("event") == "smtp_auth_failed" for e in gateway.log_events()) >= 4

    with _smtp(gateway) as smtp:
        smtp.ehlo()
        assert _reply(smtp.docmd("AUTH", f"PLAIN {plain('harness', 's3cret')}")) == (
            "235 2.7.0 Authentication successful"
        )
        assert smtp.mail(ADDRESS)[0] == 250
        assert smtp.rcpt(COMMANDS)[0] == 250
        assert _reply(smtp.data(_command_mail("DK ZL7", "plain@example.com"))).startswith(
            "250 2.0.0 OK"
        )
    with _smtp(gateway) as smtp:
        smtp.ehlo()
        smtp.user, smtp.password = "harness", "s3cret"
        assert smtp.auth("LOGIN", smtp.auth_login, initial_response_ok=False)[0] == 235
        assert smtp.mail("binh@example.com")[0] == 250
        assert smtp.rcpt(COMMANDS)[0] == 250
        mail = _command_mail("DK ZL7", "login@example.com", "binh@example.com")
        assert _reply(smtp.data(mail)).startswith("250 2.0.0 OK")
    for msisdn in (MSISDN, "84987654321"):
        registered = _stored(gateway, msisdn)
        assert registered["balance"] == 45_000, msisdn
        assert [s["package"] for s in registered["subscriptions"]] == ["ZL7"], msisdn


@pytest.mark.parametrize("users", [None, "{}"], ids=["unset", "empty"])
def test_auth_required_without_users_stops_start_up(tmp_path: Path, users: str | None) -> None:
    """SCGW_SMTP_AUTH=required with no SCGW_SMTP_USERS (unset or ``{}``) is a settings error:
    the program exits non-zero before serving, with a message that names SCGW_SMTP_USERS."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SCGW_")}
    env |= {
        "SCGW_DATABASE_URL": f"sqlite:///{tmp_path / 'scgw.db'}",
        "SCGW_HTTP_PORT": str(free_port()),
        "SCGW_SMTP_PORT": str(free_port()),
        "SCGW_SMPP_PORT": str(free_port()),
        "SCGW_SMTP_AUTH": "required",
    }
    if users is not None:
        env["SCGW_SMTP_USERS"] = users
    done = subprocess.run(
        [sys.executable, "-m", "gateway", "serve"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=20,
        check=False,
    )
    assert done.returncode != 0
    assert "SCGW_SMTP_USERS" in done.stdout + done.stderr
    assert not (tmp_path / "scgw.db").exists(), "nothing is created before the settings are valid"


# -- resends -------------------------------------------------------------------------------


def test_a_resent_command_mail_is_charged_once(
    gateway_factory: Callable[..., GatewayProcess],
) -> None:
    """The same command mail (same Message-ID) sent twice, on two connections, gets 250
    both times but is charged and answered once, like an SMS resent with the same id."""
    gateway = gateway_factory().start()
    _provision(gateway)
    raw = _command_mail("DK ZL7", "resent-1@example.com")

    first = _send(gateway, raw)
    once = _stored(gateway)
    second = _send(gateway, raw)
    assert first.startswith("250 2.0.0 OK"), first
    assert second.startswith("250 2.0.0 OK"), second
    twice = _stored(gateway)
    assert twice == once
    assert [(c["package"], c["reason"]) for c in twice["charges"]] == [("ZL7", "registration")]
    assert twice["balance"] == 45_000
    assert sum(e.get("event") == "mo_duplicate" for e in gateway.log_events()) == 1


# -- a mail to several recipients ----------------------------------------------------------


def test_a_refused_mail_keeps_nothing_for_any_recipient(
    gateway_factory: Callable[..., GatewayProcess],
) -> None:
    """A mail to support@ and 888@ whose command cannot be read (no subject, no body) is
    refused with 550 5.6.0 as a whole: no ticket is opened for the support recipient
    either (else the sender, told the mail was refused, resends and opens another)."""
    gateway = gateway_factory().start()
    _provision(gateway)
    before = _stored(gateway)
    empty = _mail(f"From: {ADDRESS}", "Subject: ", body="\r\n")

    reply = _send(gateway, empty, to=(SUPPORT, COMMANDS))
    assert reply == "550 5.6.0 no command: the subject and the body are empty"
    assert _stored(gateway) == before
