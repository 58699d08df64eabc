"""structlog configuration: JSON lines in production, readable output in a terminal."""

from __future__ import annotations

import logging
import sys
from typing import Literal

import structlog

__all__ = ["clip", "configure_logging"]

_LOGGED_TEXT = 60  # characters of an SMS shown in the traffic log


def clip(text: str) -> str:
    """An SMS text as the traffic log shows it: at most 60 characters."""
    return text if len(text) <= _LOGGED_TEXT else text[: _LOGGED_TEXT - 1] + "…"


def configure_logging(level: str, fmt: Literal["auto", "json", "console"] = "auto") -> None:
    """Configure structlog once; message id and msisdn come from bound contextvars."""
    use_console = sys.stderr.isatty() if fmt == "auto" else fmt == "console"
    renderer: structlog.types.Processor = (
        structlog.dev.ConsoleRenderer() if use_console else structlog.processors.JSONRenderer()
    )
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
        logger_factory=structlog.PrintLoggerFactory(file=sys.stderr),
        cache_logger_on_first_use=True,
    )
    logging.basicConfig(
        level=logging.WARNING, stream=sys.stderr, format="%(name)s %(levelname)s %(message)s"
    )
