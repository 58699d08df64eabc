"""A real SMTP server for tests: aiosmtpd on the test's own event loop, with knobs to make it fail.

Not aiosmtpd's threaded ``Controller``: the server is a ``loop.create_server`` on the
running loop, so a test can stop it, start it again on the same port, and await
what it captured without threads.
"""

from __future__ import annotations

import asyncio
import email.policy
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from email.message import EmailMessage
from email.parser import BytesParser
from types import TracebackType
from typing import Self

from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

__all__ = ["Captured", "CapturingSmtpServer"]

HOSTNAME = "test-relay"
_AUTH_REQUIRED = "530 5.7.0 Authentication required"
_MECHANISMS = frozenset({"PLAIN", "LOGIN"})


@dataclass(frozen=True, slots=True)
class Captured:
    """One message the server accepted: the envelope, the bytes as received, and their parse."""

    sender: str
    recipients: tuple[str, ...]
    #: MAIL FROM parameters, upper case (``BODY=8BITMIME``, ``SMTPUTF8``, ``SIZE=...``)
    options: tuple[str, ...]
    #: the DATA content exactly as received, dot-unstuffed, CRLF line endings
    raw: bytes
    message: EmailMessage
    #: the user the session authenticated as, None when it did not authenticate
    login: str | None


class CapturingSmtpServer:
    """An SMTP server on 127.0.0.1 that keeps every accepted message in :attr:`messages`.

    Knobs (all can be changed while the server runs; they apply to the next command):

    * :attr:`refusals` maps a recipient address (lower case) to the reply that refuses
      it, e.g. ``"550 5.1.1 no such user"`` or ``"451 4.3.0 try later"``;
    * ``credentials=(user, password)`` offers AUTH PLAIN/LOGIN on the plain connection
      and refuses MAIL until the client authenticated with exactly those; without
      credentials AUTH is not offered at all (as a relay that only allows AUTH over TLS);
    * :attr:`disconnect_after` drops the connection, without a reply, at the first MAIL
      once that many messages were accepted in total;
    * :attr:`data_reply`, when set, answers every DATA content with it instead of
      accepting the message (e.g. ``"554 5.6.0 message rejected"``);
    * :attr:`stall_data` accepts the DATA content but never answers it, and sets
      :attr:`stalled` so a test knows a client is waiting.

    :meth:`stop` closes the listener and every open connection; :meth:`start` listens
    again on the same port, so a test can take the relay down and bring it back.
    """

    def __init__(
        self,
        *,
        credentials: tuple[str, str] | None = None,
        mechanisms: Iterable[str] = _MECHANISMS,
        refusals: Mapping[str, str] | None = None,
        smtputf8: bool = True,
    ) -> None:
        self.messages: list[Captured] = []
        self.refusals: dict[str, str] = {
            address.lower(): reply for address, reply in (refusals or {}).items()
        }
        self.credentials = credentials
        self.disconnect_after: int | None = None
        self.data_reply: str | None = None
        self.stall_data = False
        self.stalled = asyncio.Event()
        self._mechanisms = frozenset(mechanism.upper() for mechanism in mechanisms)
        unknown = self._mechanisms - _MECHANISMS
        if unknown:
            raise ValueError(f"unsupported AUTH mechanisms {sorted(unknown)}: use PLAIN or LOGIN")
        self._smtputf8 = smtputf8
        self._handler = _Handler(self)
        self._arrived = asyncio.Condition()
        self._server: asyncio.Server | None = None
        self._sessions: set[SMTP] = set()
        self._port: int | None = None

    @property
    def port(self) -> int:
        if self._port is None:
            raise RuntimeError("the server has not been started")
        return self._port

    @property
    def running(self) -> bool:
        return self._server is not None

    def refuse(self, *addresses: str, reply: str = "550 5.1.1 no such user") -> None:
        """Refuse RCPT for these addresses with ``reply`` from now on."""
        for address in addresses:
            self.refusals[address.lower()] = reply

    async def start(self) -> None:
        """Listen on 127.0.0.1: a free port the first time, the same port afterwards."""
        if self._server is not None:
            raise RuntimeError(f"the server is already listening on port {self._port}")
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(self._new_session, "127.0.0.1", self._port or 0)
        self._port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        """Stop listening and drop every open connection; the port stays reserved for :meth:`start`."""
        server, self._server = self._server, None
        if server is None:
            return
        server.close()
        sessions, self._sessions = self._sessions, set()
        for session in sessions:
            if session.transport is not None:
                session.transport.close()
        # On Python 3.11 wait_closed() does not wait for open connections, so the
        # sessions' tasks are awaited too: none may outlive the test's loop.
        await server.wait_closed()
        tasks = [s._handler_coroutine for s in sessions if s._handler_coroutine is not None]
        await asyncio.gather(*tasks, return_exceptions=True)

    async def wait_for(self, count: int, timeout: float = 5.0) -> list[Captured]:  # noqa: ASYNC109 - a default bound for tests
        """The first ``count`` messages, once they have arrived."""
        try:
            async with asyncio.timeout(timeout), self._arrived:
                await self._arrived.wait_for(lambda: len(self.messages) >= count)
        except TimeoutError as exc:
            raise TimeoutError(
                f"expected {count} messages within {timeout}s, got {len(self.messages)}"
            ) from exc
        return self.messages[:count]

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.stop()

    async def _capture(self, captured: Captured) -> None:
        async with self._arrived:
            self.messages.append(captured)
            self._arrived.notify_all()

    def _new_session(self) -> SMTP:
        session = SMTP(
            self._handler,
            hostname=HOSTNAME,
            enable_SMTPUTF8=self._smtputf8,
            # AUTH over a plain connection when credentials are set; aiosmtpd's own
            # auth_required would warn about that, so the handler refuses MAIL instead
            auth_require_tls=self.credentials is None,
            auth_exclude_mechanism=_MECHANISMS - self._mechanisms,
            authenticator=self._handler.authenticate,
            loop=asyncio.get_running_loop(),
        )
        self._sessions.add(session)
        return session


class _Handler:
    """aiosmtpd hooks: each returns the SMTP reply to give."""

    def __init__(self, owner: CapturingSmtpServer) -> None:
        self._owner = owner

    def authenticate(
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        mechanism: str,
        auth_data: object,
    ) -> AuthResult:
        expected = self._owner.credentials
        if expected is None or not isinstance(auth_data, LoginPassword):
            return AuthResult(success=False, handled=False)
        login = auth_data.login.decode("utf-8", "replace")
        password = auth_data.password.decode("utf-8", "replace")
        if (login, password) != expected:
            return AuthResult(success=False, handled=False)
        return AuthResult(success=True, auth_data=login)

    async def handle_MAIL(  # noqa: N802 - aiosmtpd dispatches on this name
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        address: str,
        mail_options: list[str],
    ) -> str:
        owner = self._owner
        limit = owner.disconnect_after
        transport = server.transport
        if limit is not None and len(owner.messages) >= limit:
            # abort, not close: close() would still flush this reply to the client
            if isinstance(transport, asyncio.WriteTransport):
                transport.abort()
            return "421 4.4.2 connection dropped"
        if owner.credentials is not None and not session.authenticated:
            return _AUTH_REQUIRED
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_RCPT(  # noqa: N802 - aiosmtpd dispatches on this name
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        address: str,
        rcpt_options: list[str],
    ) -> str:
        refusal = self._owner.refusals.get(address.lower())
        if refusal is not None:
            return refusal
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(rcpt_options)
        return "250 OK"

    async def handle_DATA(  # noqa: N802 - aiosmtpd dispatches on this name
        self, server: SMTP, session: Session, envelope: Envelope
    ) -> str:
        if self._owner.stall_data:
            # never answer; the session's task is cancelled when the connection goes
            self._owner.stalled.set()
            await asyncio.Event().wait()
        if self._owner.data_reply is not None:
            return self._owner.data_reply
        raw = envelope.original_content or b""
        message = BytesParser(EmailMessage, policy=email.policy.default).parsebytes(raw)
        login = session.auth_data if isinstance(session.auth_data, str) else None
        await self._owner._capture(
            Captured(
                sender=envelope.mail_from or "",
                recipients=tuple(envelope.rcpt_tos),
                options=tuple(envelope.mail_options),
                raw=raw,
                message=message,
                login=login,
            )
        )
        return "250 2.0.0 Message accepted for delivery"
