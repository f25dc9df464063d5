"""Commands through the engine's one command path, on real scripted runs.

Each control is a command handled by the engine, which enforces its rules
and answers with a reply; its effect is announced as events, and the run
state (a fold of those events) is the same whether it is kept live by the
runner or rebuilt from the journal.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from tests.loops import edit, write_loop
from tests.test_runner import _until
from tui.engine.commands import (
    AddHint,
    Drive,
    HandBack,
    Pause,
    RecordChanges,
    Resume,
    Revalidate,
    Rewind,
    SetGoal,
    Step,
    Stop,
    TakeOver,
    parse_command,
)
from tui.engine.journal import read_journal
from tui.engine.resume import load_resume_state, prepare_workspace
from tui.engine.run_state import fold
from tui.engine.rundir import create_run, open_run
from tui.engine.runner import Runner
from tui.events import (
    ChangesRecorded,
    ControlApplied,
    Event,
    HandedBack,
    HintAdded,
    IterationStarted,
    Resumed,
    TakeOverStarted,
    ToolCall,
)
from tui.spec import load_spec

NO_THRASH = '[thrash]\naction = "ignore"'


def _runner(tmp_path: Path, script: str, extra: str = NO_THRASH, **kw) -> tuple[Runner, list]:
    spec = load_spec(write_loop(tmp_path / "loop", script=script, extra=extra))
    runner = Runner(spec, create_run(spec, tmp_path / "run"), **kw)
    seen: list[Event] = []
    runner.subscribe(seen.append)
    return runner, seen


def _journal(runner: Runner) -> list[Event]:
    return read_journal(runner.run_dir.journal_path).events


def _slow_steps(n: int, pace: float = 0.3) -> str:
    steps = "".join(edit(f"bad {i}", f"f{i}.txt") for i in range(n))
    return f"pace_s = {pace}\n" + f"[[iteration]]\n{steps}" * 3


async def test_stop_ends_the_iteration_after_the_tool_call_in_progress(tmp_path: Path) -> None:
    runner, seen = _runner(tmp_path, _slow_steps(6))
    task = asyncio.create_task(runner.run())
    await _until(lambda: any(isinstance(e, ToolCall) for e in seen))
    reply = await runner.handle(Stop())
    assert reply.ok
    finished = await task
    assert finished.outcome == "stopped"
    calls = [e for e in _journal(runner) if isinstance(e, ToolCall)]
    # Stop after the current step: the agent makes no further tool call (not all six).
    assert 1 <= len(calls) <= 2
    assert [e.iteration for e in _journal(runner) if isinstance(e, IterationStarted)] == [1]


async def test_rules_live_in_the_engine(tmp_path: Path) -> None:
    runner, _seen = _runner(tmp_path, _slow_steps(3, pace=0.2))
    task = asyncio.create_task(runner.run())
    await _until(lambda: runner.status == "running" and runner.iteration == 1)
    refused = await runner.handle(Revalidate(id="r1"))
    assert not refused.ok and refused.id == "r1"
    assert "paused" in refused.message
    assert not (await runner.handle(Rewind(iteration=1))).ok
    assert not (await runner.handle(HandBack())).ok  # nothing is taken over
    assert not (await runner.handle(SetGoal(goal="   "))).ok
    assert (await runner.handle(Pause())).ok
    await _until(lambda: runner.status == "paused")
    assert (await runner.handle(Revalidate())).ok
    await runner.handle(Stop())
    await task
    after = await runner.handle(AddHint(text="too late"))
    assert not after.ok and "over" in after.message
    controls = [e.control for e in _journal(runner) if isinstance(e, ControlApplied)]
    assert controls == ["pause", "revalidate", "stop"]  # refusals change nothing


async def test_resume_during_a_take_over_hands_back_first(tmp_path: Path) -> None:
    runner, seen = _runner(tmp_path, _slow_steps(1, pace=0.01), step=True)
    task = asyncio.create_task(runner.run())
    await _until(lambda: runner.status == "paused")
    assert (await runner.handle(TakeOver())).ok
    assert runner.state.taking_over
    (runner.run_dir.workspace / "state.txt").write_text("good\n")
    # Whoever asks (the signal screen's space, another console), resume hands back.
    assert (await runner.handle(Resume())).ok
    await _until(lambda: any(isinstance(e, Resumed) for e in seen))
    await runner.handle(Stop())
    await task
    kinds = [type(e) for e in seen]
    assert kinds.index(TakeOverStarted) < kinds.index(HandedBack)
    assert kinds.index(HandedBack) < kinds.index(Resumed, kinds.index(TakeOverStarted))
    handed = next(e for e in seen if isinstance(e, HandedBack))
    assert handed.changes == ["modified state.txt (+1 -1)"]
    prompt = [e for e in seen if isinstance(e, IterationStarted)][-1].prompt
    assert "modified state.txt (+1 -1)" in prompt


async def test_take_over_while_running_starts_at_the_pause(tmp_path: Path) -> None:
    runner, seen = _runner(tmp_path, _slow_steps(2, pace=0.2))
    task = asyncio.create_task(runner.run())
    await _until(lambda: runner.iteration == 1)
    reply = await runner.handle(TakeOver())
    assert reply.ok and reply.data == {"taking_over": False}
    assert runner.state.take_over_pending and not runner.state.taking_over
    await _until(lambda: runner.state.taking_over)
    assert runner.status == "paused" and runner.watching
    await runner.handle(Stop())
    await task
    assert not runner.watching and not runner.state.taking_over


async def test_drive_and_hand_back_changes_survive_stop_then_resume(tmp_path: Path) -> None:
    runner, _seen = _runner(tmp_path, _slow_steps(1, pace=0.01), step=True)
    task = asyncio.create_task(runner.run())
    await _until(lambda: runner.status == "paused")
    await runner.handle(TakeOver())
    (runner.run_dir.workspace / "state.txt").write_text("good\n")
    assert (await runner.handle(RecordChanges())).data["changes"] == ["modified state.txt (+1 -1)"]
    await runner.handle(HandBack())
    await runner.handle(Drive(instruction="Only tidy up now."))
    await runner.handle(Stop())
    await task

    state = load_resume_state(runner.run_dir.path)
    assert state.instruction == "Only tidy up now."
    assert state.human_changes == ["modified state.txt (+1 -1)"]
    run = open_run(state.run_dir, state.spec)
    prep = prepare_workspace(state, run.workspace)
    again = Runner(state.spec, run, resume=state, prep=prep, step=True)
    task = asyncio.create_task(again.run())
    # The human's fix meets the goal in iteration 2.
    assert (await task).outcome == "goal_met"
    prompt = [e for e in _journal(again) if isinstance(e, IterationStarted)][-1].prompt
    assert "Only tidy up now." in prompt
    assert "modified state.txt (+1 -1)" in prompt


async def test_an_unfinished_iterations_instruction_is_given_back(tmp_path: Path) -> None:
    runner, seen = _runner(tmp_path, _slow_steps(4, pace=0.3), start_paused=True)
    task = asyncio.create_task(runner.run())
    await _until(lambda: runner.status == "paused")
    await runner.handle(Drive(instruction="Write good into state.txt."))
    await runner.handle(Step())
    await _until(lambda: any(isinstance(e, ToolCall) for e in seen))
    task.cancel()  # the process dies mid-iteration
    await asyncio.gather(task, return_exceptions=True)
    state = load_resume_state(runner.run_dir.path)
    assert state.unfinished_iteration == 1
    assert state.instruction == "Write good into state.txt."


async def test_corrective_hints_are_journaled(tmp_path: Path) -> None:
    script = "".join("[[iteration]]\n" + edit(f"bad {i}") for i in range(5))
    runner, _seen = _runner(tmp_path, script, extra='[thrash]\naction = "hint"')
    await runner.run()
    events = _journal(runner)
    hints = [e for e in events if isinstance(e, HintAdded)]
    assert hints and all(h.by == "engine" for h in hints)
    assert hints[0].text.startswith("The loop is not converging")
    # The hint went into the next prompt, and the journal says so.
    after = next(e for e in events if isinstance(e, IterationStarted) and e.ts > hints[0].ts)
    assert hints[0].text in after.prompt


async def test_the_journal_folds_to_the_runners_own_state(tmp_path: Path) -> None:
    script = "".join("[[iteration]]\n" + edit(f"bad {i}") for i in range(3))
    runner, _seen = _runner(tmp_path, script, extra='[thrash]\naction = "hint"', step=True)
    task = asyncio.create_task(runner.run())
    await _until(lambda: runner.status == "paused")
    await runner.handle(AddHint(text="look at state.txt"))
    await runner.handle(SetGoal(goal="Write good."))
    await runner.handle(Resume())
    await task
    live, again = runner.state, fold(_journal(runner))
    assert again.goal == live.goal == "Write good."
    assert again.summaries == live.summaries and len(live.summaries) == 5
    assert again.last_results == live.last_results
    assert again.hints == live.hints
    assert again.status == live.status == "finished"


def test_commands_parse_from_json_lines() -> None:
    command = parse_command('{"type": "rewind", "iteration": 3, "id": "7"}')
    assert isinstance(command, Rewind) and command.iteration == 3 and command.id == "7"
    assert isinstance(parse_command('{"type": "stop", "now": true}'), Stop)
    assert ChangesRecorded(changes=["a"]).type == "changes_recorded"


async def test_the_notify_command_runs_with_the_runs_facts_and_fails_once(
    tmp_path: Path,
) -> None:
    out = tmp_path / "notified.txt"
    command = f'echo "$LOOPCONSOLE_EVENT|$LOOPCONSOLE_NAME|$LOOPCONSOLE_REASON" >> {out}'
    script = "".join("[[iteration]]\n" + edit(f"bad {i}") for i in range(3))
    extra = f"{NO_THRASH}\n[notify]\ncommand = '{command}'"
    runner, _seen = _runner(tmp_path / "a", script, extra=extra)
    await runner.run()
    lines = out.read_text().splitlines()
    assert lines == ["needs_you|t|budget: " + runner.state.finished.reason]  # type: ignore[union-attr]

    # A thrash pause needs a human; the command fails: said once, the run goes on.
    failing = '[thrash]\naction = "pause"\n[notify]\ncommand = "exit 7"'
    script = "".join("[[iteration]]\n" + edit("bad") for i in range(4))
    runner, seen = _runner(tmp_path / "b", script, extra=failing)
    task = asyncio.create_task(runner.run())
    await _until(lambda: any(e.type == "notice" and "notify" in e.message for e in seen))
    assert runner.status == "paused" and not runner.state.paused_by_human
    await runner.handle(Resume())
    await runner.handle(Stop())
    finished = await task
    assert finished.outcome == "stopped"  # the failing command never stopped the run
    warnings = [e for e in seen if e.type == "notice" and "notify" in e.message]
    assert len(warnings) == 1 and "exit 7" in warnings[0].message
