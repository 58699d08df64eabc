"""Group commit for the SMSC's small writes (an MO stored before it is acknowledged):
the writes that arrive while one transaction commits share the next one, so many MOs
cost one durable commit instead of one each."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from gateway.service.ports import Store, Transaction

__all__ = ["GroupCommit"]

Write = Callable[[Transaction], None]


class GroupCommit:
    """``await write(work)`` returns once ``work`` is committed (durably), together with
    whatever else was waiting; if that transaction fails, each of its writers gets the
    error (nothing of it was stored)."""

    def __init__(self, store: Store, *, limit: int = 256) -> None:
        self._store = store
        self._limit = limit
        self._waiting: list[tuple[Write, asyncio.Future[None]]] = []
        self._lock = asyncio.Lock()

    async def write(self, work: Write) -> None:
        done = asyncio.get_running_loop().create_future()
        self._waiting.append((work, done))
        async with self._lock:  # one commit at a time; the next takes all that waited
            if not done.done():
                await self._commit()
        await done

    async def _commit(self) -> None:
        batch, self._waiting = self._waiting[: self._limit], self._waiting[self._limit :]

        def run(tx: Transaction) -> None:
            for work, _ in batch:
                work(tx)

        try:
            await self._store.transaction(run)
        except Exception as exc:  # each writer hears why
            for _, done in batch:
                if not done.done():
                    done.set_exception(exc)
        except BaseException:  # the committer was cancelled: so is what it carried
            for _, done in batch:
                done.cancel()
            raise
        else:
            for _, done in batch:
                if not done.done():
                    done.set_result(None)
