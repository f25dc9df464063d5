"""loopconsole replay: the console over a recorded run, read-only."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

import pytest
from textual.widgets import Input, Log, Markdown, OptionList, Static

from tests.app.helpers import wait_for
from tests.loops import SAMPLES
from tui.app import run_replay
from tui.app.app import ConsoleApp
from tui.app.replay import open_journal
from tui.app.screens.diff import DiffScreen
from tui.app.screens.go_to import GoToScreen
from tui.app.screens.replay import ReplayScreen
from tui.app.screens.signal import SignalScreen
from tui.app.widgets.budget_bar import BudgetBar
from tui.app.widgets.diff_view import DiffView
from tui.app.widgets.iteration_block import IterationBlock
from tui.app.widgets.run_header import RunHeader
from tui.app.widgets.timeline import Timeline
from tui.app.widgets.tool_entry import ToolEntry
from tui.app.widgets.transcript import TranscriptPane
from tui.engine.rundir import create_run
from tui.engine.runner import Runner
from tui.spec import load_spec

SIZE = (120, 36)


def replay_app(run_dir: Path) -> ConsoleApp:
    return ConsoleApp(main=ReplayScreen(open_journal(run_dir), run_dir))


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A thrash-demo run recorded headless: three iterations, paused by an oscillation."""
    from tests.app.conftest import _fast

    folder = tmp_path_factory.mktemp("recorded")
    spec = _fast(load_spec(SAMPLES / "thrash-demo"), folder / "script", 0.0)
    runner = Runner(spec, create_run(spec, run_dir=folder / "run"), interactive=False)
    finished = asyncio.run(runner.run())
    assert finished.outcome == "paused"
    return folder / "run"


@pytest.fixture
def run_copy(recorded: Path, tmp_path: Path) -> Path:
    """A copy of the recorded run this test may change."""
    target = tmp_path / "run"
    shutil.copytree(recorded, target, symlinks=True)
    return target


def block_text(app: ConsoleApp, number: int) -> list[str]:
    """What the transcript shows of one iteration: text, tool calls and notes, in order."""
    blocks = [b for b in app.screen.query(IterationBlock) if b.number == number]
    assert blocks, f"iteration {number} is not in the transcript"
    out = []
    for widget in blocks[0].children:
        if isinstance(widget, Markdown):
            out.append(widget.source)
        elif isinstance(widget, ToolEntry):
            out.append(str(widget.title))
        elif isinstance(widget, Static) and widget.has_class("note"):
            out.append(str(widget.render()))
    return out


async def settle(pilot, app: ConsoleApp) -> None:  # type: ignore[no-untyped-def]
    """Until the transcript has rendered what it was asked to, and a frame more."""
    pane = app.screen.query_one(TranscriptPane)
    await pilot.pause()
    await wait_for(pilot, lambda: pane.idle, "the transcript")
    await pilot.pause(0.1)


def _options(options: OptionList) -> list[str]:
    return [str(options.get_option_at_index(i).prompt) for i in range(options.option_count)]


def panes(app: ConsoleApp, number: int) -> dict[str, object]:
    """Everything the panes show about iteration ``number``, as plain text."""
    screen = app.screen
    rows = screen.query_one("#validator-rows", OptionList)
    signals = screen.query_one("#state-signals", OptionList)
    return {
        "transcript": block_text(app, number),
        "validator rows": [
            str(rows.get_option_at_index(i).prompt) for i in range(rows.option_count)
        ],
        "validator changes": str(screen.query_one("#validator-changes").render()),
        "validator log": [str(line) for line in screen.query_one(Log).lines],
        "goal": str(screen.query_one("#state-goal").render()),
        "progress": str(screen.query_one("#state-progress").render()),
        "signals": [
            str(signals.get_option_at_index(i).prompt) for i in range(signals.option_count)
        ],
        "notes": str(screen.query_one("#state-notes").render()),
        # Not the time bar: the live one stopped at the pause, the journal's at the
        # end of the run (the quit), which may be a second later.
        "budget": [str(bar.render()) for bar in screen.query(BudgetBar) if bar.id != "budget-time"],
        "timeline": str(screen.query_one(Timeline).render()).split()[:3],
    }


async def test_replay_shows_the_same_panes_as_the_live_run(thrash_runner) -> None:
    runner = thrash_runner()
    live = ConsoleApp(runner)
    async with live.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: runner.status == "paused", "the oscillation pause", 30)
        await wait_for(pilot, lambda: live.main.store.status == "paused", "the console")
        await settle(pilot, live)
        at_pause = panes(live, 3)
        decision = str(live.main.query_one("#state-decision").render()).split("\n", 1)[1]
        await pilot.press("l", "left")  # iteration 2, from the history
        await wait_for(pilot, lambda: live.main.query_one(Timeline).selected == 2, "history")
        await settle(pilot, live)
        earlier = {k: v for k, v in panes(live, 2).items() if k in ("transcript", "validator log")}
        earlier["validator rows"] = panes(live, 2)["validator rows"]
        await pilot.press("q", "y")
    run_dir = runner.run_dir.path
    replay = replay_app(run_dir)
    async with replay.run_test(size=SIZE) as pilot:
        await settle(pilot, replay)
        screen = replay.screen
        assert isinstance(screen, ReplayScreen)
        assert screen.query_one(Timeline).selected == 3
        assert panes(replay, 3) == at_pause
        replayed = str(screen.query_one("#state-decision").render()).split("\n", 1)[1]
        assert replayed == decision
        await pilot.press("left")  # the timeline has the focus in a replay
        await wait_for(pilot, lambda: screen.replay.shown == 2, "iteration 2")
        await settle(pilot, replay)
        now = panes(replay, 2)
        assert {k: now[k] for k in earlier} == earlier
        # As of iteration 2 there was no signal yet, and the chart stops there.
        assert now["signals"] == [] and now["progress"].endswith("3/5")
        header = str(screen.query_one(RunHeader).render())
        assert "replay · iteration 2 of 3" in header and "FAILED" in header
        await pilot.press("q")
    assert replay.return_value == 0


async def test_moving_through_a_replay_and_its_history(run_copy: Path) -> None:
    app = replay_app(run_copy)
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        assert isinstance(screen, ReplayScreen)
        # Read-only: nothing that changes a run is there.
        ids = {b.binding.id for b in screen.active_bindings.values()}
        assert not ids & {"step", "pause", "resume", "take_over", "rewind", "goal", "drive"}
        assert {"replay.next", "replay.previous", "replay.goto", "diff", "signal"} <= ids
        header = str(screen.query_one(RunHeader).render())
        assert "replay · iteration 3 of 3" in header and "PAUSED FOR A HUMAN" in header
        await pilot.press("p", "p")
        assert screen.replay.shown == 1
        assert screen.store.last_decision.iteration == 1  # the state as of iteration 1
        await pilot.press("n")
        assert screen.replay.shown == 2
        await pilot.press("j")
        assert isinstance(app.screen, GoToScreen)
        app.screen.query_one(Input).value = "3"
        await pilot.press("enter")
        await pilot.pause()
        assert screen.replay.shown == 3
        # The signal, explained from the journal; no dismiss or resume in a replay.
        await pilot.press("exclamation_mark")
        assert isinstance(app.screen, SignalScreen)
        active = {b.binding.id for b in app.screen.active_bindings.values()}
        assert "signal.dismiss" not in active and "signal.resume" not in active
        assert "Read-only" in str(app.screen.query_one("#signal-state").render())
        await pilot.press("escape", "d")
        assert isinstance(app.screen, DiffScreen)
        view = app.screen.query_one(DiffView)
        await wait_for(pilot, lambda: "+    return total // per_page + 1" in view.lines, "diff")
        await pilot.press("escape", "q")
    assert app.return_value == 0


async def test_replay_without_the_original_workspace(run_copy: Path) -> None:
    shutil.rmtree(run_copy / "workspace")
    app = replay_app(run_copy)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("d")
        view = app.screen.query_one(DiffView)
        await wait_for(pilot, lambda: "-    return round(total / per_page)" in view.lines, "diff")
        title = str(app.screen.query_one("#diff-title").render())
        assert title.startswith("Iteration 3 · the agent's changes · 1 file changed, +1 -1")
        await pilot.press("escape", "exclamation_mark")
        views = list(app.screen.query(DiffView))
        # The full diff between the two checkpoints, from the repository alone.
        await wait_for(pilot, lambda: any(ln.startswith("index ") for ln in views[1].lines), "d")
    assert not (run_copy / "workspace").exists()  # the replay created nothing


async def test_replay_of_a_crashed_run(run_copy: Path) -> None:
    journal = run_copy / "journal.jsonl"
    lines = journal.read_bytes().splitlines(keepends=True)
    # Keep iterations 1 and 2 and the start of 3, then a torn line: a kill -9 mid-write.
    cut = next(
        i for i, line in enumerate(lines) if b'"iteration":3,"type":"agent_finished"' in line
    )
    journal.write_bytes(b"".join(lines[:cut]) + b'{"ts":1.0,"run_id":"x","iter')
    app = replay_app(run_copy)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, ReplayScreen)
        assert screen.replay.shown == 3
        assert str(screen.query_one(Timeline).render()).split()[:3] == ["✗1", "✗2", "▶3"]
        header = str(screen.query_one(RunHeader).render())
        assert "NO END RECORDED" in header
        notes = [n.message for n in app._notifications]
        assert any("torn write" in n for n in notes)
        assert any("The journal has no end" in n for n in notes)
        # What iteration 3 got to do before the crash is there.
        assert any("view pages.py" in t for t in block_text(app, 3))
        await pilot.press("left")
        assert screen.store.last_decision is not None and screen.store.last_decision.iteration == 2


def test_run_replay_refuses_a_folder_that_is_not_a_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run_replay(tmp_path / "nowhere") == 2
    assert capsys.readouterr().err.strip().endswith("is not a run directory (no such folder)")
    assert run_replay(tmp_path) == 2
    assert "is not a run: it has no journal.jsonl" in capsys.readouterr().err
    (tmp_path / "journal.jsonl").write_text('{"not": "an event"}\n')
    assert run_replay(tmp_path) == 2
    err = capsys.readouterr().err
    assert "its journal has no run_started event" in err and err.count("\n") == 1
