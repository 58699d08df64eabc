"""``scgw load FILE``: subscribers from CSV or NDJSON into a stopped gateway's database."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from gateway.bulk.rows import read_rows

if TYPE_CHECKING:
    from gateway.adapters.sqlite_store import SqliteStore

__all__ = ["Progress", "load_command"]

#: bad rows printed before "... and N more"
SHOWN = 1000


class Progress:
    """A one-line progress bar on stderr (redrawn at most ten times a second)."""

    def __init__(self, total: int, *, label: str, out: TextIO | None = None) -> None:
        self.total, self.done, self.label = total, 0, label
        self.out = out if out is not None else sys.stderr
        self.started = self._last = time.monotonic()

    def advance(self, n: int) -> None:
        self.done += n
        now = time.monotonic()
        if now - self._last >= 0.1 or self.done >= self.total:
            self._last = now
            self.draw(now)

    def draw(self, now: float) -> None:
        share = self.done / self.total if self.total else 1.0
        bar = "#" * int(share * 30)
        rate = self.done / max(now - self.started, 1e-9)
        self.out.write(
            f"\r{self.label} [{bar:<30}] {self.done:,}/{self.total:,} ({rate:,.0f} rows/s)"
        )
        if self.done >= self.total:
            self.out.write("\n")
        self.out.flush()


def _say(*lines: str) -> None:
    for line in lines:
        print(f"scgw: {line}", file=sys.stderr)


async def _migrated(store: SqliteStore) -> None:
    async with store:  # creates or migrates the schema, then closes
        pass


def load_command(args: argparse.Namespace) -> int:
    from carrier_rules import CatalogError
    from gateway.adapters.sqlite_bulk import BulkWriter
    from gateway.adapters.sqlite_store import SqliteStore
    from gateway.bootstrap import load_catalogs
    from gateway.cli_settings import SettingsProblem, Sources, load_settings
    from gateway.errors import GatewayError, SettingError
    from gateway.service.catalogue import Catalogue
    from gateway.service.timekeeper import VIRTUAL_NOW_KEY
    from gateway.startup import lock_database

    flags = {} if args.database_url is None else {"database_url": args.database_url}
    try:
        settings = load_settings(Sources(flags=flags))
    except SettingsProblem as exc:
        _say(*exc.lines)
        return 2
    path: Path = args.file
    started = time.monotonic()
    try:  # the plans a subscriptions column may name
        catalogue = Catalogue(load_catalogs(list(settings.catalogs)))
    except (CatalogError, GatewayError) as exc:
        _say(str(exc))
        return 2
    packages = {code: p.package for code, p in catalogue.products.items()}
    try:
        loaded = read_rows(path, default_balance=settings.default_balance, packages=packages)
    except OSError as exc:
        _say(f"{path}: cannot read it: {exc.strerror or exc}")
        return 2
    with contextlib.ExitStack() as stack:
        try:
            store = lock_database(settings, stack)
            if not isinstance(store, SqliteStore):
                _say(f"{store.path}: scgw load writes SQLite files only so far")
                return 2
            asyncio.run(_migrated(store))
        except SettingError as exc:
            _say(f"{exc.reason}")
            return 2
        writer = BulkWriter(Path(store.path))
        stack.callback(writer.close)
        bad = sorted(loaded.bad + writer.conflicts(loaded.rows), key=lambda b: b.line)
        for row in bad[:SHOWN]:
            print(f"{path}: {row}")
        if len(bad) > SHOWN:
            print(f"{path}: ... and {len(bad) - SHOWN} more bad rows")
        if bad and not args.skip_bad:
            _say(f"{path}: {len(bad)} bad row(s): nothing loaded (--skip-bad loads the others)")
            return 1
        lines = {b.line for b in bad}
        rows = [r for r in loaded.rows if r.line not in lines]
        # where the gateway's clock will stand: the stored virtual time, else the start
        # a virtual clock is given, else now
        virtual = writer.meta(VIRTUAL_NOW_KEY)
        now = datetime.now(UTC)
        if virtual:
            at = datetime.fromisoformat(virtual)
        else:
            at = settings.virtual_start(now) if settings.clock == "virtual" else now
        progress = None if args.no_progress else Progress(len(rows), label="loading")
        count = writer.insert(
            rows,
            at=at,
            catalogue=catalogue,
            progress=None if progress is None else progress.advance,
        )
    seconds = time.monotonic() - started
    skipped = f", {len(bad)} bad row(s) skipped" if bad else ""
    print(f"loaded {count:,} subscribers into {store.path} in {seconds:.1f}s{skipped}")
    return 0
