"""The event loop ``scgw serve`` runs on: uvloop where it is installed, else asyncio's own.

uvloop is a dependency on the platforms it supports; measured on the MO path
(docs/performance.md) it takes about 6 % less CPU per MO than asyncio's selector loop.
Where it cannot be imported (Windows, a build without it) the gateway runs on asyncio's
loop and behaves the same.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any, TypeVar

__all__ = ["loop_name", "run"]

T = TypeVar("T")


def run(main: Coroutine[Any, Any, T]) -> T:
    """``asyncio.run(main)``, on uvloop when it can be imported."""
    try:
        import uvloop  # optional: absent on some platforms
    except ImportError:
        return asyncio.run(main)
    return uvloop.run(main)


def loop_name() -> str:
    """The running loop's kind, for the start-up line: ``uvloop`` or ``asyncio``."""
    module = type(asyncio.get_running_loop()).__module__
    return "uvloop" if module.startswith("uvloop") else "asyncio"
