"""Every control of the console, pressed through Pilot against a real scripted run."""

from __future__ import annotations

import asyncio

from textual.widgets import TextArea

from tests.app.helpers import journal, of_type, wait_for
from tui.app.app import ConsoleApp
from tui.app.screens.confirm_quit import ConfirmQuitScreen
from tui.app.screens.text_edit import TextEditScreen
from tui.events import EXIT_CODES

SIZE = (100, 30)


def prompts(runner) -> dict[int, str]:
    return {e.iteration: e.prompt for e in of_type(journal(runner), "iteration_started")}


async def test_step_runs_exactly_one_iteration_then_pauses(make_runner) -> None:
    runner = make_runner(start_paused=True)
    app = ConsoleApp(runner)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: runner.status == "paused", "the initial pause")
        assert runner.iteration == 0
        await pilot.press("s")
        await wait_for(pilot, lambda: runner.iteration == 1 and runner.status == "paused", "step")
        # Held: no second iteration starts on its own.
        await pilot.pause(0.5)
        assert runner.iteration == 1 and runner.status == "paused"
        assert app.main.store.status == "paused"
        events = journal(runner)
        assert len(of_type(events, "iteration_started")) == 1
        assert [e.control for e in of_type(events, "control")] == ["step"]
        await pilot.press("s")
        await wait_for(pilot, lambda: runner.status == "finished", "the second step to finish")
        assert runner.iteration == 2


async def test_pause_holds_before_the_next_iteration(make_runner) -> None:
    runner = make_runner()
    app = ConsoleApp(runner)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.main.store.current == 1, "iteration 1 to start")
        await pilot.press("space")
        await wait_for(pilot, lambda: runner.status == "paused", "the pause")
        await pilot.pause(0.5)
        assert runner.iteration == 1
        assert app.main.store.iteration_status(1) == "paused"
        assert "resume" in {b.binding.action for b in app.main.active_bindings.values()}
        # The same key resumes, and the loop carries on to the end.
        await pilot.press("space")
        await wait_for(pilot, lambda: runner.status == "finished", "the run to finish")
    kinds = [e.type for e in journal(runner)]
    assert kinds.index("paused") < kinds.index("resumed") < kinds.index("run_finished")
    started = [i for i, k in enumerate(kinds) if k == "iteration_started"]
    assert len(started) == 2 and started[1] > kinds.index("resumed")


async def test_goal_edit_changes_the_next_prompt(make_runner) -> None:
    runner = make_runner(start_paused=True)
    app = ConsoleApp(runner)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: runner.status == "paused", "the initial pause")
        await pilot.press("g")
        assert isinstance(app.screen, TextEditScreen)
        editor = app.screen.query_one(TextArea)
        assert editor.text == runner.goal
        editor.text = "Implement fizzbuzz(n) and keep it under ten lines."
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: not isinstance(app.screen, TextEditScreen), "the editor")
        assert runner.goal == "Implement fizzbuzz(n) and keep it under ten lines."
        await pilot.press("s")
        await wait_for(pilot, lambda: runner.iteration == 1 and runner.status == "paused", "step")
    changed = of_type(journal(runner), "goal_changed")
    assert [c.goal for c in changed] == ["Implement fizzbuzz(n) and keep it under ten lines."]
    assert "keep it under ten lines" in prompts(runner)[1]


async def test_goal_edit_cancelled_changes_nothing(make_runner) -> None:
    runner = make_runner(start_paused=True)
    app = ConsoleApp(runner)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: runner.status == "paused", "the initial pause")
        await pilot.press("g")
        app.screen.query_one(TextArea).text = "something else"
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, TextEditScreen)
    assert of_type(journal(runner), "goal_changed") == []


async def test_hint_goes_into_the_next_prompt_only(make_runner) -> None:
    runner = make_runner(start_paused=True)
    app = ConsoleApp(runner)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: runner.status == "paused", "the initial pause")
        await pilot.press("h")
        assert isinstance(app.screen, TextEditScreen)
        await pilot.press(*"check 15 first")
        await pilot.press("ctrl+s")
        await pilot.pause()
        # Queued hints are shown in the State pane until the prompt uses them.
        assert app.main.store.hints == ["check 15 first"]
        await pilot.press("s")
        await wait_for(pilot, lambda: runner.iteration == 1 and runner.status == "paused", "step 1")
        assert app.main.store.hints == []
        await pilot.press("s")
        await wait_for(pilot, lambda: runner.status == "finished", "step 2")
    p = prompts(runner)
    assert "check 15 first" in p[1]
    assert "check 15 first" not in p[2]
    assert [h.text for h in of_type(journal(runner), "hint_added")] == ["check 15 first"]


async def test_stop_ends_the_run_after_the_current_iteration(make_runner) -> None:
    runner = make_runner()
    app = ConsoleApp(runner)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.main.store.current == 1, "iteration 1 to start")
        await pilot.press("x")
        await wait_for(pilot, lambda: runner.status == "finished", "the stop")
        assert app.main.store.finished.outcome == "stopped"
        # A finished run quits without asking, with the outcome's exit code.
        await pilot.press("q")
        await pilot.pause()
    assert app.return_value == EXIT_CODES["stopped"]
    assert len(of_type(journal(runner), "iteration_started")) == 1


async def test_revalidate_reruns_the_validators_while_paused(make_runner) -> None:
    runner = make_runner(step=True)
    app = ConsoleApp(runner)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: runner.status == "paused", "the step pause")
        before = len(of_type(journal(runner), "validator_started"))
        await pilot.press("r")
        await wait_for(
            pilot,
            lambda: len(of_type(journal(runner), "validator_finished")) == before + 1,
            "the re-run",
        )
        # The rows show the fresh result for the same iteration.
        assert app.main.store.record(1).validators["tests"].result is not None
        assert runner.status == "paused"
    events = journal(runner)
    assert "revalidate" in [e.control for e in of_type(events, "control")]
    assert [e.iteration for e in of_type(events, "validator_started")] == [1, 1]


async def test_quit_asks_while_running_and_leaves_a_closed_journal(make_runner) -> None:
    runner = make_runner(start_paused=True)
    app = ConsoleApp(runner)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: runner.status == "paused", "the initial pause")
        await pilot.press("q")
        assert isinstance(app.screen, ConfirmQuitScreen)
        await pilot.press("n")
        await pilot.pause()
        assert not isinstance(app.screen, ConfirmQuitScreen)
        assert runner.status == "paused"
        # Quit in the middle of an iteration: the agent is cancelled at once.
        await pilot.press("s")
        await wait_for(pilot, lambda: app.main.store.current == 1, "iteration 1 to start")
        await pilot.press("q", "y")
        await wait_for(pilot, lambda: app.return_value is not None, "the app to exit", timeout=10)
    assert app.return_value == EXIT_CODES["stopped"]
    events = journal(runner)
    assert events[-1].type == "run_finished" and events[-1].outcome == "stopped"
    assert runner.run_dir.journal_path.read_bytes().endswith(b"\n")
    # Every tool call has its result, even if the stop cut the iteration short.
    calls = {e.call_id for e in of_type(events, "tool_call")}
    assert calls == {e.call_id for e in of_type(events, "tool_result")}


async def test_ctrl_q_and_ctrl_c_ask_too(make_runner) -> None:
    runner = make_runner(start_paused=True)
    app = ConsoleApp(runner)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: runner.status == "paused", "the initial pause")
        await pilot.press("ctrl+c")
        assert isinstance(app.screen, ConfirmQuitScreen)
        await pilot.press("escape")
        assert app.screen is app.main
        await pilot.press("ctrl+q")
        assert isinstance(app.screen, ConfirmQuitScreen)
        await pilot.press("y")
        await wait_for(pilot, lambda: app.return_value is not None, "the app to exit")
    assert journal(runner)[-1].type == "run_finished"


async def test_finished_run_disables_the_controls(make_runner) -> None:
    runner = make_runner()
    app = ConsoleApp(runner)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: runner.status == "finished", "the run to finish", 30)
        await pilot.pause()
        active = {b.binding.id: b.enabled for b in app.main.active_bindings.values()}
        assert active["step"] is False and active["goal"] is False
        assert active["quit"] is True
        await pilot.press("g")
        assert app.screen is app.main
        await pilot.press("q")
        await asyncio.sleep(0)
    assert app.return_value == EXIT_CODES["goal_met"]


async def test_stop_twice_stops_at_once(make_runner) -> None:
    runner = make_runner(pace=0.5)  # iteration 1 would take seconds
    app = ConsoleApp(runner)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.main.store.current == 1, "iteration 1 to start")
        await pilot.press("x", "x")
        await wait_for(pilot, lambda: runner.status == "finished", "the stop")
    events = journal(runner)
    assert [e.control for e in of_type(events, "control")] == ["stop", "stop"]
    assert events[-1].outcome == "stopped"
    assert len(of_type(events, "iteration_started")) == 1
