"""``POST /api/subscribers/bulk``: many subscribers in one call, bad rows by line."""

from __future__ import annotations

from collections.abc import Callable

from tests.support import GatewayProcess


def test_good_rows_load_in_one_call_and_existing_ones_are_updated(
    gateway_factory: Callable[..., GatewayProcess],
) -> None:
    """Three rows: two new (one postpaid with 0, one prepaid without a balance: the
    default 50,000), one already provisioned (its balance set to 7,000)."""
    gateway = gateway_factory().start()
    with gateway.http() as http:
        http.put("/api/subscribers/0912000003", json={"balance": 1000})
        answer = http.post(
            "/api/subscribers/bulk",
            json={
                "rows": [
                    {"msisdn": "0912000001", "kind": "postpaid", "balance": 0},
                    {"msisdn": "84912000002", "kind": "prepaid"},
                    {"msisdn": "0912000003", "kind": "prepaid", "balance": 7000},
                ]
            },
        )
        one = http.get("/api/subscribers/84912000001").json()
        two = http.get("/api/subscribers/84912000002").json()
        three = http.get("/api/subscribers/84912000003").json()

    assert answer.status_code == 200, answer.text
    assert answer.json() == {"created": 2, "updated": 1, "skipped": []}
    assert (one["kind"], one["balance"]) == ("postpaid", 0)
    assert (two["kind"], two["balance"]) == ("prepaid", 50_000)
    assert three["balance"] == 7000


def test_bad_rows_are_reported_by_line_and_nothing_is_loaded(
    gateway_factory: Callable[..., GatewayProcess],
) -> None:
    """Line 2 has a bad MSISDN, line 3 repeats line 1's, line 4's balance is over a
    trillion đồng: 422 naming those lines, and line 1 is not loaded either; with
    skip_bad, line 1 loads and 2, 3 and 4 are skipped."""
    gateway = gateway_factory().start()
    rows = [
        {"msisdn": "0912000011", "kind": "prepaid", "balance": 1},
        {"msisdn": "12", "kind": "prepaid"},
        {"msisdn": "84912000011", "kind": "postpaid"},
        {"msisdn": "0912000012", "kind": "prepaid", "balance": 10**30},
    ]
    with gateway.http() as http:
        refused = http.post("/api/subscribers/bulk", json={"rows": rows})
        missing = http.get("/api/subscribers/84912000011")
        skipped = http.post("/api/subscribers/bulk", json={"rows": rows, "skip_bad": True})
        loaded = http.get("/api/subscribers/84912000011").json()

    assert refused.status_code == 422
    assert [b["line"] for b in refused.json()["bad"]] == [2, 3, 4]
    assert "nothing was loaded" in refused.json()["detail"]
    assert missing.status_code == 404
    assert skipped.status_code == 200
    assert (skipped.json()["created"], [b["line"] for b in skipped.json()["skipped"]]) == (
        1,
        [2, 3, 4],
    )
    assert loaded["balance"] == 1


def test_subscriptions_load_with_their_subscribers_and_clashes_are_bad_rows(
    gateway_factory: Callable[..., GatewayProcess],
) -> None:
    """At 10:00 on 10/03/2026, 0912000023 already has ZL7 (DK ZL7). Line 1: a new number
    with ZL7, serving until 17/03 10:00 with nothing charged (50,000 stays); line 2: an
    unknown plan; line 3: ZL1 for 0912000023, whose ZL7 is of the same group. 422 naming
    lines 2 and 3, nothing loaded; with skip_bad line 1 loads and 0912000023 keeps its
    ZL7 only."""
    gateway = gateway_factory().start()
    rows = [
        {"msisdn": "0912000021", "subscriptions": ["ZL7"]},
        {"msisdn": "0912000022", "subscriptions": "ZL9"},
        {"msisdn": "0912000023", "subscriptions": "ZL1"},
    ]
    with gateway.http() as http:
        http.post("/api/sms", json={"from": "0912000023", "text": "DK ZL7"})
        refused = http.post("/api/subscribers/bulk", json={"rows": rows})
        clash = http.post("/api/subscribers/bulk", json={"rows": [rows[0], rows[2]]})
        missing = http.get("/api/subscribers/84912000021")
        skipped = http.post("/api/subscribers/bulk", json={"rows": rows, "skip_bad": True})
        one = http.get("/api/subscribers/84912000021").json()
        charges = http.get("/api/subscribers/84912000021/charges").json()
        three = http.get("/api/subscribers/84912000023").json()

    assert refused.status_code == 422, refused.text
    (bad,) = refused.json()["bad"]
    assert bad["line"] == 2
    assert bad["reason"].startswith("subscriptions: no plan 'ZL9'")
    assert clash.status_code == 422, clash.text
    assert clash.json()["bad"] == [
        {"line": 2, "reason": "84912000023 already has ZL7, in the group of ZL1"}
    ]
    assert missing.status_code == 404
    assert skipped.status_code == 200, skipped.text
    assert skipped.json()["created"] == 1
    assert [b["line"] for b in skipped.json()["skipped"]] == [2, 3]
    assert one["balance"] == 50_000
    assert [(s["package"], s["status"], s["expires_at"]) for s in one["subscriptions"]] == [
        ("ZL7", "active", "2026-03-17T10:00:00+07:00")
    ]
    assert charges["charges"] == []
    assert [s["package"] for s in three["subscriptions"]] == ["ZL7"]
