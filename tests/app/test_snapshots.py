"""SVG snapshots of the console (pytest-textual-snapshot).

Deterministic by construction: hand-made events with a fixed run id and
timestamps, a fixed clock for the live time bar, no cursor blink, and the
screen drained before the picture is taken. Update with --snapshot-update
after looking at the report.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from textual.pilot import Pilot
from textual.widgets import TextArea

from tests.app import sample_events as sample
from tui.app.app import ConsoleApp


@dataclass
class StillControls:
    """Controls for a picture: they keep a status and remember what was asked."""

    status: str
    asked: list[str] = field(default_factory=list)

    def pause(self) -> None:
        self.asked.append("pause")

    def resume(self) -> None:
        self.asked.append("resume")

    def step(self) -> None:
        self.asked.append("step")

    def stop(self, now: bool = False) -> None:
        self.asked.append("stop")

    def set_goal(self, goal: str) -> None:
        self.asked.append("goal")

    def add_hint(self, text: str) -> None:
        self.asked.append("hint")

    async def revalidate(self) -> None:
        self.asked.append("revalidate")


def console(events, status: str) -> ConsoleApp:
    last = events[-1].ts
    return ConsoleApp(events=events, controls=StillControls(status), clock=lambda: last)


async def settle(pilot: Pilot) -> None:
    """Let the screen drain its events and the Markdown streams catch up."""
    for _ in range(3):
        await pilot.pause()
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()
    for area in pilot.app.screen.query(TextArea):
        area.cursor_blink = False
    await pilot.pause()


def test_running(snap_compare) -> None:
    assert snap_compare(console(sample.running(), "running"), run_before=settle)


def test_paused_by_a_signal(snap_compare) -> None:
    assert snap_compare(console(sample.paused(), "paused"), run_before=settle)


def test_succeeded_large(snap_compare) -> None:
    assert snap_compare(
        console(sample.succeeded(), "finished"), run_before=settle, terminal_size=(140, 44)
    )


def test_over_budget(snap_compare) -> None:
    assert snap_compare(console(sample.over_budget(), "finished"), run_before=settle)


def test_goal_editor(snap_compare) -> None:
    async def open_editor(pilot: Pilot) -> None:
        await settle(pilot)
        pilot.app.clear_notifications()
        await pilot.press("g")
        await settle(pilot)

    assert snap_compare(console(sample.paused(), "paused"), run_before=open_editor)
