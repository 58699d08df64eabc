"""``scgw load``: subscribers from CSV or NDJSON into a stopped gateway's database; a bad
file is refused with every bad row's line number and loads nothing."""

from __future__ import annotations

import sqlite3
from datetime import datetime
from pathlib import Path

import pytest

from gateway.cli import main
from gateway.testing import GatewayConfig, RunningGateway

CSV = """msisdn,kind,balance,language,email
0912000001,prepaid,10000,en,An@Example.com
+84912000002,postpaid,,,
"""

BAD = """msisdn,kind,balance,language,email
0912000001,prepaid,10000,en,
0912,prepaid,5,,
0912000003,gold,5,,
0912000001,prepaid,1,,
0912000004,prepaid,-5,,
0912000005,prepaid,ten,,
0912000006,prepaid,5,fr,
0912000007,prepaid,5,,not-an-address
0912000008,prepaid,5,,,extra
"""


def _count(db: Path) -> int:
    with sqlite3.connect(db) as conn:
        return int(conn.execute("SELECT count(*) FROM subscribers").fetchone()[0])


def test_loaded_subscribers_are_the_gateways(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Loaded into a database, then served by a gateway started on it: the balance, the
    opening ledger entry, the default balance for a blank one, and a ZL7 charged from it."""
    workdir = tmp_path / "gw"
    workdir.mkdir()
    source = tmp_path / "subscribers.csv"
    source.write_text(CSV)
    url = f"sqlite:///{workdir / 'scgw.db'}"
    assert main(["load", str(source), "--database-url", url, "--no-progress"]) == 0
    assert "loaded 2 subscribers" in capsys.readouterr().out
    config = GatewayConfig(default_balance=50_000)
    with RunningGateway(config, workdir=workdir) as gateway:
        client = gateway.client
        first = client.subscriber("0912000001")
        assert (first.kind, first.balance, first.language, first.email) == (
            "prepaid", 10_000, "en", "an@example.com",
        )  # fmt: skip
        assert [(e.reason, e.delta) for e in client.ledger("0912000001")] == [("provision", 10_000)]
        second = client.subscriber("0912000002")
        assert (second.kind, second.balance) == ("postpaid", 50_000)  # scgw load's default
        client.sms("0912000001", "DK ZL7")
        assert client.subscriber("0912000001").balance == 5_000


def test_a_bad_file_is_refused_line_by_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "bad.csv"
    source.write_text(BAD)
    db = tmp_path / "scgw.db"
    url = f"sqlite:///{db}"
    assert main(["load", str(source), "--database-url", url, "--no-progress"]) == 1
    captured = capsys.readouterr()
    lines = [line.removeprefix(f"{source}: ") for line in captured.out.splitlines()]
    assert lines == [
        "line 3: msisdn: invalid MSISDN '0912': expected 0xxxxxxxxx, 84xxxxxxxxx or +84xxxxxxxxx",
        "line 4: kind: 'gold' is not prepaid or postpaid",
        "line 5: msisdn 84912000001 is already on line 2",
        "line 6: balance: -5 is below zero",
        "line 7: balance: 'ten' is not a whole number of đồng",
        "line 8: language: 'fr' is not vi, vi-diacritics or en",
        "line 9: email: invalid email address 'not-an-address': expected exactly one '@'",
        "line 10: 6 fields, the header has 5",
    ]
    assert "8 bad row(s): nothing loaded" in captured.err
    assert _count(db) == 0
    assert main(["load", str(source), "--database-url", url, "--skip-bad", "--no-progress"]) == 0
    assert _count(db) == 1
    # loaded once: a second load of the same number is a bad row, and loads nothing
    assert main(["load", str(source), "--database-url", url, "--no-progress"]) == 1
    assert "line 2: msisdn 84912000001 is already a subscriber" in capsys.readouterr().out


def test_ndjson(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = tmp_path / "subscribers.ndjson"
    source.write_text(
        '{"msisdn": "0912000001", "balance": 2000}\n\n'
        '{"msisdn": "0912000002", "kind": "postpaid", "plan": "x"}\n'
        "[1]\n"
        "{oops\n"
    )
    url = f"sqlite:///{tmp_path / 'scgw.db'}"
    assert main(["load", str(source), "--database-url", url, "--no-progress"]) == 1
    out = capsys.readouterr().out
    assert "line 3: unknown column(s) ['plan']" in out
    assert "line 4: not a JSON object" in out
    assert "line 5: not JSON: " in out


PLANS = """msisdn,kind,balance,subscriptions
0912000001,prepaid,10000,ZL7
0912000002,postpaid,,zl30
0912000003,prepaid,3000,
0912000004,prepaid,0,BASIC;REC
"""


def test_subscriptions_serve_from_the_load_and_renew_as_usual(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Loaded at 10:00 on 10/03/2026: a new database, a virtual clock starting then
    (``SCGW_CLOCK``, ``SCGW_CLOCK_START``). 0912000001: ZL7 serving,
    nothing charged (the balance stays 10,000), expiring 7 x 24 h later, 17/03 10:00,
    when it renews for 5,000 (5,000 left). 0912000002, postpaid: ZL30 (written in lower
    case) until the end of March, 31/03 23:59:59, nothing on March's invoice; renewed on
    01/04 for the full 15,000 on April's. 0912000003: no plan. 0912000004: BASIC and its
    add-on REC, both serving."""
    workdir = tmp_path / "gw"
    workdir.mkdir()
    start = datetime.fromisoformat("2026-03-10T10:00:00+07:00")
    config = GatewayConfig(clock_start=start, default_balance=50_000)
    monkeypatch.setenv("SCGW_CLOCK", "virtual")
    monkeypatch.setenv("SCGW_CLOCK_START", "2026-03-10T10:00:00+07:00")
    source = tmp_path / "plans.csv"
    source.write_text(PLANS)
    url = f"sqlite:///{workdir / 'scgw.db'}"
    assert main(["load", str(source), "--database-url", url, "--no-progress"]) == 0
    assert "loaded 4 subscribers" in capsys.readouterr().out
    with RunningGateway(config, workdir=workdir) as gateway:
        client = gateway.client
        first = client.subscriber("0912000001")
        zl7 = first.subscription("ZL7")
        assert zl7 is not None
        assert (first.balance, zl7.status, zl7.auto_renew) == (10_000, "active", True)
        assert zl7.started_at.isoformat() == "2026-03-10T10:00:00+07:00"
        assert zl7.expires_at is not None
        assert zl7.expires_at.isoformat() == "2026-03-17T10:00:00+07:00"
        assert client.charges("0912000001") == []
        zl30 = client.subscriber("0912000002").subscription("ZL30")
        assert zl30 is not None
        assert zl30.expires_at is not None
        assert zl30.expires_at.isoformat() == "2026-03-31T23:59:59+07:00"
        assert client.invoice("0912000002", "2026-03").total == 0
        assert client.subscriber("0912000003").subscriptions == []
        fourth = client.subscriber("0912000004")
        assert sorted((s.package, s.status) for s in fourth.subscriptions) == [
            ("BASIC", "active"), ("REC", "active"),
        ]  # fmt: skip

        client.advance(to=datetime.fromisoformat("2026-03-17T10:00:00+07:00"))
        assert client.subscriber("0912000001").balance == 5_000
        assert [(c.reason, c.amount) for c in client.charges("0912000001")] == [("renewal", 5_000)]
        client.advance(to=datetime.fromisoformat("2026-04-01T00:00:00+07:00"))
        april = client.invoice("0912000002", "2026-04")
        assert (april.total, len(april.lines)) == (15_000, 1)


def test_bad_subscriptions_are_refused_by_line_and_nothing_loads(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """An unknown plan, two plans of one group, an add-on without its base, a plan given
    twice, and in NDJSON something that is not a list of codes: each its line; nothing
    loaded; with --skip-bad the good row only."""
    source = tmp_path / "plans.csv"
    source.write_text(
        "msisdn,subscriptions\n"
        "0912000001,ZL7\n"
        "0912000002,ZL8\n"
        "0912000003,ZL7;ZL1\n"
        "0912000004,REC\n"
        "0912000005,ZL7;ZL7\n"
    )
    db = tmp_path / "scgw.db"
    url = f"sqlite:///{db}"
    assert main(["load", str(source), "--database-url", url, "--no-progress"]) == 1
    captured = capsys.readouterr()
    lines = [line.removeprefix(f"{source}: ") for line in captured.out.splitlines()]
    assert [line.split(" (the plans")[0] for line in lines] == [
        "line 3: subscriptions: no plan 'ZL8'",
        "line 4: subscriptions: ZL7 and ZL1 are both of group 'zalo'",
        "line 5: subscriptions: REC is an add-on: give a plan of group 'meet' with it",
        "line 6: subscriptions: ZL7 and ZL7 are both of group 'zalo'",
    ]
    assert "ZL1, ZL30, ZL7" in lines[0]
    assert "4 bad row(s): nothing loaded" in captured.err
    assert _count(db) == 0
    assert main(["load", str(source), "--database-url", url, "--skip-bad", "--no-progress"]) == 0
    assert _count(db) == 1
    with sqlite3.connect(db) as conn:
        plans = conn.execute("SELECT msisdn, package, status FROM subscriptions").fetchall()
    assert plans == [("84912000001", "ZL7", "active")]

    ndjson = tmp_path / "plans.ndjson"
    ndjson.write_text(
        '{"msisdn": "0912000011", "subscriptions": ["ZL1"]}\n'
        '{"msisdn": "0912000012", "subscriptions": [7]}\n'
    )
    assert main(["load", str(ndjson), "--database-url", url, "--no-progress"]) == 1
    out = capsys.readouterr().out
    assert 'line 2: subscriptions: plan codes, "ZL7;ZL1" or ["ZL7", "ZL1"]' in out
