"""SMPP over TLS (SCGW_SMPP_TLS_CERT / SCGW_SMPP_TLS_KEY), with certificates made by
openssl for this test: smpplib (Python's ssl) and smpp34 (rustls) bind, verifying the
certificate against the test's CA, and exchange traffic; a plain TCP client gets no
bind_resp. (A certificate without its key, or a file that is no certificate, stops
start-up with one line: tests/e2e/test_startup_refusals.py.)"""

from __future__ import annotations

import asyncio
import json
import socket
import ssl
import struct
from collections.abc import Callable
from pathlib import Path

import pytest
import smpp34
import smpplib.client

from tests.broker_support import TlsFiles, make_tls_files
from tests.support import GatewayProcess, Mosquitto, mqtt_client

MSISDN = "84912345678"
HEADER = struct.Struct(">LLLL")


@pytest.fixture
def tls(tmp_path: Path) -> TlsFiles:
    return make_tls_files(tmp_path / "tls", name="scgw smpp test")


def _tls_gateway(factory: Callable[..., GatewayProcess], tls: TlsFiles) -> GatewayProcess:
    return factory(SCGW_SMPP_TLS_CERT=str(tls.cert), SCGW_SMPP_TLS_KEY=str(tls.key)).start()


def test_smpplib_binds_over_tls_and_texts_888(
    gateway_factory: Callable[..., GatewayProcess], tls: TlsFiles
) -> None:
    """smpplib with an SSL context that trusts only the test's CA (the chain verified)
    binds as handsets, texts DK ZL7 to 888 and gets the reply as deliver_sm, all over
    TLS; /api/health says smpp.tls is true."""
    gateway = _tls_gateway(gateway_factory, tls)
    with gateway.http() as http:
        assert http.get("/api/health").json()["smpp"]["tls"] is True
    context = ssl.create_default_context(cafile=str(tls.ca))
    context.check_hostname = False  # smpplib wraps its socket without a server name
    assert context.verify_mode == ssl.CERT_REQUIRED  # the chain is still verified
    client = smpplib.client.Client(
        "127.0.0.1",
        gateway.smpp_port,
        timeout=10,
        ssl_context=context,
        allow_unknown_opt_params=True,
    )
    received: list[bytes] = []
    client.set_message_received_handler(lambda pdu: received.append(pdu.short_message))
    client.connect()
    try:
        assert isinstance(client._socket, ssl.SSLSocket)
        bound = client.bind_transceiver(system_id="handsets", password="handsets")  # noqa: S106
        assert bound.status == 0
        client.send_message(
            source_addr="0912345678", destination_addr="888", short_message=b"DK ZL7"
        )
        for _ in range(10):  # the submit_sm_resp, then the reply
            if received:
                break
            client.read_once()
    finally:
        client.disconnect()
    assert received, "the reply from 888 came"
    assert b"ZL7" in received[0]


async def test_smpp34_binds_over_tls_and_gets_the_mo_of_its_short_code(
    gateway_factory: Callable[..., GatewayProcess],
    mosquitto: Mosquitto,
    tls: TlsFiles,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """smpp34 (rustls, trusting SSL_CERT_FILE: the test's CA) binds app9029 over TLS and
    gets the MO sent on MQTT to 9029 as deliver_sm."""
    monkeypatch.setenv("SSL_CERT_FILE", str(tls.ca))
    gateway = _tls_gateway(gateway_factory, tls)
    app = await smpp34.Client(
        "127.0.0.1", gateway.smpp_port, "app9029", "s3cret", bind_type="TRX", tls=True
    ).connect()
    async with mqtt_client(mosquitto.port) as mqtt:
        await mqtt.publish(
            "sms/mo/9029", json.dumps({"id": "t-1", "from": MSISDN, "text": "OVER TLS"}), qos=1
        )
    async with asyncio.timeout(10):
        mo = await app.next()
    assert isinstance(mo, smpp34.DeliverSmEvent)
    assert (mo.source_addr, mo.short_message) == (MSISDN, b"OVER TLS")
    await app.unbind()


def test_plain_tcp_to_the_tls_listener_gets_no_bind_resp(
    gateway_factory: Callable[..., GatewayProcess], tls: TlsFiles
) -> None:
    """A bind in clear text to the TLS listener is not an SMPP session: the connection
    ends without a byte of SMPP back (no bind_transceiver_resp)."""
    gateway = _tls_gateway(gateway_factory, tls)
    bind = b"handsets\x00handsets\x00\x00\x34\x00\x00\x00"
    with socket.create_connection(("127.0.0.1", gateway.smpp_port), timeout=10) as sock:
        sock.sendall(HEADER.pack(16 + len(bind), 0x00000009, 0, 1) + bind)
        answer = b""
        try:
            while chunk := sock.recv(4096):
                answer += chunk
        except ConnectionResetError:
            pass
    # a TLS alert at most (record type 0x15), never an SMPP header for 0x80000009
    assert answer[4:8] != b"\x80\x00\x00\x09"
    assert answer == b"" or answer[0] == 0x15
