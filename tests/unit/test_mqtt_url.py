"""SCGW_MQTT_URL and SCGW_MQTT_CA_FILE: schemes, default ports, percent-decoded credentials."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from gateway.adapters.mqtt_connection import MqttEndpoint, parse_mqtt_url
from gateway.settings import Settings


@pytest.mark.parametrize(
    ("url", "endpoint"),
    [
        ("mqtt://broker", MqttEndpoint("broker", 1883)),
        ("tcp://broker:1884", MqttEndpoint("broker", 1884)),
        ("mqtts://broker", MqttEndpoint("broker", 8883, tls=True)),
        ("ssl://broker:8884", MqttEndpoint("broker", 8884, tls=True)),
        # @ : / % # ? in a user or password are written %40 %3A %2F %25 %23 %3F
        (
            "mqtt://gw%40lab:p%40ss%3Aw%2Frd%25%23%3F@127.0.0.1:1883",
            MqttEndpoint("127.0.0.1", 1883, "gw@lab", "p@ss:w/rd%#?"),
        ),
        ("mqtt://plain:secret@h", MqttEndpoint("h", 1883, "plain", "secret")),
        ("mqtt://only-user@h", MqttEndpoint("h", 1883, "only-user", None)),
    ],
)
def test_urls_name_the_endpoint(url: str, endpoint: MqttEndpoint) -> None:
    assert parse_mqtt_url(url) == endpoint


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://broker", "expected mqtt://host:port or mqtts://host:port"),
        ("mqtt://", "expected mqtt://host:port or mqtts://host:port"),
        ("mqtt://broker:port", "Port could not be cast to integer value"),
        ("mqtt://broker:70000", "Port out of range"),
    ],
)
def test_bad_urls_say_why(url: str, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        parse_mqtt_url(url)


def test_the_password_is_not_in_the_endpoints_text() -> None:
    endpoint = parse_mqtt_url("mqtts://gw:s3cret@broker")
    assert "s3cret" not in repr(endpoint)
    assert endpoint.url == "mqtts://broker:8883"


def test_the_ca_file_goes_with_an_mqtts_url(tmp_path: Path) -> None:
    ca = tmp_path / "ca.pem"
    ca.write_text("not read here")
    settings = Settings(mqtt_url="mqtts://broker", mqtt_ca_file=ca)
    assert settings.mqtt_endpoint() == MqttEndpoint("broker", 8883, tls=True, ca_file=ca)
    with pytest.raises(ValidationError, match="SCGW_MQTT_CA_FILE is for a TLS broker"):
        Settings(mqtt_url="mqtt://broker", mqtt_ca_file=ca)
    with pytest.raises(ValidationError, match="mqtt_ca_file"):
        Settings(mqtt_url="mqtts://broker", mqtt_ca_file=tmp_path / "missing.pem")
