"""Console recordings over HTTP: a mark, what is done after it, the scenario file it
becomes, and that file replayed on a fresh gateway by ``scgw scenario run``."""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from pathlib import Path

import httpx
import pytest

from gateway.scenarios import load_scenario
from gateway.testing import Scgw

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.scgw(clock_start="2026-03-10T10:00:00+07:00", default_balance=50_000)


def _scgw_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "gateway", *args],
        capture_output=True, text=True, timeout=600, cwd=ROOT,
    )  # fmt: skip


def _demo(scgw: Scgw, http: httpx.Client) -> str:
    """Before the mark, at 10:00 on 10/03/2026: 0912000001 registers ZL7. Then the mark,
    at the same instant. After it: 0912000002 is provisioned with 3,000; DK ZL7 fails
    (5,000 > 3,000); a top-up of 10,000 (13,000); DK ZL7 (8,000); 0912000003, unknown,
    texts DK ZL1 (auto-provisioned with 50,000: 49,000); a week passes. Returns the
    scenario file."""
    scgw.provision("0912000001", "prepaid", 20_000)
    assert scgw.sms("0912000001", "DK ZL7")
    started = http.post("/api/recordings")
    assert started.status_code == 201, started.text
    mark = started.json()
    assert mark["at"] == "2026-03-10T10:00:00+07:00"
    assert mark["url"] == f"/api/recordings/{mark['id']}.toml"
    scgw.provision("0912000002", "prepaid", 3_000)
    assert "khong du" in scgw.sms("0912000002", "DK ZL7")[0].text
    scgw.topup("0912000002", 10_000)
    assert scgw.sms("0912000002", "DK ZL7")
    assert scgw.sms("0912000003", "DK ZL1")
    scgw.advance(days=7)
    saved = http.get(mark["url"])
    assert saved.status_code == 200, saved.text
    assert saved.headers["content-type"].startswith("application/toml")
    assert saved.headers["content-disposition"] == (
        'attachment; filename="recording-20260310T100000.toml"'
    )
    return saved.text


def test_a_recorded_demo_replays_green_and_a_wrong_edit_fails(scgw: Scgw, tmp_path: Path) -> None:
    """The file starts at the mark with the numbers acted on since (not 0912000001, whose
    DK ZL7 at the mark's own instant came before it and which only renewed after it),
    each with its balance at the mark (0912000003, new: the 50,000 it was given). Steps:
    the failed DK ZL7, the top-up, DK ZL7, DK ZL1, then the clock to 17/03 10:00 and the
    balances: 0912000002 8,000 - 5,000 (ZL7 renewed once) = 3,000; 0912000003 49,000 -
    7 x 1,000 (ZL1 renewed daily) = 42,000. It passes ``scgw check`` and replays green;
    with one balance edited it fails at the last step."""
    with httpx.Client(base_url=scgw.http_url, timeout=60) as http:
        text = _demo(scgw, http)
    data = tomllib.loads(text)
    assert "84912000001" not in text
    assert data["scenario"]["clock_start"] == "2026-03-10T10:00:00+07:00"
    assert "catalogs" not in data["scenario"]
    assert [(s["msisdn"], s["kind"], s["balance"]) for s in data["subscribers"]] == [
        ("84912000002", "prepaid", 3_000),
        ("84912000003", "prepaid", 50_000),
    ]
    steps = data["steps"]
    assert [next(iter(s)) for s in steps] == [
        "send", "topup", "send", "send", "advance_to", "name",
    ]  # fmt: skip
    assert steps[0]["send"] == {"from": "84912000002", "to": "888", "text": "DK ZL7"}
    (refused,) = steps[0]["expect_reply"]
    assert refused.endswith("$")
    assert refused.startswith(r"^Dang ky goi ZL7 khong thanh cong: TK chinh \(3\.000d\)")
    pattern = re.compile(refused)
    assert [m.text for m in scgw.mt("0912000002") if pattern.search(m.text)] == [
        refused[1:-1].replace("\\", "")
    ]
    assert steps[1]["topup"] == {"msisdn": "84912000002", "amount": 10_000}
    assert steps[4]["advance_to"] == "2026-03-17T10:00:00+07:00"
    assert steps[5]["expect_balance"] == [
        {"msisdn": "84912000002", "equals": 3_000},
        {"msisdn": "84912000003", "equals": 42_000},
    ]
    assert steps[5]["expect_clock"] == "2026-03-17T10:00:00+07:00"

    recorded = tmp_path / "recorded.toml"
    recorded.write_text(text, encoding="utf-8")
    assert load_scenario(recorded).steps[0].send is not None
    checked = _scgw_cli("check", str(recorded))
    assert checked.returncode == 0, checked.stdout + checked.stderr
    replay = _scgw_cli("scenario", "run", str(recorded))
    assert replay.returncode == 0, replay.stdout + replay.stderr
    assert "1 passed, 0 failed" in replay.stdout

    edited = tmp_path / "edited.toml"
    edited.write_text(text.replace("equals = 42000", "equals = 43000"), encoding="utf-8")
    failed = _scgw_cli("scenario", "run", str(edited))
    assert failed.returncode == 1
    assert (
        f"{edited}: step 6 (where the recording was saved): expect_balance 84912000003:"
        " expected 43000, saw 42000"
    ) in failed.stdout


def test_an_edited_reply_fails_the_replay(scgw: Scgw, tmp_path: Path) -> None:
    """The replies are expected exactly: 5.000d changed to 6.000d in the confirmation of
    DK ZL7 fails step 3 with the reply the gateway gave."""
    with httpx.Client(base_url=scgw.http_url, timeout=60) as http:
        text = _demo(scgw, http)
    assert text.count("5\\\\.000d") >= 1
    edited = tmp_path / "edited.toml"
    lines = text.splitlines()
    confirm = next(n for n, line in enumerate(lines) if "Dang ky thanh cong goi ZL7" in line)
    lines[confirm] = lines[confirm].replace("5\\\\.000d", "6\\\\.000d")
    edited.write_text("\n".join(lines), encoding="utf-8")
    failed = _scgw_cli("scenario", "run", str(edited))
    assert failed.returncode == 1
    assert f"{edited}: step 3 (send 'DK ZL7' from 84912000002 to 888): expect_reply" in (
        failed.stdout
    )


def test_a_recording_that_is_not_one_is_not_found(scgw: Scgw) -> None:
    """An id that is not a mark: 404 with the shape ids have."""
    with httpx.Client(base_url=scgw.http_url, timeout=60) as http:
        answer = http.get("/api/recordings/yesterday.toml")
    assert answer.status_code == 404
    assert answer.json() == {"detail": "no recording 'yesterday': ids look like 1773111600-12-4"}


def test_nothing_done_since_the_mark_is_a_file_that_checks_the_clock(scgw: Scgw) -> None:
    """A mark saved at once: no subscribers, one step expecting the clock where it is."""
    with httpx.Client(base_url=scgw.http_url, timeout=60) as http:
        url = http.post("/api/recordings").json()["url"]
        data = tomllib.loads(http.get(url).text)
    assert "subscribers" not in data
    assert data["steps"] == [
        {"name": "where the recording was saved", "expect_clock": "2026-03-10T10:00:00+07:00"}
    ]


@pytest.mark.scgw(catalogs=["zalo"])
def test_a_gateway_with_some_shipped_catalogs_names_them(scgw: Scgw, tmp_path: Path) -> None:
    """Only zalo.toml served: the file says ``catalogs = ["zalo"]`` and replays on it."""
    with httpx.Client(base_url=scgw.http_url, timeout=60) as http:
        url = http.post("/api/recordings").json()["url"]
        scgw.sms("0912000009", "DK ZL1")
        text = http.get(url).text
    assert tomllib.loads(text)["scenario"]["catalogs"] == ["zalo"]
    recorded = tmp_path / "zalo.toml"
    recorded.write_text(text, encoding="utf-8")
    replay = _scgw_cli("scenario", "run", str(recorded))
    assert replay.returncode == 0, replay.stdout + replay.stderr


def test_a_plan_held_at_the_mark_is_named_in_a_comment(scgw: Scgw) -> None:
    """0912000031 registers ZL7 at 10:00; an hour later the mark, then it texts KTTK_ZL.
    The replay starts it without ZL7, and its entry says so."""
    scgw.sms("0912000031", "DK ZL7")
    scgw.advance(hours=1)
    with httpx.Client(base_url=scgw.http_url, timeout=60) as http:
        url = http.post("/api/recordings").json()["url"]
        scgw.sms("0912000031", "KTTK_ZL")
        text = http.get(url).text
    entry = text.split("[[subscribers]]")[1].split("[[steps]]")[0]
    assert 'msisdn = "84912000031"' in entry
    assert "# had ZL7 at the mark: the replay starts without it" in entry
