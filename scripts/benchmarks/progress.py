"""Progress bars (rich) on the long phases, on stderr, only when stderr is a terminal."""

from __future__ import annotations

import contextlib
import importlib
import sys
from collections.abc import Callable, Iterator
from typing import Any

from benchmarks.common import Json

#: False: no bars at all (``--no-progress``)
ENABLED = [True]


def _rich() -> Any | None:
    if not (ENABLED[0] and sys.stderr.isatty()):
        return None
    try:
        return importlib.import_module("rich.progress")
    except ImportError:  # rich is in the ``bench`` extra; without it, no bars
        return None


@contextlib.contextmanager
def bar(description: str, total: int | None) -> Iterator[Callable[[Json], None]]:
    """A bar that a worker's ``progress`` lines (``{"done": n}``) move; a no-op if off."""
    rich = _rich()
    if rich is None:
        yield lambda _message: None
        return
    console = importlib.import_module("rich.console").Console(stderr=True)
    with rich.Progress(
        rich.TextColumn("{task.description}"),
        rich.BarColumn(),
        rich.MofNCompleteColumn(),
        rich.TimeElapsedColumn(),
        console=console,
        transient=True,
    ) as progress:
        task = progress.add_task(description, total=total)

        def update(message: Json) -> None:
            progress.update(task, completed=message.get("done", 0))

        yield update
