"""Faults on demand, per account (docs/smpp.md, "Faults"): slow responses, throttling, a
submit error rate and dropped sessions; the random ones seeded, so a run is reproducible."""

from __future__ import annotations

import asyncio
import random
import weakref

from gateway.adapters.smpp.accounts import Account
from gateway.adapters.smpp.codec import Status
from gateway.adapters.smpp.session import Session, SessionDropped
from gateway.service.flood import MoRateLimiter

__all__ = ["Faults"]


class Faults:
    """What one account's ``submit_sm`` meets before it is processed, in this order:
    ``response_delay``, ``drop_after`` / ``drop_rate``, ``throughput``,
    ``submit_error_rate``."""

    def __init__(self, account: Account) -> None:
        self._account = account
        self._limit = MoRateLimiter(rate=account.throughput, burst=max(1, int(account.throughput)))
        #: seeded by system_id: the n-th submit_sm meets the same draw on every run
        self._errors = random.Random(account.system_id)
        self._drops = random.Random(f"{account.system_id}/drop")
        self._submits: weakref.WeakKeyDictionary[Session, int] = weakref.WeakKeyDictionary()

    async def before_submit(self, session: Session) -> int | None:
        """The command_status that refuses this submit_sm, or None to process it.

        Raises ``SessionDropped`` when the session is to be dropped instead (the
        submit_sm is then neither answered nor processed)."""
        account = self._account
        if account.response_delay:
            await asyncio.sleep(account.response_delay)
        count = self._submits.get(session, 0) + 1
        self._submits[session] = count
        if account.drop_after and count >= account.drop_after:
            raise SessionDropped(f"drop_after = {account.drop_after}")
        if account.drop_rate and self._drops.random() < account.drop_rate:
            raise SessionDropped(f"drop_rate = {account.drop_rate:g}")
        if not self._limit.allow(account.system_id):
            return Status.RTHROTTLED
        if account.submit_error_rate and self._errors.random() < account.submit_error_rate:
            return Status.RSUBMITFAIL
        return None
