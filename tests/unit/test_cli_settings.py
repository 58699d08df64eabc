"""Every bad setting is refused with one line naming it as the user wrote it: the
``SCGW_*`` variable or the ``scgw serve`` flag, exit code 2, no traceback."""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

import pytest
from pydantic import ValidationError

from gateway.cli import main
from gateway.cli_settings import flag_name, shown_default
from gateway.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
MAKE_ONE = "python3 -c 'import secrets; print(secrets.token_urlsafe(24))'"


@pytest.fixture(autouse=True)
def _no_scgw_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.upper().startswith("SCGW_"):
            monkeypatch.delenv(name)


@dataclass(frozen=True)
class Bad:
    variable: str
    flag: str
    value: str
    #: the value as a shell shows it (quoted when it has spaces or is empty)
    shown: str
    reason: str


PORT = "not a port number (0 to 65535; 0 picks a free one)"
CASES = [
    Bad("SCGW_HTTP_PORT", "--http-port", "abc", "abc", PORT),
    Bad("SCGW_HTTP_PORT", "--http-port", "65536", "65536", PORT),
    Bad("SCGW_SMTP_PORT", "--smtp-port", "-1", "-1", PORT),
    Bad("SCGW_SMTP_PORT", "--smtp-port", "25.5", "25.5", PORT),
    Bad("SCGW_MQTT_PROTOCOL", "--mqtt-protocol", "4", "4", "expected auto, 3.1.1 or 5"),
    Bad("SCGW_SQLITE_SYNCHRONOUS", "--sqlite-synchronous", "OFF", "OFF", "expected FULL or NORMAL"),
    Bad("SCGW_CLOCK", "--clock", "fake", "fake", "expected real or virtual"),
    Bad(
        "SCGW_CLOCK_START",
        "--clock-start",
        "2026-03-10 10:00",
        "'2026-03-10 10:00'",
        "needs a UTC offset, e.g. 2026-03-10T10:00:00+07:00",
    ),
    Bad(
        "SCGW_CLOCK_START",
        "--clock-start",
        "tomorrow",
        "tomorrow",
        "not an ISO 8601 date and time, e.g. 2026-03-10T10:00:00+07:00",
    ),
    Bad("SCGW_AUTO_PROVISION", "--auto-provision", "maybe", "maybe", "expected true or false"),
    Bad("SCGW_DEFAULT_BALANCE", "--default-balance", "-5", "-5", "must be at least 0"),
    Bad("SCGW_DEFAULT_BALANCE", "--default-balance", "5k", "5k", "not a whole number"),
    Bad(
        "SCGW_MAIL_DOMAIN",
        "--mail-domain",
        "sms local",
        "'sms local'",
        "expected a mail domain like sms.local, got 'sms local'",
    ),
    Bad("SCGW_SMTP_MAX_SIZE", "--smtp-max-size", "1000", "1000", "must be at least 1024"),
    Bad("SCGW_SMTP_MAX_RECIPIENTS", "--smtp-max-recipients", "0", "0", "must be at least 1"),
    Bad(
        "SCGW_SMTP_MAX_RECIPIENTS", "--smtp-max-recipients", "1001", "1001", "must be at most 1000"
    ),
    Bad("SCGW_SMTP_TIMEOUT", "--smtp-timeout", "0", "0", "must be more than 0"),
    Bad("SCGW_SMTP_TIMEOUT", "--smtp-timeout", "soon", "soon", "not a number"),
    Bad("SCGW_SMTP_AUTH", "--smtp-auth", "plain", "plain", "expected none or required"),
    Bad(
        "SCGW_SMTP_RELAY_URL",
        "--smtp-relay-url",
        "ftp://mail.example",
        "ftp://mail.example",
        "invalid relay URL 'ftp://mail.example': unsupported scheme 'ftp'; expected"
        " smtp://[user:password@]host[:port][?starttls=true] or smtps://[user:password@]host[:port]",
    ),
    Bad("SCGW_MAIL_RETRY_BASE", "--mail-retry-base", "-2", "-2", "must be more than 0"),
    Bad("SCGW_MAIL_RETRY_MAX", "--mail-retry-max", "5m", "5m", "not a number"),
    Bad("SCGW_DATA_RATE_PER_MB", "--data-rate-per-mb", "1.5", "1.5", "not a whole number"),
    Bad("SCGW_LOG_LEVEL", "--log-level", "loud", "loud", "expected DEBUG, INFO, WARNING or ERROR"),
    Bad("SCGW_LOG_FORMAT", "--log-format", "xml", "xml", "expected auto, json or console"),
    Bad(
        "SCGW_DISPLAY_TIMEZONE",
        "--display-timezone",
        "Mars/Olympus",
        "Mars/Olympus",
        "not a time zone name, e.g. Asia/Ho_Chi_Minh or UTC",
    ),
    # JSON-typed: the variable and the flag take the same JSON
    Bad(
        "SCGW_SMTP_USERS",
        "--smtp-users",
        '["harness"]',
        "<hidden>",
        'expected a JSON object, e.g. {"harness": "s3cret"}',
    ),
    Bad(
        "SCGW_SMTP_USERS",
        "--smtp-users",
        "{harness: s3cret}",
        "<hidden>",
        "not valid JSON (Expecting property name enclosed in double quotes at character 1);"
        ' expected a JSON object, e.g. {"harness": "s3cret"}',
    ),
    Bad(
        "SCGW_SMTP_USERS",
        "--smtp-users",
        '{"harness": 42}',
        "<hidden>",
        "harness: expected text",
    ),
]


def _run(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    form: str,
    variable: str,
    flag: str,
    value: str,
) -> tuple[int, str]:
    args = ["serve"]
    if form == "env":
        monkeypatch.setenv(variable, value)
    else:
        args += [flag, value]
    code = main(args)
    captured = capsys.readouterr()
    assert captured.out == ""
    return code, captured.err


@pytest.mark.parametrize("form", ["env", "flag"])
@pytest.mark.parametrize("bad", CASES, ids=[f"{c.variable}={c.value}" for c in CASES])
def test_a_bad_value_is_one_line_naming_the_setting(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], form: str, bad: Bad
) -> None:
    """``SCGW_HTTP_PORT=abc`` -> ``scgw: SCGW_HTTP_PORT=abc: not a port number ...``, and
    ``--http-port abc`` -> ``scgw: --http-port abc: ...``; exit 2, nothing else printed."""
    code, err = _run(monkeypatch, capsys, form, bad.variable, bad.flag, bad.value)
    named = f"{bad.variable}={bad.shown}" if form == "env" else f"{bad.flag} {bad.shown}"
    assert code == 2
    assert err == f"scgw: {named}: {bad.reason}\n"


@pytest.mark.parametrize("form", ["env", "flag"])
def test_a_broker_url_of_another_kind_is_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], form: str
) -> None:
    """The reason is the URL check's own (it names what is expected)."""
    code, err = _run(monkeypatch, capsys, form, "SCGW_MQTT_URL", "--mqtt-url", "http://broker")
    named = "SCGW_MQTT_URL=http://broker" if form == "env" else "--mqtt-url http://broker"
    assert code == 2
    assert err.startswith(f"scgw: {named}: expected mqtt://")
    assert err.count("\n") == 1


@pytest.mark.parametrize("form", ["env", "flag"])
def test_a_password_in_a_url_is_never_echoed(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], form: str
) -> None:
    """A broker URL refused for its scheme still hides the password it carries."""
    url = "http://gw:s3cret-pw@broker:1883"
    code, err = _run(monkeypatch, capsys, form, "SCGW_MQTT_URL", "--mqtt-url", url)
    assert code == 2
    assert "s3cret-pw" not in err
    assert "http://gw:<hidden>@broker:1883" in err


def test_a_long_value_is_cut_in_the_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A 300-character value is shown as its first 199 characters and an ellipsis."""
    monkeypatch.setenv("SCGW_HTTP_PORT", "9" * 300)
    assert main(["serve"]) == 2
    assert capsys.readouterr().err == (
        f"scgw: SCGW_HTTP_PORT={'9' * 199}…: not a port number (0 to 65535; 0 picks a free one)\n"
    )


def test_a_json_variable_that_is_not_json_names_the_variable(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """``SCGW_CATALOGS`` is a JSON list (its flag, ``--catalog FILE``, is repeated instead)."""
    monkeypatch.setenv("SCGW_CATALOGS", "zalo.toml,music.toml")
    assert main(["serve"]) == 2
    assert capsys.readouterr().err == (
        "scgw: SCGW_CATALOGS=zalo.toml,music.toml: not valid JSON (Expecting value at"
        ' character 0); expected a JSON list, e.g. ["a.toml", "b.toml"]\n'
    )
    monkeypatch.setenv("SCGW_CATALOGS", '{"zalo": "zalo.toml"}')
    assert main(["serve"]) == 2
    assert capsys.readouterr().err == (
        'scgw: SCGW_CATALOGS=\'{"zalo": "zalo.toml"}\': expected a JSON list,'
        ' e.g. ["a.toml", "b.toml"]\n'
    )


def test_every_bad_setting_gets_its_own_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("SCGW_HTTP_PORT", "abc")
    assert main(["serve", "--clock", "fake"]) == 2
    assert capsys.readouterr().err.splitlines() == [
        "scgw: SCGW_HTTP_PORT=abc: not a port number (0 to 65535; 0 picks a free one)",
        "scgw: --clock fake: expected real or virtual",
    ]


def test_a_flag_wins_over_its_variable(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The bad variable is overridden by a good flag: only the flag's problem is shown."""
    monkeypatch.setenv("SCGW_HTTP_PORT", "abc")
    assert main(["serve", "--http-port", "8080", "--log-level", "loud"]) == 2
    assert capsys.readouterr().err == (
        "scgw: --log-level loud: expected DEBUG, INFO, WARNING or ERROR\n"
    )


def test_a_rule_across_settings_names_them_as_given(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["serve", "--http-host", "0.0.0.0"]) == 2
    assert capsys.readouterr().err == (
        "scgw: --http-host 0.0.0.0 is reachable from other machines: set SCGW_API_TOKEN"
        " (--api-token); the console and the API will ask for it\n"
    )
    assert main(["serve", "--http-port", "2600", "--smtp-port", "2600"]) == 2
    assert capsys.readouterr().err == (
        "scgw: --http-port and --smtp-port are both 2600: give each listener its own port\n"
    )
    monkeypatch.setenv("SCGW_SMTP_AUTH", "required")
    assert main(["serve"]) == 2
    assert capsys.readouterr().err == (
        "scgw: SCGW_SMTP_AUTH=required needs SCGW_SMTP_USERS (--smtp-users),"
        ' e.g. {"harness": "s3cret"}\n'
    )


@pytest.mark.parametrize(
    ("token", "shown", "reason"),
    [
        ("", "''", "blank: give a token of 16 characters or more, or leave it unset"),
        ("   ", "'   '", "blank: give a token of 16 characters or more, or leave it unset"),
        (
            "s3cret",
            "<hidden>",
            f"too short (6 characters, at least 16): make one with {MAKE_ONE}",
        ),
        (
            "0123456789abcde",  # 15
            "<hidden>",
            f"too short (15 characters, at least 16): make one with {MAKE_ONE}",
        ),
        (
            "correct horse battery staple",
            "<hidden>",
            "contains spaces: a token is one word of 16 characters or more",
        ),
    ],
    ids=["empty", "blank", "6-chars", "15-chars", "spaces"],
)
@pytest.mark.parametrize("form", ["env", "flag"])
def test_a_blank_or_short_token_is_refused_without_showing_it(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    form: str,
    token: str,
    shown: str,
    reason: str,
) -> None:
    """Even on loopback (where no token is needed) a token given is a token checked."""
    code, err = _run(monkeypatch, capsys, form, "SCGW_API_TOKEN", "--api-token", token)
    named = f"SCGW_API_TOKEN={shown}" if form == "env" else f"--api-token {shown}"
    assert code == 2
    assert err == f"scgw: {named}: {reason}\n"
    if token.strip():
        assert token not in err


def test_a_token_of_16_characters_is_accepted() -> None:
    settings = Settings(http_host="0.0.0.0", api_token="0123456789abcdef")  # noqa: S106
    assert settings.api_token is not None
    assert settings.api_token.get_secret_value() == "0123456789abcdef"
    with pytest.raises(ValidationError):
        Settings(http_host="0.0.0.0", api_token="0123456789abcde")  # noqa: S106


def test_usage_errors_are_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["serve", "--htp-port", "8080"])
    assert exited.value.code == 2
    assert capsys.readouterr().err == (
        "scgw: unrecognized arguments: --htp-port 8080 (see scgw --help)\n"
    )


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    with pytest.raises(SystemExit) as exited:
        main(["--version"])
    assert exited.value.code == 0
    assert capsys.readouterr().out == f"scgw {project['version']}\n"


def test_serve_help_lists_every_setting_with_its_variable_and_default(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("COLUMNS", "400")  # one line per flag
    with pytest.raises(SystemExit):
        main(["serve", "--help"])
    text = capsys.readouterr().out
    assert "--http-port N " in text
    assert "(SCGW_HTTP_PORT; default: 8888)" in text
    assert "(SCGW_SMTP_USERS; default: {})" in text
    assert "(SCGW_MAIL_RETRY_BASE; default: 2)" in text
    assert "(SCGW_AUTO_PROVISION; default: true)" in text
    for name in Settings.model_fields:
        assert flag_name(name) in text
        if name != "catalogs":
            assert f"SCGW_{name.upper()}; default: {shown_default(name)})" in text
    for flag in ("--api-token", "--smtp-users", "--mail-retry-base", "--mail-retry-max"):
        assert f"{flag} " in text


def test_the_readme_table_documents_every_setting() -> None:
    """One row per setting: the variable, its flag and its default."""
    rows = {}
    for line in (ROOT / "README.md").read_text().splitlines():
        found = re.match(r"\| `(SCGW_[A-Z0-9_]+)` \| `([^`]+)`[^|]* \| ([^|]+) \|", line)
        if found:
            rows[found.group(1)] = (found.group(2), found.group(3).strip())
    for name in Settings.model_fields:
        variable = f"SCGW_{name.upper()}"
        assert variable in rows, f"{variable} is not in the README's settings table"
        flag, default = rows[variable]
        assert flag.split()[0] == flag_name(name)
        assert default.strip("`") == shown_default(name), variable
