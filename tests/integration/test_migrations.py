"""Schema migrations on a real SQLite file: a database of an older version is upgraded in place."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from gateway.adapters.schema import migrations
from gateway.adapters.sqlite_codec import micros
from gateway.adapters.sqlite_store import SqliteStore


def _database_at(path: Path, version: int) -> None:
    """A database as a gateway of schema ``version`` left it, with one subscriber, one
    subscription and one charge."""
    conn = sqlite3.connect(path, isolation_level=None)
    for number, script in migrations("sqlite"):
        if number <= version:
            conn.executescript(f"BEGIN;\n{script}\nPRAGMA user_version = {number};\nCOMMIT;")
    conn.executescript(
        """
        BEGIN;
        INSERT INTO subscribers (msisdn, kind, balance, language, created_at)
            VALUES ('84912345678', 'prepaid', 45000, NULL, 1);
        INSERT INTO subscriptions (id, msisdn, package, grp, status, started_at, period_start,
            expires_at, auto_renew, next_action_at)
            VALUES ('s1', '84912345678', 'ZL7', 'zalo', 'active', 1, 1, 604800000001, 1, 604800000001);
        INSERT INTO charges (id, msisdn, subscription_id, package, reason, rule, amount, billing,
            invoice_month, at, message_id)
            VALUES ('c1', '84912345678', 's1', 'ZL7', 'registration', 'prepaid_full_price', 5000,
                'balance', NULL, 1, 'm1');
        COMMIT;
        """
    )
    conn.close()


async def test_a_version_2_database_is_upgraded_with_its_data(tmp_path: Path) -> None:
    """Opening a schema-2 file applies migration 3 (subscriptions rebuilt for the new states):
    the subscription, its charge and the foreign key between them are intact."""
    path = tmp_path / "old.db"
    _database_at(path, 2)
    store = await SqliteStore(str(path)).open()
    try:
        subs = await store.query(lambda q: q.subscriptions.all_of("84912345678"))
        charges = await store.query(lambda q: q.billing.charges("84912345678"))
    finally:
        await store.close()
    conn = sqlite3.connect(path)
    try:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == migrations("sqlite")[-1][0]
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
    finally:
        conn.close()
    assert [(s.id, s.package, s.status) for s in subs] == [("s1", "ZL7", "active")]
    assert [(c.id, c.subscription_id, c.amount) for c in charges] == [("c1", "s1", 5000)]


async def test_a_version_6_database_keeps_its_invoices_as_a_view(tmp_path: Path) -> None:
    """Migration 11 drops the ``invoice_lines`` table for a view over postpaid charges: the
    lines a schema-6 gateway wrote (one per invoice charge, "<plan> <reason>") read the
    same afterwards, month totals included."""
    path = tmp_path / "old.db"
    _database_at(path, 6)
    conn = sqlite3.connect(path, isolation_level=None)
    # 1 April 2026 00:00 +07:00 is 31 March 17:00 UTC, 1,774,976,400 s since the epoch;
    # 15 April 12:00 +07:00 is 14.5 days (1,252,800 s) later; both on the invoice of
    # 2026-04: 60,000 + 30,000 = 90,000 đồng
    april_1, april_15 = 1_774_976_400_000_000, 1_776_229_200_000_000
    conn.executescript(
        f"""
        BEGIN;
        INSERT INTO subscribers (msisdn, kind, balance, language, created_at)
            VALUES ('84987654321', 'postpaid', 0, NULL, 1);
        INSERT INTO subscriptions (id, msisdn, package, grp, status, started_at, period_start,
            expires_at, auto_renew, next_action_at)
            VALUES ('s2', '84987654321', 'ZL30', 'zalo', 'active', 1, 1, 2, 1, 2);
        INSERT INTO charges (id, msisdn, subscription_id, package, reason, rule, amount,
            billing, invoice_month, at, message_id)
            VALUES ('c2', '84987654321', 's2', 'ZL30', 'renewal', 'postpaid_full_price',
                60000, 'invoice', '2026-04', {april_1}, NULL),
                   ('c3', '84987654321', 's2', 'ZL30', 'registration', 'registration_half',
                30000, 'invoice', '2026-04', {april_15}, 'm2');
        INSERT INTO invoice_lines (charge_id, msisdn, month, package, description, amount, at)
            VALUES ('c2', '84987654321', '2026-04', 'ZL30', 'ZL30 renewal', 60000, {april_1}),
                   ('c3', '84987654321', '2026-04', 'ZL30', 'ZL30 registration', 30000,
                    {april_15});
        COMMIT;
        """  # noqa: S608
    )
    conn.close()
    store = await SqliteStore(str(path)).open()
    try:
        lines = await store.query(lambda q: q.billing.invoice_lines("84987654321", "2026-04"))
        months = await store.query(lambda q: q.billing.invoice_months("84987654321"))
        prepaid = await store.query(lambda q: q.billing.invoice_months("84912345678"))
    finally:
        await store.close()
    assert [(x.charge_id, x.description, x.amount, micros(x.at)) for x in lines] == [
        ("c2", "ZL30 renewal", 60000, april_1),
        ("c3", "ZL30 registration", 30000, april_15),
    ]
    assert months == [("2026-04", 90000, 2)]
    assert prepaid == []  # a balance charge is on no invoice
    conn = sqlite3.connect(path)
    try:
        kind = conn.execute("SELECT type FROM sqlite_master WHERE name = 'invoice_lines'")
        assert kind.fetchone() == ("view",)
    finally:
        conn.close()
