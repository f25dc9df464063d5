"""The console header warns when the sandbox is off."""

from __future__ import annotations

from collections.abc import Callable

from tests.app.helpers import wait_for
from tui.app.app import ConsoleApp
from tui.app.widgets.run_header import RunHeader
from tui.engine.runner import Runner

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
