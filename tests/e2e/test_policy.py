"""The policy engine in the running program: the seed catalogs' short codes, usage over MQTT."""

from __future__ import annotations

import json
from collections.abc import Callable

import httpx

from tests.support import GatewayProcess, Mosquitto, mqtt_client, next_json

MSISDN = "84912345678"


async def test_streaming_asks_for_y_then_offers_to_keep_the_subscriber(
    gateway_factory: Callable[..., GatewayProcess], mosquitto: Mosquitto
) -> None:
    """Short code 8300 (seed 002): DK PSTD waits for Y (nothing charged before it); Y
    registers it at 220,000; HUY PSTD answers with the offers; 3 confirms: the plan runs
    to the end of the cycle (pending_cancel), then the account drops to PFREE."""
    gateway = gateway_factory(SCGW_DEFAULT_BALANCE="300000").start()
    async with httpx.AsyncClient(base_url=gateway.url, timeout=30) as http:

        async def text(body: str) -> str:
            reply = await http.post("/api/sms", json={"from": MSISDN, "to": "8300", "text": body})
            assert reply.status_code == 200, reply.text
            return str(reply.json()["replies"][0]["text"])

        asked = await text("DK PSTD")
        before = (await http.get(f"/api/subscribers/{MSISDN}")).json()
        registered = await text("Y")
        offers = await text("HUY PSTD")
        confirmed = await text("3")
        pending = (await http.get(f"/api/subscribers/{MSISDN}")).json()
        # registered 10/03/2026 10:00 + 1 month = 10/04/2026 10:00: the cycle ends
        await http.post("/api/clock/advance", json={"to": "2026-04-10T10:00:01+07:00"})
        after = (await http.get(f"/api/subscribers/{MSISDN}")).json()
        charges = (await http.get(f"/api/subscribers/{MSISDN}/charges")).json()["charges"]
    assert "Y" in asked
    assert before["balance"] == 300_000
    assert before["subscriptions"] == []
    assert "PSTD" in registered
    assert "220.000d" in registered
    assert "1 " in offers
    assert "PBASIC" in offers
    assert "110.000d" in offers
    assert "10/04/2026" in confirmed
    assert [(s["package"], s["status"]) for s in pending["subscriptions"]] == [
        ("PSTD", "pending_cancel")
    ]
    assert pending["balance"] == 300_000 - 220_000
    assert [(s["package"], s["status"]) for s in after["subscriptions"]] == [
        ("PSTD", "cancelled"),
        ("PFREE", "active"),
    ]
    assert after["balance"] == 80_000  # nothing charged at the end of the cycle
    assert [(c["reason"], c["amount"], c["rule"]) for c in charges] == [
        ("registration", 220_000, "prepaid_full_price")
    ]


async def test_usage_over_mqtt_is_zero_rated_by_a_pack_and_charged_without_one(
    gateway_factory: Callable[..., GatewayProcess], mosquitto: Mosquitto
) -> None:
    """usage/<msisdn>: Zalo data while ZL7 is active is zero-rated and KTTK_ZL reports it;
    data in an app no pack covers is charged per started MB (2.5 MB -> 3 MB x 1,000 đ);
    a bad payload goes to sms/errors."""
    gateway = gateway_factory(SCGW_DATA_RATE_PER_MB="1000").start()
    async with (
        mqtt_client(mosquitto.port, f"sms/mt/{MSISDN}", "sms/errors") as client,
        httpx.AsyncClient(base_url=gateway.url, timeout=30) as http,
    ):
        await http.post("/api/sms", json={"from": MSISDN, "text": "DK ZL7"})
        await next_json(client)
        await client.publish(
            f"usage/{MSISDN}", json.dumps({"app": "zalo", "bytes": 2_500_000, "id": "u1"}), qos=1
        )
        await client.publish(
            f"usage/{MSISDN}", json.dumps({"app": "zalo", "bytes": 2_500_000, "id": "u1"}), qos=1
        )
        await client.publish(
            f"usage/{MSISDN}", json.dumps({"app": "maps", "bytes": 2_500_000, "id": "u2"}), qos=1
        )
        await client.publish(f"usage/{MSISDN}", b'{"app": "zalo"}', qos=1)
        topic, error = await next_json(client)
        status = (await http.post("/api/sms", json={"from": MSISDN, "text": "KTTK_ZL"})).json()
        usage = (await http.get(f"/api/subscribers/{MSISDN}/usage")).json()["usage"]
        subscriber = (await http.get(f"/api/subscribers/{MSISDN}")).json()
        charges = (await http.get(f"/api/subscribers/{MSISDN}/charges")).json()["charges"]
    assert topic == "sms/errors"
    assert "bytes" in error["reason"]
    assert "2.5 MB" in status["replies"][0]["text"]  # counted once: the resend of u1 is not
    assert [(u["app"], u["bytes"], u["zero_rated_by"] is not None) for u in usage] == [
        ("zalo", 2_500_000, True),
        ("maps", 2_500_000, False),
    ]
    # 50,000 - 5,000 (ZL7) - 3 MB started x 1,000 = 42,000
    assert subscriber["balance"] == 42_000
    usage_charge = charges[-1]
    assert (usage_charge["reason"], usage_charge["amount"], usage_charge["rule"]) == (
        "usage",
        3_000,
        "out_of_bundle_per_mb",
    )
    assert usage_charge["inputs"]["megabytes_started"] == 3
    assert usage_charge["inputs"]["rate_per_mb"] == 1000
