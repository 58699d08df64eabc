"""The running gateway's ``/openapi.json`` documents the shape of every JSON answer."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tests.support import GatewayProcess

#: operations that answer something other than JSON: the event stream, Prometheus text,
#: a raw RFC 5322 message, Mailpit's ``ok``, a recording's scenario file (TOML)
NOT_JSON = {
    ("get", "/api/events"),
    ("get", "/api/recordings/{recording}.toml"),
    ("get", "/metrics"),
    ("get", "/api/v1/message/{mail_id}/raw"),
    ("delete", "/api/v1/messages"),
}


def _schema(spec: dict[str, Any], response: dict[str, Any]) -> dict[str, Any] | None:
    """The component a response's JSON body refers to (None when it has none)."""
    ref = response.get("content", {}).get("application/json", {}).get("schema", {}).get("$ref")
    if ref is None:
        return None
    schema: dict[str, Any] = spec["components"]["schemas"][ref.rsplit("/", 1)[1]]
    return schema


def test_every_json_answer_of_every_operation_has_a_schema_with_properties(
    gateway_factory: Callable[..., GatewayProcess],
) -> None:
    """Each operation's success answer (and each documented error) names a component
    schema with properties; only the five non-JSON operations have none."""
    gateway = gateway_factory().start()
    with gateway.http() as http:
        spec = http.get("/openapi.json").json()
    missing = []
    operations = 0
    for path, methods in spec["paths"].items():
        for method, operation in methods.items():
            operations += 1
            if (method, path) in NOT_JSON:
                continue
            for status, response in operation["responses"].items():
                schema = _schema(spec, response)
                if schema is None or not schema.get("properties"):
                    missing.append(f"{method.upper()} {path} {status}")
    assert operations == 39  # the console page (/) is not in the schema
    assert missing == []


def test_a_subscriber_answer_has_exactly_the_keys_its_schema_lists_in_order(
    gateway_factory: Callable[..., GatewayProcess],
) -> None:
    """PUT then GET /api/subscribers/0912345678 after DK ZL7: the subscriber's keys and
    its subscription's keys are those of SubscriberOut and SubscriptionOut, same order;
    the reply of POST /api/sms likewise (SmsOut, ReplyOut)."""
    gateway = gateway_factory().start()
    with gateway.http() as http:
        spec = http.get("/openapi.json").json()
        assert http.put("/api/subscribers/0912345678", json={}).status_code == 201
        sms = http.post("/api/sms", json={"from": "0912345678", "text": "DK ZL7"}).json()
        subscriber = http.get("/api/subscribers/0912345678").json()
    schemas = spec["components"]["schemas"]
    assert list(subscriber) == list(schemas["SubscriberOut"]["properties"])
    assert len(subscriber["subscriptions"]) == 1
    assert list(subscriber["subscriptions"][0]) == list(schemas["SubscriptionOut"]["properties"])
    assert list(sms) == ["id", "duplicate", "replies"] == list(schemas["SmsOut"]["properties"])
    assert sms["replies"], sms
    assert list(sms["replies"][0]) == list(schemas["ReplyOut"]["properties"])
