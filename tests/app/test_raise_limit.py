"""More budget from the console: a run that stops on its budget is offered a raise of
the limit it reached; taking it resumes the run (a new engine process, attached here)
exactly as `loopconsole resume RUN --raise LIMIT=VALUE` does; escape declines (the
command palette offers it again)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from textual.widgets import Input, Static

from tests.app.helpers import wait_for
from tests.loops import SAMPLES
from tui.app.app import ConsoleApp
from tui.app.screens.main import MainScreen
from tui.app.screens.raise_limit import RaiseLimitScreen
from tui.app.widgets.transcript import TranscriptPane
from tui.engine.client import SocketConnection
from tui.engine.connection import RunConnection
from tui.engine.journal import read_journal
from tui.engine.protocol import read_engine_info
from tui.engine.rundir import create_run
from tui.engine.runner import Runner
from tui.events import Notice, RunFinished, RunStarted, SpecReloaded
from tui.live_cli import resume_raised
from tui.spec import load_spec

SIZE = (110, 32)


def fizzbuzz_on_one_iteration(tmp_path: Path) -> Path:
    """The fizzbuzz sample (two iterations to its goal), allowed one iteration."""
    folder = tmp_path / "fizzbuzz"
    shutil.copytree(SAMPLES / "fizzbuzz", folder)
    spec = folder / "loop.toml"
    spec.write_text(spec.read_text().replace("max_iterations = 5", "max_iterations = 1"))
    script = folder / "agent_script.toml"
    script.write_text(re.sub(r"(?m)^pace_s = .*$", "pace_s = 0.01", script.read_text()))
    return spec


def text_of(screen: RaiseLimitScreen, selector: str) -> str:
    return str(screen.query_one(selector, Static).render())


@pytest.mark.slow
async def test_raising_the_limit_from_the_console_lets_the_run_meet_its_goal(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LOOPCONSOLE_STATE_DIR", str(tmp_path / "state"))
    run_dir = tmp_path / "run"
    cli = [sys.executable, "-m", "tui.cli", "run", str(fizzbuzz_on_one_iteration(tmp_path))]
    started = subprocess.run(
        [*cli, "--detach", "--run-dir", str(run_dir)],
        capture_output=True,
        text=True,
        env=dict(os.environ),
        timeout=60,
    )
    assert started.returncode == 0, started.stderr
    info = read_engine_info(run_dir)
    assert info is not None
    connection = await SocketConnection.open(Path(info.socket))
    app = ConsoleApp(
        connection=connection, resume_run=lambda raises: resume_raised(run_dir, raises)
    )
    async with app.run_test(size=SIZE) as pilot:
        first = app.main
        await wait_for(pilot, lambda: isinstance(app.screen, RaiseLimitScreen), "the offer", 30)
        dialog = app.screen
        assert isinstance(dialog, RaiseLimitScreen)
        assert "iteration limit reached (1/1)" in text_of(dialog, "#dialog-explanation")
        assert dialog.query_one(Input).value == "2"  # the limit doubled
        # Not a raise: said in the dialog, which stays.
        await pilot.press("1", "enter")
        await wait_for(pilot, lambda: dialog.query_one("#raise-problem").display, "the refusal")
        assert "the limit is already 1; raise it above that" in text_of(dialog, "#raise-problem")
        assert app.screen is dialog
        await pilot.press("backspace", "2", "enter")
        await wait_for(pilot, lambda: app.main is not first, "the resumed run", 30)
        store = app.main.store
        await wait_for(
            pilot,
            lambda: store.finished is not None and store.finished.outcome == "goal_met",
            "the goal",
            60,
        )
        # The console follows the resumed run: both iterations, the goal met.
        assert isinstance(app.screen, MainScreen) and store.numbers() == [1, 2]
        assert app.exit_code_for(store) == 0
    await connection.close()
    events = read_journal(run_dir / "journal.jsonl").events
    # Journaled as `resume --raise` does: the reload of the budget and a notice.
    assert [e.resumed for e in events if isinstance(e, RunStarted)] == [False, True]
    assert any(isinstance(e, SpecReloaded) and "budget" in e.changed for e in events)
    notices = [e.message for e in events if isinstance(e, Notice)]
    assert "budget raised on resume: max_iterations 1 → 2" in notices
    finished = [e for e in events if isinstance(e, RunFinished)]
    assert [f.outcome for f in finished] == ["budget", "goal_met"]


async def test_escape_declines_and_the_summary_stays(tmp_path: Path) -> None:
    spec = load_spec(fizzbuzz_on_one_iteration(tmp_path))
    runner = Runner(spec, create_run(spec, run_dir=tmp_path / "run"))
    asked: list[list[str]] = []

    async def resume_run(raises: list[str]) -> RunConnection:
        asked.append(raises)
        raise AssertionError("declined: nothing is resumed")

    app = ConsoleApp(runner, resume_run=resume_run)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, RaiseLimitScreen), "the offer", 30)
        await pilot.press("escape")
        await wait_for(pilot, lambda: isinstance(app.screen, MainScreen), "the summary")
        transcript = app.main.query_one(TranscriptPane)
        await wait_for(pilot, lambda: transcript.idle, "the transcript")
        notes = [str(w.render()) for w in transcript.query(".-finished")]
        assert notes and "run finished (budget)" in notes[-1]
        assert app.main.store.finished is not None
        assert app.main.check_action("resume", ()) is None  # greyed: the run is over
        # Declined by mistake: the palette offers it again.
        await pilot.press("ctrl+p")
        await pilot.press(*"more budget")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, RaiseLimitScreen), "the offer again")
        await pilot.press("escape")
    assert asked == []


async def test_a_run_that_cannot_go_on_says_why_and_the_summary_stays(tmp_path: Path) -> None:
    from tui.engine.raise_budget import RaiseError

    spec = load_spec(fizzbuzz_on_one_iteration(tmp_path))
    runner = Runner(spec, create_run(spec, run_dir=tmp_path / "run"))
    asked: list[list[str]] = []

    async def resume_run(raises: list[str]) -> RunConnection:
        asked.append(raises)
        raise RaiseError("the run's engine stopped at once; see engine.log")

    app = ConsoleApp(runner, resume_run=resume_run)
    async with app.run_test(size=SIZE) as pilot:
        first = app.main
        await wait_for(pilot, lambda: isinstance(app.screen, RaiseLimitScreen), "the offer", 30)
        await pilot.press("enter")  # the proposed value: the limit doubled
        said = lambda: [n.message for n in app._notifications if n.title == "Not resumed"]  # noqa: E731
        await wait_for(pilot, said, "the refusal")
        assert said() == ["the run's engine stopped at once; see engine.log"]
        assert app.screen is first and app.main is first
    assert asked == [["max_iterations=2"]]
