"""Shared fixtures: a real mosquitto per test, the gateway as a running program."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.support import GatewayProcess, Mosquitto


@pytest.fixture
def mosquitto(tmp_path: Path) -> Iterator[Mosquitto]:
    broker = Mosquitto(tmp_path).start()
    yield broker
    broker.stop()


@pytest.fixture
def gateway_factory(
    tmp_path: Path, mosquitto: Mosquitto
) -> Iterator[Callable[..., GatewayProcess]]:
    """Start gateways on this test's broker, with a SQLite file in this test's folder."""
    started: list[GatewayProcess] = []

    def make(**env: str) -> GatewayProcess:
        settings = {
            "SCGW_MQTT_URL": mosquitto.url,
            "SCGW_DATABASE_URL": f"sqlite:///{tmp_path / 'scgw.db'}",
            "SCGW_CLOCK": "virtual",
            "SCGW_CLOCK_START": "2026-03-10T10:00:00+07:00",
            "SCGW_MQTT_CLIENT_ID": f"scgw-test-{mosquitto.port}",
            **env,
        }
        process = GatewayProcess(tmp_path, settings)
        started.append(process)
        return process

    yield make
    for process in started:
        process.stop()
