"""The console's API in the running program: the live stream, reports, the token off loopback."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import httpx

from tests.support import GatewayProcess, Mosquitto, read_events

MSISDN = "84912345678"


async def test_the_stream_shows_an_mo_its_charge_and_its_reply_then_the_renewal(
    gateway_factory: Callable[..., GatewayProcess], mosquitto: Mosquitto
) -> None:
    """GET /api/events?msisdn=...: DK ZL7 shows as mo, charge (5,000, prepaid_full_price)
    and mt; a week later on the virtual clock, the renewal shows as charge, mt, renewal
    (the clock event has no subscriber); events of another subscriber are filtered out."""
    gateway = gateway_factory().start()
    async with (
        httpx.AsyncClient(base_url=gateway.url, timeout=30) as http,
        http.stream("GET", "/api/events", params={"msisdn": "0912345678"}) as stream,
    ):
        lines = stream.aiter_lines()
        await http.post("/api/sms", json={"from": "0987654321", "text": "DK ZL1"})
        await http.post("/api/sms", json={"from": MSISDN, "text": "DK ZL7"})
        first = await asyncio.wait_for(read_events(lines, 3), 10)
        # registered 10:00 10/03 + 7 x 24 h = 10:00 17/03
        await http.post("/api/clock/advance", json={"to": "2026-03-17T10:00:00+07:00"})
        second = await asyncio.wait_for(read_events(lines, 3), 10)
        stats = (await http.get("/api/stats")).json()
        revenue = (await http.get("/api/reports/revenue", params={"by": "package"})).json()
        renewals = (await http.get("/api/reports/renewals", params={"days": 8})).json()
        timeline = (await http.get(f"/api/subscribers/{MSISDN}/timeline")).json()["events"]
    assert [e["kind"] for e in first] == ["mo", "charge", "mt"]
    assert first[0]["text"] == "DK ZL7"
    assert (first[1]["amount"], first[1]["rule"]) == (5_000, "prepaid_full_price")
    assert first[2]["in_reply_to"] == first[0]["id"]
    assert sorted(e["kind"] for e in second) == ["charge", "mt", "renewal"]
    assert all(e["msisdn"] == MSISDN for e in first + second)
    assert stats["mo"] == 2
    # ZL1 of the other subscriber renews daily 11/03..17/03 (7) and ZL7 once on 17/03
    assert stats["renewals"] == 8
    # ZL1: 1,000 on 10/03 and 7 daily renewals to 17/03 = 8 x 1,000; ZL7: 2 x 5,000
    assert {r["key"]: r["amount"] for r in revenue["rows"]} == {"ZL1": 8_000, "ZL7": 10_000}
    by_day = {r["day"]: r["succeeded"] for r in renewals["rows"]}
    assert by_day["2026-03-17"] == 2  # ZL1 and ZL7 both renewed at 10:00
    assert [e["kind"] for e in timeline][:3] == ["mo", "charge", "mt"]


def test_off_loopback_the_api_asks_for_the_token(
    tmp_path: Path, gateway_factory: Callable[..., GatewayProcess]
) -> None:
    """SCGW_HTTP_HOST=0.0.0.0 without SCGW_API_TOKEN refuses to start; with it, the API
    answers 401 without the token, 200 with it (header, query, or the cookie the console
    page sets), and /api/health stays open for probes."""
    env = {
        **os.environ,
        "SCGW_HTTP_HOST": "0.0.0.0",
        "SCGW_DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}",
    }
    env.pop("SCGW_API_TOKEN", None)
    refused = subprocess.run(
        [sys.executable, "-m", "gateway", "serve"],
        env=env,
        capture_output=True,
        timeout=60,
        text=True,
    )
    assert refused.returncode != 0
    assert "SCGW_API_TOKEN" in refused.stderr

    token = "s3cret-0123456789"  # noqa: S105 - a test token
    gateway = gateway_factory(SCGW_HTTP_HOST="0.0.0.0", SCGW_API_TOKEN=token).start()
    with httpx.Client(base_url=gateway.url, timeout=30) as http:
        assert http.get("/api/subscribers").status_code == 401
        assert http.get("/api/health").status_code == 200
        assert (
            http.get("/api/subscribers", headers={"Authorization": "Bearer nope"}).status_code
            == 401
        )
        ok = http.get("/api/subscribers", headers={"Authorization": "Bearer s3cret-0123456789"})
        assert ok.status_code == 200
        page = http.get("/", params={"token": "s3cret-0123456789"})
        assert page.status_code == 200
        assert http.cookies.get("scgw_token") == "s3cret-0123456789"
        assert http.get("/api/catalogs").status_code == 200  # the cookie now
