"""Child processes (workers, mosquitto, the gateway) and their CPU time and peak RSS.

mosquitto runs with or without ``set_tcp_nodelay``; the gateway is ``python -m gateway
serve`` (tests/support.py's ``GatewayProcess``).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import os
import queue
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiomqtt

from benchmarks.common import BENCH_PY, BenchError, Json
from tests.support import MOSQUITTO, GatewayProcess, Mosquitto, _wait_port

_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """CPU time of a running process, every thread (exited ones too), in seconds.

    Read from the process's CPU-time clock (Linux: ``clock_gettime`` on the clock id of
    ``pid``, nanoseconds), else from /proc/PID/stat (user + system, in clock ticks).
    """
    with contextlib.suppress(OSError):
        return time.clock_gettime((~pid << 3) | 2)  # MAKE_PROCESS_CPUCLOCK(pid, SCHED)
    stat = Path(f"/proc/{pid}/stat").read_text()
    fields = stat[stat.rindex(")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) / _TICKS  # utime, stime: fields 14 and 15


def peak_rss_mb(pid: int) -> float:
    """VmHWM (peak resident set size) of a running process, in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise BenchError(f"no VmHWM in /proc/{pid}/status")


Progress = Callable[[Json], None]


class Worker:
    """A worker process; its JSON lines are read by a thread, its stderr goes to a log."""

    _seq = 0

    def __init__(self, role: str, cfg: Mapping[str, Any], workdir: Path) -> None:
        Worker._seq += 1
        self.role = role
        self.log_path = workdir / f"{role}-{Worker._seq}.log"
        command = [sys.executable, str(BENCH_PY), "--worker", role]
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(
                [*command, "--worker-config", json.dumps(cfg)],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=log,
                text=True,
            )
        self._lines: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=self._pump, daemon=True).start()

    @property
    def pid(self) -> int:
        return self.process.pid

    def _pump(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self._lines.put(line)
        self._lines.put(None)

    def _failure(self, what: str) -> BenchError:
        tail = self.log_path.read_text(errors="replace")[-2000:]
        return BenchError(f"{self.role} worker: {what}\n{tail}")

    def expect(self, event: str, timeout: float, progress: Progress | None = None) -> Json:
        """The next ``event`` line; ``progress`` lines on the way go to ``progress``."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                line = self._lines.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                raise self._failure(f"no {event!r} within {timeout:.0f}s") from None
            if line is None:
                raise self._failure(f"exited with {self.process.wait()} before {event!r}")
            message: Json = json.loads(line)
            if message.get("event") == event:
                return message
            if message.get("event") == "progress" and progress is not None:
                progress(message)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


@contextlib.contextmanager
def worker(role: str, cfg: Mapping[str, Any], workdir: Path) -> Iterator[Worker]:
    child = Worker(role, cfg, workdir)
    try:
        child.expect("ready", 60)
        yield child
    finally:
        child.stop()


@dataclass
class BenchMosquitto(Mosquitto):
    """The test suite's broker, with ``set_tcp_nodelay true`` or mosquitto's default.

    With the default (Nagle's algorithm on in the broker), each small PUBLISH to a
    subscriber can wait for a delayed ACK; a user's broker may well run that way, so both
    are measured, for the baseline and the gateway alike.
    """

    nodelay: bool = True

    def start(self) -> BenchMosquitto:
        conf = self.workdir / f"mosquitto-{self.port}.conf"
        conf.write_text(
            f"listener {self.port} 127.0.0.1\nallow_anonymous true\n"
            "persistence false\nmax_queued_messages 0\nmax_inflight_messages 0\n"
            + ("set_tcp_nodelay true\n" if self.nodelay else "")
        )
        with (self.workdir / f"mosquitto-{self.port}.log").open("ab") as log:
            self.process = subprocess.Popen(
                [MOSQUITTO, "-c", str(conf)], stdout=subprocess.DEVNULL, stderr=log
            )
        _wait_port(self.port, 10)
        return self


@contextlib.contextmanager
def broker(workdir: Path, *, nodelay: bool = True) -> Iterator[Mosquitto]:
    mosquitto = BenchMosquitto(workdir, nodelay=nodelay)
    try:
        yield mosquitto.start()
    finally:
        mosquitto.stop()


def gateway_env(mosquitto: Mosquitto, db: Path, clock_start: dt.datetime) -> dict[str, str]:
    return {
        "SCGW_MQTT_URL": mosquitto.url,
        "SCGW_DATABASE_URL": f"sqlite:///{db}",
        "SCGW_CLOCK": "virtual",
        "SCGW_CLOCK_START": clock_start.isoformat(),
        "SCGW_LOG_LEVEL": "WARNING",
        "SCGW_SMTP_PORT": "0",  # the email channel is not measured here: any free port
        "SCGW_MQTT_CLIENT_ID": f"scgw-bench-{uuid.uuid4().hex[:12]}",
    }


async def _forget_session(port: int, client_id: str) -> None:
    """Drop a stopped gateway's persistent session, so the broker stops queueing for it."""
    async with aiomqtt.Client(
        "127.0.0.1", port, identifier=client_id, protocol=aiomqtt.ProtocolVersion.V5
    ):
        pass


@contextlib.contextmanager
def gateway(
    workdir: Path, mosquitto: Mosquitto, db: Path, clock_start: dt.datetime
) -> Iterator[GatewayProcess]:
    process = GatewayProcess(workdir, gateway_env(mosquitto, db, clock_start))
    try:
        yield process.start(timeout=120)
    finally:
        try:
            process.stop()
        except subprocess.TimeoutExpired:  # e.g. interrupted in the middle of a long advance
            process.kill()
        with contextlib.suppress(aiomqtt.MqttError, OSError):
            asyncio.run(_forget_session(mosquitto.port, process.env["SCGW_MQTT_CLIENT_ID"]))


def gateway_pid(gw: GatewayProcess) -> int:
    if gw.process is None:
        raise BenchError("the gateway is not running")
    return gw.process.pid
