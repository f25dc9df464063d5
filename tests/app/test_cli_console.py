"""Recorded Claude Code sessions (tests/fixtures/cli) in the console, through the real runner."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import Markdown, Static

from tests.app.helpers import wait_for
from tests.test_cli_loops import CLAUDE, write_cli_loop
from tui.app.app import ConsoleApp
from tui.app.widgets.tool_entry import ToolEntry
from tui.app.widgets.transcript import TranscriptPane
from tui.engine.rundir import create_run
from tui.engine.runner import Runner
from tui.spec import load_spec

SIZE = (120, 40)


def start(tmp_path: Path, case: str) -> Runner:
    spec_path = write_cli_loop(tmp_path / "loop", f"{CLAUDE} --replay {case}", "claude-stream-json")
    spec = load_spec(spec_path)
    runner = Runner(spec, create_run(spec, run_dir=tmp_path / "run"))
    runner.agent.prepare()
    return runner


async def test_claude_tools_read_as_workspace_files_and_exit_codes(tmp_path: Path) -> None:
    runner = start(tmp_path, "clean-{iteration}")
    app = ConsoleApp(runner)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: runner.status == "finished", "the run to finish")
        await pilot.pause()
        pane = app.main.query_one(TranscriptPane)
        titles = [str(entry.title) for entry in pane.query(ToolEntry)]
        sources = str(app.main.query_one("#budget-sources", Static).render())
        text = "\n".join(md.source for md in pane.query(Markdown))
    assert "Read calc.py → ok" in titles
    assert "Edit calc.py → ok" in titles
    assert "Bash: python3 -m pytest -q → exit 1 · 1 failed, 1 passed in 0.59s" in titles
    assert not any("/" in t.split(" → ")[0] for t in titles)  # no run-folder prefix
    assert sources.startswith("$0.") and "reported by the CLI" in sources
    assert '{"type"' not in text  # no raw JSON in an ordinary session


async def test_cut_short_spend_is_marked_estimated_in_the_budget_pane(tmp_path: Path) -> None:
    runner = start(tmp_path, "cut-short")
    seen: list = []
    runner.subscribe(seen.append)
    app = ConsoleApp(runner)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: any(e.type == "tool_result" for e in seen), "the Read")
        runner.stop(now=True)
        await wait_for(pilot, lambda: runner.status == "finished", "the run to stop")
        await pilot.pause()
        sources = str(app.main.query_one("#budget-sources", Static).render())
    assert "estimated (session cut short)" in sources
