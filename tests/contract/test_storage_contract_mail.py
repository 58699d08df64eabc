"""The storage contract: the mail queue and its retries, the mailbox, support tickets."""

from __future__ import annotations

from dataclasses import replace

import pytest

from gateway.domain.mail import StoredMail
from gateway.domain.model import TicketEvent
from gateway.service.ports import Store, Transaction
from tests.contract.engines import Engine
from tests.contract.records import T0, A, hours, mail, subscriber, ticket


async def _queue(store: Store, *ids: str) -> None:
    def work(tx: Transaction) -> None:
        for n, mail_id in enumerate(ids):
            tx.mail.add(mail(mail_id, at=hours(n)))

    await store.transaction(work)


# -- the queue ---------------------------------------------------------------------------


async def test_new_mail_is_due_at_once_oldest_first(store: Store) -> None:
    await _queue(store, "x1", "x2", "x3")
    due = await store.query(lambda q: q.mail.due(T0, 2))
    assert due == [
        StoredMail(mail("x1", at=hours(0)), "queued"),
        StoredMail(mail("x2", at=hours(1)), "queued"),
    ]
    upcoming = await store.query(lambda q: q.mail.next_attempt())
    assert upcoming is not None
    assert upcoming <= T0


async def test_a_retried_mail_waits_for_its_next_attempt(store: Store) -> None:
    await _queue(store, "x1", "x2")
    await store.transaction(
        lambda tx: tx.mail.retry("x1", attempts=1, next_at=hours(1), error="421 busy")
    )

    assert [m.mail.id for m in await store.query(lambda q: q.mail.due(T0, 10))] == ["x2"]
    later = await store.query(lambda q: q.mail.due(hours(1), 10))
    assert [m.mail.id for m in later] == ["x2", "x1"], "by next attempt: x2 at once, x1 at 01:00"
    assert later[1] == StoredMail(mail("x1", at=hours(0)), "queued", 1, "421 busy")

    await store.transaction(lambda tx: tx.mail.sent(["x2"], T0))
    assert await store.query(lambda q: q.mail.next_attempt()) == hours(1)


async def test_sent_mail_leaves_the_queue_with_its_attempt_counted(store: Store) -> None:
    await _queue(store, "x1", "x2")
    await store.transaction(
        lambda tx: tx.mail.retry("x1", attempts=2, next_at=T0, error="421 busy")
    )
    await store.transaction(lambda tx: tx.mail.sent(["x1", "x2"], hours(5)))

    assert await store.query(lambda q: q.mail.due(hours(100), 10)) == []
    assert await store.query(lambda q: q.mail.next_attempt()) is None
    sent = await store.query(lambda q: q.mailbox.get("x1"))
    assert sent == StoredMail(mail("x1", at=hours(0)), "sent", 3, None, hours(5))


async def test_failed_mail_leaves_the_queue_and_stays_failed(store: Store) -> None:
    await _queue(store, "x1")
    await store.transaction(lambda tx: tx.mail.failed("x1", attempts=1, error="550 no such user"))
    # only queued mail changes: a late "sent" or retry is ignored
    await store.transaction(lambda tx: tx.mail.sent(["x1"], hours(1)))
    await store.transaction(
        lambda tx: tx.mail.retry("x1", attempts=9, next_at=hours(1), error="later")
    )

    assert await store.query(lambda q: q.mail.due(hours(100), 10)) == []
    failed = await store.query(lambda q: q.mailbox.get("x1"))
    assert failed == StoredMail(mail("x1", at=hours(0)), "failed", 1, "550 no such user")


async def test_a_mail_id_is_recorded_once(store: Store, engine: Engine) -> None:
    await _queue(store, "x1")
    with pytest.raises(engine.integrity_error):
        await store.transaction(lambda tx: tx.mail.add(mail("x1", at=hours(3))))
    page, total, _ = await store.query(lambda q: q.mailbox.page(start=0, limit=10))
    assert (page, total) == ([StoredMail(mail("x1"), "queued")], 1)


# -- the mailbox -------------------------------------------------------------------------


async def test_the_mailbox_pages_newest_first_and_counts_unread(store: Store) -> None:
    await _queue(store, "x1", "x2", "x3", "x4")
    await store.transaction(lambda tx: tx.mail.mark_read("x3"))

    page, total, unread = await store.query(lambda q: q.mailbox.page(start=1, limit=2))
    assert [m.mail.id for m in page] == ["x3", "x2"]
    assert page[0].read
    assert (total, unread) == (4, 3)
    newest = await store.query(lambda q: q.mailbox.newest(3))
    assert [m.mail.id for m in newest] == ["x4", "x3", "x2"]
    assert await store.query(lambda q: q.mailbox.get("nope")) is None


async def test_deleting_hides_queued_mail_and_removes_the_rest(store: Store) -> None:
    await _queue(store, "x1", "x2", "x3")
    await store.transaction(lambda tx: tx.mail.sent(["x2", "x3"], T0))

    removed = await store.transaction(lambda tx: tx.mail.delete(["x1", "x2", "nope"]))
    assert removed == 2
    assert await store.query(lambda q: q.mailbox.get("x1")) is None
    assert await store.query(lambda q: q.mailbox.get("x2")) is None
    assert [m.mail.id for m in await store.query(lambda q: q.mailbox.newest(10))] == ["x3"]
    due = await store.query(lambda q: q.mail.due(T0, 10))
    assert [m.mail.id for m in due] == ["x1"], "hidden, still delivered"
    assert await store.transaction(lambda tx: tx.mail.delete(["x1"])) == 0, "already hidden"

    await _queue(store, "y1")
    assert await store.transaction(lambda tx: tx.mail.delete(None)) == 2  # y1 hidden, x3 gone
    assert await store.query(lambda q: q.mailbox.page(start=0, limit=10)) == ([], 0, 0)


# -- tickets -----------------------------------------------------------------------------


async def test_tickets_round_trip_with_their_events_and_mail(store: Store) -> None:
    assert await store.transaction(lambda tx: tx.tickets.next_id()) == 1

    def open_two(tx: Transaction) -> None:
        tx.subscribers.put(subscriber(A))
        tx.tickets.put(ticket(2))
        tx.tickets.put(ticket(1, msisdn=A))
        tx.tickets.add_event(TicketEvent(1, T0, "open", "opened"))
        tx.tickets.add_event(TicketEvent(2, T0, "open", "other"))
        tx.tickets.add_event(TicketEvent(1, hours(1), "verifying", "code sent"))
        tx.mail.add(mail("t1a", ticket_id=1))
        tx.mail.add(mail("t2a", ticket_id=2))
        tx.mail.add(mail("t1b", ticket_id=1, at=hours(1)))

    await store.transaction(open_two)

    assert await store.transaction(lambda tx: tx.tickets.next_id()) == 3
    assert [t.id for t in await store.query(lambda q: q.tickets.all())] == [1, 2]
    assert await store.query(lambda q: q.tickets.get(1)) == ticket(1, msisdn=A)
    assert await store.query(lambda q: q.tickets.events(1)) == [
        TicketEvent(1, T0, "open", "opened"),
        TicketEvent(1, hours(1), "verifying", "code sent"),
    ]
    thread = await store.query(lambda q: q.tickets.mail(1))
    assert [m.mail.id for m in thread] == ["t1a", "t1b"]
    assert await store.query(lambda q: q.tickets.get(9)) is None


async def test_a_ticket_put_again_is_updated(store: Store) -> None:
    await store.transaction(lambda tx: tx.tickets.put(ticket(1)))
    closed = replace(
        ticket(1),
        status="closed",
        updated_at=hours(2),
        resolution="done",
        closed_at=hours(2),
        otp_attempts=2,
        codes_sent=1,
    )
    await store.transaction(lambda tx: tx.tickets.put(closed))
    assert await store.query(lambda q: q.tickets.all()) == [closed]


async def test_a_mail_finds_its_ticket_by_our_message_id_or_a_received_one(store: Store) -> None:
    def thread(tx: Transaction) -> None:
        tx.tickets.put(ticket(1))
        tx.tickets.put(ticket(2))
        tx.mail.add(mail("ours", ticket_id=1))
        tx.mail.add(mail("loose"))
        tx.tickets.record_support_mail(
            message_id="theirs@example.test",
            ticket_id=2,
            sender="someone@example.test",
            subject="help",
            at=T0,
        )

    await store.transaction(thread)

    async def of(*ids: str) -> int | None:
        return await store.transaction(lambda tx: tx.tickets.of_mail(list(ids)))

    assert await of("ours@gateway.test") == 1
    assert await of("theirs@example.test") == 2
    assert await of("loose@gateway.test", "unknown@x.test", "theirs@example.test") == 2
    assert await of("theirs@example.test", "ours@gateway.test") == 2, "the first that is known"
    assert await of("loose@gateway.test", "unknown@x.test") is None
    assert await of() is None


async def test_a_support_mail_is_recorded_once(store: Store, engine: Engine) -> None:
    def record(tx: Transaction) -> None:
        tx.tickets.record_support_mail(
            message_id="in@example.test", ticket_id=1, sender="s@example.test", subject="s", at=T0
        )

    await store.transaction(lambda tx: tx.tickets.put(ticket(1)))
    assert (
        await store.transaction(lambda tx: tx.tickets.support_mail_seen("in@example.test")) is None
    )
    await store.transaction(record)
    assert await store.transaction(lambda tx: tx.tickets.support_mail_seen("in@example.test")) == 1
    with pytest.raises(engine.integrity_error):
        await store.transaction(record)
