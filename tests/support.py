"""Test support: a real mosquitto on a free port, and the gateway as a running program."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiomqtt
import httpx

__all__ = ["GatewayProcess", "Mosquitto", "free_port", "mqtt_client", "next_json", "read_events"]

MOSQUITTO = shutil.which("mosquitto") or "/usr/sbin/mosquitto"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_port(port: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
            return
        time.sleep(0.02)
    raise TimeoutError(f"nothing listens on 127.0.0.1:{port} after {timeout}s")


@dataclass
class Mosquitto:
    """A mosquitto broker of our own, on a free port, with its own config."""

    workdir: Path
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"mqtt://127.0.0.1:{self.port}"

    def start(self) -> Mosquitto:
        conf = self.workdir / f"mosquitto-{self.port}.conf"
        conf.write_text(
            f"listener {self.port} 127.0.0.1\nallow_anonymous true\n"
            "persistence false\nmax_queued_messages 0\nmax_inflight_messages 0\n"
        )
        with (self.workdir / f"mosquitto-{self.port}.log").open("ab") as log:
            self.process = subprocess.Popen(
                [MOSQUITTO, "-c", str(conf)], stdout=subprocess.DEVNULL, stderr=log
            )
        _wait_port(self.port, 10)
        return self

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(10)
        self.process = None


@dataclass
class GatewayProcess:
    """``python -m gateway serve`` as a child process with its own settings."""

    workdir: Path
    env: dict[str, str]
    http_port: int = field(default_factory=free_port)
    smtp_port: int = field(default_factory=free_port)
    smpp_port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None
    runs: int = 0

    def __post_init__(self) -> None:
        # each free_port() closes its socket before the next is bound, so two of them may
        # return the same port (the gateway refuses that): pick again until they differ
        taken = {self.http_port}
        for name in ("smtp_port", "smpp_port"):
            port = getattr(self, name)
            while port in taken:
                port = free_port()
            taken.add(port)
            setattr(self, name, port)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"

    @property
    def log_path(self) -> Path:
        return self.workdir / "gateway.log"

    def start(self, timeout: float = 20) -> GatewayProcess:
        env = {
            **os.environ,
            "SCGW_SMTP_PORT": str(self.smtp_port),
            "SCGW_SMPP_PORT": str(self.smpp_port),
            **self.env,
            "SCGW_HTTP_PORT": str(self.http_port),
        }
        env.setdefault("SCGW_LOG_FORMAT", "json")
        self.runs += 1
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "gateway", "serve"],
                cwd=self.workdir,
                env=env,
                stdout=log,
                stderr=log,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gateway exited: {self.log_path.read_text()[-3000:]}")
            with contextlib.suppress(httpx.HTTPError):
                health = httpx.get(f"{self.url}/api/health", timeout=1).json()
                # another gateway may have taken our free HTTP port first (we would then
                # exit): the SMTP port tells whose health this is
                wanted = int(env["SCGW_SMTP_PORT"])
                ours = wanted == 0 or health.get("smtp", {}).get("port") == wanted
                if ours and health.get("mqtt", {}).get("connected"):
                    return self
            time.sleep(0.05)
        raise TimeoutError(f"gateway not healthy: {self.log_path.read_text()[-3000:]}")

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(sig)
            self.process.wait(20)
        self.process = None

    def kill(self) -> None:
        self.stop(signal.SIGKILL)

    def log_events(self) -> list[dict[str, Any]]:
        events = []
        for line in self.log_path.read_text().splitlines():
            with contextlib.suppress(ValueError):
                events.append(json.loads(line))
        return events

    def http(self) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=60)


@contextlib.asynccontextmanager
async def mqtt_client(
    port: int, *topics: str, protocol: str = "5"
) -> AsyncIterator[aiomqtt.Client]:
    version = aiomqtt.ProtocolVersion.V5 if protocol == "5" else aiomqtt.ProtocolVersion.V311
    async with aiomqtt.Client("127.0.0.1", port, protocol=version) as client:
        for topic in topics:
            await client.subscribe(topic, qos=1)
        yield client


async def next_json(client: aiomqtt.Client, wait: float = 10) -> tuple[str, dict[str, Any]]:
    """The next message on the client's subscriptions, decoded as JSON."""
    async with asyncio.timeout(wait):
        message = await anext(aiter(client.messages))
    assert isinstance(message.payload, bytes)
    return message.topic.value, json.loads(message.payload)


@contextlib.contextmanager
def running(*things: Mosquitto | GatewayProcess) -> Iterator[None]:
    try:
        yield
    finally:
        for thing in reversed(things):
            thing.stop()


async def read_events(lines: AsyncIterator[str], count: int) -> list[dict[str, Any]]:
    """The next ``count`` events of a Server-Sent Events stream (``/api/events``), decoded
    (comments skipped); fewer if the stream ends first."""
    events: list[dict[str, Any]] = []
    async for line in lines:
        if line.startswith("data: "):
            events.append(json.loads(line[6:]))
            if len(events) == count:
                break
    return events
