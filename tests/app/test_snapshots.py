"""SVG snapshots of the console (pytest-textual-snapshot).

Deterministic by construction: hand-made events with a fixed run id and
timestamps, a fixed clock for the live time bar, no cursor blink, and the
screen drained before the picture is taken. Update with --snapshot-update
after looking at the report.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.pilot import Pilot
from textual.widgets import TextArea

from tests.app import glance_events as glance
from tests.app import sample_events as sample
from tests.app.helpers import StillConnection
from tui.app.app import ConsoleApp
from tui.app.replay import open_journal
from tui.app.screens.replay import ReplayScreen
from tui.engine.checkpoints import Checkpoints
from tui.engine.journal import JournalWriter
from tui.engine.run_state import fold
from tui.events import Checkpointed, RunFinished, RunStarted


def console(events, status: str) -> ConsoleApp:
    last = events[-1].ts
    app = ConsoleApp(events=events, connection=StillConnection(), follow=False, clock=lambda: last)
    assert fold(events).status == status  # what the picture shows
    return app


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


def test_signal_explanation(snap_compare) -> None:
    async def explain(pilot: Pilot) -> None:
        await settle(pilot)
        pilot.app.clear_notifications()
        await pilot.press("exclamation_mark")
        await settle(pilot)

    app = console(sample.oscillating(), "paused")
    assert snap_compare(app, run_before=explain, terminal_size=(110, 32))


def _with_checkpoints(tmp_path: Path) -> list:
    """The succeeded run, its checkpoints real commits in a shadow repository."""
    run_dir, ws = tmp_path / "run", tmp_path / "ws"
    ws.mkdir(parents=True)
    (ws / "fizzbuzz.py").write_text("def fizzbuzz(n):\n    return str(n)\n")
    commits = {}
    with Checkpoints.open(run_dir, ws) as cps:
        commits[0] = cps.commit(0, "start").commit
        (ws / "fizzbuzz.py").write_text(
            "def fizzbuzz(n):\n    if n % 3 == 0:\n        return 'Fizz'\n    return str(n)\n"
        )
        commits[1] = cps.commit(1, "agent").commit
        (ws / "fizzbuzz.py").write_text(
            "def fizzbuzz(n):\n    if n % 15 == 0:\n        return 'FizzBuzz'\n"
            "    if n % 3 == 0:\n        return 'Fizz'\n    if n % 5 == 0:\n"
            "        return 'Buzz'\n    return str(n)\n"
        )
        (ws / "NOTES.md").write_text("Check 15 before 3 and 5.\n")
        commits[2] = cps.commit(2, "agent").commit
    events = []
    for event in sample.succeeded():
        if isinstance(event, RunStarted):
            event.run_dir = str(run_dir)
        if event.type == "decision":
            events.append(
                Checkpointed(
                    kind="agent",
                    commit=commits[event.iteration],
                    tree="",
                    iteration=event.iteration,
                    run_id=event.run_id,
                    ts=event.ts,
                )
            )
        events.append(event)
    return events


def test_diff_view(snap_compare, tmp_path: Path) -> None:
    async def diff(pilot: Pilot) -> None:
        await settle(pilot)
        pilot.app.clear_notifications()
        await pilot.press("d")
        await settle(pilot)

    app = console(_with_checkpoints(tmp_path), "finished")
    assert snap_compare(app, run_before=diff, terminal_size=(100, 24))


def test_replay(snap_compare, tmp_path: Path) -> None:
    events = sample.oscillating()
    budget = [e for e in events if e.type == "budget_updated"][-1].budget
    reason = "thrash, oscillation: iteration 3 went back to iteration 1's code"
    events.append(
        RunFinished(
            outcome="paused",
            reason=reason,
            exit_code=3,
            iteration=3,
            run_id=sample.RUN_ID,
            ts=events[-1].ts + 1,
            budget=budget,
        )
    )
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    writer = JournalWriter(run_dir / "journal.jsonl")
    for event in events:
        writer.write(event)
    writer.close()
    app = ConsoleApp(main=ReplayScreen(open_journal(run_dir), run_dir))
    assert snap_compare(app, run_before=settle, terminal_size=(100, 30))


# -- issue 14: the console at a glance, at 80x24 and 160x48 ------------------
SIZES = {"small": (80, 24), "large": (160, 48)}


def _glance(snap_compare, events, status: str, size: str, keys: tuple[str, ...] = ()) -> bool:
    async def prepare(pilot: Pilot) -> None:
        await settle(pilot)
        if keys:
            await pilot.press(*keys)
            await settle(pilot)

    app = console(events, status)
    return snap_compare(app, run_before=prepare, terminal_size=SIZES[size])


@pytest.mark.parametrize("size", SIZES)
def test_glance_running(snap_compare, size: str) -> None:
    assert _glance(snap_compare, sample.running(), "running", size)


@pytest.mark.parametrize("size", SIZES)
def test_glance_paused_on_a_signal_with_the_event_strip(snap_compare, size: str) -> None:
    assert _glance(snap_compare, sample.oscillating(), "paused", size)


@pytest.mark.parametrize("size", SIZES)
def test_glance_failures_of_a_capped_5000_test_output(snap_compare, size: str) -> None:
    # 2 goes to the validators pane (at 80 columns: its own tab).
    assert _glance(snap_compare, glance.capped_failures(), "running", size, ("2",))


@pytest.mark.parametrize("size", SIZES)
def test_glance_verbatim_text_agent(snap_compare, size: str) -> None:
    assert _glance(snap_compare, glance.text_agent(), "running", size)


@pytest.mark.parametrize("size", SIZES)
def test_glance_after_a_rewind(snap_compare, size: str) -> None:
    assert _glance(snap_compare, glance.rewound(), "paused", size)
