"""Faults on demand per SMPP account, driven by smpp34 and smpplib over TCP: throttling,
a seeded submit error rate, slow responses and dropped sessions (seeded too). A refused
or dropped submit_sm is neither sent nor charged."""

from __future__ import annotations

import socket
import struct
import time
from collections.abc import Callable
from pathlib import Path

import pytest
import smpp34
import smpplib.client
import smpplib.exceptions

from tests.support import GatewayProcess

MSISDN = "84912345678"
PASSWORD = "s3cret"  # noqa: S105 - the account of these tests
HEADER = struct.Struct(">LLLL")


def _gateway(factory: Callable[..., GatewayProcess], tmp_path: Path, faults: str) -> GatewayProcess:
    """A gateway whose app9029 charges 100đ an MT and has ``faults``; a prepaid subscriber
    with 100,000đ."""
    accounts = tmp_path / "accounts.toml"
    accounts.write_text(
        '[[accounts]]\nsystem_id = "app9029"\npassword = "s3cret"\nrole = "application"\n'
        f'short_codes = ["9029"]\nmt_price = 100\n{faults}\n'
    )
    gateway = factory(SCGW_SMPP_ACCOUNTS=str(accounts)).start()
    with gateway.http() as http:
        body = {"kind": "prepaid", "balance": 100_000}
        assert http.put(f"/api/subscribers/{MSISDN}", json=body).status_code == 201
    return gateway


def _charged(gateway: GatewayProcess) -> list[str]:
    """The message ids of the MT charges, oldest first."""
    with gateway.http() as http:
        charges = http.get(f"/api/subscribers/{MSISDN}/charges").json()["charges"]
    assert {c["reason"] for c in charges} <= {"mt"}
    return sorted(c["message_id"] for c in charges)


async def _app(gateway: GatewayProcess) -> smpp34.Smsc:
    return await smpp34.Client(
        "127.0.0.1", gateway.smpp_port, "app9029", PASSWORD, bind_type="TRX"
    ).connect()


async def test_throughput_answers_esme_rthrottled_above_the_rate_and_charges_nothing(
    gateway_factory: Callable[..., GatewayProcess], tmp_path: Path
) -> None:
    """throughput = 0.01 a second allows bursts of 1: the first submit_sm is accepted, the
    next two (well within the 100 s a token takes) are ESME_RTHROTTLED (0x58), and only the
    first is charged."""
    gateway = _gateway(gateway_factory, tmp_path, "throughput = 0.01")
    app = await _app(gateway)
    responses = [
        await app.submit_sm(MSISDN, f"n{n}".encode(), source_addr="9029") for n in range(3)
    ]
    await app.unbind()
    assert [r.command_status for r in responses] == [0, 0x58, 0x58]
    assert _charged(gateway) == [responses[0].message_id]


async def test_submit_error_rate_is_seeded_the_same_refusals_after_a_restart(
    gateway_factory: Callable[..., GatewayProcess], tmp_path: Path
) -> None:
    """submit_error_rate = 0.5: of 30 submit_sm some, not all, are ESME_RSUBMITFAIL (0x45);
    the accepted ones, and only they, are charged; after a restart the same 30 get the same
    answers in the same order (seeded by system_id)."""
    gateway = _gateway(gateway_factory, tmp_path, "submit_error_rate = 0.5")
    patterns: list[list[int]] = []
    accepted: list[str] = []
    for run in range(2):
        if run:
            gateway.stop()
            gateway.start()
        app = await _app(gateway)
        responses = [
            await app.submit_sm(MSISDN, f"n{n}".encode(), source_addr="9029") for n in range(30)
        ]
        await app.unbind()
        assert {r.command_status for r in responses} == {0, 0x45}
        patterns.append([r.command_status for r in responses])
        accepted += [str(r.message_id) for r in responses if r.command_status == 0]
    assert patterns[0] == patterns[1]
    assert _charged(gateway) == sorted(accepted)


def _raw(command_id: int, sequence: int, body: bytes = b"") -> bytes:
    return HEADER.pack(16 + len(body), command_id, 0, sequence) + body


def _read(sock: socket.socket) -> tuple[int, int, int]:
    head = b""
    while len(head) < 16:
        chunk = sock.recv(16 - len(head))
        assert chunk, "the gateway closed the connection"
        head += chunk
    length, command_id, status, sequence = HEADER.unpack(head)
    left = length - 16
    while left:
        left -= len(sock.recv(left))
    return command_id, status, sequence


def test_response_delay_holds_submit_sm_resp_while_the_session_goes_on(
    gateway_factory: Callable[..., GatewayProcess], tmp_path: Path
) -> None:
    """response_delay = 1.5: an enquire_link sent after a submit_sm is answered first; the
    submit_sm_resp (ESME_ROK) comes after, no sooner than 1.5 s after the submit_sm."""
    gateway = _gateway(gateway_factory, tmp_path, "response_delay = 1.5")
    with socket.create_connection(("127.0.0.1", gateway.smpp_port), timeout=10) as sock:
        sock.sendall(_raw(0x00000009, 1, b"app9029\x00s3cret\x00\x00\x34\x00\x00\x00"))
        assert _read(sock) == (0x80000009, 0, 1)
        # service_type, source 9029 (ton 0 npi 1), destination the MSISDN (1, 1), esm_class,
        # protocol_id, priority, 2 empty times, registered_delivery, replace, data_coding,
        # sm_default_msg_id, sm_length 2, "hi"
        body = b"\x00\x00\x019029\x00\x01\x01" + MSISDN.encode() + b"\x00"
        body += b"\x00\x00\x00\x00\x00\x00\x00\x00\x00\x02hi"
        sent = time.monotonic()
        sock.sendall(_raw(0x00000004, 2, body))
        sock.sendall(_raw(0x00000015, 3))
        assert _read(sock) == (0x80000015, 0, 3), "enquire_link_resp first"
        assert _read(sock) == (0x80000004, 0, 2), "then submit_sm_resp"
        assert time.monotonic() - sent >= 1.5


def test_drop_after_closes_each_session_at_its_nth_submit_sm_unanswered_and_uncharged(
    gateway_factory: Callable[..., GatewayProcess], tmp_path: Path
) -> None:
    """drop_after = 3 (smpplib): two submit_sm are answered, the third gets no answer, the
    connection is closed without unbind and nothing of the third is charged; a new
    session binds and again gets two answers before its own third drops it."""
    gateway = _gateway(gateway_factory, tmp_path, "drop_after = 3")
    answered = []
    for _ in range(2):
        client = smpplib.client.Client(
            "127.0.0.1", gateway.smpp_port, timeout=10, allow_unknown_opt_params=True
        )
        client.connect()
        client.bind_transceiver(system_id="app9029", password=PASSWORD)
        for n in range(2):
            client.send_message(source_addr="9029", destination_addr=MSISDN, short_message=b"x")
            response = client.read_pdu()
            assert (response.command, response.status) == ("submit_sm_resp", 0), n
            answered.append(response.message_id.decode())
        client.send_message(source_addr="9029", destination_addr=MSISDN, short_message=b"x")
        with pytest.raises(smpplib.exceptions.ConnectionError):
            client.read_pdu()
        client.disconnect()
    assert _charged(gateway) == sorted(answered)
    dropped = [e for e in gateway.log_events() if e.get("event") == "smpp_session_dropped"]
    assert len(dropped) == 2


async def test_drop_rate_is_seeded_the_same_drops_after_a_restart(
    gateway_factory: Callable[..., GatewayProcess], tmp_path: Path
) -> None:
    """drop_rate = 0.3 (smpp34): of 20 submit_sm, each on a bound session (bound again
    after a drop), some, not all, drop the session unanswered; after a restart the same
    ones drop; only the answered ones are charged."""
    gateway = _gateway(gateway_factory, tmp_path, "drop_rate = 0.3")
    patterns: list[list[int]] = []
    answered: list[str] = []
    for run in range(2):
        if run:
            gateway.stop()
            gateway.start()
        dropped: list[int] = []
        app = await _app(gateway)
        for n in range(20):
            try:
                response = await app.submit_sm(MSISDN, f"n{n}".encode(), source_addr="9029")
            except smpp34.SmppError:
                dropped.append(n)
                app = await _app(gateway)
                continue
            assert response.command_status == 0
            answered.append(str(response.message_id))
        await app.unbind()
        assert 0 < len(dropped) < 20
        patterns.append(dropped)
    assert patterns[0] == patterns[1]
    assert _charged(gateway) == sorted(answered)
