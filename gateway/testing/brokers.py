"""The broker a test gateway uses: a private mosquitto when one is installed, else none
(the gateway then runs an embedded amqtt broker in its own event loop)."""

from __future__ import annotations

import contextlib
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

__all__ = ["BrokerChoice", "Mosquitto", "find_mosquitto", "free_port"]

#: ``auto``: mosquitto when installed, else embedded; ``mosquitto`` insists on it
BrokerChoice = Literal["auto", "mosquitto", "embedded"]


def free_port(host: str = "127.0.0.1") -> int:
    """A port nothing listens on right now (the broker binds it a moment later)."""
    with socket.socket() as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def find_mosquitto() -> str | None:
    """The mosquitto program: on PATH, or where Debian puts it (``/usr/sbin``)."""
    found = shutil.which("mosquitto")
    if found is None and Path("/usr/sbin/mosquitto").is_file():
        found = "/usr/sbin/mosquitto"
    return found


@dataclass
class Mosquitto:
    """A mosquitto of one gateway's own: a free port, no persistence, its files in ``workdir``."""

    program: str
    workdir: Path
    port: int = 0
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"mqtt://127.0.0.1:{self.port}"

    def start(self, timeout: float = 10) -> Mosquitto:
        # another process may take a free port between our check and mosquitto's bind:
        # try a few ports before giving up
        for _ in range(5):
            self.port = free_port()
            conf = self.workdir / f"mosquitto-{self.port}.conf"
            conf.write_text(
                f"listener {self.port} 127.0.0.1\nallow_anonymous true\n"
                "persistence false\nmax_queued_messages 0\nmax_inflight_messages 0\n"
            )
            log = self.workdir / f"mosquitto-{self.port}.log"
            with log.open("ab") as out:
                self.process = subprocess.Popen(  # noqa: S603 - our own program and config
                    [self.program, "-c", str(conf)], stdout=subprocess.DEVNULL, stderr=out
                )
            if self._wait(timeout):
                return self
            self.stop()
        raise RuntimeError(f"mosquitto did not start: {log.read_text()[-2000:]}")

    def _wait(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process is None or self.process.poll() is not None:
                return False
            with (
                contextlib.suppress(OSError),
                socket.create_connection(("127.0.0.1", self.port), 0.2),
            ):
                return True
            time.sleep(0.005)
        return False

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        self.process = None
