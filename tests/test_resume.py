"""Resume state from real and hand-cut journals; the workspace put back from checkpoints."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from tests.loops import edit, write_loop
from tui.engine.checkpoints import Checkpoints
from tui.engine.journal import JournalWriter, read_journal
from tui.engine.resume import ResumeError, load_resume_state, prepare_workspace
from tui.engine.rundir import create_run
from tui.engine.runner import Runner
from tui.events import (
    AgentFinished,
    BudgetState,
    BudgetUpdated,
    Decided,
    Event,
    GoalChanged,
    HintAdded,
    IterationStarted,
    Notice,
    RunStarted,
    ToolCall,
    ToolResult,
    Usage,
    ValidatorFinished,
    ValidatorResult,
    ValidatorStarted,
    dump_event,
)
from tui.spec import load_spec

NEVER_FIX = "".join(
    f"[[iteration]]\nusage = {{ input_tokens = 1000, output_tokens = 100 }}\n"
    f"[[iteration.step]]\nsay = 'attempt {i}'\n{edit(f'bad {i}')}"
    for i in range(5)
)


async def _real_run(tmp_path: Path, spec_path: Path) -> Runner:
    spec = load_spec(spec_path)
    runner = Runner(spec, create_run(spec, tmp_path / "run"), interactive=False)
    await runner.run()
    return runner


async def test_state_of_a_run_stopped_by_its_budget_matches_the_runner(tmp_path: Path) -> None:
    spec_path = write_loop(tmp_path / "loop", script=NEVER_FIX, budget="max_iterations = 3")
    runner = await _real_run(tmp_path, spec_path)
    state = load_resume_state(runner.run_dir.path)
    assert state.warnings == []
    assert state.run_id == runner.run_id
    assert state.finished is not None and state.finished.outcome == "budget"
    assert (state.last_iteration, state.unfinished_iteration) == (3, None)
    assert state.budget == runner.budget_state().model_copy(update={"wall_s": state.budget.wall_s})
    assert state.budget.usage.input_tokens == 3000 and state.budget.iterations == 3
    assert state.summaries == runner.summaries
    assert state.last_results == runner.last_results and not state.last_results[0].passed
    assert state.goal == runner.goal and state.hints == [] and state.interrupted_calls == []
    # The spec copy is read as the original file: relative paths resolve as before.
    assert state.spec.workspace == runner.spec.workspace
    assert state.spec.agent.script == runner.spec.agent.script
    assert state.spec_edits is None


async def test_a_journal_cut_mid_iteration_resumes_from_the_last_decision(tmp_path: Path) -> None:
    spec_path = write_loop(tmp_path / "loop", script=NEVER_FIX, budget="max_iterations = 3")
    runner = await _real_run(tmp_path, spec_path)
    journal = runner.run_dir.journal_path
    lines = journal.read_bytes().splitlines(keepends=True)
    events = read_journal(journal).events
    third = max(i for i, e in enumerate(events) if isinstance(e, IterationStarted))
    call = next(i for i, e in enumerate(events) if i > third and isinstance(e, ToolCall))
    # Killed after the third iteration's tool call, in the middle of writing a line.
    journal.write_bytes(b"".join(lines[: call + 1]) + lines[call + 1][:25])

    state = load_resume_state(runner.run_dir.path)
    assert any("last line was incomplete" in w for w in state.warnings)
    assert journal.read_bytes().endswith(b"\n")  # the torn tail was cut: appending is safe
    assert (state.last_iteration, state.unfinished_iteration, state.finished) == (2, 3, None)
    assert state.summaries == runner.summaries[:2]
    assert state.budget.iterations == 2
    # Spending counts up to the last figure the journal holds, in flight or not.
    spent = [e.budget for e in events[: call + 1] if isinstance(e, BudgetUpdated)][-1]
    assert state.budget.usage == spent.usage and state.budget.cost_usd == spent.cost_usd
    assert [c.name for c in state.interrupted_calls] == ["str_replace_based_edit_tool"]
    assert state.interrupted_calls[0].iteration == 3
    # A writer appending now produces a journal with no unreadable line.
    writer = JournalWriter(journal)
    writer.write(Notice(message="resumed"))
    writer.close()
    assert read_journal(journal).warnings == []


async def test_a_run_that_met_its_goal_is_not_resumed(tmp_path: Path) -> None:
    script = "[[iteration]]\n" + edit("still bad") + "[[iteration]]\n" + edit("good")
    runner = await _real_run(tmp_path, write_loop(tmp_path / "loop", script=script))
    assert runner.status == "finished"
    with pytest.raises(ResumeError, match="already met its goal after iteration 2"):
        load_resume_state(runner.run_dir.path)


def test_not_a_run_directory(tmp_path: Path) -> None:
    with pytest.raises(ResumeError, match="is not a loopconsole run directory"):
        load_resume_state(tmp_path)
    (tmp_path / "journal.jsonl").write_text("")
    with pytest.raises(ResumeError, match="nothing to resume"):
        load_resume_state(tmp_path)


# -- a hand-written journal with real checkpoints ---------------------------


class _Journal:
    """Writes events the way the runner does: run id and iteration stamped."""

    def __init__(self, path: Path, run_id: str) -> None:
        self.path = path
        self.run_id = run_id
        self.iteration = 0

    def __call__(self, *events: Event) -> None:
        with open(self.path, "a") as f:
            for e in events:
                e.run_id, e.iteration = self.run_id, self.iteration
                f.write(dump_event(e) + "\n")


def _budget(iterations: int, cost: float, tokens: int) -> BudgetState:
    return BudgetState(
        iterations=iterations,
        usage=Usage(input_tokens=tokens),
        cost_usd=cost,
        wall_s=2.0 * (iterations + 1),
        max_iterations=5,
    )


def _result(passed: bool) -> ValidatorResult:
    return ValidatorResult(name="check", command="grep -q good state.txt", passed=passed)


@pytest.fixture
def crashed(tmp_path: Path) -> tuple[Path, Path, dict[str, str]]:
    """A run killed in iteration 2: a dangling tool call, half-done work, a torn line."""
    spec_path = write_loop(tmp_path / "loop", files={"state.txt": "bad\n", "keep.txt": "k\n"})
    spec = load_spec(spec_path)
    run = create_run(spec, tmp_path / "run")
    ws = run.workspace
    j = _Journal(run.journal_path, run.run_id)
    cps = Checkpoints.open(run.path, ws)
    j(
        RunStarted(
            name="t",
            goal=spec.goal,
            spec_path=str(spec.path),
            run_dir=str(run.path),
            workspace=str(ws),
            backend="scripted",
            validators=["check"],
        )
    )
    j(cps.commit(0, "start").event())
    j.iteration = 1
    j(IterationStarted(goal=spec.goal, prompt="p1"))
    j(ToolCall(call_id="c1", name="bash", input={"command": "echo hi"}))
    j(ToolResult(call_id="c1", name="bash", output="hi\n"))
    (ws / "state.txt").write_text("better\n")
    j(BudgetUpdated(budget=_budget(0, 0.5, 1000)))
    j(AgentFinished(final_text="I made it  better.", claims_done=True))
    j(ValidatorStarted(name="check", command="grep"), ValidatorFinished(result=_result(False)))
    j(BudgetUpdated(budget=_budget(1, 0.5, 1000)))
    one = cps.commit(1, "agent", "continue")
    j(one.event())
    j(Decided(action="continue", reason="check failed", passing_checks=0, total_checks=1))
    j(HintAdded(text="look at state.txt"), GoalChanged(goal="Write good.", previous=spec.goal))
    j.iteration = 2
    j(IterationStarted(goal="Write good.", prompt="p2 with the hint"))
    j(ToolCall(call_id="c2", name="str_replace_based_edit_tool", input={"command": "create"}))
    j(BudgetUpdated(budget=_budget(1, 0.9, 1800)))
    j(HintAdded(text="queued while running"))
    # The agent's half-done work when the process died.
    (ws / "state.txt").write_text("half\n")
    (ws / "new.py").write_text("started\n")
    (ws / "keep.txt").unlink()
    with open(run.journal_path, "a") as f:
        f.write('{"type": "tool_result", "call_id": "c2", "na')  # torn
    # The checkpointing process was killed too, holding the index lock.
    cps.close()
    (run.path / "checkpoints.git" / "index.lock").write_text("")
    return run.path, ws, {"start": "", "one": one.commit}


def test_state_from_a_crash_with_a_torn_line_and_a_dangling_call(crashed) -> None:  # type: ignore[no-untyped-def]
    run_dir, _ws, commits = crashed
    state = load_resume_state(run_dir)
    assert (state.last_iteration, state.unfinished_iteration) == (1, 2)
    assert state.goal == "Write good."
    # The hint consumed by the unfinished iteration is given back, before the later one.
    assert state.hints == ["look at state.txt", "queued while running"]
    assert [(c.call_id, c.iteration) for c in state.interrupted_calls] == [("c2", 2)]
    assert state.budget.iterations == 1 and state.budget.cost_usd == 0.9
    assert state.budget.usage.input_tokens == 1800
    assert state.last_results == [_result(False)]
    assert state.checkpoint == commits["one"]
    assert [(s.iteration, s.checks, s.decision, s.agent_said) for s in state.summaries] == [
        (1, "check FAILED", "check failed", "I made it better.")
    ]
    assert state.finished is None
    assert len(state.warnings) == 1 and "incomplete" in state.warnings[0]


def test_prepare_workspace_goes_back_to_the_last_finished_iteration(crashed) -> None:  # type: ignore[no-untyped-def]
    run_dir, ws, commits = crashed
    state = load_resume_state(run_dir)
    prep = prepare_workspace(state, ws)
    # Back to the end of iteration 1: half-done work undone, deleted file back.
    assert (ws / "state.txt").read_text() == "better\n"
    assert (ws / "keep.txt").read_text() == "k\n" and not (ws / "new.py").exists()
    assert prep.restore is not None and prep.restore.target.commit == commits["one"]
    # ... and nothing lost: the half-done work is a checkpoint of its own.
    saved, rewind = prep.checkpoints
    assert (saved.kind, saved.iteration, saved.parent) == ("rewind", 2, commits["one"])
    cps = Checkpoints.open(run_dir, ws)
    half = cps.diff(commits["one"], saved.commit)
    assert {f.path: f.status for f in half.stat.files} == {
        "state.txt": "modified",
        "new.py": "added",
        "keep.txt": "deleted",
    }
    assert rewind.restored == commits["one"] and rewind.tree == cps.get(commits["one"]).tree
    assert any("index.lock" in n for n in prep.notes)
    assert any(
        "iteration 2 did not finish; it runs again from the end of iteration 1" in n
        for n in prep.notes
    )
    events = [c.event() for c in prep.checkpoints]
    assert [e.kind for e in events] == ["rewind", "rewind"]


def test_changes_made_while_stopped_become_a_human_checkpoint(tmp_path: Path) -> None:
    spec_path = write_loop(tmp_path / "loop")
    spec = load_spec(spec_path)
    run = create_run(spec, tmp_path / "run")
    j = _Journal(run.journal_path, run.run_id)
    cps = Checkpoints.open(run.path, run.workspace)
    j(
        RunStarted(
            name="t",
            goal=spec.goal,
            spec_path=str(spec.path),
            run_dir=str(run.path),
            workspace=str(run.workspace),
            backend="scripted",
            validators=["check"],
        )
    )
    j.iteration = 1
    j(IterationStarted(goal=spec.goal, prompt="p"))
    j(cps.commit(1, "agent").event())
    j(Decided(action="pause", outcome=None, reason="thrash"))
    cps.close()
    (run.workspace / "state.txt").write_text("fixed\nby hand\n")  # the engineer, between runs
    state = load_resume_state(run.path)
    assert state.unfinished_iteration is None
    prep = prepare_workspace(state, run.workspace)
    assert (run.workspace / "state.txt").read_text() == "fixed\nby hand\n"  # kept
    assert [(c.kind, c.iteration) for c in prep.checkpoints] == [("human", 1)]
    assert prep.human_changes == ["modified state.txt (+2 -1)"]
    assert prep.restore is None


async def test_loop_toml_edited_while_stopped_is_offered_as_a_reload(tmp_path: Path) -> None:
    spec_path = write_loop(tmp_path / "loop", script=NEVER_FIX, budget="max_iterations = 2")
    runner = await _real_run(tmp_path, spec_path)
    text = spec_path.read_text()
    spec_path.write_text(text.replace("max_iterations = 2", "max_iterations = 4"))
    os.utime(spec_path, (time.time() + 1, time.time() + 1))
    state = load_resume_state(runner.run_dir.path)
    assert state.spec.budget.max_iterations == 2  # the run's own spec copy
    assert state.spec_edits is not None and state.spec_edits.budget.max_iterations == 4
    assert state.spec_edits.goal == state.goal
    spec_path.write_text(text.replace("max_iterations = 2", "max_iterations = -1"))
    state = load_resume_state(runner.run_dir.path)
    assert state.spec_edits is None
    assert any("max_iterations" in w and "not applied" in w for w in state.warnings)
