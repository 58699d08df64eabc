"""Storage that fails under a running gateway: a full disk, a file system turned read-only.

The database lives on a small tmpfs of its own (mounted by the test: it needs root;
skipped with the reason otherwise). MOs published at QoS 1 while storage refuses writes
stay unacknowledged at the broker (the gateway holds them), readiness names the
storage, HTTP writes answer 503 with ``Retry-After``; once storage is back every held
MO is processed exactly once and answered once.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support import GatewayProcess, Mosquitto, mqtt_client

N = 120  # subscribers, one MO each
START_BALANCE = 50_000  # the default balance of an auto-provisioned subscriber
ZL1 = 1_000  # seed 004: ZL1 costs 1.000d


def _can_mount() -> str | None:
    if os.geteuid() != 0:
        return "mounting a small tmpfs needs root"
    return None


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    reason = _can_mount()
    if reason is not None:
        pytest.skip(reason)
    disk = tmp_path / "disk"
    disk.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=16m", "tmpfs", str(disk)],
        capture_output=True,
        check=False,
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.decode().strip()}")
    try:
        yield disk
    finally:
        subprocess.run(["umount", "-l", str(disk)], check=False)


def _fill(disk: Path) -> Path:
    """Fill the file system to the last byte; returns the filler file."""
    filler = disk / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
    try:
        for size in (1 << 20, 65536, 4096, 512, 1):
            with contextlib.suppress(OSError):
                while True:
                    os.write(fd, b"\0" * size)
    finally:
        os.close(fd)
    return filler


async def _wait_for(check: Callable[[], Any], what: str, within: float = 30) -> Any:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        value = await check()
        if value:
            return value
        await asyncio.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


async def _held_then_recovered(
    gateway: GatewayProcess,
    mosquitto: Mosquitto,
    fail: Callable[[], None],
    recover: Callable[[], None],
) -> tuple[dict[str, Any], httpx.Response, dict[str, list[dict[str, Any]]]]:
    """Break storage, publish N QoS-1 MOs, check the gateway says so, repair it, and
    collect every reply. Returns (readiness while broken, an HTTP write then, replies)."""
    msisdns = [f"8491{i:07d}" for i in range(N)]
    replies: dict[str, list[dict[str, Any]]] = {}
    async with (
        mqtt_client(mosquitto.port, "sms/mt/#") as listener,
        httpx.AsyncClient(base_url=gateway.url, timeout=30) as http,
    ):
        fail()
        async with mqtt_client(mosquitto.port) as sender:
            for i, msisdn in enumerate(msisdns):
                payload = json.dumps({"id": f"held-{i}", "from": msisdn, "text": "DK ZL1"})
                await sender.publish("sms/mo/888", payload, qos=1)

        async def not_ready() -> dict[str, Any] | None:
            answer = await http.get("/api/ready")
            return answer.json() if answer.status_code == 503 else None

        readiness = await _wait_for(not_ready, "readiness to name the storage")
        refused = await http.post("/api/sms", json={"from": "84919999999", "text": "DK ZL1"})
        recover()

        async def ready() -> bool:
            return (await http.get("/api/ready")).status_code == 200

        await _wait_for(ready, "readiness to come back")

        async def collect() -> None:
            async for message in listener.messages:
                body = json.loads(message.payload if isinstance(message.payload, bytes) else b"")
                replies.setdefault(body["in_reply_to"] or "", []).append(body)
                if len(replies) >= N and all(len(v) >= 1 for v in replies.values()):
                    return

        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(60):
                await collect()
        await asyncio.sleep(1.0)  # a duplicate would arrive now
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(0.5):
                await collect()
    return readiness, refused, replies


def _check_exactly_once(gateway: GatewayProcess, replies: dict[str, list[dict[str, Any]]]) -> None:
    assert sorted(replies) == sorted(f"held-{i}" for i in range(N)), "every MO answered"
    assert [k for k, v in replies.items() if len(v) != 1] == [], "answered once each"
    with gateway.http() as http:
        for i in (0, N // 2, N - 1):
            msisdn = f"8491{i:07d}"
            charges = http.get(f"/api/subscribers/{msisdn}/charges").json()["charges"]
            balance = http.get(f"/api/subscribers/{msisdn}").json()["balance"]
            assert [(c["reason"], c["amount"]) for c in charges] == [("registration", ZL1)]
            assert balance == START_BALANCE - ZL1


async def test_a_full_disk_holds_every_mo_until_space_is_back(
    gateway_factory: Callable[..., GatewayProcess], mosquitto: Mosquitto, small_disk: Path
) -> None:
    """The disk fills under the gateway: 120 MOs are held (not acknowledged, not lost),
    /api/ready is 503 naming storage, a write over HTTP is 503 with Retry-After; the
    filler is removed and all 120 are answered once, each charged 1,000 once."""
    gateway = gateway_factory(SCGW_DATABASE_URL=f"sqlite:///{small_disk / 'scgw.db'}").start()
    filler: list[Path] = []

    readiness, refused, replies = await _held_then_recovered(
        gateway,
        mosquitto,
        fail=lambda: filler.append(_fill(small_disk)),
        recover=lambda: filler[0].unlink(),
    )

    assert readiness["status"] == "not_ready"
    assert any(f.startswith("storage: ") for f in readiness["failing"]), readiness
    assert "full" in readiness["components"]["storage"]["detail"]
    assert refused.status_code == 503
    assert refused.headers["retry-after"] == "5"
    _check_exactly_once(gateway, replies)
    events = [e["event"] for e in gateway.log_events()]
    assert "storage_unavailable" in events
    assert "storage_recovered" in events
    assert "mo_failed" not in events


@pytest.fixture
def immutable(tmp_path: Path) -> Iterator[Callable[[bool], None]]:
    """Set or clear the immutable attribute (``chattr +i``) of the database's files."""
    if os.geteuid() != 0:
        pytest.skip("chattr +i needs root")
    files = [tmp_path / name for name in ("scgw.db", "scgw.db-wal", "scgw.db-shm")]

    def set_immutable(on: bool) -> None:
        for file in files:
            if file.exists():
                subprocess.run(["chattr", "+i" if on else "-i", str(file)], check=True)

    probe = tmp_path / "probe"
    probe.touch()
    if subprocess.run(["chattr", "+i", str(probe)], capture_output=True, check=False).returncode:
        pytest.skip("this file system has no immutable attribute (chattr +i)")
    subprocess.run(["chattr", "-i", str(probe)], check=True)
    try:
        yield set_immutable
    finally:
        set_immutable(False)


async def test_database_files_made_immutable_hold_every_mo_until_writable(
    gateway_factory: Callable[..., GatewayProcess],
    mosquitto: Mosquitto,
    immutable: Callable[[bool], None],
) -> None:
    """The database files are made immutable under the running gateway (``chattr +i``:
    every write fails): MOs are held, readiness names storage; writable again, every MO
    is answered once and charged once."""
    gateway = gateway_factory().start()

    readiness, refused, replies = await _held_then_recovered(
        gateway, mosquitto, fail=lambda: immutable(True), recover=lambda: immutable(False)
    )

    assert readiness["status"] == "not_ready"
    assert any(f.startswith("storage: ") for f in readiness["failing"]), readiness
    assert refused.status_code == 503
    _check_exactly_once(gateway, replies)


def test_the_gateway_refuses_to_start_on_a_database_it_cannot_write(
    gateway_factory: Callable[..., GatewayProcess], small_disk: Path
) -> None:
    """A database on a read-only file system: the gateway stops at start-up with one line
    saying so and a non-zero exit, instead of starting and losing every message."""
    gateway = gateway_factory(SCGW_DATABASE_URL=f"sqlite:///{small_disk / 'scgw.db'}").start()
    gateway.stop()
    subprocess.run(["mount", "-o", "remount,ro", str(small_disk)], check=True)

    with pytest.raises((RuntimeError, TimeoutError, AssertionError)):
        gateway.start(timeout=10)

    assert gateway.process is not None
    assert gateway.process.returncode == 2
    last = gateway.log_path.read_text().splitlines()[-1]
    assert str(small_disk / "scgw.db") in last
    assert last.endswith("Read-only file system"), last
