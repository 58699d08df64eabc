"""SMTP intake (aiosmtpd): commands to ``<shortcode>@<domain>``, tickets to ``support@<domain>``.

A thin translation: recipients are checked at ``RCPT`` (unknown mailbox, foreign
domain, unknown sender, too many recipients), the mail is parsed at ``DATA`` and
handed to the service; ``250`` is answered only once what it caused is committed.
Every refusal is logged with its reply.
"""

from __future__ import annotations

import asyncio
import hmac
import socket
import warnings
from collections.abc import Mapping
from typing import Any, AnyStr

import structlog
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session, syntax

from gateway.domain.mail import InboundMail, MailRejected, normalize_address
from gateway.domain.mail_inbound import command_text, parse_inbound
from gateway.errors import AccountClosed, InvalidEmail, InvalidMessage, UnknownSubscriber
from gateway.service.support import SupportService

__all__ = ["SmtpIntake", "start_smtp_server"]

log = structlog.get_logger("gateway.smtp")


class SmtpIntake:
    """The aiosmtpd handler: only the hooks it needs."""

    def __init__(self, *, support: SupportService, max_recipients: int) -> None:
        self._support = support
        self._max_recipients = max_recipients

    async def handle_RCPT(  # noqa: N802 - aiosmtpd's hook name
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        address: str,
        rcpt_options: list[str],
    ) -> str:
        if len(envelope.rcpt_tos) >= self._max_recipients:
            return f"452 4.5.3 Too many recipients: at most {self._max_recipients} per mail"
        try:
            recipient = normalize_address(address)
        except InvalidEmail as exc:
            return f"501 5.1.3 Bad recipient address: {exc.reason}"
        local, _, domain = recipient.rpartition("@")
        mail_domain = self._support.mail_domain
        if domain != mail_domain:
            return f"550 5.7.1 Relaying denied: this server takes mail for @{mail_domain} only"
        if recipient == self._support.support_address:
            if envelope.mail_from in (None, "", "<>"):  # aiosmtpd keeps <> as "<>"
                # a bounce or an auto-reply: answering it could start a mail loop
                return "550 5.7.1 The support desk does not take mail from the null sender"
        else:
            if local not in self._support.shortcodes():
                codes = ", ".join(sorted(self._support.shortcodes()))
                return (
                    f"550 5.1.1 No such mailbox <{recipient}>: write to <shortcode>@{mail_domain}"
                    f" ({codes}) or {self._support.support_address}"
                )
            refusal = await self._check_sender(envelope.mail_from)
            if refusal is not None:
                return refusal
        envelope.rcpt_tos.append(recipient)
        return "250 2.1.5 OK"

    async def _check_sender(self, mail_from: str | None) -> str | None:
        """Commands are taken only from an address that belongs to a subscriber."""
        if not mail_from or mail_from == "<>":  # aiosmtpd keeps MAIL FROM:<> as "<>"
            return "550 5.7.1 Commands need a sender: MAIL FROM:<> cannot send commands"
        try:
            sender = normalize_address(mail_from)
        except InvalidEmail as exc:
            return f"550 5.1.7 Bad sender address: {exc.reason}"
        if await self._support.account_for(sender) is None:
            return (
                f"550 5.7.1 Sender <{sender}> is not the email of any subscriber"
                ' (set it with PUT /api/subscribers/{msisdn} {"email": ...})'
            )
        return None

    async def handle_DATA(  # noqa: N802 - aiosmtpd's hook name
        self, server: SMTP, session: Session, envelope: Envelope
    ) -> str:
        raw = envelope.original_content or b""
        try:
            mail = parse_inbound(raw)
        except MailRejected as exc:
            return exc.smtp_reply
        if mail.html_only:
            log.info("mail_html_only", note="no text/plain part: the HTML was read as text")
        recipients = list(dict.fromkeys(envelope.rcpt_tos))  # a mailbox named twice: once
        refusal = await self._refusal(mail, recipients, envelope.mail_from)
        if refusal is not None:  # checked for every recipient before any is processed
            return refusal
        queued: list[str] = []
        for recipient in recipients:
            try:
                if recipient == self._support.support_address:
                    result = await self._support.support_mail(mail)
                    queued.append(f"ticket #{result.ticket.id}")
                else:
                    shortcode = recipient.partition("@")[0]
                    sms = await self._support.email_command(
                        mail,
                        shortcode=shortcode,
                        envelope_sender=normalize_address(envelope.mail_from or ""),
                    )
                    queued.append(f"{len(sms.replies)} reply(ies) from {shortcode}")
            except InvalidMessage as exc:
                return f"550 5.6.0 {exc.reason}"
            except (UnknownSubscriber, AccountClosed, InvalidEmail) as exc:
                return f"550 5.7.1 {exc}"
            except Exception:
                # recipients before this one are kept: a resend (same Message-ID) is
                # recognised for them and processed only for the rest
                log.exception("mail_processing_failed", recipient=recipient)
                return "451 4.3.0 Temporary failure, please send again"
        return f"250 2.0.0 OK: {'; '.join(queued)}"

    async def _refusal(
        self, mail: InboundMail, recipients: list[str], mail_from: str | None
    ) -> str | None:
        """What would refuse the mail for one of its recipients, found before any of
        them is processed: a refused mail keeps nothing for any recipient."""
        if all(r == self._support.support_address for r in recipients):
            return None
        if command_text(mail) is None:
            return "550 5.6.0 no command: the subject and the body are empty"
        return await self._check_sender(mail_from)  # the account may have changed since RCPT


class _SmtpSession(SMTP):
    """aiosmtpd's protocol, logging every 4xx/5xx it answers (with the reply as reason).

    Without users, ``AUTH`` is neither advertised nor taken: ``502 5.5.1``, not the
    ``535`` (wrong credentials) aiosmtpd would answer with no authenticator.
    """

    def __init__(self, *args: Any, auth_enabled: bool, **kwargs: Any) -> None:
        self._auth_enabled = auth_enabled
        super().__init__(*args, **kwargs)

    @syntax("AUTH <mechanism>", when="_auth_enabled")
    async def smtp_AUTH(self, arg: str) -> None:  # noqa: N802 - aiosmtpd's command name
        if self._auth_enabled:
            await super().smtp_AUTH(arg)
        else:
            await self.push("502 5.5.1 AUTH not available: this server takes mail without it")

    async def push(self, status: AnyStr) -> None:
        text = status.decode("utf-8", "replace") if isinstance(status, bytes) else str(status)
        if text[:1] in ("4", "5"):
            peer = self.session.peer if self.session is not None else None
            log.warning("smtp_refused", reply=text, peer=str(peer))
        await super().push(status)


class _Authenticator:
    """AUTH PLAIN/LOGIN against the configured users (constant-time comparison)."""

    def __init__(self, users: Mapping[str, str]) -> None:
        self._users = dict(users)

    def __call__(
        self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, auth_data: Any
    ) -> AuthResult:
        if not isinstance(auth_data, LoginPassword):
            return AuthResult(success=False, handled=False)
        login = auth_data.login.decode("utf-8", "replace")
        expected = self._users.get(login)
        given = auth_data.password.decode("utf-8", "replace")
        if expected is not None and hmac.compare_digest(expected.encode(), given.encode()):
            return AuthResult(success=True)
        log.warning("smtp_auth_failed", login=login, mechanism=mechanism)
        return AuthResult(success=False, handled=False)


async def start_smtp_server(
    *,
    intake: SmtpIntake,
    sock: socket.socket,
    hostname: str,
    data_size_limit: int,
    idle_timeout: float,
    users: Mapping[str, str] | None,
) -> asyncio.Server:
    """Listen with ``loop.create_server`` (no thread): the protocol runs on our loop.

    ``sock`` is bound by the caller, so a port in use is reported before anything starts.

    ``users`` set means ``AUTH`` is required before ``MAIL``. There is no TLS: the
    credentials cross the connection in clear text (keep it on loopback).
    """
    loop = asyncio.get_running_loop()
    authenticator = None if users is None else _Authenticator(users)

    def session() -> SMTP:
        with warnings.catch_warnings():
            # aiosmtpd warns that AUTH without TLS is unsafe: known and documented
            warnings.filterwarnings("ignore", message="Requiring AUTH while not requiring TLS")
            return _SmtpSession(
                intake,
                hostname=hostname,
                ident="shortcode-gateway ESMTP",
                data_size_limit=data_size_limit,
                enable_SMTPUTF8=True,
                timeout=idle_timeout,
                auth_required=users is not None,
                auth_enabled=users is not None,
                # without users, "TLS required" keeps AUTH out of the EHLO reply
                auth_require_tls=users is None,
                authenticator=authenticator,
                loop=loop,
            )

    return await loop.create_server(session, sock=sock)
