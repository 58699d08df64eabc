"""The running program on PostgreSQL (SCGW_DATABASE_URL=postgresql://...), driven over MQTT;
two gateways on one database share their live events."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import psycopg
import pytest

from tests.postgres_support import fresh_database
from tests.support import GatewayProcess, Mosquitto, mqtt_client, next_json, read_events

MSISDN = "84912345678"


@pytest.fixture
def database_url() -> Iterator[str]:
    with fresh_database() as url:
        yield url


async def test_dk_zl7_is_charged_renewed_and_kept_on_postgresql(
    gateway_factory: Callable[..., GatewayProcess], mosquitto: Mosquitto, database_url: str
) -> None:
    """DK ZL7 over MQTT charges 5,000 of the default 50,000; a week on the virtual clock
    renews it for 5,000 more; the rows are in PostgreSQL, and a gateway killed with
    SIGKILL comes back with them and with its virtual time."""
    gateway = gateway_factory(SCGW_DATABASE_URL=database_url).start()
    async with mqtt_client(mosquitto.port, f"sms/mt/{MSISDN}") as client:
        await client.publish(
            "sms/mo/888", json.dumps({"id": "pg-1", "from": "0912345678", "text": "DK ZL7"}), qos=1
        )
        _, registered = await next_json(client)
        with gateway.http() as http:
            after_registration = http.get(f"/api/subscribers/{MSISDN}").json()["balance"]
            # registered 10:00 10/03/2026 (the virtual start): due again 7 x 24 h later
            http.post("/api/clock/advance", json={"seconds": 7 * 86_400})
        _, renewed = await next_json(client)
    assert registered["in_reply_to"] == "pg-1"
    assert "5.000d" in registered["text"]
    assert after_registration == 50_000 - 5_000
    assert "ZL7" in renewed["text"]
    assert renewed["at"] == "2026-03-17T10:00:00+07:00"

    with psycopg.connect(database_url) as conn:
        stored = conn.execute(
            "SELECT reason, amount FROM charges WHERE msisdn = %s ORDER BY at", (MSISDN,)
        ).fetchall()
    assert stored == [("registration", 5_000), ("renewal", 5_000)]

    gateway.kill()
    gateway.start()
    with gateway.http() as http:
        assert http.get("/api/clock").json()["now"] == "2026-03-17T10:00:00+07:00"
        subscriber = http.get(f"/api/subscribers/{MSISDN}").json()
    assert subscriber["balance"] == 50_000 - 5_000 - 5_000
    assert subscriber["subscriptions"][0]["expires_at"] == "2026-03-24T10:00:00+07:00"


async def test_an_mo_handled_by_one_gateway_shows_in_another_gateways_event_stream(
    tmp_path: Path,
    gateway_factory: Callable[..., GatewayProcess],
    mosquitto: Mosquitto,
    database_url: str,
) -> None:
    """Gateways A and B on one PostgreSQL database, each on a broker of its own: DK ZL7
    sent to A's broker is handled by A, and B's console stream (GET /api/events) shows
    its mo, its 5,000 charge and the reply, relayed by LISTEN/NOTIFY; B counted none of
    them as its own (its /api/stats), since B never saw the MO."""
    a = gateway_factory(SCGW_DATABASE_URL=database_url).start()
    (tmp_path / "b").mkdir()
    broker_b = Mosquitto(tmp_path / "b").start()
    b = GatewayProcess(
        tmp_path / "b",
        {
            **a.env,
            "SCGW_MQTT_URL": broker_b.url,
            "SCGW_MQTT_CLIENT_ID": f"scgw-test-{broker_b.port}",
        },
    )
    try:
        b.start()
        async with (
            httpx.AsyncClient(base_url=b.url, timeout=30) as http_b,
            http_b.stream("GET", "/api/events", params={"msisdn": MSISDN}) as stream,
            httpx.AsyncClient(base_url=a.url, timeout=30) as http_a,
            mqtt_client(mosquitto.port, f"sms/mt/{MSISDN}") as client,
        ):
            lines = stream.aiter_lines()
            assert await anext(lines) == ": connected"
            # A builds events for others once it has heard that B's console listens
            for _ in range(200):
                health = (await http_a.get("/api/health")).json()
                if health["events"]["other_gateways_listening"] == 1:
                    break
                await asyncio.sleep(0.05)
            else:
                raise AssertionError(f"A never heard of B's listener: {health.get('events')}")
            mo = {"id": "across-1", "from": "0912345678", "text": "DK ZL7"}
            await client.publish("sms/mo/888", json.dumps(mo), qos=1)
            _, reply = await next_json(client)
            relayed = await asyncio.wait_for(read_events(lines, 3), 15)
            stats_b = (await http_b.get("/api/stats")).json()
    finally:
        b.stop()
        broker_b.stop()
    assert reply["in_reply_to"] == "across-1"
    assert [e["kind"] for e in relayed] == ["mo", "charge", "mt"]
    assert relayed[0]["text"] == "DK ZL7"
    assert relayed[0]["at"] == "2026-03-10T10:00:00+07:00"
    assert (relayed[1]["amount"], relayed[1]["msisdn"]) == (5_000, MSISDN)
    assert relayed[2]["in_reply_to"] == relayed[0]["id"]
    assert relayed[2]["text"] == reply["text"]
    assert stats_b["mo"] == 0
