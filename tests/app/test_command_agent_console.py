"""The command backend in the console: the shell-agent sample, and stopping a hung CLI."""

from __future__ import annotations

import json
from pathlib import Path

from tests.app.helpers import journal, of_type, wait_for
from tests.loops import SAMPLES
from tui.app.app import ConsoleApp
from tui.engine.rundir import create_run
from tui.engine.runner import Runner
from tui.spec import load_spec

BIN = Path(__file__).parent.parent / "fixtures" / "bin"
SIZE = (100, 30)


def alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


async def test_shell_agent_sample_reaches_its_goal_in_the_console(tmp_path: Path) -> None:
    spec = load_spec(SAMPLES / "shell-agent")
    runner = Runner(spec, create_run(spec, run_dir=tmp_path / "run"))
    runner.agent.prepare()
    app = ConsoleApp(runner)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: runner.status == "finished", "the run to finish")
    events = journal(runner)
    (finished,) = of_type(events, "run_finished")
    assert finished.outcome == "goal_met"
    assert len(of_type(events, "agent_finished")) == 2
    texts = "".join(e.text for e in of_type(events, "agent_text"))
    assert "agent.sh, iteration 2." in texts


async def test_stop_now_in_the_console_kills_a_hung_cli(tmp_path: Path) -> None:
    folder = tmp_path / "loop"
    (folder / "workspace").mkdir(parents=True)
    pidfile = tmp_path / "pids"
    command = f"{BIN / 'fake-hang'} {pidfile}"
    (folder / "loop.toml").write_text(
        f'name = "hang"\ngoal = "g"\nworkspace = "workspace"\n[agent]\nbackend = "command"\n'
        f"command = {json.dumps(command)}\ntimeout_s = 300\n"
    )
    spec = load_spec(folder)
    runner = Runner(spec, create_run(spec, run_dir=tmp_path / "run"))
    runner.agent.prepare()
    app = ConsoleApp(runner)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: pidfile.exists() and pidfile.read_text(), "the CLI to start")
        pids = [int(p) for p in pidfile.read_text().split()]
        assert all(alive(p) for p in pids)
        await pilot.press("x")  # stop after this iteration...
        await pilot.press("x")  # ...no: stop now
        await wait_for(pilot, lambda: runner.status == "finished", "the run to stop", 5)
        await wait_for(pilot, lambda: not any(alive(p) for p in pids), "the CLI to die", 3)
    (finished,) = of_type(journal(runner), "run_finished")
    assert finished.outcome == "stopped"
