"""The log's writer: the lines of one event-loop turn go out in one write at its end."""

from __future__ import annotations

import asyncio
import io
import threading

from gateway.logging import LineWriter


class _Recorded(io.StringIO):
    """A text file that remembers each write."""

    def __init__(self) -> None:
        super().__init__()
        self.writes: list[str] = []

    def write(self, text: str) -> int:
        self.writes.append(text)
        return super().write(text)


def test_lines_of_one_loop_turn_go_out_in_one_write_at_its_end() -> None:
    out = _Recorded()
    writer = LineWriter(out)

    async def turn() -> list[str]:
        writer.info('{"event": "mo_processed"}')
        writer.info('{"event": "mt_published"}')
        seen_during_the_turn = list(out.writes)
        await asyncio.sleep(0)  # the turn ends: the writer's flush runs before we resume
        return seen_during_the_turn

    assert asyncio.run(turn()) == []
    assert out.writes == ['{"event": "mo_processed"}\n{"event": "mt_published"}\n']


def test_a_line_outside_the_loop_goes_out_at_once() -> None:
    out = _Recorded()
    LineWriter(out).warning("started")
    assert out.getvalue() == "started\n"


def test_a_line_from_another_thread_goes_out_at_once_with_the_loops_waiting_lines() -> None:
    out = _Recorded()
    writer = LineWriter(out)

    async def main() -> str:
        writer.info("loop line")
        thread = threading.Thread(target=writer.error, args=("thread line",))
        thread.start()
        thread.join(5)
        return out.getvalue()

    assert asyncio.run(main()) == "loop line\nthread line\n"


def test_a_loop_closed_before_its_flush_ran_does_not_hold_back_the_next_loops_lines() -> None:
    out = _Recorded()
    writer = LineWriter(out)
    first = asyncio.new_event_loop()
    first.call_soon(writer.info, "logged as the first loop closes")
    first.call_soon(first.stop)  # the loop stops after this turn: the flush stays queued
    first.run_forever()
    first.close()
    assert out.getvalue() == ""

    async def later() -> None:
        writer.info("second loop")
        await asyncio.sleep(0)

    asyncio.run(later())
    assert out.getvalue() == "logged as the first loop closes\nsecond loop\n"
