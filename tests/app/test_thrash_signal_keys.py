"""The signal screen's one-key answers, on real runs: recover, raise, ignore, off.

Each key acts through the runner's controls, is journaled, and shows in a
replay of the run.
"""

from __future__ import annotations

from pathlib import Path

from textual.containers import VerticalScroll
from textual.widgets import TextArea

from tests.app.conftest import _fast
from tests.app.helpers import journal, of_type, wait_for
from tests.loops import SAMPLES, write_loop
from tests.test_thrash_loops import CHECK, CHECK_VALIDATOR, iteration, view
from tui.app.app import ConsoleApp
from tui.app.replay import open_journal
from tui.app.screens.replay import ReplayScreen
from tui.app.screens.signal import SignalScreen
from tui.app.screens.text_edit import TextEditScreen
from tui.app.widgets.timeline import Timeline
from tui.engine.rundir import create_run
from tui.engine.runner import Runner
from tui.spec import load_spec

SIZE = (120, 36)


def active_bindings(app: ConsoleApp) -> set[str]:
    return {b.binding.id for b in app.active_bindings.values() if b.enabled and b.binding.id}


async def test_recover_shows_the_note_to_edit_then_goes_back_and_resumes(thrash_runner) -> None:
    runner = thrash_runner()
    app = ConsoleApp(runner)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: runner.status == "paused", "the oscillation pause", 30)
        await wait_for(pilot, lambda: app.main.store.status == "paused", "the console")
        await pilot.press("exclamation_mark")
        assert isinstance(app.screen, SignalScreen)
        ids = active_bindings(app)
        assert {"signal.recover", "signal.dismiss", "signal.kind_off"} <= ids
        # Oscillation is yes/no: there is no threshold to raise.
        assert "signal.raise_threshold" not in ids
        state = str(app.screen.query_one("#signal-state").render())
        assert "r recovers: back to the start" in state
        await pilot.press("r")
        assert isinstance(app.screen, TextEditScreen)
        editor = app.screen.query_one(TextArea)
        assert editor.text.startswith("The workspace was put back to how it was at the start")
        assert "You are going back and forth" in editor.text
        editor.insert(" Use ceiling division.")
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: of_type(journal(runner), "signal_recovered"), "recovery")
        await wait_for(pilot, lambda: of_type(journal(runner), "iteration_started")[3:], "it 4")
        runner.stop()
        await wait_for(pilot, lambda: runner.status == "finished", "the run to stop", 30)
        assert app.main.store.signal_state(app.main.store.signals[0]) == "recovered"
    events = journal(runner)
    (recovered,) = of_type(events, "signal_recovered")
    assert recovered.by_human and recovered.to_iteration == 0
    assert recovered.note.endswith("Use ceiling division.")
    (rewind,) = [e for e in of_type(events, "checkpointed") if e.restored_iteration is not None]
    assert rewind.restored_iteration == 0
    fourth = of_type(events, "iteration_started")[3]
    assert "Use ceiling division." in fourth.prompt
    # In a replay the signal reads as recovered, with no keys to press.
    replay = ConsoleApp(main=ReplayScreen(open_journal(runner.run_dir.path), runner.run_dir.path))
    async with replay.run_test(size=SIZE) as pilot:
        await pilot.pause()
        replay.main.open_signal(replay.main.store.signals[0])
        await pilot.pause()
        assert isinstance(replay.screen, SignalScreen)
        said = str(replay.screen.query_one("#signal-state").render())
        assert "This signal is recovered" in said
        assert "recovered by the human: back to the start, with a corrective note" in said
        assert "signal.recover" not in active_bindings(replay)


def repeating_loop(folder: Path) -> Path:
    """Reads state.txt three times in iteration 1: a repeated-actions signal, then a pause."""
    script = iteration(view("state.txt"), view("state.txt"), view("state.txt"))
    script += iteration(view("state.txt"))
    return write_loop(
        folder,
        script=script,
        files={"state.txt": "bad\n", "check.py": CHECK},
        validators=CHECK_VALIDATOR,
        budget="max_iterations = 2",
    )


async def test_raise_threshold_ignore_and_kind_off_are_journaled(tmp_path: Path) -> None:
    spec = load_spec(repeating_loop(tmp_path / "loop"))
    runner = Runner(spec, create_run(spec, run_dir=tmp_path / "run"))
    app = ConsoleApp(runner)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: runner.status == "paused", "the repeated-read pause", 30)
        await wait_for(pilot, lambda: app.main.store.status == "paused", "the console")
        await pilot.press("exclamation_mark")
        assert isinstance(app.screen, SignalScreen)
        screen = app.screen
        assert screen.signal.kind == "repeated_actions"
        columns = [c.border_title for c in screen.query(".evidence-column")]
        assert columns == ["the call", "what it returned each time (normalised)"]
        await pilot.press("t")
        await wait_for(pilot, lambda: of_type(journal(runner), "threshold_raised"), "raise")
        assert runner.thrash.spec.repeated_actions == 6
        said = str(screen.query_one("#signal-state").render())
        assert "repeated actions threshold raised to 6 for the rest of the run" in said
        await pilot.press("d")
        await wait_for(pilot, lambda: of_type(journal(runner), "signal_dismissed"), "ignore")
        assert "This signal is dismissed" in str(screen.query_one("#signal-state").render())
        await pilot.press("o")
        await wait_for(
            pilot, lambda: len(of_type(journal(runner), "signal_dismissed")) == 2, "kind off"
        )
        await pilot.press("escape")
        await pilot.pause()
        assert app.main.store.thresholds == {"repeated_actions": 6}
        runner.stop()
        await wait_for(pilot, lambda: runner.status == "finished", "the run to stop", 30)
    (raised,) = of_type(journal(runner), "threshold_raised")
    assert (raised.kind, raised.previous, raised.threshold) == ("repeated_actions", 3, 6)


async def test_the_explanation_scrolls_on_a_small_terminal(thrash_runner) -> None:
    runner = thrash_runner()
    app = ConsoleApp(runner)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: runner.status == "paused", "the oscillation pause", 30)
        await wait_for(pilot, lambda: app.main.store.status == "paused", "the console")
        await pilot.press("exclamation_mark")
        screen = app.screen
        assert isinstance(screen, SignalScreen)
        head = screen.query_one("#signal-head", VerticalScroll)
        await pilot.pause()
        assert head.max_scroll_y > 0  # more than fits: it scrolls instead of cutting off
        assert head.has_focus  # so the arrow keys scroll it
        head.scroll_end(animate=False)
        await pilot.pause()
        state = screen.query_one("#signal-state")
        assert state.region.bottom <= head.region.bottom  # the last line is in view
        assert state.region.height > 0
        runner.stop()
        await wait_for(pilot, lambda: runner.status == "finished", "the run to stop", 30)


async def test_the_recover_policy_is_visible_live_and_in_replay(tmp_path: Path) -> None:
    spec = _fast(load_spec(SAMPLES / "thrash-demo" / "recover.toml"), tmp_path / "script", 0.0)
    runner = Runner(spec, create_run(spec, run_dir=tmp_path / "run"))
    app = ConsoleApp(runner)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: runner.status == "finished", "the run to converge", 30)
        await wait_for(pilot, lambda: app.main.store.finished is not None, "the console")
        store = app.main.store
        assert store.signal_state(store.signals[0]) == "recovered"
        # 3 raised the signal, ↶0 went back to the start, 4 met the goal.
        assert "!3 ↶0 ✓4" in str(app.main.query_one(Timeline).render())
    assert of_type(journal(runner), "run_finished")[0].outcome == "goal_met"
    replay = ConsoleApp(main=ReplayScreen(open_journal(runner.run_dir.path), runner.run_dir.path))
    async with replay.run_test(size=SIZE) as pilot:
        await pilot.pause()
        replay.main.open_signal(replay.main.store.signals[0])
        await pilot.pause()
        said = str(replay.screen.query_one("#signal-state").render())
        assert "recovered by the recover policy (1 of 2): back to the start" in said


async def test_a_quiet_signal_is_on_the_timeline_but_never_a_toast(tmp_path: Path) -> None:
    path = repeating_loop(tmp_path / "loop")
    path.write_text(path.read_text() + '\n[thrash]\nactions = { repeated_actions = "ignore" }\n')
    spec = load_spec(path)
    runner = Runner(spec, create_run(spec, run_dir=tmp_path / "run"))
    app = ConsoleApp(runner)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: runner.status == "finished", "the run to end", 30)
        await wait_for(pilot, lambda: app.main.store.finished is not None, "the console")
        store = app.main.store
        assert [store.signal_state(s) for s in store.signals] == ["quiet"]
        assert "!1" in str(app.main.query_one(Timeline).render())
        assert not [n for n in app._notifications if n.title.startswith("Signal")]
        await pilot.press("exclamation_mark")
        said = str(app.screen.query_one("#signal-state").render())
        assert said.startswith("Recorded only: its kind is ignored, so it did not interrupt.")
    # It ran on to the budget: the signal paused nothing.
    assert [d.action for d in of_type(journal(runner), "decision")] == ["continue", "stop"]
