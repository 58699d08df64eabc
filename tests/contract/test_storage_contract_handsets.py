"""The storage contract for handset states: set, read back, replaced, kept apart by
MSISDN, and a state the schema does not know refused."""

from __future__ import annotations

from typing import cast

import pytest

from gateway.domain.handsets import HandsetState, HandsetView
from gateway.service.ports import Store, Transaction
from tests.contract.engines import Engine
from tests.contract.records import T0, A, B, hours


async def test_a_handset_never_set_is_none(store: Store) -> None:
    assert await store.query(lambda q: q.handsets.get(A)) is None


async def test_a_handset_state_round_trips_and_the_last_one_wins(store: Store) -> None:
    """Two states in one transaction: the second is kept, with its instant; another
    MSISDN is untouched."""

    def work(tx: Transaction) -> None:
        tx.handsets.set(A, "off", T0)
        tx.handsets.set(A, "memory_full", hours(1))
        tx.handsets.set(B, "barred", T0)

    await store.transaction(work)
    assert await store.query(lambda q: q.handsets.get(A)) == HandsetView(A, "memory_full", hours(1))
    assert await store.query(lambda q: q.handsets.get(B)) == HandsetView(B, "barred", T0)


async def test_a_state_the_schema_does_not_know_is_refused(store: Store, engine: Engine) -> None:
    if engine.name == "fake":
        pytest.skip("the fake stores what the type allows; the HTTP model refuses the rest")
    wrong = cast(HandsetState, "asleep")
    with pytest.raises(engine.integrity_error):
        await store.transaction(lambda tx: tx.handsets.set(A, wrong, T0))
    assert await store.query(lambda q: q.handsets.get(A)) is None
