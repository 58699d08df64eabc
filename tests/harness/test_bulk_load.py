"""``scgw load``: subscribers from CSV or NDJSON into a stopped gateway's database; a bad
file is refused with every bad row's line number and loads nothing."""

from __future__ import annotations

import sqlite3
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
