"""Finding a broker: an existing one on 127.0.0.1:1883, or an embedded amqtt broker."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator
from typing import Any

import structlog

__all__ = ["embedded_broker", "is_listening"]

log = structlog.get_logger("gateway.broker")


async def is_listening(host: str, port: int, wait: float = 0.5) -> bool:
    try:
        async with asyncio.timeout(wait):
            _, writer = await asyncio.open_connection(host, port)
    except (OSError, TimeoutError):
        return False
    writer.close()
    with contextlib.suppress(OSError):
        await writer.wait_closed()
    return True


def _free_port(host: str) -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


@contextlib.asynccontextmanager
async def embedded_broker(host: str = "127.0.0.1", port: int = 1883) -> AsyncIterator[int]:
    """Run an in-process amqtt broker (MQTT 3.1.1 only); yields the port it listens on."""
    from amqtt.broker import Broker  # imported only when needed: it is slow to import

    if port == 0:
        port = _free_port(host)
    config: dict[str, Any] = {
        "listeners": {
            "default": {"type": "tcp", "bind": f"{host}:{port}", "max_connections": 1000}
        },
        "plugins": {"amqtt.plugins.authentication.AnonymousAuthPlugin": {"allow_anonymous": True}},
    }
    broker = Broker(config)
    await broker.start()
    log.info(
        "embedded_broker_started", host=host, port=port, protocol="3.1.1", implementation="amqtt"
    )
    try:
        yield port
    finally:
        await broker.shutdown()
