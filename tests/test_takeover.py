"""Take-over from the engine's side: watch mode, human checkpoints, drive, rewind."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from tests.loops import edit, write_loop
from tests.test_runner import _until
from tui.engine.controls import ControlError
from tui.engine.rundir import create_run
from tui.engine.runner import Runner
from tui.events import (
    Checkpointed,
    Event,
    IterationStarted,
    ValidatorFinished,
    WorkspaceEdited,
)
from tui.spec import load_spec

SCRIPT = "".join(
    f"[[iteration]]\n{edit(f'bad {i}')}{edit(f'step {i}', f'added{i}.txt')}" for i in range(1, 6)
)
NO_THRASH = '[thrash]\naction = "ignore"'


def _runner(tmp_path: Path, **kw) -> tuple[Runner, list[Event]]:
    spec = load_spec(write_loop(tmp_path / "loop", script=SCRIPT, extra=NO_THRASH))
    runner = Runner(spec, create_run(spec, tmp_path / "run"), **kw)
    seen: list[Event] = []
    runner.subscribe(seen.append)
    return runner, seen


async def test_watch_mode_lists_edits_and_revalidates_then_human_checkpoint(
    tmp_path: Path,
) -> None:
    runner, seen = _runner(tmp_path, step=True)
    task = asyncio.create_task(runner.run())
    await _until(lambda: runner.status == "paused")
    ws = runner.run_dir.workspace
    runner.start_watch(revalidate=True, debounce_ms=100)
    await asyncio.sleep(0.3)
    (ws / "state.txt").write_text("good\n")
    await _until(lambda: any(isinstance(e, WorkspaceEdited) for e in seen))
    edited = next(e for e in seen if isinstance(e, WorkspaceEdited))
    assert edited.paths == ["state.txt"]
    # Watch mode re-ran the validators: the human's fix passes.
    await _until(lambda: any(isinstance(e, ValidatorFinished) and e.result.passed for e in seen))
    runner.stop_watch()

    lines = await runner.record_human_changes()
    assert lines == ["modified state.txt (+1 -1)"]
    human = [e for e in seen if isinstance(e, Checkpointed) and e.kind == "human"]
    assert len(human) == 1 and human[0].files[0].path == "state.txt"

    runner.drive("Only tidy up: the check passes now.")
    runner.step()
    await _until(lambda: runner.iteration == 2 and runner.status in ("paused", "finished"))
    prompt = [e for e in seen if isinstance(e, IterationStarted)][-1].prompt
    assert "The engineer changed the workspace" in prompt
    assert "modified state.txt (+1 -1)" in prompt
    assert "Only tidy up: the check passes now." in prompt
    runner.stop()
    await task


async def test_rewind_two_iterations_restores_files_and_failures(tmp_path: Path) -> None:
    runner, seen = _runner(tmp_path, step=True)
    task = asyncio.create_task(runner.run())
    for n in (1, 2, 3):
        await _until(lambda n=n: runner.status == "paused" and runner.iteration == n)
        if n < 3:
            runner.step()
    ws = runner.run_dir.workspace
    assert {p.name for p in ws.iterdir()} >= {"added1.txt", "added2.txt", "added3.txt"}
    with pytest.raises(ControlError):
        await runner.rewind(99)
    report = await runner.rewind(1)
    assert set(report.removed) == {"added2.txt", "added3.txt"}
    assert (ws / "state.txt").read_text() == "bad 1"
    assert not (ws / "added2.txt").exists()
    fork = [e for e in seen if isinstance(e, Checkpointed) and e.restored]
    assert fork and fork[-1].restored_iteration == 1
    assert [s.iteration for s in runner.summaries] == [1]
    # The loop carries on from there, with a new goal.
    runner.set_goal("Write good into state.txt")
    runner.step()
    await _until(lambda: runner.status == "paused" and runner.iteration == 4)
    prompt = [e for e in seen if isinstance(e, IterationStarted)][-1].prompt
    assert "Write good into state.txt" in prompt
    assert "Iteration 1:" in prompt and "Iteration 3:" not in prompt
    runner.stop()
    await task


async def test_resume_after_a_rewind_and_a_dismissal_remembers_both(tmp_path: Path) -> None:
    from tui.engine.resume import load_resume_state
    from tui.events import SignalRaised

    runner, seen = _runner(tmp_path, step=True)
    task = asyncio.create_task(runner.run())
    for n in (1, 2, 3):
        await _until(lambda n=n: runner.status == "paused" and runner.iteration == n)
        if n < 3:
            runner.step()
    await runner.rewind(1)
    signal = SignalRaised(kind="same_failure", explanation="x", evidence={"key": "k-123"})
    runner.dismiss_signal(signal)
    runner.stop()
    await task

    state = load_resume_state(tmp_path / "run")
    assert state.last_iteration == 3
    assert [s.iteration for s in state.summaries] == [1]
    assert [r.passed for r in state.last_results] == [False]
    assert [(d.kind, d.key) for d in state.dismissed] == [("same_failure", "k-123")]
    resumed = Runner(state.spec, runner.run_dir, resume=state, interactive=False)
    await resumed._open_checkpoints()
    assert "k-123" in resumed.thrash._dismissed
    resumed.checkpoints.close()
    resumed._journal.close()
