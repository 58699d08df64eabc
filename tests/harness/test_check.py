"""``scgw check``: catalogs, support policies and scenarios validated offline, one line
per problem, exit code 1 on any."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.cli import main
from gateway.scenarios.model import parse_duration
from gateway.settings import DEFAULT_CATALOG, DEFAULT_CATALOGS, DEFAULT_SUPPORT_POLICY

ROOT = Path(__file__).resolve().parents[2]


def test_the_shipped_files_and_seeds_are_clean(capsys: pytest.CaptureFixture[str]) -> None:
    files = [*DEFAULT_CATALOGS, DEFAULT_SUPPORT_POLICY, *(ROOT / "scenarios").glob("*.toml")]
    assert main(["check", *map(str, files)]) == 0
    assert capsys.readouterr().out == ""


def test_every_problem_in_a_catalog_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = DEFAULT_CATALOG.read_text()
    broken = tmp_path / "broken.toml"
    broken.write_text(
        text.replace('shortcode = "888"', 'shortcode = "88"').replace(
            "price = 5000\n", 'price = "five"\n', 1
        )
    )
    twin = tmp_path / "twin.toml"
    twin.write_text(text)
    assert main(["check", str(broken), str(twin), str(DEFAULT_CATALOG)]) == 1
    lines = capsys.readouterr().out.splitlines()
    assert f"{broken}: shortcode: String should match pattern '^[0-9]{{3,8}}$'" in lines
    assert any(
        line.startswith(f"{broken}: packages.1.price: Input should be a valid integer")
        for line in lines
    ), lines
    assert f"{DEFAULT_CATALOG}: shortcode: 888 is already served by 'zalo'" in lines
    assert len(lines) == 3


def test_a_scenario_naming_what_no_catalog_has(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "refs.toml"
    path.write_text(
        """
[scenario]
name = "refs"
catalogs = ["zalo"]
[[steps]]
send = { from = "0912000001", to = "8100", text = "DK PRO" }
[[steps]]
expect_subscription = { msisdn = "0912000001", package = "ZL9" }
expect_balance = { msisdn = "0912000001", equals = "lots" }
"""
    )
    assert main(["check", str(path)]) == 1
    assert capsys.readouterr().out.splitlines() == [
        f"{path}: step 2: expect_balance.equals: Input should be a valid integer,"
        " unable to parse string as an integer",
    ]
    path.write_text(path.read_text().replace('"lots"', "1"))
    assert main(["check", str(path)]) == 1
    assert capsys.readouterr().out.splitlines() == [
        f"{path}: step 1: send.to: no catalog serves short code '8100' (served: 888)",
        f"{path}: step 2: no package 'ZL9' in the catalogs",
    ]


def test_a_file_that_is_not_toml(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "x.toml"
    path.write_text("name = \n")
    assert main(["check", str(path), str(tmp_path / "missing.toml")]) == 1
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith(f"{path}: not TOML: ")
    assert lines[1].startswith(f"{tmp_path / 'missing.toml'}: cannot read it: ")


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("7d", 604800), ("36h", 129600), ("1d12h", 129600), ("90m", 5400), ("2w", 1209600)],
)
def test_durations(text: str, seconds: int) -> None:
    assert parse_duration(text).total_seconds() == seconds


@pytest.mark.parametrize("text", ["", "7", "d7", "1h1d", "-1d"])
def test_not_durations(text: str) -> None:
    with pytest.raises(ValueError, match="not a duration"):
        parse_duration(text)
