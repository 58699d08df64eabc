"""Money on SQLite: charges and the ledger (buffered appends), and their reads; invoice lines
are the view ``invoice_lines`` over postpaid charges (migration 007)."""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping

from gateway.adapters.sqlite_buffer import WriteBuffer
from gateway.adapters.sqlite_codec import Row, from_micros, micros
from gateway.domain.model import ChargeRecord, InvoiceLine, LedgerEntry

__all__ = [
    "CHARGE_COLUMNS",
    "INSERT_CHARGE",
    "INSERT_LEDGER",
    "SqliteBilling",
    "charge_of",
]

CHARGE_COLUMNS = (
    "id, msisdn, subscription_id, package, reason, rule, amount, billing, invoice_month, at,"
    " message_id, inputs"
)
INSERT_CHARGE = (
    f"INSERT INTO charges ({CHARGE_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"  # noqa: S608
)
INSERT_LEDGER = (
    "INSERT INTO ledger (msisdn, delta, balance_after, reason, charge_id, at)"
    " VALUES (?, ?, ?, ?, ?, ?)"
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


def charge_of(r: Row) -> ChargeRecord:
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


class SqliteBilling:
    """The ``Billing`` port and the ``BillingReads`` model."""

    __slots__ = ("_buffer", "_charges", "_ledger")

    def __init__(self, buffer: WriteBuffer) -> None:
        self._buffer = buffer
        self._charges = buffer.appended(INSERT_CHARGE)
        self._ledger = buffer.appended(INSERT_LEDGER)

    def add_charge(self, c: ChargeRecord) -> None:
        self._charges.append(
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
            )
        )
        self._buffer.dirty = True

    def add_ledger_entry(self, e: LedgerEntry) -> None:
        self._ledger.append(
            (e.msisdn, e.delta, e.balance_after, e.reason, e.charge_id, micros(e.at))
        )
        self._buffer.dirty = True

    def charges(self, msisdn: str) -> list[ChargeRecord]:
        rows = self._buffer.read(
            f"SELECT {CHARGE_COLUMNS} FROM charges WHERE msisdn = ? ORDER BY at, rowid",  # noqa: S608
            (msisdn,),
        ).fetchall()
        return [charge_of(r) for r in rows]

    def invoice_lines(self, msisdn: str, month: str) -> list[InvoiceLine]:
        rows = self._buffer.read(
            "SELECT charge_id, msisdn, month, package, description, amount, at FROM invoice_lines"
            " WHERE msisdn = ? AND month = ? ORDER BY at, charge_id",
            (msisdn, month),
        ).fetchall()
        return [InvoiceLine(r[0], r[1], r[2], r[3], r[4], r[5], from_micros(r[6])) for r in rows]

    def invoice_months(self, msisdn: str) -> list[tuple[str, int, int]]:
        rows = self._buffer.read(
            "SELECT month, sum(amount), count(*) FROM invoice_lines WHERE msisdn = ?"
            " GROUP BY month ORDER BY month DESC",
            (msisdn,),
        ).fetchall()
        return [(r[0], int(r[1]), int(r[2])) for r in rows]

    def ledger(self, msisdn: str) -> list[LedgerEntry]:
        rows = self._buffer.read(
            "SELECT msisdn, delta, balance_after, reason, at, charge_id FROM ledger"
            " WHERE msisdn = ? ORDER BY id",
            (msisdn,),
        ).fetchall()
        return [LedgerEntry(r[0], r[1], r[2], r[3], from_micros(r[4]), r[5]) for r in rows]
