"""Restarts and crashes: nothing acknowledged is lost, nothing is charged twice."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest

from tests.support import GatewayProcess, Mosquitto, mqtt_client, next_json

MSISDN = "84912345678"


@pytest.fixture
def gateway_database_url(any_database_url: str) -> str:
    """Every test here runs on SQLite, then on PostgreSQL."""
    return any_database_url


def test_restart_mid_scenario_keeps_clock_state_and_schedule(
    gateway_factory: Callable[..., GatewayProcess],
) -> None:
    """A gateway killed with SIGKILL comes back with its virtual time and runs the renewals it owes, once."""
    gateway = gateway_factory().start()
    with gateway.http() as http:
        http.post("/api/sms", json={"from": MSISDN, "text": "DK ZL7"})  # 10/03 10:00, 45,000 left
        http.post("/api/clock/advance", json={"to": "2026-03-15T10:00:00+07:00"})
    gateway.kill()
    gateway.start()
    with gateway.http() as http:
        assert http.get("/api/clock").json()["now"] == "2026-03-15T10:00:00+07:00"
        http.post("/api/clock/advance", json={"to": "2026-03-25T10:00:00+07:00"})
        # renewals at 17/03 10:00 and 24/03 10:00, 5,000 each
        charges = http.get(f"/api/subscribers/{MSISDN}/charges").json()["charges"]
        subscriber = http.get(f"/api/subscribers/{MSISDN}").json()
    assert [(c["reason"], c["at"]) for c in charges] == [
        ("registration", "2026-03-10T10:00:00+07:00"),
        ("renewal", "2026-03-17T10:00:00+07:00"),
        ("renewal", "2026-03-24T10:00:00+07:00"),
    ]
    assert subscriber["balance"] == 35_000
    assert subscriber["subscriptions"][0]["expires_at"] == "2026-03-31T10:00:00+07:00"


async def test_mo_sent_while_the_gateway_is_down_is_processed_after_restart(
    gateway_factory: Callable[..., GatewayProcess], mosquitto: Mosquitto
) -> None:
    """The gateway's MQTT session is persistent: the broker keeps QoS 1 MOs for it while it is down."""
    gateway = gateway_factory().start()
    gateway.kill()
    async with mqtt_client(mosquitto.port, f"sms/mt/{MSISDN}") as client:
        await client.publish(
            "sms/mo/888", json.dumps({"id": "while-down", "from": MSISDN, "text": "DK ZL1"}), qos=1
        )
        gateway.start()
        _, reply = await next_json(client, wait=20)
    assert reply["in_reply_to"] == "while-down"
    with gateway.http() as http:
        assert http.get(f"/api/subscribers/{MSISDN}").json()["balance"] == 49_000


async def test_committed_reply_survives_a_crash_before_it_was_published(
    gateway_factory: Callable[..., GatewayProcess], mosquitto: Mosquitto
) -> None:
    """Replies are published from the outbox: a crash after the commit, before the publish, loses nothing."""
    gateway = gateway_factory().start()
    mosquitto.stop()  # the broker is gone: the reply can be committed but not published
    with gateway.http() as http:
        answer = http.post("/api/sms", json={"id": "o-1", "from": MSISDN, "text": "DK ZL7"}).json()
    gateway.kill()
    mosquitto.start()
    async with mqtt_client(mosquitto.port, f"sms/mt/{MSISDN}") as client:
        gateway.start()
        _, published = await next_json(client, wait=20)
    assert published["id"] == answer["replies"][0]["id"]
    assert published["text"] == answer["replies"][0]["text"]
    with gateway.http() as http:
        charges = http.get(f"/api/subscribers/{MSISDN}/charges").json()["charges"]
        again = http.post("/api/sms", json={"id": "o-1", "from": MSISDN, "text": "DK ZL7"}).json()
    assert len(charges) == 1, "charged once"
    assert again["duplicate"] is True
    assert [r["id"] for r in again["replies"]] == [r["id"] for r in answer["replies"]]
