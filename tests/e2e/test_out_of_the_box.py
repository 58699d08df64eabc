"""`scgw serve` with no broker configured, as a new user runs it: an embedded broker, then replies.

Port 1883 is taken on a developer machine that runs its own mosquitto, so the test runs
the gateway in a fresh network namespace (``unshare -n``) where 1883 is free, exactly
as on a machine without a broker.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest


def _can_unshare() -> bool:
    if shutil.which("unshare") is None or shutil.which("ip") is None:
        return False
    probe = subprocess.run(["unshare", "-n", "true"], capture_output=True, check=False)
    return probe.returncode == 0


pytestmark = pytest.mark.skipif(not _can_unshare(), reason="needs unshare -n (root)")

SCRIPT = textwrap.dedent(
    """
    set -eu
    ip link set lo up
    cd "$WORKDIR"
    SCGW_LOG_FORMAT=json "$PYTHON" -m gateway serve > gateway.log 2>&1 &
    gw=$!
    trap 'kill $gw 2>/dev/null || true; wait $gw 2>/dev/null || true' EXIT
    for _ in $(seq 200); do
        if "$PYTHON" -c "import httpx,sys; sys.exit(0 if httpx.get('http://127.0.0.1:8888/api/health').json()['mqtt']['connected'] else 1)" 2>/dev/null; then break; fi
        sleep 0.1
    done
    echo "== send"
    "$PYTHON" -m gateway send --from 0912345678 "DK ZL7"
    echo "== mosquitto"
    mosquitto_sub -h 127.0.0.1 -t 'sms/mt/84912345678' -C 1 -W 15 > mt.json &
    sub=$!
    sleep 0.5
    mosquitto_pub -h 127.0.0.1 -q 1 -t sms/mo/888/0912345678 -m "KTTK_ZL"
    wait $sub
    cat mt.json
    """
)


@pytest.mark.skipif(shutil.which("mosquitto_pub") is None, reason="needs mosquitto-clients")
def test_serve_with_no_broker_starts_an_embedded_one_and_answers(tmp_path: Path) -> None:
    """No SCGW_MQTT_URL and nothing on 1883: amqtt in-process; `scgw send` and mosquitto_pub get replies."""
    result = subprocess.run(
        ["unshare", "-n", "bash", "-c", SCRIPT],
        env={
            "PATH": "/usr/sbin:/usr/bin:/sbin:/bin",
            "WORKDIR": str(tmp_path),
            "PYTHON": sys.executable,
        },
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    log = (tmp_path / "gateway.log").read_text() if (tmp_path / "gateway.log").exists() else ""
    assert result.returncode == 0, result.stdout + result.stderr + log
    sent, _, subscribed = result.stdout.partition("== mosquitto")
    assert "Dang ky thanh cong goi ZL7" in sent
    assert "Goi ZL7: het han" in subscribed
    assert "broker_embedded" in log
    assert (tmp_path / "scgw.db").exists(), "the default database is ./scgw.db"
