"""structlog configuration: JSON lines in production, readable output in a terminal."""

from __future__ import annotations

import asyncio
import atexit
import json
import logging
import sys
import threading
from typing import Any, Literal, TextIO

import structlog

__all__ = ["LineWriter", "clip", "configure_logging"]

_LOGGED_TEXT = 60  # characters of an SMS shown in the traffic log


def clip(text: str) -> str:
    """An SMS text as the traffic log shows it: at most 60 characters."""
    return text if len(text) <= _LOGGED_TEXT else text[: _LOGGED_TEXT - 1] + "…"


class LineWriter:
    """structlog's logger: the lines logged in one turn of the event loop go out in one
    write at the end of it (a batch's traffic lines: one system call, not one a line);
    a line logged outside the loop (another thread, before or after it) goes out at once,
    with any still waiting. Every method name structlog calls it by writes the line."""

    __slots__ = ("_file", "_lines", "_lock", "_scheduled_on")

    def __init__(self, file: TextIO) -> None:
        self._file = file
        self._lines: list[str] = []
        self._lock = threading.Lock()
        self._scheduled_on: asyncio.AbstractEventLoop | None = None
        atexit.register(self.flush)

    def msg(self, message: str) -> None:
        with self._lock:
            self._lines.append(message)
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            self.flush()
            return
        if self._scheduled_on is not loop:  # once per turn (a closed loop's turn: again)
            self._scheduled_on = loop
            loop.call_soon(self.flush)

    log = debug = info = warn = warning = err = error = critical = exception = fatal = msg

    def flush(self) -> None:
        with self._lock:
            lines, self._lines = self._lines, []
            self._scheduled_on = None
            if lines:
                self._file.write("\n".join(lines) + "\n")
                self._file.flush()


#: JSON of an event: one encoder made once (``json.dumps`` with ``default`` builds one
#: per call); what JSON cannot hold is shown by its ``repr``
_encode = json.JSONEncoder(default=repr).encode


def _json(_: Any, __: str, event_dict: structlog.types.EventDict) -> str:
    return _encode(event_dict)


def configure_logging(level: str, fmt: Literal["auto", "json", "console"] = "auto") -> None:
    """Configure structlog once; message id and msisdn come from bound contextvars."""
    use_console = sys.stderr.isatty() if fmt == "auto" else fmt == "console"
    writer = LineWriter(sys.stderr)
    renderer: structlog.types.Processor = structlog.dev.ConsoleRenderer() if use_console else _json
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info
            if not use_console
            else structlog.processors.StackInfoRenderer(),
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelNamesMapping()[level]),
        logger_factory=lambda *_: writer,
        cache_logger_on_first_use=True,
    )
    logging.basicConfig(
        level=logging.WARNING, stream=sys.stderr, format="%(name)s %(levelname)s %(message)s"
    )
