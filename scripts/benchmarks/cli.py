"""Arguments, the run of the chosen sections, and the outputs (table, JSON, chart)."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shutil
import signal
import tempfile
import traceback
from collections.abc import Callable, Sequence
from dataclasses import asdict
from pathlib import Path

from benchmarks import progress
from benchmarks.common import MIXES, REPO, SECTIONS, BenchError, Config, Context, Json, say
from benchmarks.targets import Target, targets


def _positive(text: str) -> int:
    value = int(text.replace("_", ""))
    if value <= 0:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}")
    return value


def _ints(text: str) -> tuple[int, ...]:
    return tuple(_positive(x) for x in text.split(",") if x.strip())


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="scripts/bench",
        description="Benchmark shortcode-gateway (mosquitto, SQLite and the gateway are"
        " started here, on free ports, in a temporary folder).",
    )
    add = p.add_argument
    add(
        "--only",
        default=",".join(SECTIONS),
        help="sections: mqtt,scale,startup,renewals,smpp,instances",
    )
    add("--quick", action="store_true", help="tiny sizes (the test suite's smoke run)")
    add(
        "--json",
        type=Path,
        default=REPO / "test-artifacts" / "bench-results.json",
        help="where to write every figure (default test-artifacts/bench-results.json)",
    )
    add("--chart", type=Path, help="write a PNG chart (needs matplotlib)")
    add("-n", "--messages", type=_positive, help="measured MOs per loop (default 20000)")
    add("--mix", default=",".join(MIXES), help="MO mixes of the mqtt section: writes,mixed")
    add(
        "--subscribers",
        type=_positive,
        help="senders of the scale section (default 1000; the mixes use 400 and 1000)",
    )
    add("--window", type=_positive, default=64, help="outstanding MOs at most (default 64)")
    add("--warmup", type=int, help="MOs before measuring (default 500)")
    add("--open-seconds", type=float, help="open-loop duration (default 10)")
    add("--renewals", type=_ints, help="K values (default 10000,100000,1000000)")
    add("--scale", type=_ints, help="small,big subscriber tables (default 1000,1000000)")
    add("--startup-runs", type=_positive, default=3, help="start-ups timed (default 3)")
    add(
        "--bare-window",
        type=_positive,
        default=100,
        help="unacknowledged QoS 1 messages of the bare publisher baseline (default 100)",
    )
    add(
        "--nodelay",
        choices=("both", "on", "off"),
        default="both",
        help="broker settings of the mqtt section: set_tcp_nodelay true (on), mosquitto's"
        " default (off), or both (default)",
    )
    add("--broker-nagle", action="store_true", help="the same as --nodelay off (older flag)")
    add("--no-progress", action="store_true", help="no progress bars")
    add("--keep", action="store_true", help="keep the temporary folder (logs, DBs)")
    add("--fail-on-miss", action="store_true", help="exit 1 when a target is not met")
    add("--worker", help=argparse.SUPPRESS)
    add("--worker-config", help=argparse.SUPPRESS)
    return p


def _choose(text: str, allowed: Sequence[str], what: str) -> tuple[str, ...]:
    chosen = tuple(s.strip() for s in text.split(",") if s.strip())
    unknown = set(chosen) - set(allowed)
    if unknown:
        raise SystemExit(f"unknown {what} {sorted(unknown)}: choose from {tuple(allowed)}")
    return tuple(s for s in allowed if s in chosen)


def make_config(args: argparse.Namespace) -> Config:
    quick = bool(args.quick)
    scale = args.scale or ((1000, 5000) if quick else (1000, 1_000_000))
    senders = args.subscribers or (100 if quick else 1000)
    if len(scale) != 2 or min(scale) < senders:
        raise SystemExit(
            f"--scale takes two sizes, small,big, each at least --subscribers {senders}"
        )
    nodelay = "off" if args.broker_nagle else args.nodelay
    return Config(
        sections=_choose(args.only, SECTIONS, "section(s)"),
        messages=args.messages or (200 if quick else 20_000),
        subscribers=senders,
        window=args.window,
        warmup=args.warmup if args.warmup is not None else (50 if quick else 500),
        open_seconds=args.open_seconds or (1.5 if quick else 10.0),
        renewals=args.renewals or ((1000,) if quick else (10_000, 100_000, 1_000_000)),
        scale=(scale[0], scale[1]),
        startup_subscribers=scale[1],
        startup_runs=args.startup_runs,
        bare_window=args.bare_window,
        mixes=_choose(args.mix, tuple(MIXES), "mix(es)"),
        nodelay={"both": (True, False), "on": (True,), "off": (False,)}[nodelay],
        progress=not args.no_progress,
    )


def _meta(cfg: Config) -> Json:
    return {
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "host": platform.node(),
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "load_average_at_start": os.getloadavg()[0],
        "config": asdict(cfg),
    }


def _runners() -> dict[str, Callable[[Context], object]]:
    from benchmarks.instances import instances_section
    from benchmarks.mqtt import mqtt_section
    from benchmarks.renewals import renewals_section
    from benchmarks.scale import scale_section, startup_section
    from benchmarks.smpp import smpp_section

    return {
        "mqtt": mqtt_section,
        "scale": scale_section,
        "startup": startup_section,
        "renewals": renewals_section,
        "smpp": smpp_section,
        "instances": instances_section,
    }


def _terminate(signum: int, _frame: object) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def run_sections(ctx: Context) -> dict[str, str]:
    """Run each chosen section; one that fails is reported and the others still run."""
    errors: dict[str, str] = {}
    runners = _runners()
    for name in ctx.cfg.sections:
        try:
            ctx.results[name] = runners[name](ctx)
        except Exception as exc:
            if not isinstance(exc, BenchError):
                traceback.print_exc()
            say(f"bench: {name} failed: {exc}")
            errors[name] = f"{type(exc).__name__}: {exc}"
    return errors


def write_outputs(results: Json, args: argparse.Namespace) -> list[Target]:
    """Print the table, write the JSON (and the chart); returns the targets."""
    from benchmarks.report import report

    found = targets(results)
    results["meta"]["load_average_at_end"] = os.getloadavg()[0]
    results["targets"] = [t.as_json() for t in found]
    print(report(results, found), flush=True)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(results, indent=2) + "\n")
    say(f"bench: figures written to {args.json}")
    if args.chart is not None:
        from benchmarks.chart import write_chart

        write_chart(results, found, args.chart)
    return found


def run(cfg: Config, args: argparse.Namespace) -> int:
    workdir = Path(tempfile.mkdtemp(prefix="scgw-bench-"))
    ctx = Context(cfg, workdir, {"meta": _meta(cfg)})
    say(f"bench: working in {workdir}")
    busy = os.getloadavg()[0]
    if busy > 0.5 * (os.cpu_count() or 1):
        say(f"bench: warning: load average {busy:.2f} before starting; figures will be noisy")
    try:
        errors = run_sections(ctx)
    finally:
        if args.keep:
            say(f"bench: kept {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    if errors:
        ctx.results["errors"] = errors
    found = write_outputs(ctx.results, args)
    if errors:
        say(f"bench: sections that failed: {', '.join(errors)}")
        return 2
    missed = any(t.met is False for t in found)
    return 1 if args.fail_on_miss and missed else 0


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if args.worker:
        from benchmarks.workers import run_worker

        return run_worker(args.worker, args.worker_config or "{}")
    signal.signal(signal.SIGTERM, _terminate)
    signal.signal(signal.SIGINT, signal.default_int_handler)  # even if started ignoring it
    progress.ENABLED[0] = not args.no_progress
    try:
        return run(make_config(args), args)
    except KeyboardInterrupt:
        say("bench: interrupted; every process it started was stopped")
        return 130
    except BenchError as exc:
        say(f"bench: failed: {exc}")
        return 2
