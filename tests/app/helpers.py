"""Helpers for Pilot tests against real runs."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from textual.pilot import Pilot

from tui.engine.commands import Command, Reply
from tui.engine.journal import read_journal
from tui.engine.runner import Runner
from tui.events import Event, RunFinished


async def wait_for(pilot: Pilot, check: Callable[[], object], what: str, timeout: float = 15.0):
    """Let the app run until ``check()`` is truthy; fail naming ``what``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        await pilot.pause(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def journal(runner: Runner) -> list[Event]:
    """The events of the runner's journal, as a reader sees them."""
    result = read_journal(runner.run_dir.journal_path)
    assert result.warnings == []
    return result.events


def of_type(events: list[Event], kind: str) -> list:
    return [e for e in events if e.type == kind]


class StillConnection:
    """A connection for pictures and benchmarks: no engine; commands are remembered
    and answered "done"; the run never ends."""

    local = True
    detachable = False
    history = None
    via = None

    def __init__(self) -> None:
        self.asked: list[str] = []

    def subscribe(self, callback: Callable[[Event], None]) -> None:
        pass

    async def send(self, command: Command) -> Reply:
        self.asked.append(command.type)
        return Reply(id=command.id)

    async def follow(self) -> RunFinished | None:
        await asyncio.Event().wait()
        return None
