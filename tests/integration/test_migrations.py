"""Schema migrations on a real SQLite file: a database of an older version is upgraded in place."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from gateway.adapters.schema import migrations
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
