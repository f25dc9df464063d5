"""The engine driven by the scripted agent: whole loops, controls, budgets."""

from __future__ import annotations

import asyncio
from pathlib import Path

from tests.loops import SAMPLES, edit, write_loop
from tui.engine.journal import read_journal
from tui.engine.rundir import create_run
from tui.engine.runner import Runner
from tui.events import (
    AgentText,
    Decided,
    Event,
    GoalChanged,
    IterationStarted,
    Paused,
    RunFinished,
    ToolCall,
    ToolResult,
    ValidatorFinished,
)
from tui.spec import load_spec

FIX_ON_SECOND = (
    "[[iteration]]\n[[iteration.step]]\nsay = 'trying'\n"
    + edit("still bad")
    + "[[iteration]]\n[[iteration.step]]\nsay = 'fixing'\n"
    + edit("good")
)
NEVER_FIX = "".join(
    f"[[iteration]]\nusage = {{ input_tokens = 1000, output_tokens = 1000 }}\n{edit(f'bad {i}')}"
    for i in range(6)
)


def _runner(spec_path: Path, tmp_path: Path, **kw) -> tuple[Runner, list[Event]]:
    spec = load_spec(spec_path)
    run = create_run(spec, tmp_path / "run")
    runner = Runner(spec, run, **kw)
    seen: list[Event] = []
    runner.subscribe(seen.append)
    return runner, seen


async def test_fizzbuzz_sample_meets_goal_and_journal_tells_everything(tmp_path: Path) -> None:
    before = {p: p.read_bytes() for p in (SAMPLES / "fizzbuzz").rglob("*") if p.is_file()}
    runner, seen = _runner(SAMPLES / "fizzbuzz", tmp_path, interactive=False)
    finished = await runner.run()
    assert finished.outcome == "goal_met" and finished.exit_code == 0
    assert finished.budget.iterations == 2
    # The sample folder itself is never changed.
    after = {p: p.read_bytes() for p in (SAMPLES / "fizzbuzz").rglob("*") if p.is_file()}
    assert after == before

    journal = read_journal(runner.run_dir.journal_path)
    assert journal.warnings == []
    events = journal.events
    # The journal batches streamed text (see JournalWriter): the same text, fewer lines.
    assert [e.type for e in events if e.type != "agent_text"] == [
        e.type for e in seen if e.type != "agent_text"
    ]
    said = [e.text for e in seen if isinstance(e, AgentText)]
    assert "".join(e.text for e in events if isinstance(e, AgentText)) == "".join(said)
    calls = [e for e in events if isinstance(e, ToolCall)]
    results = {e.call_id: e for e in events if isinstance(e, ToolResult)}
    assert calls and all(c.call_id in results for c in calls)
    text = "".join(e.text for e in events if isinstance(e, AgentText))
    assert "recording 1/2" in text and "Reordered the checks" in text
    checks = [e.result for e in events if isinstance(e, ValidatorFinished)]
    assert [c.passed for c in checks] == [False, True]
    assert checks[0].tests_failed == 3
    decisions = [e for e in events if isinstance(e, Decided)]
    assert [d.action for d in decisions] == ["continue", "stop"]
    # Iteration 2's prompt carries iteration 1's failures.
    prompts = [e.prompt for e in events if isinstance(e, IterationStarted)]
    assert "What failed after the last iteration" in prompts[1]
    assert "test_multiple_of_fifteen" in prompts[1]
    assert all(e.run_id == runner.run_id for e in events)


async def test_step_runs_exactly_one_iteration_then_pauses(tmp_path: Path) -> None:
    spec = write_loop(tmp_path / "loop", script=NEVER_FIX)
    runner, seen = _runner(spec, tmp_path, start_paused=True)
    task = asyncio.create_task(runner.run())
    await _until(lambda: runner.status == "paused")
    assert runner.iteration == 0
    runner.step()
    await _until(lambda: runner.status == "paused" and runner.iteration == 1)
    await asyncio.sleep(0.2)
    assert runner.iteration == 1
    runner.step()
    await _until(lambda: runner.status == "paused" and runner.iteration == 2)
    runner.stop()
    finished = await task
    assert finished.outcome == "stopped"
    assert [e.reason.split(";")[0] for e in seen if isinstance(e, Paused)] == [
        "started paused",
        "stepped one iteration",
        "stepped one iteration",
    ]


async def test_goal_edit_and_one_shot_hint(tmp_path: Path) -> None:
    spec = write_loop(tmp_path / "loop", script=NEVER_FIX)
    runner, seen = _runner(spec, tmp_path, step=True)
    task = asyncio.create_task(runner.run())
    await _until(lambda: runner.status == "paused")
    runner.set_goal("Write good into state.txt")
    runner.add_hint("try the word good")
    runner.step()
    await _until(lambda: runner.status == "paused" and runner.iteration == 2)
    runner.step()
    await _until(lambda: runner.status == "paused" and runner.iteration == 3)
    runner.stop()
    await task
    prompts = [e.prompt for e in seen if isinstance(e, IterationStarted)]
    assert "Make check.py exit 0." in prompts[0]
    assert "Write good into state.txt" in prompts[1] and "Make check.py" not in prompts[1]
    assert "try the word good" in prompts[1]
    assert "try the word good" not in prompts[2]
    assert any(isinstance(e, GoalChanged) and e.iteration == 1 for e in seen)


async def test_pause_then_resume_runs_to_the_end(tmp_path: Path) -> None:
    spec = write_loop(tmp_path / "loop", script=FIX_ON_SECOND)
    runner, seen = _runner(spec, tmp_path)
    runner.pause()  # before the run starts: pauses before iteration 1
    task = asyncio.create_task(runner.run())
    await _until(lambda: runner.status == "paused")
    assert runner.iteration == 0
    runner.resume()
    finished = await task
    assert finished.outcome == "goal_met" and finished.budget.iterations == 2


async def test_stop_now_cancels_a_hung_agent_step(tmp_path: Path) -> None:
    script = "[[iteration]]\n[[iteration.step]]\ntool = 'bash'\ninput = { command = 'sleep 30' }\n"
    spec = write_loop(tmp_path / "loop", script=script)
    runner, seen = _runner(spec, tmp_path)
    task = asyncio.create_task(runner.run())
    await _until(lambda: any(isinstance(e, ToolCall) for e in seen))
    runner.stop(now=True)
    finished = await asyncio.wait_for(task, 5)
    assert finished.outcome == "stopped"
    result = next(e for e in seen if isinstance(e, ToolResult))
    assert result.interrupted


async def test_headless_pause_decision_ends_with_outcome_paused(tmp_path: Path) -> None:
    spec = write_loop(tmp_path / "loop", script=NEVER_FIX)
    runner, _ = _runner(spec, tmp_path, interactive=False, step=True)
    finished = await runner.run()
    assert finished.outcome == "paused" and finished.exit_code == 3
    assert finished.budget.iterations == 1


async def _until(cond, timeout: float = 10.0) -> None:
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while not cond():
        if loop.time() > end:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(0.01)


def test_run_finished_is_last(tmp_path: Path) -> None:
    spec = write_loop(tmp_path / "loop", script=FIX_ON_SECOND)
    runner, seen = _runner(spec, tmp_path, interactive=False)
    asyncio.run(runner.run())
    assert isinstance(seen[-1], RunFinished)
