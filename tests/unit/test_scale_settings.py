"""Settings of several gateways on one database: the instance id, the shared subscription."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from gateway.adapters.postgres_connection import translate
from gateway.settings import Settings

PG = "postgresql://postgres@127.0.0.1:5432/scgw"


def test_mos_come_through_the_scgw_group_on_postgresql_only_unless_told() -> None:
    assert Settings(database_url=PG).share_group() == "scgw"
    assert Settings(database_url="sqlite:///./scgw.db").share_group() is None
    assert Settings(database_url=PG, mqtt_share_group="lab").share_group() == "lab"
    assert Settings(database_url=PG, mqtt_share_group="").share_group() is None
    assert Settings(mqtt_share_group="lab").share_group() == "lab"  # asked for, on SQLite


@pytest.mark.parametrize("value", ["a/b", "a+", "#", "a b", "x" * 49])
def test_an_instance_id_or_group_that_cannot_name_a_session_is_refused(value: str) -> None:
    """Each is part of an MQTT client id or a topic level: a word of at most 48 characters."""
    with pytest.raises(ValidationError, match="expected 1 to 48 letters, digits"):
        Settings(instance_id=value)
    with pytest.raises(ValidationError, match="expected 1 to 48 letters, digits"):
        Settings(mqtt_share_group=value)


def test_an_empty_instance_id_is_unset() -> None:
    assert Settings(instance_id="").instance_id is None
    assert Settings(instance_id="gw-2").instance_id == "gw-2"


def test_a_row_claim_is_a_comment_to_sqlite_and_skip_locked_on_postgresql() -> None:
    sql = "SELECT s.id FROM subscriptions s ORDER BY s.id LIMIT ? /* claim s */"
    assert translate(sql) == (
        "SELECT s.id FROM subscriptions s ORDER BY s.id LIMIT %s FOR UPDATE OF s SKIP LOCKED"
    )
