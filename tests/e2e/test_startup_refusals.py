"""`scgw serve` refuses to start, in one line and with exit code 2, on what it cannot
run with: a database another gateway holds, a port in use, a database last run with
the other clock, a file it cannot read; and `scgw send` refuses what MQTT would."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from gateway.adapters.postgres_instances import InstanceLease
from tests.broker_support import make_tls_files
from tests.postgres_support import fresh_database
from tests.support import GatewayProcess, Mosquitto, free_port, mqtt_client, next_json


def _env(tmp_path: Path, mosquitto: Mosquitto, **settings: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.upper().startswith("SCGW_")}
    return {
        **env,
        "SCGW_MQTT_URL": mosquitto.url,
        "SCGW_DATABASE_URL": f"sqlite:///{tmp_path / 'scgw.db'}",
        "SCGW_HTTP_PORT": str(free_port()),
        "SCGW_SMTP_PORT": str(free_port()),
        "SCGW_SMPP_PORT": str(free_port()),
        "SCGW_MQTT_CLIENT_ID": f"scgw-refused-{mosquitto.port}",
        "SCGW_LOG_FORMAT": "json",
        **settings,
    }


def _serve(env: dict[str, str], *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "gateway", "serve", *args],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def _one_line(result: subprocess.CompletedProcess[str]) -> str:
    """The refusal: exit 2, one line on stderr, no traceback."""
    assert result.returncode == 2, result.stderr
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    assert "pydantic" not in result.stderr
    return lines[0]


@contextlib.contextmanager
def _serving(env: dict[str, str], *args: str, cwd: Path) -> Iterator[subprocess.Popen[bytes]]:
    """`scgw serve ARGS` until healthy; stopped on exit."""
    log = (cwd / "serving.log").open("ab")
    process = subprocess.Popen(
        [sys.executable, "-m", "gateway", "serve", *args], env=env, cwd=cwd, stdout=log, stderr=log
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            assert process.poll() is None, (cwd / "serving.log").read_text()
            with contextlib.suppress(httpx.HTTPError):
                url = f"http://127.0.0.1:{env['SCGW_HTTP_PORT']}/api/health"
                if httpx.get(url, timeout=1).json()["mqtt"]["connected"]:
                    break
            assert time.monotonic() < deadline, (cwd / "serving.log").read_text()
            time.sleep(0.05)
        yield process
    finally:
        process.terminate()
        process.wait(20)
        log.close()


def test_a_second_gateway_on_the_same_database_is_refused_naming_the_first(
    tmp_path: Path, mosquitto: Mosquitto, gateway_factory: Callable[..., GatewayProcess]
) -> None:
    """The first gateway holds the file; the second says who does and starts nothing.
    Once the first is killed (-9: no clean-up), the lock is gone with it."""
    first = gateway_factory().start()
    assert first.process is not None
    db = tmp_path / "scgw.db"
    env = _env(tmp_path, mosquitto, SCGW_CLOCK="virtual")
    line = _one_line(_serve(env, cwd=tmp_path))
    assert line == (
        f"scgw: SCGW_DATABASE_URL=sqlite:///{db}: {db} is in use by another gateway"
        f" (pid {first.process.pid}): stop it first, or give this one another database"
    )
    # on the first one's ports too, the database is what is named (it says who)
    ports = {"SCGW_HTTP_PORT": str(first.http_port), "SCGW_SMTP_PORT": str(first.smtp_port)}
    assert _one_line(_serve({**env, **ports}, cwd=tmp_path)) == line
    # the flag form names the flag
    line = _one_line(_serve(env, "--database-url", f"sqlite:///{db}", cwd=tmp_path))
    assert line.startswith(f"scgw: --database-url sqlite:///{db}: {db} is in use by")

    first.kill()
    first.start()  # the kernel dropped the lock with the killed process
    with first.http() as http:
        assert http.get("/api/health").json()["status"] == "ok"


@pytest.mark.parametrize("form", ["env", "flag"])
@pytest.mark.parametrize("which", ["smtp", "http"])
def test_a_port_in_use_is_one_line_and_nothing_is_stored(
    tmp_path: Path, mosquitto: Mosquitto, form: str, which: str
) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        variable = f"SCGW_{which.upper()}_PORT"
        if form == "env":
            result = _serve(_env(tmp_path, mosquitto, **{variable: str(port)}), cwd=tmp_path)
            named = f"{variable}={port}"
        else:
            result = _serve(_env(tmp_path, mosquitto), f"--{which}-port", str(port), cwd=tmp_path)
            named = f"--{which}-port {port}"
        line = _one_line(result)
    assert line == (
        f"scgw: {named}: 127.0.0.1:{port} is already in use (another gateway?):"
        " choose another port, or 0 for a free one"
    )
    assert not (tmp_path / "scgw.db").exists()


def test_a_database_keeps_its_clock_mode_unless_started_fresh(
    tmp_path: Path, mosquitto: Mosquitto
) -> None:
    """Run with the real clock, then asked for a virtual one: refused, naming both. With
    --fresh the old file is kept aside and the virtual clock starts; restarted with an
    earlier --clock-start, it resumes its stored time and the start-up line says so."""
    db = tmp_path / "scgw.db"
    real = _env(tmp_path, mosquitto)
    with _serving(real, cwd=tmp_path):
        pass
    virtual = _env(tmp_path, mosquitto, SCGW_CLOCK="virtual")
    line = _one_line(_serve(virtual, "--clock-start", "2026-03-10T10:00:00+07:00", cwd=tmp_path))
    assert line == (
        f"scgw: SCGW_CLOCK=virtual: {db} was last run with the real clock, not the virtual one:"
        " give the virtual clock its own database (--database-url), or add --fresh to start"
        " over (the old file is kept aside)"
    )
    # and the other way round, with the clock named as a flag
    args = ("--clock", "virtual", "--clock-start", "2026-03-10T10:00:00+07:00")
    with _serving(real, *args, "--fresh", cwd=tmp_path):
        http = f"http://127.0.0.1:{real['SCGW_HTTP_PORT']}"
        advanced = httpx.post(f"{http}/api/clock/advance", json={"seconds": 86400}, timeout=30)
        assert advanced.json()["now"] == "2026-03-11T10:00:00+07:00"
    kept = [p.name for p in tmp_path.iterdir() if p.name.endswith(".bak")]
    assert len(kept) == 1
    assert kept[0].startswith("scgw.db.")
    line = _one_line(_serve(real, cwd=tmp_path))
    assert line == (
        f"scgw: SCGW_CLOCK=real (the default): {db} was last run with the virtual clock,"
        " not the real one: give the real clock its own database (--database-url), or add"
        " --fresh to start over (the old file is kept aside)"
    )

    (tmp_path / "serving.log").unlink()
    with _serving(real, *args, cwd=tmp_path):
        health = httpx.get(f"http://127.0.0.1:{real['SCGW_HTTP_PORT']}/api/health").json()
        assert health["clock"]["now"] == "2026-03-11T10:00:00+07:00"
    started = [
        json.loads(line)
        for line in (tmp_path / "serving.log").read_text().splitlines()
        if '"gateway_started"' in line
    ]
    assert started[0]["clock_note"] == (
        "resumed the database's virtual time; clock start 2026-03-10T10:00:00+07:00"
        " ignored (--fresh starts over)"
    )


@pytest.mark.parametrize(
    ("variable", "flag", "value", "reason"),
    [
        (
            "SCGW_CATALOGS",
            "--catalog",
            "/nonexistent/music.toml",
            "cannot read /nonexistent/music.toml: No such file or directory",
        ),
        (
            "SCGW_SUPPORT_POLICY",
            "--support-policy",
            "/nonexistent/support.toml",
            "cannot read /nonexistent/support.toml: No such file or directory",
        ),
        (
            "SCGW_DATABASE_URL",
            "--database-url",
            "mysql://db/scgw",
            "unsupported database URL 'mysql://db/scgw':"
            " use sqlite:///PATH or postgresql://USER@HOST:PORT/DATABASE",
        ),
        (
            "SCGW_DATABASE_URL",
            "--database-url",
            "postgresql://scgw:secret@127.0.0.1:1/scgw",
            # libpq's two lines as one; the password is not repeated
            "cannot open database postgresql://scgw:***@127.0.0.1:1/scgw: connection failed:"
            ' connection to server at "127.0.0.1", port 1 failed: Connection refused'
            " Is the server running on that host and accepting TCP/IP connections?",
        ),
        ("SCGW_SMTP_HOST", "--smtp-host", "192.0.2.1", None),
    ],
    ids=["catalog", "support-policy", "database-url", "postgres-down", "smtp-host"],
)
@pytest.mark.parametrize("form", ["env", "flag"])
def test_what_only_start_up_can_check_is_one_line_too(
    tmp_path: Path,
    mosquitto: Mosquitto,
    form: str,
    variable: str,
    flag: str,
    value: str,
    reason: str | None,
) -> None:
    """A file that cannot be read, a database URL of another kind, a PostgreSQL server
    that does not answer (nothing listens on port 1), an address this machine does not
    have (192.0.2.1 is TEST-NET-1)."""
    env = _env(tmp_path, mosquitto)
    if form == "env":
        shown = json.dumps([value]) if variable == "SCGW_CATALOGS" else value
        env[variable] = shown
        named = f"{variable}='{shown}'" if variable == "SCGW_CATALOGS" else f"{variable}={value}"
        result = _serve(env, cwd=tmp_path)
    else:
        named = f"{flag} {value}"
        result = _serve(env, flag, value, cwd=tmp_path)
    if "secret@" in value:  # a URL's password is never echoed, not even as given
        hidden = value.replace(":secret@", ":<hidden>@")
        named = named.replace(value, f"'{hidden}'")
    line = _one_line(result)
    if reason is None:
        port = env["SCGW_SMTP_PORT"]
        reason = f"cannot listen on 192.0.2.1:{port}: Cannot assign requested address"
    assert line == f"scgw: {named}: {reason}"
    assert not (tmp_path / "scgw.db").exists()


async def test_scgw_send_refuses_a_long_text_with_the_reason_mqtt_gives(
    mosquitto: Mosquitto, gateway_factory: Callable[..., GatewayProcess]
) -> None:
    """2,000 characters: MQTT publishes "text is longer than 1600 characters" on
    sms/errors; `scgw send` prints that same line (not the text) and stores nothing."""
    gateway = gateway_factory().start()
    text = "DK ZL7 " + "x" * 1993
    assert len(text) == 2000
    async with mqtt_client(mosquitto.port, "sms/errors") as client:
        body = json.dumps({"from": "0912345678", "text": text})
        await client.publish("sms/mo/888", body, qos=1)
        _, error = await next_json(client)
    assert error["reason"] == "text is longer than 1600 characters"

    command = [sys.executable, "-m", "gateway", "send", "--url", gateway.url]
    sent = await asyncio.to_thread(
        subprocess.run,
        [*command, "--from", "0912345678", text],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert sent.returncode == 2
    assert sent.stdout == ""
    assert sent.stderr == "scgw: text is longer than 1600 characters\n"
    with gateway.http() as http:
        assert http.get("/api/subscribers/0912345678").status_code == 404


def test_mos_and_mts_are_logged_one_line_each_at_info(
    gateway_factory: Callable[..., GatewayProcess],
) -> None:
    """A user watching the log sees traffic: the MO and its reply, with the text cut
    to 60 characters."""
    gateway = gateway_factory().start()
    text = "hello " * 20  # 120 characters: not a command, so the help reply
    with gateway.http() as http:
        reply = http.post("/api/sms", json={"from": "0912345678", "text": text, "id": "m-1"})
    assert reply.status_code == 200
    reply_id = reply.json()["replies"][0]["id"]
    deadline = time.monotonic() + 10
    while not any(e["event"] == "mt_published" for e in gateway.log_events()):
        assert time.monotonic() < deadline, "no mt_published line"
        time.sleep(0.05)
    events = gateway.log_events()
    (mo,) = [e for e in events if e["event"] == "mo_processed"]
    assert mo["level"] == "info"
    assert mo["msisdn"] == "84912345678"
    assert mo["shortcode"] == "888"
    assert mo["message_id"] == "m-1"
    assert mo["text"] == "hello " * 9 + "hello…"  # 59 characters and the ellipsis
    (mt,) = [e for e in events if e["event"] == "mt_published"]
    assert mt["level"] == "info"
    assert mt["msisdn"] == "84912345678"
    assert mt["message_id"] == reply_id
    assert mt["in_reply_to"] == "m-1"
    assert len(mt["text"]) <= 60


def test_a_running_instance_id_on_postgresql_is_one_line(
    tmp_path: Path, mosquitto: Mosquitto
) -> None:
    """Two gateways may share a PostgreSQL database, not an instance id: the second
    ``--instance-id A`` is refused in one line; once A has gone, its id is free."""
    with fresh_database() as url:
        lease = InstanceLease(url, wanted="A").acquire()  # instance A is running
        env = _env(tmp_path, mosquitto, SCGW_DATABASE_URL=url)
        line = _one_line(_serve(env, "--instance-id", "A", cwd=tmp_path))
        assert line == (
            f"scgw: --instance-id A: instance 'A' is already running on {url}:"
            " give this one another --instance-id (or stop the other)"
        )
        lease.release()
        gateway = GatewayProcess(tmp_path, {**env, "SCGW_INSTANCE_ID": "A"})
        try:
            gateway.start()
            with gateway.http() as http:
                health = http.get("/api/health").json()
        finally:
            gateway.stop()
    assert health["instance"] == "A"
    assert health["mqtt"]["client_id"] == f"scgw-refused-{mosquitto.port}-A"
    assert health["mqtt"]["share_group"] == "scgw"


def test_smpp_tls_half_set_or_not_a_certificate_is_one_line(
    tmp_path: Path, mosquitto: Mosquitto
) -> None:
    """SCGW_SMPP_TLS_CERT without SCGW_SMPP_TLS_KEY; then a "certificate" that is a
    private key (openssl made both for this test): one line each, nothing started."""
    tls = make_tls_files(tmp_path / "tls")
    env = _env(tmp_path, mosquitto, SCGW_SMPP_TLS_CERT=str(tls.cert))
    line = _one_line(_serve(env, cwd=tmp_path))
    assert line.startswith("scgw: SCGW_SMPP_TLS_CERT and SCGW_SMPP_TLS_KEY")
    assert line.endswith("go together: set both")
    env["SCGW_SMPP_TLS_KEY"] = str(tls.key)
    env["SCGW_SMPP_TLS_CERT"] = str(tls.key)
    line = _one_line(_serve(env, cwd=tmp_path))
    assert line.startswith(  # then OpenSSL's reason in brackets
        f"scgw: SCGW_SMPP_TLS_CERT={tls.key}: not a PEM certificate that goes with the key"
        f" {tls.key} ("
    )
    assert not (tmp_path / "scgw.db").exists()
