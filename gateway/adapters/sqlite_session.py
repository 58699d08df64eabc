"""One SQLite transaction as the ``Transaction``/``Queries`` ports: identity map, batched writes.

Writes are buffered and sent with ``executemany`` in a fixed order (parents before
children) just before the next read that could see them, and at commit. Subscribers
read or written in the transaction are kept in an identity map, so a batch of
renewals reads each subscriber once (joined to its subscription) and writes it once.
"""

from __future__ import annotations

import functools
import json
import sqlite3
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, cast

from gateway.adapters.sqlite_codec import Row, from_micros, micros, opt_dt, opt_micros
from gateway.adapters.sqlite_mail import INSERT_MAIL, MailSessionMixin
from gateway.adapters.sqlite_policy import PolicySessionMixin
from gateway.adapters.sqlite_reports import ReportsSessionMixin
from gateway.domain.model import (
    ChargeRecord,
    InboundSms,
    InvoiceLine,
    LedgerEntry,
    Outgoing,
    Subscriber,
    Subscription,
)

__all__ = ["SqliteSession", "from_micros", "micros"]

_SUBSCRIPTION_COLUMNS = (
    "id, msisdn, package, grp, status, started_at, period_start, expires_at, auto_renew,"
    " next_action_at, failed_since, cancelled_at, charge_month, charged_in_month, usage_bytes,"
    " price, first_paid_at, last_paid_at, last_paid_amount, periods_paid, used_since_paid,"
    " next_package, price_notice"
)
_SUBSCRIBER_COLUMNS = "msisdn, kind, balance, language, created_at, email, status, closed_at"
_N_SUB = len(_SUBSCRIPTION_COLUMNS.split(","))
_SUBSCRIBER_OF_B = ", ".join(f"b.{c.strip()}" for c in _SUBSCRIBER_COLUMNS.split(","))
_OUTBOX_COLUMNS = "id, shortcode, msisdn, text, in_reply_to, encoding, segments, at"
_CHARGE_COLUMNS = (
    "id, msisdn, subscription_id, package, reason, rule, amount, billing, invoice_month, at,"
    " message_id, inputs"
)

_UPSERT_SUBSCRIBER = (
    f"INSERT INTO subscribers ({_SUBSCRIBER_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"  # noqa: S608
    " ON CONFLICT (msisdn) DO UPDATE SET"
    " kind = excluded.kind, balance = excluded.balance, language = excluded.language,"
    " email = excluded.email, status = excluded.status, closed_at = excluded.closed_at"
)
_UPSERT_SUBSCRIPTION = (
    f"INSERT INTO subscriptions ({_SUBSCRIPTION_COLUMNS})"  # noqa: S608
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
    " ON CONFLICT (id) DO UPDATE SET status = excluded.status, package = excluded.package,"
    " grp = excluded.grp, price = excluded.price, first_paid_at = excluded.first_paid_at,"
    " last_paid_at = excluded.last_paid_at, last_paid_amount = excluded.last_paid_amount,"
    " periods_paid = excluded.periods_paid, used_since_paid = excluded.used_since_paid,"
    " next_package = excluded.next_package, price_notice = excluded.price_notice,"
    " period_start = excluded.period_start, expires_at = excluded.expires_at,"
    " auto_renew = excluded.auto_renew, next_action_at = excluded.next_action_at,"
    " failed_since = excluded.failed_since, cancelled_at = excluded.cancelled_at,"
    " charge_month = excluded.charge_month, charged_in_month = excluded.charged_in_month,"
    " usage_bytes = excluded.usage_bytes"
)
_INSERT_CHARGE = (
    f"INSERT INTO charges ({_CHARGE_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"  # noqa: S608
)
_INSERT_INVOICE_LINE = (
    "INSERT INTO invoice_lines (charge_id, msisdn, month, package, description, amount, at)"
    " VALUES (?, ?, ?, ?, ?, ?, ?)"
)
_INSERT_LEDGER = (
    "INSERT INTO ledger (msisdn, delta, balance_after, reason, charge_id, at)"
    " VALUES (?, ?, ?, ?, ?, ?)"
)
_INSERT_INBOUND = (
    "INSERT INTO inbound (msisdn, id, shortcode, text, received_at) VALUES (?, ?, ?, ?, ?)"
)
_INSERT_OUTBOX = (
    f"INSERT INTO outbox ({_OUTBOX_COLUMNS}, answer)"  # noqa: S608
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
_UPSERT_META = (
    "INSERT INTO meta (key, value) VALUES (?, ?)"
    " ON CONFLICT (key) DO UPDATE SET value = excluded.value"
)


def _subscription(row: Row) -> Subscription:
    return Subscription(
        id=row[0],
        msisdn=row[1],
        package=row[2],
        group=row[3],
        status=row[4],
        started_at=from_micros(row[5]),
        period_start=from_micros(row[6]),
        expires_at=from_micros(row[7]),
        auto_renew=bool(row[8]),
        next_action_at=opt_dt(row[9]),
        failed_since=opt_dt(row[10]),
        cancelled_at=opt_dt(row[11]),
        charge_month=row[12],
        charged_in_month=row[13],
        usage_bytes=row[14],
        price=row[15],
        first_paid_at=opt_dt(row[16]),
        last_paid_at=opt_dt(row[17]),
        last_paid_amount=row[18],
        periods_paid=row[19],
        used_since_paid=row[20],
        next_package=row[21],
        price_notice=row[22],
    )


@functools.lru_cache(maxsize=4096)
def _cached_json(items: tuple[tuple[str, object], ...]) -> str:
    return json.dumps(dict(items), default=str, ensure_ascii=False)


def _inputs_json(inputs: Mapping[str, object]) -> str:
    """A charge's inputs as JSON; a burst of renewals repeats the same few, so the text is
    cached (a tenth of a bulk renewal's time went to encoding them)."""
    if not inputs:
        return "{}"
    try:
        return _cached_json(tuple(inputs.items()))
    except TypeError:  # an unhashable value: encode it as it is
        return json.dumps(dict(inputs), default=str, ensure_ascii=False)


def _charge(r: Row) -> ChargeRecord:
    return ChargeRecord(
        r[0],
        r[1],
        r[2],
        r[3],
        r[4],
        r[5],
        r[6],
        r[7],
        r[8],
        from_micros(r[9]),
        r[10],
        json.loads(r[11]),
    )


def _subscriber(row: Row) -> Subscriber:
    return Subscriber(
        row[0], row[1], row[2], row[3], from_micros(row[4]), row[5], row[6], opt_dt(row[7])
    )


def _outgoing(row: Row) -> Outgoing:
    return Outgoing(
        id=row[0],
        shortcode=row[1],
        msisdn=row[2],
        text=row[3],
        in_reply_to=row[4],
        encoding=row[5],
        segments=row[6],
        at=from_micros(row[7]),
    )


class SqliteSession(MailSessionMixin, PolicySessionMixin, ReportsSessionMixin):
    """Implements ``Transaction`` and ``Queries`` on one connection, for one transaction."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn
        self._subscribers: dict[str, Subscriber] = {}
        # keyed rows: the last write of a row wins; parents flush before children
        self._subscriber_rows: dict[str, Row] = {}
        self._subscription_rows: dict[str, Row] = {}
        self._appends: dict[str, list[Row]] = {
            _INSERT_CHARGE: [],
            _INSERT_INVOICE_LINE: [],
            _INSERT_LEDGER: [],
            _INSERT_INBOUND: [],
            _INSERT_OUTBOX: [],
            _UPSERT_META: [],
            INSERT_MAIL: [],
        }
        self._dirty = False

    def flush(self) -> None:
        """Send every buffered write (called before reads and at commit)."""
        if not self._dirty:
            return
        executemany = self._conn.executemany
        if self._subscriber_rows:
            executemany(_UPSERT_SUBSCRIBER, self._subscriber_rows.values())
            self._subscriber_rows.clear()
        if self._subscription_rows:
            executemany(_UPSERT_SUBSCRIPTION, self._subscription_rows.values())
            self._subscription_rows.clear()
        for sql, rows in self._appends.items():
            if rows:
                executemany(sql, rows)
                rows.clear()
        self._dirty = False

    def _read(self, sql: str, params: Sequence[Any] = ()) -> sqlite3.Cursor:
        self.flush()
        return self._conn.execute(sql, params)

    def _append(self, sql: str, row: Row) -> None:
        self._appends[sql].append(row)
        self._dirty = True

    # subscribers
    def get_subscriber(self, msisdn: str) -> Subscriber | None:
        known = self._subscribers.get(msisdn)
        if known is not None:
            return known
        row = self._conn.execute(
            f"SELECT {_SUBSCRIBER_COLUMNS} FROM subscribers WHERE msisdn = ?",  # noqa: S608
            (msisdn,),
        ).fetchone()
        if row is None:
            return None
        subscriber = self._subscribers[msisdn] = _subscriber(row)
        return subscriber

    def _select_subscribers(self, sql: str, params: Sequence[Any]) -> list[Subscriber]:
        rows = self._read(
            f"SELECT {_SUBSCRIBER_COLUMNS} FROM subscribers{sql}",  # noqa: S608
            params,
        ).fetchall()
        return [self._subscribers.get(r[0]) or _subscriber(r) for r in rows]

    def subscriber_by_email(self, address: str) -> Subscriber | None:
        row = self._read(
            f"SELECT {_SUBSCRIBER_COLUMNS} FROM subscribers"  # noqa: S608
            " WHERE email = ? AND status = 'active'",
            (address,),
        ).fetchone()
        if row is None:
            return None
        known = self._subscribers.get(row[0])
        if known is None:
            known = self._subscribers[row[0]] = _subscriber(row)
        return known

    def put_subscriber(self, s: Subscriber) -> None:
        self._subscribers[s.msisdn] = s
        self._subscriber_rows[s.msisdn] = (
            s.msisdn,
            s.kind,
            s.balance,
            s.language,
            micros(s.created_at),
            s.email,
            s.status,
            opt_micros(s.closed_at),
        )
        self._dirty = True

    # subscriptions
    def open_subscriptions(self, msisdn: str) -> list[Subscription]:
        rows = self._read(
            f"SELECT {_SUBSCRIPTION_COLUMNS} FROM subscriptions"  # noqa: S608
            " WHERE msisdn = ? AND status IN"
            " ('trial', 'active', 'renewal_failed', 'pending_cancel', 'paused')"
            " ORDER BY started_at",
            (msisdn,),
        ).fetchall()
        return [_subscription(r) for r in rows]

    def open_subscriptions_of(self, package: str) -> list[Subscription]:
        rows = self._read(
            f"SELECT {_SUBSCRIPTION_COLUMNS} FROM subscriptions"  # noqa: S608
            " WHERE package = ? AND status IN"
            " ('trial', 'active', 'renewal_failed', 'pending_cancel', 'paused')"
            " ORDER BY started_at, id",
            (package,),
        ).fetchall()
        return [_subscription(r) for r in rows]

    def subscriptions(self, msisdn: str) -> list[Subscription]:
        rows = self._read(
            f"SELECT {_SUBSCRIPTION_COLUMNS} FROM subscriptions"  # noqa: S608
            " WHERE msisdn = ? ORDER BY started_at, rowid",
            (msisdn,),
        ).fetchall()
        return [_subscription(r) for r in rows]

    def put_subscription(self, s: Subscription) -> None:
        self._dirty = True
        self._subscription_rows[s.id] = (
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

    def due_subscriptions(self, until: datetime, limit: int) -> list[Subscription]:
        """Due subscriptions in time order; their subscribers join the identity map."""
        columns = ", ".join(f"s.{c.strip()}" for c in _SUBSCRIPTION_COLUMNS.split(","))
        rows = self._read(
            f"SELECT {columns}, {_SUBSCRIBER_OF_B}"  # noqa: S608
            " FROM subscriptions s JOIN subscribers b ON b.msisdn = s.msisdn"
            " WHERE s.next_action_at IS NOT NULL AND s.next_action_at <= ?"
            " ORDER BY s.next_action_at, s.id LIMIT ?",
            (micros(until), limit),
        ).fetchall()
        for row in rows:
            if row[_N_SUB] not in self._subscribers:
                self._subscribers[row[_N_SUB]] = _subscriber(row[_N_SUB:])
        return [_subscription(r) for r in rows]

    def next_due(self) -> datetime | None:
        row = self._read(
            "SELECT min(next_action_at) FROM subscriptions WHERE next_action_at IS NOT NULL"
        ).fetchone()
        return opt_dt(row[0])

    # money
    def add_charge(self, c: ChargeRecord) -> None:
        self._append(
            _INSERT_CHARGE,
            (
                c.id,
                c.msisdn,
                c.subscription_id,
                c.package,
                c.reason,
                c.rule,
                c.amount,
                c.billing,
                c.invoice_month,
                micros(c.at),
                c.message_id,
                _inputs_json(c.inputs),
            ),
        )

    def charges(self, msisdn: str) -> list[ChargeRecord]:
        rows = self._read(
            f"SELECT {_CHARGE_COLUMNS} FROM charges WHERE msisdn = ? ORDER BY at, rowid",  # noqa: S608
            (msisdn,),
        ).fetchall()
        return [_charge(r) for r in rows]

    def charges_between(self, start: datetime, end: datetime) -> list[ChargeRecord]:
        rows = self._read(
            f"SELECT {_CHARGE_COLUMNS} FROM charges WHERE at >= ? AND at < ? ORDER BY at",  # noqa: S608
            (micros(start), micros(end)),
        ).fetchall()
        return [_charge(r) for r in rows]

    def add_invoice_line(self, line: InvoiceLine) -> None:
        self._append(
            _INSERT_INVOICE_LINE,
            (
                line.charge_id,
                line.msisdn,
                line.month,
                line.package,
                line.description,
                line.amount,
                micros(line.at),
            ),
        )

    def invoice_lines(self, msisdn: str, month: str) -> list[InvoiceLine]:
        rows = self._read(
            "SELECT charge_id, msisdn, month, package, description, amount, at FROM invoice_lines"
            " WHERE msisdn = ? AND month = ? ORDER BY at, charge_id",
            (msisdn, month),
        ).fetchall()
        return [InvoiceLine(r[0], r[1], r[2], r[3], r[4], r[5], from_micros(r[6])) for r in rows]

    def add_ledger_entry(self, e: LedgerEntry) -> None:
        self._append(
            _INSERT_LEDGER,
            (e.msisdn, e.delta, e.balance_after, e.reason, e.charge_id, micros(e.at)),
        )

    def ledger(self, msisdn: str) -> list[LedgerEntry]:
        rows = self._read(
            "SELECT msisdn, delta, balance_after, reason, at, charge_id FROM ledger"
            " WHERE msisdn = ? ORDER BY id",
            (msisdn,),
        ).fetchall()
        return [LedgerEntry(r[0], r[1], r[2], r[3], from_micros(r[4]), r[5]) for r in rows]

    # messages
    def add_outgoing(self, m: Outgoing, *, answer: bool = True) -> None:
        self._append(
            _INSERT_OUTBOX,
            (
                m.id,
                m.shortcode,
                m.msisdn,
                m.text,
                m.in_reply_to,
                m.encoding,
                m.segments,
                micros(m.at),
                int(answer),
            ),
        )

    def replies_to(self, msisdn: str, inbound_id: str) -> list[Outgoing] | None:
        seen = self._read(
            "SELECT 1 FROM inbound WHERE msisdn = ? AND id = ?", (msisdn, inbound_id)
        ).fetchone()
        if seen is None:
            return None
        rows = self._conn.execute(
            f"SELECT {_OUTBOX_COLUMNS} FROM outbox"  # noqa: S608
            " WHERE msisdn = ? AND in_reply_to = ? AND answer = 1 ORDER BY seq",
            (msisdn, inbound_id),
        ).fetchall()
        return [_outgoing(r) for r in rows]

    def record_inbound(self, message: InboundSms, received_at: datetime) -> None:
        self._append(
            _INSERT_INBOUND,
            (message.msisdn, message.id, message.shortcode, message.text, micros(received_at)),
        )

    def unpublished(self, limit: int) -> list[Outgoing]:
        rows = self._read(
            f"SELECT {_OUTBOX_COLUMNS} FROM outbox WHERE published = 0 ORDER BY seq LIMIT ?",  # noqa: S608
            (limit,),
        ).fetchall()
        return [_outgoing(r) for r in rows]

    def mark_published(self, ids: Sequence[str]) -> None:
        self.flush()
        self._conn.executemany("UPDATE outbox SET published = 1 WHERE id = ?", [(i,) for i in ids])

    # meta
    def get_meta(self, key: str) -> str | None:
        row = self._read("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else cast(str, row[0])

    def set_meta(self, key: str, value: str) -> None:
        self._append(_UPSERT_META, (key, value))

    def pending_outbox(self) -> int:
        return int(self._read("SELECT count(*) FROM outbox WHERE published = 0").fetchone()[0])

    def stats(self) -> dict[str, Any]:
        one = self._read
        return {
            "subscribers": one("SELECT count(*) FROM subscribers").fetchone()[0],
            "open_subscriptions": one(
                "SELECT count(*) FROM subscriptions WHERE next_action_at IS NOT NULL"
            ).fetchone()[0],
            "unpublished": one("SELECT count(*) FROM outbox WHERE published = 0").fetchone()[0],
        }
