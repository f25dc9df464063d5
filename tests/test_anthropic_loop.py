"""Whole loops with backend anthropic against the fake Messages API: the real runner,
validators and command line, reaching the goal through tool calls, stopping on
cost, and never writing the API key anywhere."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import textwrap
import zlib
from pathlib import Path
from typing import Any

import pytest

from tests.anthropic_harness import KEY, use_key
from tests.fake_messages_server import FakeMessagesServer, text, tool_use, turn
from tui.engine.journal import read_journal
from tui.engine.rundir import create_run
from tui.engine.runner import Runner
from tui.events import AgentTurn, RunFinished, ToolCall, ToolResult, ValidatorFinished
from tui.spec import load_spec

CALC = "def add(a, b):\n    return a - b\n"
TESTS = textwrap.dedent(
    """
    from calc import add

    def test_small():
        assert add(2, 3) == 5

    def test_negative():
        assert add(-1, -1) == -2
    """
)


def write_claude_loop(folder: Path, budget: str = "max_iterations = 3", extra: str = "") -> Path:
    ws = folder / "workspace"
    ws.mkdir(parents=True)
    (ws / "calc.py").write_text(CALC)
    (ws / "test_calc.py").write_text(TESTS)
    spec = folder / "loop.toml"
    spec.write_text(
        textwrap.dedent(
            """
            name = "calc"
            goal = "Make the tests in test_calc.py pass by fixing calc.py."
            workspace = "workspace"
            copy_workspace = true

            [agent]
            backend = "anthropic"
            model = "claude-test-1"
            max_tokens = 1000

            [[validators]]
            name = "tests"
            run = "python -m pytest -q -p no:cacheprovider"
            timeout_s = 60

            [[validators]]
            name = "environment"
            run = "env"
            required = false

            [prices."claude-test-1"]
            input = 10.0
            output = 100.0
            """
        )
        + extra
        + f"\n[budget]\n{budget}\n"
    )
    return spec


FIXING = [
    turn(text("Let me run the tests first."), tool_use("bash", {"command": "python -m pytest -q"})),
    turn(tool_use("str_replace_based_edit_tool", {"command": "view", "path": "calc.py"})),
    turn(text("add() subtracts."),
         tool_use("str_replace_based_edit_tool",
                  {"command": "str_replace", "path": "calc.py",
                   "old_str": "return a - b", "new_str": "return a + b"})),
    turn(tool_use("bash", {"command": "env > env_dump.txt; python -m pytest -q"})),
    turn(tool_use("memory", {"command": "create", "path": "/memories/progress.md",
                             "file_text": "calc.add fixed (was a - b).\n"})),
    turn(text("Fixed add(); all tests pass now.")),
]  # fmt: skip


def loopconsole(*args: str | Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tui.cli", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )


def everything_written(folder: Path) -> list[tuple[str, bytes]]:
    """Every file under ``folder``, git objects inflated, as (name, bytes)."""
    out = []
    for path in folder.rglob("*"):
        if not path.is_file():
            continue
        data = path.read_bytes()
        if "objects" in path.parts and path.parent.name != "pack":
            with contextlib.suppress(zlib.error):
                data = zlib.decompress(data)
        out.append((str(path.relative_to(folder)), data))
    git = folder / "checkpoints.git"
    if git.is_dir():
        import pygit2

        repo = pygit2.Repository(str(git))
        out += [(f"git:{oid}", repo.odb.read(oid)[1]) for oid in repo.odb]
    return out


@pytest.mark.slow
def test_claude_fixes_the_failing_tests_headless(tmp_path: Path):
    spec = write_claude_loop(tmp_path / "loop")
    run_dir = tmp_path / "run"
    with FakeMessagesServer(FIXING, api_key=KEY) as server:
        env = {**os.environ, "ANTHROPIC_API_KEY": KEY, "ANTHROPIC_BASE_URL": server.url}
        env.pop("ANTHROPIC_AUTH_TOKEN", None)
        proc = loopconsole("run", spec, "--headless", "--run-dir", run_dir, env=env)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "goal met" in proc.stdout
    assert (run_dir / "workspace" / "calc.py").read_text() == CALC.replace("a - b", "a + b")
    assert (run_dir / "memories" / "progress.md").read_text() == "calc.add fixed (was a - b).\n"
    events = read_journal(run_dir / "journal.jsonl").events
    calls = [e for e in events if isinstance(e, ToolCall)]
    results = [e for e in events if isinstance(e, ToolResult)]
    assert [c.name for c in calls] == ["bash", "str_replace_based_edit_tool",
                                       "str_replace_based_edit_tool", "bash", "memory"]  # fmt: skip
    assert [r.call_id for r in results] == [c.call_id for c in calls]
    assert "2 failed" in results[0].output and "2 passed" in results[3].output
    assert [e.turn for e in events if isinstance(e, AgentTurn)] == [1, 2, 3, 4, 5, 6]
    tests = next(e.result for e in events if isinstance(e, ValidatorFinished)
                 and e.result.name == "tests")  # fmt: skip
    assert tests.passed and tests.tests_passed == 2
    finished = events[-1]
    assert isinstance(finished, RunFinished) and finished.outcome == "goal_met"
    assert finished.budget.cost_usd > 0 and finished.budget.usage.cache_read_tokens > 0
    # The key was used on every request, and written nowhere.
    assert [r.api_key for r in server.requests] == [KEY] * len(FIXING)
    written = everything_written(run_dir)
    assert any(name.endswith("env_dump.txt") for name, _ in written)
    leaks = [name for name, data in written if KEY.encode() in data]
    assert leaks == []
    assert KEY not in proc.stdout + proc.stderr


def test_missing_key_is_reported_before_the_run(tmp_path: Path):
    spec = write_claude_loop(tmp_path / "loop")
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANTHROPIC_")}
    proc = loopconsole("run", spec, "--headless", "--run-dir", tmp_path / "run", env=env)
    assert proc.returncode == 2
    assert "ANTHROPIC_API_KEY is not set" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert not (tmp_path / "run").exists()


def _forever(body: dict[str, Any]) -> dict[str, Any]:
    """A model that never finishes: one more command every turn, 20k input tokens each."""
    n = len(body["messages"])
    return turn(
        text(f"Trying again ({n})."),
        tool_use("bash", {"command": "true"}),
        usage={
            "input_tokens": 20_000,
            "output_tokens": 200,
            "cache_creation_input_tokens": 0,
            "cache_read_input_tokens": 0,
        },  # fmt: skip
    )


async def test_run_stops_on_the_cost_limit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    # $10/Mtok input, $100/Mtok output: a request costs $0.22, its worst case $0.30.
    spec = load_spec(
        write_claude_loop(tmp_path / "loop", budget="max_cost_usd = 1.0\nmax_iterations = 3")
    )
    use_key(monkeypatch)
    with FakeMessagesServer(_forever) as server:
        spec.agent.base_url = server.url
        runner = Runner(spec, create_run(spec, tmp_path / "run"), interactive=False)
        finished = await runner.run()
    assert finished.outcome == "budget" and finished.exit_code == 1
    assert finished.budget.iterations == 1, finished.reason
    charged = [e.cost_usd for e in read_journal(tmp_path / "run" / "journal.jsonl").events
               if isinstance(e, AgentTurn)]  # fmt: skip
    assert charged and all(c == pytest.approx(0.22) for c in charged)
    assert len(charged) == len(server.message_requests) == 4
    assert finished.budget.cost_usd == pytest.approx(sum(charged))
    assert finished.budget.cost_usd <= 1.0
