"""Shared fixtures: a real mosquitto per test, the gateway as a running program.

The gateways of a test share ``gateway_database_url``: a SQLite file in the test's
folder. A module runs its tests on both engines by overriding it with
``any_database_url`` (a SQLite file, then a fresh PostgreSQL database of the test's own).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.postgres_support import fresh_database
from tests.support import GatewayProcess, Mosquitto


@pytest.fixture
def mosquitto(tmp_path: Path) -> Iterator[Mosquitto]:
    broker = Mosquitto(tmp_path).start()
    yield broker
    broker.stop()


@pytest.fixture
def gateway_database_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'scgw.db'}"


@pytest.fixture(params=["sqlite", "postgres"])
def any_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A SQLite file in the test's folder, then an empty PostgreSQL database of its own
    (the gateway creates its tables on its first start, as in production)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'scgw.db'}"
        return
    with fresh_database() as url:
        yield url


@pytest.fixture
def gateway_factory(
    tmp_path: Path, mosquitto: Mosquitto, gateway_database_url: str
) -> Iterator[Callable[..., GatewayProcess]]:
    """Start gateways on this test's broker and database (``gateway_database_url``)."""
    started: list[GatewayProcess] = []

    def make(**env: str) -> GatewayProcess:
        settings = {
            "SCGW_MQTT_URL": mosquitto.url,
            "SCGW_DATABASE_URL": gateway_database_url,
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
