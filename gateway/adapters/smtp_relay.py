"""Outbound mail through an SMTP relay (aiosmtplib), or into the gateway's own sink.

A sender gets a batch of recorded mails with their RFC 5322 bytes already built and
returns one :class:`DeliveryOutcome` per mail; it never raises for a delivery problem.
``ok`` means the relay (or the sink) took the mail; a failure is ``permanent`` only
when the relay said so with a 5xx reply about that mail. Anything about the relay
itself (down, slow, TLS, refused credentials) is transient for every mail not yet
accepted, so the caller keeps them queued and no mail is lost to a configuration error.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from types import TracebackType
from typing import Literal, Self
from urllib.parse import parse_qsl, unquote, urlsplit

import aiosmtplib
import structlog

from gateway.domain.mail import DeliveryOutcome, OutgoingMail

__all__ = [
    "RelayConfig",
    "SinkSender",
    "SmtpRelay",
    "TlsMode",
    "parse_relay_url",
]

log = structlog.get_logger("gateway.smtp_relay")

#: ``plain``: no TLS; ``starttls``: upgrade after connecting, refuse to go on without it;
#: ``implicit``: TLS from the first byte (``smtps://``)
TlsMode = Literal["plain", "starttls", "implicit"]

_DEFAULT_PORTS: dict[str, int] = {"smtp": 25, "smtps": 465}
_AUTH_REQUIRED = 530
_BOOLEANS = {"true": True, "false": False}
_SHAPE = "expected smtp://[user:password@]host[:port][?starttls=true] or smtps://[user:password@]host[:port]"


@dataclass(frozen=True, slots=True, kw_only=True)
class RelayConfig:
    """Where and how to reach the relay; the password never shows in ``repr``."""

    host: str
    port: int
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    tls: TlsMode = "plain"

    def describe(self) -> str:
        """The relay as a URL without the password, for logs."""
        scheme = "smtps" if self.tls == "implicit" else "smtp"
        user = f"{self.username}@" if self.username is not None else ""
        host = f"[{self.host}]" if ":" in self.host else self.host
        query = "?starttls=true" if self.tls == "starttls" else ""
        return f"{scheme}://{user}{host}:{self.port}{query}"


def parse_relay_url(url: str) -> RelayConfig:
    """A :class:`RelayConfig` from ``smtp://[user:password@]host[:port][?starttls=true]``
    (port 25 by default) or ``smtps://[user:password@]host[:port]`` (port 465).

    User and password are percent-decoded. Anything else raises :class:`ValueError`
    naming the URL (password masked) and what is wrong with it.
    """
    shown = _mask_password(url)
    hint = ""

    def invalid(reason: str) -> ValueError:
        return ValueError(f"invalid relay URL {shown!r}: {reason}{hint}")

    if "://" not in url:
        raise invalid(f"no scheme; {_SHAPE}")
    try:
        parts = urlsplit(url.strip())
    except ValueError as exc:
        raise invalid(str(exc)) from exc
    if "@" in url.partition("://")[2] and "@" not in parts.netloc:
        # the @ ended up in the path, query or fragment: a password with a raw / ? or #
        hint = " (percent-encode / ? # @ : in the user name and password)"
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS:
        raise invalid(f"unsupported scheme {parts.scheme!r}; {_SHAPE}")
    if not parts.hostname:
        raise invalid("no host")
    try:
        port = parts.port
    except ValueError as exc:
        raise invalid("the port must be a number from 1 to 65535") from exc
    if port == 0:
        raise invalid("the port must be a number from 1 to 65535")
    if parts.path not in ("", "/"):
        raise invalid(f"unexpected path {parts.path!r}")
    if parts.fragment:
        raise invalid("unexpected fragment")

    username = _decoded(parts.username, "user name", invalid)
    password = _decoded(parts.password, "password", invalid)
    if username is not None and not username:
        raise invalid("empty user name")
    if username is not None and not password:
        raise invalid("a user name without a password")
    if username is None and password is not None:
        raise invalid("a password without a user name")

    tls: TlsMode = "implicit" if scheme == "smtps" else "plain"
    try:
        query = parse_qsl(parts.query, keep_blank_values=True, strict_parsing=bool(parts.query))
    except ValueError as exc:
        raise invalid(f"malformed query {parts.query!r}") from exc
    names = [name for name, _ in query]
    unknown = sorted(set(names) - {"starttls"})
    if unknown:
        raise invalid(f"unknown parameter(s) {', '.join(unknown)}; only starttls=true|false")
    if len(names) > 1:
        raise invalid("starttls given more than once")
    if query:
        wanted = _BOOLEANS.get(query[0][1].lower())
        if wanted is None:
            raise invalid(f"starttls must be true or false, not {query[0][1]!r}")
        if scheme == "smtps":
            raise invalid("starttls does not apply to smtps://, which is TLS from the start")
        if wanted:
            tls = "starttls"

    return RelayConfig(
        host=parts.hostname,
        port=port or _DEFAULT_PORTS[scheme],
        username=username,
        password=password,
        tls=tls,
    )


class SinkSender:
    """Takes every mail at once: no relay is configured, the gateway's own store is the mailbox."""

    async def deliver(self, batch: Sequence[tuple[OutgoingMail, bytes]]) -> list[DeliveryOutcome]:
        return [_accepted(mail.id) for mail, _ in batch]

    async def close(self) -> None:
        """Nothing to close."""

    def describe(self) -> str:
        return "sink (no relay: mail stays in the gateway)"


class SmtpRelay:
    """Delivers each batch over one SMTP connection to the relay, one transaction per mail.

    Classification, per mail:

    * accepted for at least one recipient: ok (refused recipients are named in ``error``);
    * a 5xx reply to its MAIL FROM, to every RCPT, or to its DATA: permanent;
    * a 4xx reply (or a mix of 4xx and 5xx over all its recipients): transient;
    * 530 (authentication required), though a 5xx: transient, as the fault is the relay URL;
    * an address that cannot go on the wire, a mail without recipients, a non-ASCII
      address for a relay without SMTPUTF8: permanent, without asking the relay.

    For the relay as a whole: connection refused, timeout, disconnect, TLS failure, a
    relay refusing the greeting or EHLO, and **refused credentials (535)** are transient
    for every mail not yet accepted; mail already accepted in the batch stays ok. Refused
    credentials are a configuration problem, not a property of the mail: failing the mail
    for good would lose it, so it stays queued and the failure is logged
    (``relay_auth_failed``) until someone fixes the relay URL. A dropped connection is
    not re-opened within the batch: the caller retries the rest.
    """

    def __init__(
        self,
        *,
        config: RelayConfig,
        timeout: float = 30.0,
        local_hostname: str | None = None,
    ) -> None:
        if not timeout > 0:
            raise ValueError(f"the relay timeout must be positive, not {timeout!r}")
        self._config = config
        self._timeout = timeout
        self._local_hostname = local_hostname
        self._client()  # aiosmtplib checks its settings (local_hostname) now rather than per batch

    @property
    def config(self) -> RelayConfig:
        return self._config

    def describe(self) -> str:
        """The relay as a URL without the password, for logs."""
        return self._config.describe()

    async def close(self) -> None:
        """Nothing to close: each batch opens and closes its own connection."""

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.close()

    async def deliver(self, batch: Sequence[tuple[OutgoingMail, bytes]]) -> list[DeliveryOutcome]:
        """One outcome per mail, in order; never raises for a delivery problem."""
        if not batch:
            return []
        client = self._client()
        outcomes: list[DeliveryOutcome] = []
        try:
            try:
                await self._open(client)
            except aiosmtplib.SMTPAuthenticationError as exc:
                reason = (
                    f"relay {self.describe()} refused the credentials: {_reply(exc)}"
                    " (mail kept for retry; check the relay URL)"
                )
                log.error("relay_auth_failed", relay=self.describe(), reason=_reply(exc))
                return [_retry(mail.id, reason) for mail, _ in batch]
            except (aiosmtplib.SMTPException, OSError) as exc:
                reason = f"relay {self.describe()} unavailable: {_describe(exc)}"
                log.warning("relay_unavailable", relay=self.describe(), reason=_describe(exc))
                return [_retry(mail.id, reason) for mail, _ in batch]

            for index, (mail, raw) in enumerate(batch):
                if not client.is_connected:
                    reason = f"relay {self.describe()} closed the connection before this mail"
                    outcomes.extend(_retry(m.id, reason) for m, _ in batch[index:])
                    break
                try:
                    outcomes.append(await self._send(client, mail, raw))
                except (aiosmtplib.SMTPException, OSError) as exc:
                    reason = f"connection to relay {self.describe()} lost: {_describe(exc)}"
                    log.warning(
                        "relay_connection_lost",
                        relay=self.describe(),
                        reason=_describe(exc),
                        pending=len(batch) - index,
                    )
                    outcomes.extend(_retry(m.id, reason) for m, _ in batch[index:])
                    break

            if client.is_connected:
                # every outcome is already known; a failed QUIT changes none
                with contextlib.suppress(aiosmtplib.SMTPException, OSError):
                    await client.quit()
        finally:
            client.close()
        return outcomes

    def _client(self) -> aiosmtplib.SMTP:
        config = self._config
        return aiosmtplib.SMTP(
            hostname=config.host,
            port=config.port,
            username=config.username,
            password=config.password,
            local_hostname=self._local_hostname,
            timeout=self._timeout,
            use_tls=config.tls == "implicit",
            # never an opportunistic upgrade: plain stays plain, starttls must upgrade
            start_tls=config.tls == "starttls",
        )

    async def _open(self, client: aiosmtplib.SMTP) -> None:
        """Connect (with TLS and AUTH as configured) and make sure EHLO/HELO was said."""
        await client.connect()
        if client.is_ehlo_or_helo_needed:
            try:
                await client.ehlo()
            except aiosmtplib.SMTPHeloError:
                await client.helo()

    async def _send(
        self, client: aiosmtplib.SMTP, mail: OutgoingMail, raw: bytes
    ) -> DeliveryOutcome:
        """One mail transaction; raises only for a problem with the connection itself."""
        if not mail.to:
            return _refused(mail.id, "the mail has no recipients")
        options: list[str] = []
        if not all(address.isascii() for address in (mail.sender, *mail.to)):
            if not client.supports_extension("smtputf8"):
                return _refused(
                    mail.id,
                    f"relay {self.describe()} does not offer SMTPUTF8, needed for a non-ASCII address",
                )
            options.append("SMTPUTF8")
        # without 8BITMIME on offer the bytes go as they are: relays take them in practice
        if not raw.isascii() and client.supports_extension("8bitmime"):
            options.append("BODY=8BITMIME")
        try:
            refused, _ = await client.sendmail(
                mail.sender, list(mail.to), raw, mail_options=options
            )
        except aiosmtplib.SMTPRecipientsRefused as exc:
            details = "; ".join(f"{r.recipient}: {_reply(r)}" for r in exc.recipients)
            permanent = all(_is_permanent(r.code) for r in exc.recipients)
            return _failed(
                mail.id, f"relay refused every recipient: {details}", permanent=permanent
            )
        except aiosmtplib.SMTPSenderRefused as exc:
            return _answered(mail.id, f"relay refused the sender {exc.sender}", exc)
        except aiosmtplib.SMTPResponseException as exc:
            return _answered(mail.id, "relay refused the mail", exc)
        except aiosmtplib.SMTPNotSupported as exc:
            return _refused(mail.id, f"relay cannot take the mail: {exc.message}")
        except ValueError as exc:  # an address aiosmtplib will not put on a command line
            return _refused(mail.id, f"cannot send to or from these addresses: {exc}")
        if refused:
            details = "; ".join(f"{address}: {reply}" for address, reply in refused.items())
            return _accepted(mail.id, note=f"relay refused some recipients: {details}")
        return _accepted(mail.id)


def _accepted(mail_id: str, *, note: str | None = None) -> DeliveryOutcome:
    return DeliveryOutcome(mail_id=mail_id, ok=True, permanent=False, error=note)


def _retry(mail_id: str, reason: str) -> DeliveryOutcome:
    return DeliveryOutcome(mail_id=mail_id, ok=False, permanent=False, error=reason)


def _refused(mail_id: str, reason: str) -> DeliveryOutcome:
    return DeliveryOutcome(mail_id=mail_id, ok=False, permanent=True, error=reason)


def _failed(mail_id: str, reason: str, *, permanent: bool) -> DeliveryOutcome:
    return DeliveryOutcome(mail_id=mail_id, ok=False, permanent=permanent, error=reason)


def _answered(mail_id: str, what: str, exc: aiosmtplib.SMTPResponseException) -> DeliveryOutcome:
    reason = f"{what}: {_reply(exc)}"
    if exc.code == _AUTH_REQUIRED:
        reason += " (the relay wants AUTH: put user:password in the relay URL)"
    return _failed(mail_id, reason, permanent=_is_permanent(exc.code))


def _is_permanent(code: int) -> bool:
    """Only a 5xx reply is final; 4xx and anything unparseable (-1) may pass later.

    530 (authentication required) is a 5xx about the relay URL, not about the mail.
    """
    return 500 <= code <= 599 and code != _AUTH_REQUIRED


def _reply(exc: aiosmtplib.SMTPResponseException) -> str:
    return f"{exc.code} {exc.message}"


def _describe(exc: BaseException) -> str:
    if isinstance(exc, aiosmtplib.SMTPResponseException):
        return _reply(exc)
    if isinstance(exc, aiosmtplib.SMTPException):
        return exc.message
    return str(exc) or type(exc).__name__


def _decoded(value: str | None, what: str, invalid: Callable[[str], ValueError]) -> str | None:
    if value is None:
        return None
    try:
        return unquote(value, errors="strict")
    except UnicodeDecodeError as exc:
        raise invalid(f"the {what} is not valid percent-encoded UTF-8") from exc


def _mask_password(url: str) -> str:
    """The URL with the password replaced by ``***``, for error messages.

    Everything from the user's ``:`` to the last ``@`` is masked, so a password with an
    unescaped ``/``, ``?``, ``#`` or ``@`` (the likely reason the URL is invalid) is
    hidden too; masking a little more than the password is harmless in an error.
    """
    scheme, sep, rest = url.partition("://")
    userinfo, at, after = rest.rpartition("@")
    if not sep or not at or ":" not in userinfo:
        return url
    user = userinfo.partition(":")[0]
    return f"{scheme}://{user}:***@{after}"
