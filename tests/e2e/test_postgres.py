"""The running program on PostgreSQL (SCGW_DATABASE_URL=postgresql://...), driven over MQTT."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator

import psycopg
import pytest

from tests.postgres_support import fresh_database
from tests.support import GatewayProcess, Mosquitto, mqtt_client, next_json

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
