"""The event loop ``scgw serve`` runs on: uvloop where it imports, asyncio's otherwise."""

from __future__ import annotations

import sys

import pytest

from gateway import event_loop


async def _answer() -> tuple[str, int]:
    return event_loop.loop_name(), 42


def test_runs_on_uvloop_where_installed() -> None:
    pytest.importorskip("uvloop")
    assert event_loop.run(_answer()) == ("uvloop", 42)


def test_falls_back_to_asyncio_when_uvloop_cannot_be_imported(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A platform without uvloop (``import uvloop`` fails) runs the same coroutine on
    asyncio's own loop."""
    monkeypatch.setitem(sys.modules, "uvloop", None)  # None in sys.modules: ImportError
    assert event_loop.run(_answer()) == ("asyncio", 42)
