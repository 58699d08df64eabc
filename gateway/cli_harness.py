"""The harness's ``scgw`` subcommands: ``scenario run``, ``check`` and ``load``."""

from __future__ import annotations

import argparse
import contextlib
import logging
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

__all__ = ["add_harness_commands", "run_harness_command"]

HARNESS_COMMANDS = frozenset({"scenario", "check", "load"})


def add_harness_commands(commands: Any) -> None:
    """Add the subcommands to ``scgw``'s subparsers."""
    scenario = commands.add_parser(
        "scenario", help="scenario files: run them, each on a fresh gateway"
    )
    verbs = scenario.add_subparsers(dest="verb", required=True)
    run = verbs.add_parser(
        "run",
        help="run scenario files; exit 0 only when every expectation holds",
        description="Run each scenario file on a fresh gateway of its own (virtual clock,"
        " new SQLite file, its own broker, free ports). A failed expectation is printed"
        " with the file, the step and what was seen. See docs/scenarios.md.",
    )
    run.add_argument("files", nargs="+", type=Path, metavar="FILE")
    run.add_argument("--junit-xml", type=Path, metavar="PATH", help="write a JUnit XML report")
    run.add_argument(
        "--broker",
        choices=["auto", "mosquitto", "embedded"],
        default="auto",
        help="auto (default): a private mosquitto when installed, else the embedded broker",
    )

    check = commands.add_parser(
        "check",
        help="validate catalogs, support policies and scenario files without starting anything",
        description="Validate files offline: one line per problem, exit code 1 on any. A file"
        " with a [scenario] table is a scenario, one with closure_phrases a support policy,"
        " anything else a catalog. No FILE: the catalogs the settings name (SCGW_CATALOGS,"
        " else the shipped ones).",
    )
    check.add_argument("files", nargs="*", type=Path, metavar="FILE")

    load = commands.add_parser(
        "load",
        help="load subscribers in bulk from CSV or NDJSON into a database",
        description="Load subscribers (columns msisdn, kind, balance, language, email,"
        " subscriptions) from a .csv or .ndjson/.jsonl file; subscriptions (ZL7;REC) serve"
        " from the load's instant, their first period not charged. Every bad row is"
        " reported with its line number, and a file with a bad row loads nothing unless"
        " --skip-bad is given.",
    )
    load.add_argument("file", type=Path, metavar="FILE")
    load.add_argument(
        "--database-url",
        default=None,
        help="the gateway's database (default: SCGW_DATABASE_URL, else sqlite:///./scgw.db);"
        " the gateway must be stopped",
    )
    load.add_argument("--skip-bad", action="store_true", help="load the good rows of a bad file")
    load.add_argument("--no-progress", action="store_true", help="no progress bar")


def _say(*lines: str) -> None:
    for line in lines:
        print(f"scgw: {line}", file=sys.stderr)


def _scenario_run(args: argparse.Namespace) -> int:
    with _warnings_only():
        return _run_scenarios(args)


@contextlib.contextmanager
def _warnings_only() -> Iterator[None]:
    """The gateways run in this process: their warnings and errors only, on stderr; the
    host's structlog configuration is put back afterwards (``main`` may run inside a
    test run)."""
    import structlog

    saved = structlog.get_config()
    structlog.configure(
        processors=[
            structlog.processors.add_log_level,
            structlog.dev.ConsoleRenderer(colors=False),
        ],
        wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING),
        # sys.stderr as it is when each line is written, never a stream kept from before
        logger_factory=lambda *_: structlog.PrintLogger(sys.stderr),
        cache_logger_on_first_use=False,
    )
    try:
        yield
    finally:
        structlog.configure(**saved)


def _run_scenarios(args: argparse.Namespace) -> int:
    from gateway.scenarios import ScenarioResult, run_file, write_junit

    results: list[ScenarioResult] = []
    for path in args.files:
        result = run_file(path, broker=args.broker)
        results.append(result)
        mark = "PASS" if result.ok else "FAIL"
        print(f"{mark} {path}: {result.name} ({result.steps_run}/{result.steps} steps,"
              f" {result.seconds:.1f}s)")  # fmt: skip
        for failure in result.failures:
            print(f"  {failure}")
    failed = sum(1 for r in results if not r.ok)
    print(f"{len(results) - failed} passed, {failed} failed")
    if args.junit_xml is not None:
        write_junit(args.junit_xml, results)
    return 1 if failed else 0


def _check(args: argparse.Namespace) -> int:
    from gateway.scenarios.check import check_files

    files: list[Path] = args.files
    if not files:
        from gateway.cli_settings import SettingsProblem, Sources, load_settings

        try:
            files = list(load_settings(Sources(flags={})).catalogs)
        except SettingsProblem as exc:
            _say(*exc.lines)
            return 2
    problems = check_files(files)
    for problem in problems:
        print(problem)
    if not problems:
        print(f"{len(files)} file(s) checked: no problems", file=sys.stderr)
    return 1 if problems else 0


def run_harness_command(args: argparse.Namespace) -> int:
    if args.command == "scenario":
        return _scenario_run(args)
    if args.command == "check":
        return _check(args)
    from gateway.bulk.command import load_command

    return load_command(args)
