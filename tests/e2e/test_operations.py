"""Operations in the running program: flood control, readiness, Prometheus metrics."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Callable
from typing import Any

import httpx

from tests.support import GatewayProcess, Mosquitto, mqtt_client

FLOODER = "84915550000"


async def test_a_flood_from_one_number_is_limited_and_the_excess_reported_not_charged(
    gateway_factory: Callable[..., GatewayProcess], mosquitto: Mosquitto
) -> None:
    """300 MOs from one number as fast as MQTT takes them, alternating DK ZL1 / HUY ZL1
    (each DK that is processed charges 1,000). With the default limit (10 a second,
    bursts of 20), at most 20 + 10 × the seconds it took to see them all through are
    processed; every other one
    is reported on sms/errors with the reason and changes nothing: the charges are
    exactly those the processed MOs make, and every MO is answered or reported, once."""
    gateway = gateway_factory().start()
    sent = 300
    answered: dict[str, int] = {}
    reported: dict[str, str] = {}
    async with mqtt_client(mosquitto.port, f"sms/mt/{FLOODER}", "sms/errors") as listener:
        started = time.monotonic()
        async with mqtt_client(mosquitto.port) as sender:
            for i in range(sent):
                text = "DK ZL1" if i % 2 == 0 else "HUY ZL1"
                payload = json.dumps({"id": f"f{i}", "from": FLOODER, "text": text})
                await sender.publish("sms/mo/888", payload, qos=1)

        async def collect() -> None:
            async for message in listener.messages:
                assert isinstance(message.payload, bytes)
                body: dict[str, Any] = json.loads(message.payload)
                if message.topic.value == "sms/errors":
                    mo = json.loads(body["payload"])
                    reported[mo["id"]] = body["reason"]
                else:
                    key = body["in_reply_to"]
                    answered[key] = answered.get(key, 0) + 1
                if len(answered) + len(reported) >= sent:
                    return

        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(30):
                await collect()
        # the gateway took them in within this window (it cannot be longer)
        elapsed = time.monotonic() - started
    with gateway.http() as http:
        charges = http.get(f"/api/subscribers/{FLOODER}/charges").json()["charges"]

    assert set(answered) | set(reported) == {f"f{i}" for i in range(sent)}
    assert set(answered) & set(reported) == set()
    assert set(answered.values()) == {1}
    assert 20 <= len(answered) <= 20 + 10 * elapsed + 1
    assert all(r.startswith(f"rate limited: {FLOODER}") for r in reported.values())
    # the processed MOs, in order, on ZL1 (seed 004): a DK charges 1,000 unless ZL1 is
    # already registered (a HUY in between may have been refused); a HUY ends it
    registered, expected = False, 0
    for i in sorted(int(k[1:]) for k in answered):
        if i % 2 == 0 and not registered:
            registered, expected = True, expected + 1
        elif i % 2 == 1:
            registered = False
    assert [c["amount"] for c in charges] == [1_000] * expected


async def test_readiness_names_the_broker_while_it_is_down(
    gateway_factory: Callable[..., GatewayProcess], mosquitto: Mosquitto
) -> None:
    """/api/ready is 200 with every component ready; with the broker stopped it is 503
    naming mqtt (liveness, /api/health, still answers 200); back once the broker is."""
    gateway = gateway_factory().start()
    async with httpx.AsyncClient(base_url=gateway.url, timeout=10) as http:
        ready = await http.get("/api/ready")
        mosquitto.stop()

        async def probe() -> httpx.Response:
            deadline = time.monotonic() + 15
            while time.monotonic() < deadline:
                answer = await http.get("/api/ready")
                if answer.status_code == 503:
                    return answer
                await asyncio.sleep(0.1)
            return answer

        down = await probe()
        alive = await http.get("/api/health")
        mosquitto.start()
        deadline = time.monotonic() + 20
        back = await http.get("/api/ready")
        while back.status_code != 200 and time.monotonic() < deadline:
            await asyncio.sleep(0.1)
            back = await http.get("/api/ready")

    assert ready.status_code == 200, ready.text
    assert ready.json()["status"] == "ready"
    assert set(ready.json()["components"]) == {"mqtt", "smtp", "storage"}
    assert down.status_code == 503
    assert [f.split(":")[0] for f in down.json()["failing"]] == ["mqtt"]
    assert alive.status_code == 200
    assert back.status_code == 200


def test_metrics_count_mos_charges_and_commits(
    gateway_factory: Callable[..., GatewayProcess],
) -> None:
    """After DK ZL7 over HTTP (5,000 charged): /metrics has one processed MO on 888, one
    registration charge, a commit observed, and the components ready."""
    gateway = gateway_factory().start()
    with gateway.http() as http:
        http.post("/api/sms", json={"from": "84912340001", "text": "DK ZL7"})
        text = http.get("/metrics").text

    assert 'scgw_mo_total{outcome="processed",shortcode="888"} 1.0' in text
    assert 'scgw_charges_total{reason="registration"} 1.0' in text
    assert "scgw_commit_seconds_count" in text
    assert 'scgw_ready{component="storage"} 1.0' in text
