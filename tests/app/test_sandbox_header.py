"""The console header warns when the sandbox is off."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from tests.app.helpers import wait_for
from tests.loops import write_loop
from tui.app.app import ConsoleApp
from tui.app.widgets.run_header import RunHeader
from tui.engine.rundir import create_run
from tui.engine.runner import Runner
from tui.spec import load_spec

SIZE = (120, 36)


async def test_the_header_warns_when_commands_run_unconfined(
    make_runner: Callable[..., Runner],
) -> None:
    runner = make_runner(start_paused=True)
    runner.spec.sandbox.mode = "off"
    runner.confinement.sandbox = None  # what [sandbox] mode = "off" builds
    app = ConsoleApp(runner)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: runner.status == "paused", "the start pause")
        header = str(app.main.query_one(RunHeader).render())
        assert "NO SANDBOX" in header


async def test_no_warning_in_the_sandbox(make_runner: Callable[..., Runner]) -> None:
    runner = make_runner(start_paused=True)
    app = ConsoleApp(runner)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: runner.status == "paused", "the start pause")
        assert "NO SANDBOX" not in str(app.main.query_one(RunHeader).render())


async def test_the_human_reloads_a_spec_that_is_not_watched(tmp_path: Path) -> None:
    spec_path = write_loop(tmp_path / "loop", script="", extra='[sandbox]\nmode = "off"\n')
    spec = load_spec(spec_path)
    runner = Runner(spec, create_run(spec, tmp_path / "run"), start_paused=True, watch_spec=True)
    app = ConsoleApp(runner)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: runner.status == "paused", "the start pause")
        spec_path.write_text(spec_path.read_text().replace("Make check.py", "Make it"))
        await pilot.pause(0.5)
        assert runner._pending_spec is None  # not watched: the agent could have written it
        await pilot.press("L")
        await wait_for(pilot, lambda: runner._pending_spec is not None, "the reload")
        assert runner._pending_spec.goal.startswith("Make it")
