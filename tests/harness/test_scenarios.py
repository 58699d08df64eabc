"""Scenario files: the seeds pass through ``scgw scenario run`` with a valid JUnit
report; a wrong expectation fails naming the file, the step and what was seen."""

from __future__ import annotations

import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from gateway.cli import main

ROOT = Path(__file__).resolve().parents[2]
SEEDS = sorted((ROOT / "scenarios").glob("*.toml"))


def test_the_seed_scenarios_pass_with_a_junit_report(tmp_path: Path) -> None:
    report = tmp_path / "out" / "junit.xml"
    run = subprocess.run(
        [sys.executable, "-m", "gateway", "scenario", "run", *map(str, SEEDS),
         "--junit-xml", str(report)],
        capture_output=True, text=True, timeout=600, cwd=ROOT,
    )  # fmt: skip
    assert run.returncode == 0, run.stdout + run.stderr
    assert len(SEEDS) >= 5
    assert f"{len(SEEDS)} passed, 0 failed" in run.stdout
    suites = ET.parse(report).getroot()  # noqa: S314 - our own report
    assert suites.tag == "testsuites"
    (suite,) = suites
    assert (suite.tag, suite.get("tests"), suite.get("failures")) == (
        "testsuite", str(len(SEEDS)), "0",
    )  # fmt: skip
    cases = suite.findall("testcase")
    assert sorted(Path(c.get("file", "")).name for c in cases) == [p.name for p in SEEDS]
    assert all(c.find("failure") is None and float(c.get("time", "-1")) >= 0 for c in cases)


WRONG = """
[scenario]
name = "ZL7 renews weekly"
clock_start = "2026-03-10T10:00:00+07:00"

[[subscribers]]
msisdn = "0912000001"
kind = "prepaid"
balance = 20000

[[steps]]
send = { from = "0912000001", to = "888", text = "DK ZL7" }
expect_reply = "ZL7"

[[steps]]
advance = "7d"

[[steps]]
expect_balance = { msisdn = "0912000001", equals = 15000 }
"""


def test_a_wrong_expectation_fails_naming_file_and_step(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """20,000 less a registration and a renewal of 5,000 is 10,000, not 15,000."""
    wrong = tmp_path / "zl7.toml"
    wrong.write_text(WRONG)
    right = tmp_path / "zl7_right.toml"
    right.write_text(WRONG.replace("15000", "10000"))
    report = tmp_path / "junit.xml"
    code = main(["scenario", "run", str(right), str(wrong), "--junit-xml", str(report)])
    out = capsys.readouterr().out
    assert code == 1
    assert (
        f"{wrong}: step 3 (expect_balance): expect_balance 0912000001: expected 15000, saw 10000"
        in out
    )
    assert "1 passed, 1 failed" in out
    suite = ET.parse(report).getroot()[0]  # noqa: S314 - our own report
    assert suite.get("failures") == "1"
    failure = suite.findall("testcase")[1].find("failure")
    assert failure is not None
    assert "step 3" in failure.get("message", "")


def test_a_refused_action_and_captured_values(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``expect_error`` holds a refusal; ``${name}`` is what a regex captured earlier."""
    path = tmp_path / "capture.toml"
    path.write_text(
        """
[scenario]
name = "capture"
[[subscribers]]
msisdn = "0912000001"
balance = 1000
[[steps]]
send = { from = "0912000001", text = "DK ZL7" }
expect_reply = "TK chinh \\\\((?P<balance>[0-9.]+d)\\\\) khong du"
[[steps]]
send = { from = "0912000001", text = "KTTK ZL ${balance}" }
expect_reply = "DK ZL7"
[[steps]]
topup = { msisdn = "0912000099", amount = 5 }
expect_error = "404: no subscriber 84912000099"
"""
    )
    assert main(["scenario", "run", str(path)]) == 0, capsys.readouterr().out


def test_a_broken_scenario_is_reported_not_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "broken.toml"
    path.write_text(WRONG.replace('advance = "7d"', 'advance = "a week"'))
    assert main(["scenario", "run", str(path)]) == 1
    out = capsys.readouterr().out
    assert f"{path}: step 2: advance: 'a week' is not a duration" in out
