"""Hot reload of loop.toml during a live run."""

from __future__ import annotations

import asyncio
from pathlib import Path

from tests.loops import edit, write_loop
from tests.test_runner import _until
from tui.engine.rundir import create_run
from tui.engine.runner import Runner
from tui.events import Event, IterationStarted, Notice, SpecReloaded
from tui.spec import load_spec

SCRIPT = "".join(f"[[iteration]]\n{edit(f'bad {i}')}" for i in range(4))


async def test_valid_edit_applies_from_next_iteration_invalid_edit_is_refused(
    tmp_path: Path,
) -> None:
    spec_path = write_loop(tmp_path / "loop", script=SCRIPT, budget="max_iterations = 3")
    spec = load_spec(spec_path)
    runner = Runner(spec, create_run(spec, tmp_path / "run"), step=True, watch_spec=True)
    seen: list[Event] = []
    runner.subscribe(seen.append)
    task = asyncio.create_task(runner.run())
    await _until(lambda: runner.status == "paused")
    await asyncio.sleep(0.3)  # let the watcher settle

    text = spec_path.read_text()
    spec_path.write_text(
        text.replace(
            'goal = "Make check.py exit 0."', 'goal = "Write good into state.txt."'
        ).replace("max_iterations = 3", "max_iterations = 9")
    )
    await _until(lambda: any(isinstance(e, SpecReloaded) for e in seen))
    reload = next(e for e in seen if isinstance(e, SpecReloaded))
    assert set(reload.changed) == {"goal", "budget"}

    spec_path.write_text(text.replace("max_iterations = 3", "max_iterations = -2"))
    await _until(lambda: any(isinstance(e, Notice) and e.level == "error" for e in seen))
    error = next(e for e in seen if isinstance(e, Notice) and e.level == "error")
    assert "budget.max_iterations" in error.message and "not applied" in error.message

    runner.step()
    await _until(lambda: runner.status == "paused" and runner.iteration == 2)
    prompts = [e.prompt for e in seen if isinstance(e, IterationStarted)]
    assert "Write good into state.txt." in prompts[1]
    assert runner.budget.limits.max_iterations == 9  # the valid edit, not the invalid one
    runner.stop()
    await task
