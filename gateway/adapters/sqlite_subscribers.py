"""Subscribers and subscriptions on SQLite: buffered upserts, subscribers in the identity map."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Any

from gateway.adapters.sqlite_buffer import WriteBuffer
from gateway.adapters.sqlite_codec import CLAIM_ROWS, Row, from_micros, micros, opt_dt, opt_micros
from gateway.domain.model import Subscriber, Subscription

__all__ = [
    "SUBSCRIBER_COLUMNS",
    "UPSERT_SUBSCRIBER",
    "UPSERT_SUBSCRIPTION",
    "SqliteSubscribers",
    "SqliteSubscriptions",
    "subscriber_of",
    "subscription_values",
]

_SUBSCRIPTION_COLUMNS = (
    "id, msisdn, package, grp, status, started_at, period_start, expires_at, auto_renew,"
    " next_action_at, failed_since, cancelled_at, charge_month, charged_in_month, usage_bytes,"
    " price, first_paid_at, last_paid_at, last_paid_amount, periods_paid, used_since_paid,"
    " next_package, price_notice"
)
SUBSCRIBER_COLUMNS = "msisdn, kind, balance, language, created_at, email, status, closed_at"
_N_SUB = len(_SUBSCRIPTION_COLUMNS.split(","))
_SUBSCRIBER_OF_B = ", ".join(f"b.{c.strip()}" for c in SUBSCRIBER_COLUMNS.split(","))
_SUBSCRIPTION_OF_S = ", ".join(f"s.{c.strip()}" for c in _SUBSCRIPTION_COLUMNS.split(","))
_OPEN = "('trial', 'active', 'renewal_failed', 'pending_cancel', 'paused')"

#: the columns an existing row's upsert writes (the others never change)
_SUBSCRIBER_SET = "kind, balance, language, email, status, closed_at"
_SUBSCRIPTION_SET = (
    "status, package, grp, price, first_paid_at, last_paid_at, last_paid_amount, periods_paid,"
    " used_since_paid, next_package, price_notice, period_start, expires_at, auto_renew,"
    " next_action_at, failed_since, cancelled_at, charge_month, charged_in_month, usage_bytes"
)


def _upsert(table: str, columns: str, key: str, settable: str) -> str:
    names = [c.strip() for c in settable.split(",")]
    marks = ", ".join("?" * len(columns.split(",")))
    return (
        f"INSERT INTO {table} ({columns}) VALUES ({marks})"  # noqa: S608
        f" ON CONFLICT ({key}) DO UPDATE SET {', '.join(f'{c} = excluded.{c}' for c in names)}"
    )


UPSERT_SUBSCRIBER = _upsert("subscribers", SUBSCRIBER_COLUMNS, "msisdn", _SUBSCRIBER_SET)
UPSERT_SUBSCRIPTION = _upsert("subscriptions", _SUBSCRIPTION_COLUMNS, "id", _SUBSCRIPTION_SET)


def subscriber_of(row: Row) -> Subscriber:
    return Subscriber(
        row[0], row[1], row[2], row[3], from_micros(row[4]), row[5], row[6], opt_dt(row[7])
    )


def _subscription(row: Row) -> Subscription:
    """A row of ``_SUBSCRIPTION_COLUMNS``, in ``Subscription``'s field order (positional:
    every due renewal decodes one)."""
    return Subscription(
        row[0],
        row[1],
        row[2],
        row[3],
        row[4],
        from_micros(row[5]),
        from_micros(row[6]),
        from_micros(row[7]),
        bool(row[8]),
        None if row[9] is None else from_micros(row[9]),
        None if row[10] is None else from_micros(row[10]),
        None if row[11] is None else from_micros(row[11]),
        row[12],
        row[13],
        row[14],
        row[15],
        None if row[16] is None else from_micros(row[16]),
        None if row[17] is None else from_micros(row[17]),
        row[18],
        row[19],
        row[20],
        row[21],
        row[22],
    )


class SqliteSubscribers:
    """The ``Subscribers`` port: reads go through the identity map, writes are buffered.

    ``preload`` fills the map for many MSISDNs with one query, and remembers those that
    have no account (until one is ``put``).
    """

    __slots__ = ("_absent", "_buffer", "_images", "_known", "_rows")

    def __init__(self, buffer: WriteBuffer) -> None:
        self._buffer = buffer
        self._known = buffer.subscribers
        self._rows = buffer.keyed(UPSERT_SUBSCRIBER)
        #: the rows as read: a write sends only the columns that changed
        self._images = buffer.track(
            UPSERT_SUBSCRIBER, "subscribers", SUBSCRIBER_COLUMNS, _SUBSCRIBER_SET
        )
        #: MSISDNs ``preload`` found no account for
        self._absent: set[str] = set()

    def preload(self, msisdns: Collection[str]) -> None:
        """Read the accounts of ``msisdns`` not yet in the identity map, in one query."""
        wanted = {m for m in msisdns if m not in self._known and m not in self._absent}
        rows = self._buffer.read_each(
            f"SELECT {SUBSCRIBER_COLUMNS} FROM subscribers WHERE msisdn IN ({{}})",  # noqa: S608
            [(m,) for m in wanted],
        )
        self._images.seen(rows)
        for row in rows:
            self._known[row[0]] = subscriber_of(row)
        self._absent |= wanted.difference(self._known)

    def get(self, msisdn: str) -> Subscriber | None:
        known = self._known.get(msisdn)
        if known is not None:
            return known
        if msisdn in self._absent:
            return None
        # no flush needed: a subscriber written in this transaction is in the map
        row = self._buffer.conn.execute(
            f"SELECT {SUBSCRIBER_COLUMNS} FROM subscribers WHERE msisdn = ?",  # noqa: S608
            (msisdn,),
        ).fetchone()
        if row is None:
            return None
        self._images.seen((row,))
        subscriber = self._known[msisdn] = subscriber_of(row)
        return subscriber

    def by_email(self, address: str) -> Subscriber | None:
        row = self._buffer.read(
            f"SELECT {SUBSCRIBER_COLUMNS} FROM subscribers"  # noqa: S608
            " WHERE email = ? AND status = 'active'",
            (address,),
        ).fetchone()
        if row is None:
            return None
        self._images.seen((row,))
        known = self._known.get(row[0])
        if known is None:
            known = self._known[row[0]] = subscriber_of(row)
        return known

    def put(self, s: Subscriber) -> None:
        self._known[s.msisdn] = s
        self._absent.discard(s.msisdn)
        self._rows[s.msisdn] = (
            s.msisdn,
            s.kind,
            s.balance,
            s.language,
            micros(s.created_at),
            s.email,
            s.status,
            opt_micros(s.closed_at),
        )
        self._buffer.dirty = True


def subscription_values(s: Subscription) -> tuple[Any, ...]:
    """A subscription as the values of ``UPSERT_SUBSCRIPTION``."""
    return (
        s.id,
        s.msisdn,
        s.package,
        s.group,
        s.status,
        micros(s.started_at),
        micros(s.period_start),
        micros(s.expires_at),
        int(s.auto_renew),
        opt_micros(s.next_action_at),
        opt_micros(s.failed_since),
        opt_micros(s.cancelled_at),
        s.charge_month,
        s.charged_in_month,
        s.usage_bytes,
        s.price,
        opt_micros(s.first_paid_at),
        opt_micros(s.last_paid_at),
        s.last_paid_amount,
        s.periods_paid,
        s.used_since_paid,
        s.next_package,
        s.price_notice,
    )


class SqliteSubscriptions:
    """The ``Subscriptions`` port: upserts buffered by id; due work joins its subscribers.

    ``open_of`` is the read every MO makes: it flushes the buffered writes only when some
    of them are this MSISDN's subscriptions (another MO of the same sender in the batch),
    so a batch's writes go out together at commit instead of a row at a time. ``preload``
    reads the open subscriptions of many MSISDNs with one query; ``open_of`` answers from
    those rows until a subscription of the MSISDN is ``put``.
    """

    __slots__ = ("_buffer", "_images", "_open", "_pending", "_rows", "_subscriber_images")

    def __init__(self, buffer: WriteBuffer) -> None:
        self._buffer = buffer
        self._rows = buffer.keyed(UPSERT_SUBSCRIPTION)
        #: the rows as read: a write sends only the columns that changed
        self._images = buffer.track(
            UPSERT_SUBSCRIPTION, "subscriptions", _SUBSCRIPTION_COLUMNS, _SUBSCRIPTION_SET
        )
        self._subscriber_images = buffer.track(
            UPSERT_SUBSCRIBER, "subscribers", SUBSCRIBER_COLUMNS, _SUBSCRIBER_SET
        )
        #: MSISDNs whose subscriptions have buffered upserts (stale once flushed)
        self._pending: set[str] = set()
        #: preloaded open subscriptions (rows, in ``open_of``'s order) by MSISDN
        self._open: dict[str, list[Row]] = {}

    def preload(self, msisdns: Collection[str]) -> None:
        """Read the open subscriptions of ``msisdns`` (not already preloaded) in one query."""
        found: dict[str, list[Row]] = {m: [] for m in msisdns if m not in self._open}
        rows = self._buffer.read_each(
            f"SELECT {_SUBSCRIPTION_COLUMNS} FROM subscriptions WHERE msisdn IN ({{}})"  # noqa: S608
            f" AND status IN {_OPEN} ORDER BY started_at, rowid",
            [(m,) for m in found],
        )
        self._pending.clear()  # flushed by the read
        self._images.seen(rows)
        for row in rows:
            found[row[1]].append(row)
        self._open.update(found)

    def _select(self, where: str, params: tuple[object, ...]) -> list[Subscription]:
        rows = self._buffer.read(
            f"SELECT {_SUBSCRIPTION_COLUMNS} FROM subscriptions WHERE {where}",  # noqa: S608
            params,
        ).fetchall()
        self._images.seen(rows)
        return [_subscription(r) for r in rows]

    def open_of(self, msisdn: str) -> list[Subscription]:
        preloaded = self._open.get(msisdn)
        if preloaded is not None:
            return [_subscription(r) for r in preloaded]
        if not self._rows:
            self._pending.clear()  # flushed since: nothing of this MSISDN is buffered
        sql = f"SELECT {_SUBSCRIPTION_COLUMNS} FROM subscriptions WHERE msisdn = ? AND status IN {_OPEN} ORDER BY started_at, rowid"  # noqa: S608
        if msisdn in self._pending:
            rows = self._buffer.read(sql, (msisdn,)).fetchall()
        else:  # the database already holds everything this transaction knows of it
            rows = self._buffer.conn.execute(sql, (msisdn,)).fetchall()
        self._images.seen(rows)
        return [_subscription(r) for r in rows]

    def open_of_package(self, package: str) -> list[Subscription]:
        return self._select(
            f"package = ? AND status IN {_OPEN} ORDER BY started_at, id", (package,)
        )

    def all_of(self, msisdn: str) -> list[Subscription]:
        return self._select("msisdn = ? ORDER BY started_at, rowid", (msisdn,))

    def put(self, s: Subscription) -> None:
        self._buffer.dirty = True
        self._pending.add(s.msisdn)
        self._open.pop(s.msisdn, None)
        self._rows[s.id] = subscription_values(s)

    def due(self, until: datetime, limit: int) -> list[Subscription]:
        """Due subscriptions in time order; their subscribers join the identity map."""
        rows = self._buffer.read(
            f"SELECT {_SUBSCRIPTION_OF_S}, {_SUBSCRIBER_OF_B}"  # noqa: S608
            " FROM subscriptions s JOIN subscribers b ON b.msisdn = s.msisdn"
            " WHERE s.next_action_at IS NOT NULL AND s.next_action_at <= ?"
            " ORDER BY s.next_action_at, s.id LIMIT ?"
            # PostgreSQL: the rows are claimed for this transaction; another gateway on
            # the database takes the next ones instead of waiting (docs/scale-out.md)
            f" {CLAIM_ROWS.format('s')}",
            (micros(until), limit),
        ).fetchall()
        self._images.seen(rows, _N_SUB)
        self._subscriber_images.seen(row[_N_SUB:] for row in rows)
        known = self._buffer.subscribers
        for row in rows:
            if row[_N_SUB] not in known:
                known[row[_N_SUB]] = subscriber_of(row[_N_SUB:])
        return [_subscription(r) for r in rows]

    def next_due(self) -> datetime | None:
        row = self._buffer.read(
            "SELECT min(next_action_at) FROM subscriptions WHERE next_action_at IS NOT NULL"
        ).fetchone()
        return opt_dt(row[0])
