"""One SMPP session: framing, the bind state machine, sequence numbers and the window of
requests the server sends (deliver_sm, enquire_link)."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from typing import Any, Literal, Protocol

import structlog

from gateway.adapters.smpp.cancel import CancelRequest, parse_cancel
from gateway.adapters.smpp.codec import (
    HEADER_SIZE,
    MAX_PDU,
    Header,
    MalformedPdu,
    Pdu,
    Status,
    build,
    parse,
    text_field,
)

__all__ = ["BIND_TYPES", "Session", "SessionDropped", "SessionHandler", "SessionState"]

log = structlog.get_logger("gateway.smpp")

SessionState = Literal["open", "bound_tx", "bound_rx", "bound_trx", "closed"]
BIND_TYPES = {
    "bind_transmitter": ("transmitter", "bound_tx"),
    "bind_receiver": ("receiver", "bound_rx"),
    "bind_transceiver": ("transceiver", "bound_trx"),
}
#: commands SMPP 3.4 defines that this server does not implement (generic_nack RINVCMDID)
_UNSUPPORTED = frozenset({"replace_sm", "submit_multi", "data_sm", "outbind", "alert_notification"})


class SessionHandler(Protocol):
    """What a session asks of the server."""

    async def bind(self, session: Session, bind_type: str, system_id: str, password: str) -> int:
        """The bind's command_status (0: bound)."""
        ...

    async def submit(self, session: Session, pdu: Pdu) -> tuple[int, str]:
        """A submit_sm's command_status and message id."""
        ...

    async def query(self, session: Session, pdu: Pdu) -> tuple[int, dict[str, Any]]:
        """A query_sm's command_status and the fields of its response."""
        ...

    async def cancel(self, session: Session, request: CancelRequest) -> int:
        """A cancel_sm's command_status."""
        ...

    def closed(self, session: Session) -> None: ...


class RequestFailed(Exception):
    """A request the server sent was refused, timed out, or its session closed."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status


class SessionDropped(Exception):
    """Raised by a handler: end the session at once, without a response or unbind (the
    fault ``drop_after`` / ``drop_rate``: a connection lost mid-request)."""


class Session:
    """Serves one TCP connection until unbind, a closed socket or ``close()``."""

    _ids = itertools.count(1)

    def __init__(
        self,
        *,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        handler: SessionHandler,
        system_id: str = "scgw",
        window: int = 10,
        response_timeout: float = 10.0,
        enquire_interval: float = 60.0,
    ) -> None:
        self.id = next(self._ids)
        self.state: SessionState = "open"
        self.account: str | None = None
        self.bind_type: str | None = None
        self._reader = reader
        self._writer = writer
        self._handler = handler
        self._system_id = system_id
        self._window = asyncio.Semaphore(window)
        self._timeout = response_timeout
        self._enquire_interval = enquire_interval
        self._sequence = itertools.count(1)
        self._waiting: dict[int, asyncio.Future[Header]] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._write_lock = asyncio.Lock()
        self._closed = asyncio.Event()

    @property
    def can_receive(self) -> bool:
        return self.state in ("bound_rx", "bound_trx")

    @property
    def can_transmit(self) -> bool:
        return self.state in ("bound_tx", "bound_trx")

    # -- writing ------------------------------------------------------------------------

    async def _send(self, data: bytes) -> None:
        async with self._write_lock:
            self._writer.write(data)
            await self._writer.drain()

    async def request(self, name: str, **fields: Any) -> Header:
        """Send a request within the window and wait for its response's header.

        Raises ``RequestFailed`` on an error status, a generic_nack, a timeout or a
        closed session."""
        async with self._window:
            if self.state == "closed":
                raise RequestFailed(Status.RSYSERR, "session closed")
            sequence = next(self._sequence) & 0x7FFFFFFF or next(self._sequence)
            future: asyncio.Future[Header] = asyncio.get_running_loop().create_future()
            self._waiting[sequence] = future
            try:
                await self._send(build(name, sequence, **fields))
                async with asyncio.timeout(self._timeout):
                    header = await future
            except TimeoutError as exc:
                raise RequestFailed(Status.RUNKNOWNERR, f"no response to {name}") from exc
            except (ConnectionError, OSError) as exc:
                raise RequestFailed(Status.RSYSERR, f"{name}: {exc}") from exc
            finally:
                self._waiting.pop(sequence, None)
        if header.status != Status.ROK:
            raise RequestFailed(header.status, f"{name} refused: 0x{header.status:08X}")
        return header

    # -- reading ------------------------------------------------------------------------

    async def serve(self) -> None:
        """Read PDUs until the session ends; requests run as tasks (the window)."""
        try:
            while self.state != "closed":
                frame = await self._read_frame()
                if frame is None:
                    break
                await self._dispatch(frame)
        except (ConnectionError, asyncio.IncompleteReadError, OSError):
            pass
        finally:
            await self.close()

    async def _read_frame(self) -> bytes | None:
        try:
            async with asyncio.timeout(self._enquire_interval):
                head = await self._reader.readexactly(HEADER_SIZE)
        except TimeoutError:
            try:
                await self.request("enquire_link")
            except RequestFailed:
                log.info("smpp_session_silent", session=self.id, account=self.account)
                return None
            return await self._read_frame()
        header = Header.unpack(head)
        if not HEADER_SIZE <= header.length <= MAX_PDU:
            # the framing is lost: say why, then hang up
            await self._send(build("generic_nack", header.sequence, Status.RINVCMDLEN))
            log.warning("smpp_bad_length", session=self.id, length=header.length)
            return None
        body = await self._reader.readexactly(header.length - HEADER_SIZE)
        return head + body

    async def _dispatch(self, frame: bytes) -> None:
        try:
            header, name, pdu = parse(frame)
        except MalformedPdu as exc:
            log.warning("smpp_malformed_pdu", session=self.id, reason=exc.reason)
            await self._send(build("generic_nack", exc.header.sequence, exc.status))
            return
        if header.is_response:
            future = self._waiting.get(header.sequence)
            if future is not None and not future.done():
                future.set_result(header)
            return
        if name == "generic_nack":
            return
        if name == "cancel_sm":  # smpplib does not decode it: parsed on its own
            self._spawn(self._cancel(header, frame))
            return
        if name in _UNSUPPORTED or pdu is None:
            await self._send(build("generic_nack", header.sequence, Status.RINVCMDID))
            return
        if name == "enquire_link":
            await self._send(build("enquire_link_resp", header.sequence))
        elif name in BIND_TYPES:
            await self._bind(header, name, pdu)
        elif name == "unbind":
            await self._send(build("unbind_resp", header.sequence))
            self.state = "closed"
        elif self.state == "open":
            await self._send(build(f"{name}_resp", header.sequence, Status.RINVBNDSTS))
        elif name == "submit_sm":
            self._spawn(self._submit(header, pdu))
        elif name == "query_sm":
            self._spawn(self._query(header, pdu))

    def _spawn(self, work: Any) -> None:
        task = asyncio.ensure_future(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _bind(self, header: Header, name: str, pdu: Pdu) -> None:
        bind_type, state = BIND_TYPES[name]
        if self.state != "open":
            status = Status.RALYBND
        else:
            status = await self._handler.bind(
                self, bind_type, text_field(pdu, "system_id"), text_field(pdu, "password")
            )
        if status == Status.ROK:
            self.state = state  # type: ignore[assignment]
            self.account, self.bind_type = text_field(pdu, "system_id"), bind_type
            log.info("smpp_bound", session=self.id, account=self.account, bind_type=bind_type)
        else:
            log.info(
                "smpp_bind_refused",
                session=self.id,
                system_id=text_field(pdu, "system_id"),
                status=f"0x{status:08X}",
            )
        await self._send(build(f"{name}_resp", header.sequence, status, system_id=self._system_id))

    async def _submit(self, header: Header, pdu: Pdu) -> None:
        if not self.can_transmit:
            await self._send(build("submit_sm_resp", header.sequence, Status.RINVBNDSTS))
            return
        try:
            status, message_id = await self._handler.submit(self, pdu)
        except SessionDropped as exc:
            log.info("smpp_session_dropped", session=self.id, account=self.account, reason=str(exc))
            self._writer.transport.abort()  # the read loop ends and closes the session
            return
        except Exception:
            log.exception("smpp_submit_failed", session=self.id, account=self.account)
            status, message_id = Status.RSYSERR, ""
        with contextlib.suppress(ConnectionError, OSError):
            await self._send(
                build("submit_sm_resp", header.sequence, status, message_id=message_id)
            )

    async def _query(self, header: Header, pdu: Pdu) -> None:
        status, fields = await self._handler.query(self, pdu)
        with contextlib.suppress(ConnectionError, OSError):
            await self._send(build("query_sm_resp", header.sequence, status, **fields))

    async def _cancel(self, header: Header, frame: bytes) -> None:
        try:
            request = parse_cancel(frame)
        except MalformedPdu as exc:
            await self._send(build("generic_nack", header.sequence, exc.status))
            return
        if not self.can_transmit:
            status = Status.RINVBNDSTS
        else:
            try:
                status = await self._handler.cancel(self, request)
            except Exception:
                log.exception("smpp_cancel_failed", session=self.id, account=self.account)
                status = Status.RSYSERR
        with contextlib.suppress(ConnectionError, OSError):
            await self._send(build("cancel_sm_resp", header.sequence, status))

    async def close(self) -> None:
        """End the session (its waiting requests fail); safe to call twice."""
        if self._closed.is_set():
            return
        self._closed.set()
        self.state = "closed"
        for future in self._waiting.values():
            if not future.done():
                future.set_exception(RequestFailed(Status.RSYSERR, "session closed"))
        for task in list(self._tasks):
            task.cancel()
        self._handler.closed(self)
        with contextlib.suppress(ConnectionError, OSError):
            self._writer.close()
            await self._writer.wait_closed()
        log.info("smpp_session_closed", session=self.id, account=self.account)

    async def unbind(self) -> None:
        """The server ends the session politely (at shutdown)."""
        with contextlib.suppress(RequestFailed):
            async with asyncio.timeout(2):
                await self.request("unbind")
        await self.close()
