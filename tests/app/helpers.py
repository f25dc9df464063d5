"""Helpers for Pilot tests against real runs."""

from __future__ import annotations

import time
from collections.abc import Callable

from textual.pilot import Pilot

from tui.engine.journal import read_journal
from tui.engine.runner import Runner
from tui.events import Event


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
