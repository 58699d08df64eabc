"""Reaching the broker: TLS with a CA file, percent-encoded credentials, refusals, absence."""

from __future__ import annotations

import json
import os
import ssl
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import aiomqtt
import httpx

from tests.broker_support import ConfiguredMosquitto, make_tls_files
from tests.support import GatewayProcess, free_port, next_json

MSISDN = "84912345678"
#: a user and password with every character that needs percent-encoding in a URL
GATEWAY_USER, GATEWAY_PASSWORD = "gw@lab", "p@ss:w/rd%#?"
GATEWAY_USERINFO = "gw%40lab:p%40ss%3Aw%2Frd%25%23%3F"
HANDSET_USER, HANDSET_PASSWORD = "handset", "h4ndset"


def _gateway(tmp_path: Path, url: str, **env: str) -> GatewayProcess:
    return GatewayProcess(
        tmp_path,
        {
            "SCGW_MQTT_URL": url,
            "SCGW_DATABASE_URL": f"sqlite:///{tmp_path / 'scgw.db'}",
            "SCGW_CLOCK": "virtual",
            "SCGW_CLOCK_START": "2026-03-10T10:00:00+07:00",
            "SCGW_MQTT_CLIENT_ID": "scgw-access-test",
            **env,
        },
    )


def _spawn(gateway: GatewayProcess) -> None:
    """Start the gateway without waiting for the broker (``start`` waits for it)."""
    env = {
        **os.environ,
        "SCGW_SMTP_PORT": str(gateway.smtp_port),
        "SCGW_SMPP_PORT": str(gateway.smpp_port),
        **gateway.env,
        "SCGW_HTTP_PORT": str(gateway.http_port),
        "SCGW_LOG_FORMAT": "json",
    }
    with gateway.log_path.open("ab") as log:
        gateway.process = subprocess.Popen(
            [sys.executable, "-m", "gateway", "serve"],
            cwd=gateway.workdir,
            env=env,
            stdout=log,
            stderr=log,
        )


def _connect_failures(gateway: GatewayProcess, count: int) -> list[dict[str, Any]]:
    """The first ``count`` ``mqtt_connect_failed`` lines, once the gateway has logged them."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        assert gateway.process is not None
        assert gateway.process.poll() is None, gateway.log_path.read_text()[-2000:]
        failed = [e for e in gateway.log_events() if e.get("event") == "mqtt_connect_failed"]
        if len(failed) >= count:
            return failed[:count]
        time.sleep(0.05)
    raise TimeoutError(f"fewer than {count} failed attempts: {gateway.log_path.read_text()}")


def _health(gateway: GatewayProcess) -> dict[str, Any]:
    deadline = time.monotonic() + 20
    while True:
        try:
            body: dict[str, Any] = httpx.get(f"{gateway.url}/api/health", timeout=1).json()
            return body
        except httpx.HTTPError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


async def test_mqtts_with_a_ca_file_and_percent_encoded_credentials(tmp_path: Path) -> None:
    """``mqtts://user:pass@host:port`` with SCGW_MQTT_CA_FILE: the user and password are
    percent-decoded, the broker's certificate is checked against the CA, and MOs and MTs
    flow over TLS."""
    tls = make_tls_files(tmp_path / "certs")
    broker = ConfiguredMosquitto(
        tmp_path, tls=tls, users={GATEWAY_USER: GATEWAY_PASSWORD, HANDSET_USER: HANDSET_PASSWORD}
    ).start()
    gateway = _gateway(
        tmp_path,
        f"mqtts://{GATEWAY_USERINFO}@127.0.0.1:{broker.port}",
        SCGW_MQTT_CA_FILE=str(tls.ca),
    )
    try:
        gateway.start()  # returns once health says MQTT is connected
        context = ssl.create_default_context(cafile=str(tls.ca))
        async with aiomqtt.Client(
            "127.0.0.1",
            broker.port,
            username=HANDSET_USER,
            password=HANDSET_PASSWORD,
            tls_context=context,
        ) as handset:
            await handset.subscribe(f"sms/mt/{MSISDN}", qos=1)
            mo = {"id": "tls-1", "from": "0912345678", "text": "DK ZL7"}
            await handset.publish("sms/mo/888", json.dumps(mo), qos=1)
            _, reply = await next_json(handset)
        assert reply["in_reply_to"] == "tls-1"
        assert "5.000d" in reply["text"]  # ZL7 costs 5,000
        started = [e for e in gateway.log_events() if e.get("event") == "gateway_started"]
        assert started[-1]["mqtt"] == f"mqtts://127.0.0.1:{broker.port}"  # no password
    finally:
        gateway.stop()
        broker.stop()


def test_without_the_ca_file_the_broker_certificate_is_refused(tmp_path: Path) -> None:
    """A certificate from a CA the system does not trust is refused, and the log says why."""
    tls = make_tls_files(tmp_path / "certs")
    broker = ConfiguredMosquitto(tmp_path, tls=tls).start()
    gateway = _gateway(tmp_path, f"mqtts://127.0.0.1:{broker.port}")
    try:
        _spawn(gateway)
        first, second = _connect_failures(gateway, 2)
        assert _health(gateway)["mqtt"]["connected"] is False
    finally:
        gateway.stop()
        broker.stop()
    assert "CERTIFICATE_VERIFY_FAILED" in first["error"]
    assert (first["attempt"], second["attempt"]) == (1, 2)


def test_a_refused_login_is_one_line_per_attempt(tmp_path: Path) -> None:
    """Wrong credentials: each attempt is one line with the broker's reason, and backs off
    0.1 s, 0.2 s, 0.4 s (doubling). With ``auto`` the refusal is not retried in MQTT
    3.1.1: the broker refused the login, not the version."""
    broker = ConfiguredMosquitto(tmp_path, users={"gw": "right"}).start()
    gateway = _gateway(tmp_path, f"mqtt://gw:wrong@127.0.0.1:{broker.port}")
    try:
        _spawn(gateway)
        failures = _connect_failures(gateway, 3)
    finally:
        gateway.stop()
        broker.stop()
    events = gateway.log_events()
    assert [(f["attempt"], f["error"], f["retry_in"]) for f in failures] == [
        (1, "Not authorized", 0.1),
        (2, "Not authorized", 0.2),
        (3, "Not authorized", 0.4),
    ]
    # nothing else about the broker: no second line per attempt
    mqtt_lines = [e["event"] for e in events if e.get("event", "").startswith("mqtt_")]
    assert set(mqtt_lines) == {"mqtt_connect_failed"}
    # the broker refused one login per attempt (MQTT 5 only), and perhaps one more that
    # the gateway's stop cut short before it was logged
    attempts = sum(e.get("event") == "mqtt_connect_failed" for e in events)
    refused = (tmp_path / f"mosquitto-{broker.port}.log").read_text().count("not authorised")
    assert attempts <= refused <= attempts + 1


def test_an_unreachable_broker_is_retried_until_it_comes(tmp_path: Path) -> None:
    """No broker yet: the gateway says so from the first attempt, one line per attempt,
    backs off, and connects when a broker starts on that port."""
    port = free_port()
    gateway = _gateway(tmp_path, f"mqtt://127.0.0.1:{port}")
    broker = ConfiguredMosquitto(tmp_path, port=port)
    try:
        _spawn(gateway)
        failures = _connect_failures(gateway, 3)
        assert _health(gateway)["mqtt"]["connected"] is False
        broker.start()
        deadline = time.monotonic() + 20
        while not _health(gateway)["mqtt"]["connected"]:
            assert time.monotonic() < deadline, gateway.log_path.read_text()[-2000:]
            time.sleep(0.05)
        with gateway.http() as http:
            reply = http.post("/api/sms", json={"from": MSISDN, "text": "KTTK_ZL"})
        assert reply.status_code == 200
        events = gateway.log_events()
    finally:
        gateway.stop()
        broker.stop()
    assert [(f["attempt"], f["retry_in"]) for f in failures] == [(1, 0.1), (2, 0.2), (3, 0.4)]
    assert all("Connection refused" in f["error"] for f in failures)
    attempts = [e["attempt"] for e in events if e.get("event") == "mqtt_connect_failed"]
    assert attempts == list(range(1, len(attempts) + 1)), "one line per attempt"
    assert [e["event"] for e in events if e.get("event") == "mqtt_connected"] == ["mqtt_connected"]
