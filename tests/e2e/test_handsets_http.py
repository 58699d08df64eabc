"""``/api/handsets/{msisdn}`` of the running gateway: read, set, refused, kept across a
restart."""

from __future__ import annotations

from collections.abc import Callable

from tests.support import GatewayProcess


def test_a_handset_is_on_until_set_and_keeps_its_state_across_a_restart(
    gateway_factory: Callable[..., GatewayProcess],
) -> None:
    """Never set: on, updated_at null. PUT off with the local form 0912345678: the
    canonical MSISDN, off, at the virtual clock's 10:00 (+07:00); the GET in the +84 form
    agrees, and so does the GET after a restart (the state is in the database)."""
    gateway = gateway_factory().start()
    with gateway.http() as http:
        assert http.get("/api/handsets/84912345678").json() == {
            "msisdn": "84912345678",
            "state": "on",
            "updated_at": None,
        }
        answer = http.put("/api/handsets/0912345678", json={"state": "off"})
        assert answer.status_code == 200
        set_off = {
            "msisdn": "84912345678",
            "state": "off",
            "updated_at": "2026-03-10T10:00:00+07:00",
        }
        assert answer.json() == set_off
        assert http.get("/api/handsets/+84912345678").json() == set_off
    gateway.stop()
    gateway.start()
    with gateway.http() as http:
        assert http.get("/api/handsets/84912345678").json() == set_off


def test_bad_input_is_a_422_with_its_reason_and_changes_nothing(
    gateway_factory: Callable[..., GatewayProcess],
) -> None:
    """A state not in the list, a missing or extra field, a body that is not an object,
    and an MSISDN that is not one are each 422 with the reason; the handset stays as set."""
    gateway = gateway_factory().start()
    with gateway.http() as http:
        assert http.put("/api/handsets/84912345678", json={"state": "barred"}).status_code == 200
        sleeping = http.put("/api/handsets/84912345678", json={"state": "sleeping"})
        assert sleeping.status_code == 422
        reason = str(sleeping.json()["detail"])
        assert "'on', 'off', 'absent', 'memory_full' or 'barred'" in reason
        for body in ({}, {"state": "on", "colour": "red"}, ["on"], {"state": 1}):
            answer = http.put("/api/handsets/84912345678", json=body)
            assert answer.status_code == 422, body
            assert answer.json()["detail"], body
        bad = http.put("/api/handsets/not-a-number", json={"state": "on"})
        assert bad.status_code == 422
        assert "not-a-number" in bad.json()["detail"]
        assert http.get("/api/handsets/12").status_code == 422
        assert http.get("/api/handsets/84912345678").json()["state"] == "barred"
