"""In-memory fakes of the service ports: a transactional ``FakeStore`` and a ``FakePublisher``.

``FakeStore`` behaves like the SQLite store where the service can tell (the storage
contract suite, ``tests/contract``, runs the same tests on both): work runs one
transaction at a time; work that raises leaves the state exactly as it was (a private
working copy is taken on begin and swapped in on commit); stored entities are copies,
so mutating what a read returned changes nothing until it is put back; and the
schema's constraints are enforced (a negative balance, a duplicate inbound id, a
charge for an unknown subscription all fail the transaction like
``CHECK``/``UNIQUE``/``FOREIGN KEY`` would).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Collection, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from gateway.domain.model import Outgoing
from gateway.errors import StorageError
from tests.service.fake_accounts import (
    FakeBilling,
    FakeConversations,
    FakeSubscribers,
    FakeSubscriptions,
    FakeUsage,
)
from tests.service.fake_mail import FakeMail, FakeMailbox, FakeTickets
from tests.service.fake_messages import (
    FakeActivityLog,
    FakeConsole,
    FakeHandsets,
    FakeMeta,
    FakeOutbox,
    FakeRecording,
    FakeReports,
)
from tests.service.fake_smsc import FakeSmsc
from tests.service.fake_state import (
    FakeIntegrityError,
    FakeState,
    FakeStoreFault,
    check_deferred,
)

if TYPE_CHECKING:
    from gateway.service.ports import MessagePublisher, Queries, Store, Transaction

__all__ = ["FakeIntegrityError", "FakePublisher", "FakeSession", "FakeStore", "FakeStoreFault"]

T = TypeVar("T")


class FakeSession:
    """The repositories and read models of one transaction (or one read) on a state."""

    def __init__(self, state: FakeState, *, fail_inbound_ids: Collection[str] = ()) -> None:
        self.subscribers = FakeSubscribers(state)
        self.subscriptions = FakeSubscriptions(state)
        self.billing = FakeBilling(state)
        self.outbox = FakeOutbox(state, fail_inbound_ids=fail_inbound_ids)
        self.meta = FakeMeta(state)
        self.handsets = FakeHandsets(state)
        self.activity = FakeActivityLog(state)
        self.conversations = FakeConversations(state)
        self.usage = FakeUsage(state)
        self.mail = FakeMail(state)
        self.mailbox = FakeMailbox(state)
        self.tickets = FakeTickets(state)
        self.console = FakeConsole(state)
        self.reports = FakeReports(state)
        self.recording = FakeRecording(state)
        self.smsc = FakeSmsc(state)

    def prefetch(self, msisdns: Collection[str], mos: Collection[tuple[str, str]]) -> None:
        """Nothing to fetch: every read is in memory already."""


class FakeStore:
    """The ``Store`` port in memory, with real transaction semantics.

    ``fail_inbound_ids``: ids of inbound messages whose recording raises
    ``FakeStoreFault`` (a test can clear it to let the store recover).
    """

    def __init__(self, *, fail_inbound_ids: Collection[str] = ()) -> None:
        self._state = FakeState()
        self._lock = asyncio.Lock()
        self._closed = False
        self.fail_inbound_ids: set[str] = set(fail_inbound_ids)
        self.commits = 0
        self.rollbacks = 0

    async def transaction(
        self,
        work: Callable[[Transaction], T],
        *,
        durable: bool = True,
        serialise: Collection[str] = (),
    ) -> T:
        async with self._lock:
            await asyncio.sleep(0)  # a real store hands the work to another thread
            self._ensure_open()
            working = self._state.copy()
            try:
                result = work(FakeSession(working, fail_inbound_ids=self.fail_inbound_ids))
                check_deferred(working)
            except BaseException:
                self.rollbacks += 1
                raise
            self._state = working
            self.commits += 1
            return result

    async def query(self, work: Callable[[Queries], T]) -> T:
        async with self._lock:
            await asyncio.sleep(0)
            self._ensure_open()
            return work(self.view())

    async def close(self) -> None:
        self._closed = True

    def view(self) -> FakeSession:
        """Synchronous read access to the committed state, for assertions.

        It reads a snapshot: writing through it changes nothing in the store.
        """
        return FakeSession(self._state.copy())

    def snapshot(self) -> object:
        """An independent copy of the whole committed state; equal iff nothing changed."""
        return self._state.copy()

    def outbox(self) -> list[Outgoing]:
        """Every committed outgoing message, in the order it was written."""
        return list(self._state.outbox.values())

    def _ensure_open(self) -> None:
        if self._closed:
            raise StorageError("the store is not open")


class FakePublisher:
    """The ``MessagePublisher`` port: records what it is asked to publish.

    ``failures`` publish attempts raise ``ConnectionError`` before it accepts any.
    """

    def __init__(self, *, failures: int = 0) -> None:
        self.failures = failures
        self.attempts = 0
        self.messages: list[Outgoing] = []
        self.errors: list[dict[str, Any]] = []

    async def publish(self, messages: Sequence[Outgoing]) -> None:
        self.attempts += 1
        if self.failures > 0:
            self.failures -= 1
            raise ConnectionError("fake broker unavailable")
        self.messages.extend(messages)

    async def publish_error(self, event: dict[str, Any]) -> None:
        self.errors.append(dict(event))

    def texts_to(self, msisdn: str) -> list[str]:
        return [m.text for m in self.messages if m.msisdn == msisdn]


if TYPE_CHECKING:  # mypy --strict proves the fakes implement the ports
    _store: Store = FakeStore()
    _transaction: Transaction = FakeSession(FakeState())
    _queries: Queries = FakeSession(FakeState())
    _publisher: MessagePublisher = FakePublisher()
