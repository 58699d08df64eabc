"""``GroupCommit`` (the SMSC's MOs stored before they are acknowledged): writes that wait
while one transaction commits share the next; a failed transaction fails each of its
writers and stores none of them."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime

from gateway.adapters.smpp.commits import GroupCommit
from gateway.service.ports import Transaction
from tests.service.fakes import FakeStore

T0 = datetime(2026, 3, 10, 3, 0, tzinfo=UTC)


def _mo(id: str) -> Callable[[Transaction], None]:
    def work(tx: Transaction) -> None:
        tx.smsc.enqueue(
            id=id, account="app9029", kind="mo", source="84912000001", destination="9029",
            text=id, at=T0,
        )  # fmt: skip

    return work


async def test_writers_waiting_together_share_one_commit() -> None:
    """Ten writers at once: the first commits alone, the nine that arrived meanwhile in
    one more transaction (two commits), and all ten are stored, in order."""
    store = FakeStore()
    commits = GroupCommit(store)
    await asyncio.gather(*(commits.write(_mo(f"mo-{n}")) for n in range(10)))
    assert store.commits == 2
    queued = store.view().smsc.queued("app9029", 100)
    assert [d.id for d in queued] == [f"mo-{n}" for n in range(10)]


async def test_a_failed_commit_fails_each_of_its_writers_and_stores_none() -> None:
    store = FakeStore()
    commits = GroupCommit(store)

    class Broken(Exception):
        pass

    def broken(tx: Transaction) -> None:
        raise Broken

    results = await asyncio.gather(
        commits.write(_mo("first")),
        commits.write(_mo("second")),
        commits.write(broken),
        return_exceptions=True,
    )
    assert results[0] is None
    assert [type(r) for r in results[1:]] == [Broken, Broken]
    assert [d.id for d in store.view().smsc.queued("app9029", 100)] == ["first"]
