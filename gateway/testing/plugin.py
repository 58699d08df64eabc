"""The pytest plugin (entry point ``pytest11``): the ``scgw`` fixture, its marker and
its ``--scgw-*`` options.

```python
@pytest.mark.scgw(clock_start="2026-03-10T10:00:00+07:00", default_balance=20_000)
def test_zl7_renews_weekly(scgw):
    assert "ZL7" in scgw.sms("0912000001", "DK ZL7")[0].text
    scgw.advance(days=7)
    assert scgw.balance("0912000001") == 10_000
```
"""

from __future__ import annotations

import dataclasses
from collections.abc import Generator, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from gateway.settings import DEFAULT_CATALOGS
from gateway.testing.harness import Scgw
from gateway.testing.runner import GatewayConfig, RunningGateway

__all__ = ["pytest_addoption", "pytest_configure", "scgw", "scgw_module"]

_MARKER_KEYS = frozenset(
    {"clock_start", "catalogs", "auto_provision", "default_balance", "broker", "settings"}
)
_SHIPPED = {path.stem: path for path in DEFAULT_CATALOGS}
_HARNESS = pytest.StashKey[Scgw]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("scgw", "shortcode-gateway (the scgw fixture)")
    group.addoption(
        "--scgw-clock-start",
        default=None,
        help="where the virtual clock starts, ISO 8601 with an offset"
        " (default 2026-03-10T10:00:00+07:00)",
    )
    group.addoption(
        "--scgw-catalog",
        action="append",
        default=None,
        metavar="FILE",
        help="a catalog file (repeatable; a shipped one by name: zalo, meetings, creative,"
        " streaming); default: the four shipped catalogs",
    )
    group.addoption(
        "--scgw-auto-provision",
        choices=["true", "false"],
        default=None,
        help="an unknown number becomes a prepaid subscriber (default true)",
    )
    group.addoption(
        "--scgw-default-balance",
        type=int,
        default=None,
        help="an auto-provisioned subscriber's balance in đồng (default 50000)",
    )
    group.addoption(
        "--scgw-broker",
        choices=["auto", "mosquitto", "embedded"],
        default=None,
        help="auto (default): a private mosquitto when installed, else the embedded broker",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "scgw(clock_start=None, catalogs=None, auto_provision=None, default_balance=None,"
        " broker=None, settings=None): how the scgw fixture's gateway is set up",
    )


def _catalog(value: str | Path, base: Path) -> Path:
    text = str(value)
    if text in _SHIPPED:
        return _SHIPPED[text]
    path = Path(text).expanduser()
    return path if path.is_absolute() else base / path


def _from_options(config: pytest.Config) -> dict[str, Any]:
    found: dict[str, Any] = {}
    if (start := config.getoption("scgw_clock_start")) is not None:
        found["clock_start"] = start
    if (catalogs := config.getoption("scgw_catalog")) is not None:
        found["catalogs"] = tuple(_catalog(c, Path.cwd()) for c in catalogs)
    if (auto := config.getoption("scgw_auto_provision")) is not None:
        found["auto_provision"] = auto == "true"
    if (balance := config.getoption("scgw_default_balance")) is not None:
        found["default_balance"] = balance
    if (broker := config.getoption("scgw_broker")) is not None:
        found["broker"] = broker
    return found


def _from_markers(node: pytest.Item | pytest.Collector) -> dict[str, Any]:
    """The ``scgw`` markers' keywords, the closest winning (a test's over its module's)."""
    found: dict[str, Any] = {}
    base = node.path.parent if node.path is not None else Path.cwd()
    for marker in reversed(list(node.iter_markers("scgw"))):
        if marker.args:
            raise pytest.UsageError(f"{node.nodeid}: @pytest.mark.scgw takes keywords only")
        unknown = set(marker.kwargs) - _MARKER_KEYS
        if unknown:
            raise pytest.UsageError(
                f"{node.nodeid}: @pytest.mark.scgw: unknown keyword(s) {sorted(unknown)};"
                f" known: {sorted(_MARKER_KEYS)}"
            )
        for key, value in marker.kwargs.items():
            if key == "catalogs":
                value = tuple(_catalog(c, base) for c in value)
            elif key == "settings":
                value = {**found.get("settings", {}), **value}
            found[key] = value
    return found


def gateway_config(node: pytest.Item | pytest.Collector) -> GatewayConfig:
    """The options, then the markers over them."""
    values = {**_from_options(node.config), **_from_markers(node)}
    start = values.get("clock_start")
    if isinstance(start, str):
        try:
            values["clock_start"] = datetime.fromisoformat(start)
        except ValueError as exc:
            raise pytest.UsageError(f"scgw clock_start {start!r}: not ISO 8601") from exc
    if "clock_start" in values and values["clock_start"].tzinfo is None:
        raise pytest.UsageError(
            f"scgw clock_start {values['clock_start']}: give its offset, e.g. +07:00"
        )
    fields = {f.name for f in dataclasses.fields(GatewayConfig)}
    return GatewayConfig(**{k: v for k, v in values.items() if k in fields})


def _started(node: pytest.Item | pytest.Collector, workdir: Path) -> RunningGateway:
    return RunningGateway(gateway_config(node), workdir=workdir).start()


@pytest.fixture
def scgw(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Scgw]:
    """A gateway of this test's own: virtual clock, fresh SQLite in ``tmp_path``, its own
    broker, free ports. Set up with ``@pytest.mark.scgw(...)`` and ``--scgw-*``."""
    gateway = _started(request.node, tmp_path / "scgw")
    harness = Scgw(gateway)
    request.node.stash[_HARNESS] = harness
    try:
        yield harness
    finally:
        gateway.stop()


@pytest.fixture(scope="module")
def scgw_module(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Scgw]:
    """One gateway for a whole test module (set up by the module's ``pytestmark``): faster,
    for tests that use numbers of their own and do not depend on where the clock is."""
    gateway = _started(request.node, tmp_path_factory.mktemp("scgw"))
    try:
        yield Scgw(gateway)
    finally:
        gateway.stop()


@pytest.fixture(autouse=True)
def _scgw_module_report(request: pytest.FixtureRequest) -> None:
    """A test on the shared gateway gets its own report: the numbers it touched."""
    if "scgw_module" in request.fixturenames:
        harness: Scgw = request.getfixturevalue("scgw_module")
        harness.touched.clear()
        request.node.stash[_HARNESS] = harness


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, Any, None]:
    """A failing test that used a gateway gets the recent MOs, MTs and charges of the
    numbers it touched, as a section of its report."""
    outcome = yield
    report: pytest.TestReport = outcome.get_result()
    harness = item.stash.get(_HARNESS, None)
    if report.when == "call" and report.failed and harness is not None:
        touched = list(harness.touched)
        if touched:
            report.sections.append(("scgw: recent traffic", harness.report(touched)))
