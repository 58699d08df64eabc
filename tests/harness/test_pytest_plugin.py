"""The pytest plugin as a harness meets it: pytest run on a test file outside the
project (in a temporary folder, as its own process), using only the installed package."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

# a project of the harness's own: warnings are errors, nothing from this repository
INI = """\
[pytest]
filterwarnings = error
asyncio_default_fixture_loop_scope = function
"""

README_EXAMPLE = """
import pytest

@pytest.mark.scgw(clock_start="2026-03-10T10:00:00+07:00", default_balance=20_000)
def test_zl7_renews_weekly(scgw):
    replies = scgw.sms("0912000001", "DK ZL7")
    assert "Het han 10:00 17/03/2026" in replies[0].text
    scgw.advance(days=7)
    assert scgw.balance("0912000001") == 10_000
    assert scgw.charges("0912000001")[-1].reason == "renewal"
"""


def _pytest(folder: Path, source: str, *args: str) -> subprocess.CompletedProcess[str]:
    (folder / "pytest.ini").write_text(INI)
    (folder / "test_harness.py").write_text(textwrap.dedent(source))
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-v", "-p", "no:cacheprovider", *args],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_the_readme_example_passes_in_a_project_of_its_own(tmp_path: Path) -> None:
    """A prepaid subscriber with 20,000 registers ZL7 (5,000) and renews it after a week
    (5,000): 10,000 left."""
    run = _pytest(tmp_path, README_EXAMPLE)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "test_zl7_renews_weekly PASSED" in run.stdout


def test_markers_set_up_the_gateway_closest_first(tmp_path: Path) -> None:
    """The module's marker sets the clock and balance, a test's marker overrides it; the
    keys auto_provision and catalogs reach the gateway; the shared module gateway is one
    gateway for every test of the module."""
    source = """
    import pytest
    from gateway.client import ApiError

    pytestmark = pytest.mark.scgw(clock_start="2027-01-31T10:00:00+07:00", default_balance=3_000)

    def test_module_marker(scgw):
        assert scgw.now().isoformat() == "2027-01-31T10:00:00+07:00"
        scgw.sms("0912000001", "DK ZL1")            # 1,000 of 3,000
        assert scgw.balance("0912000001") == 2_000

    @pytest.mark.scgw(default_balance=900)
    def test_test_marker_wins(scgw):
        assert scgw.now().isoformat() == "2027-01-31T10:00:00+07:00"
        reply = scgw.sms("0912000001", "DK ZL1")[0].text  # 900 < 1,000: refused
        assert "khong du" in reply
        assert scgw.balance("0912000001") == 900

    @pytest.mark.scgw(auto_provision=False)
    def test_no_auto_provision(scgw):
        assert "khong" in scgw.sms("0912000002", "DK ZL1")[0].text
        with pytest.raises(ApiError) as refused:
            scgw.subscriber("0912000002")
        assert refused.value.status == 404

    @pytest.mark.scgw(catalogs=["meetings"])
    def test_catalogs(scgw):
        scgw.provision("0912000003", "prepaid", 400_000)
        assert "PRO" in scgw.sms("0912000003", "DK PRO", to="8100")[0].text
        with pytest.raises(ApiError) as refused:
            scgw.sms("0912000003", "DK ZL1")
        assert refused.value.status == 404
        assert scgw.balance("0912000003") == 70_000

    def test_shared_first(scgw_module):
        scgw_module.sms("0912000004", "DK ZL1")

    def test_shared_second(scgw_module):
        # the same gateway: the first test's charge is there
        assert [c.amount for c in scgw_module.charges("0912000004")] == [1_000]

    @pytest.mark.scgw(colour="blue")
    def test_unknown_key(scgw):
        pass
    """
    run = _pytest(tmp_path, source)
    out = run.stdout + run.stderr
    for name in (
        "module_marker",
        "test_marker_wins",
        "no_auto_provision",
        "catalogs",
        "shared_first",
        "shared_second",
    ):
        assert f"test_{name} PASSED" in out, out
    assert "test_unknown_key ERROR" in out
    assert "unknown keyword(s) ['colour']" in out


def test_options_set_up_every_gateway_and_markers_win_over_them(tmp_path: Path) -> None:
    """--scgw-clock-start, --scgw-default-balance, --scgw-auto-provision, --scgw-catalog
    and --scgw-broker; a marker still wins over an option."""
    source = """
    import pytest

    def test_options(scgw):
        assert scgw.now().isoformat() == "2026-06-16T08:00:00+07:00"
        assert scgw.broker == "embedded"
        scgw.provision("0911000001", "postpaid")
        # postpaid ZL30 from the 16th: 50 % of 15,000
        assert "7.500d" in scgw.sms("0911000001", "DK ZL30")[0].text
        assert scgw.invoice("0911000001", "2026-06").total == 7_500
        assert "khong" in scgw.sms("0912000009", "DK ZL1")[0].text  # not provisioned

    @pytest.mark.scgw(auto_provision=True)
    def test_marker_over_option(scgw):
        scgw.sms("0912000009", "DK ZL7")
        assert scgw.balance("0912000009") == 7_000  # 12,000 - 5,000
    """
    run = _pytest(
        tmp_path,
        source,
        "--scgw-clock-start=2026-06-16T08:00:00+07:00",
        "--scgw-default-balance=12000",
        "--scgw-auto-provision=false",
        "--scgw-catalog=zalo",
        "--scgw-broker=embedded",
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert "2 passed" in run.stdout


def test_a_failing_test_shows_the_subscribers_recent_traffic(tmp_path: Path) -> None:
    """The report of a failed test lists the MOs, MTs and charges of the numbers it used."""
    source = """
    def test_wrong_balance(scgw):
        scgw.sms("0912000005", "DK ZL1")
        assert scgw.balance("0912000005") == 50_000
    """
    run = _pytest(tmp_path, source)
    assert run.returncode == 1
    assert "scgw: recent traffic" in run.stdout
    assert "84912000005 (prepaid, balance 49,000đ): ZL1 active" in run.stdout
    assert "MO -> 888: DK ZL1" in run.stdout
    assert "MT <- 888: Dang ky thanh cong goi ZL1" in run.stdout
    assert "ZL1 registration 1,000đ (prepaid_full_price, balance)" in run.stdout
