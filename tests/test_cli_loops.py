"""Whole loops with the fake CLIs replaying what the real ones printed (tests/fixtures/cli)."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from tui.engine.journal import read_journal
from tui.engine.rundir import create_run
from tui.engine.runner import Runner
from tui.events import (
    AgentFinished,
    AgentText,
    AgentTurn,
    Event,
    IterationStarted,
    Notice,
    RunFinished,
    ToolCall,
    ToolResult,
    ValidatorStarted,
)
from tui.spec import load_spec

BIN = Path(__file__).parent / "fixtures" / "bin"
LOOPCONSOLE = Path(sys.executable).parent / "loopconsole"
CALC = "def add(a, b):\n    return a - b\n"
TESTS = "from calc import add\n\n\ndef test_add():\n    assert add(2, 3) == 5\n"
CLAUDE = f"{BIN / 'fake-claude'} -p --output-format stream-json --verbose"
CODEX = f"{BIN / 'fake-codex'} exec --json"


def write_cli_loop(
    folder: Path, command: str, fmt: str, *, timeout_s: float = 60, iterations: int = 4
) -> Path:
    """A loop whose agent is ``command``, on a calc.py whose add() subtracts."""
    ws = folder / "workspace"
    ws.mkdir(parents=True)
    (ws / "calc.py").write_text(CALC)
    (ws / "test_calc.py").write_text(TESTS)
    (folder / "loop.toml").write_text(
        textwrap.dedent(
            f"""
            name = "cli"
            goal = "Make the tests pass."
            workspace = "workspace"
            copy_workspace = true
            [agent]
            backend = "command"
            command = {json.dumps(command)}
            format = "{fmt}"
            timeout_s = {timeout_s}
            model = "claude-sonnet-5-5"
            [[validators]]
            name = "tests"
            run = "{sys.executable} -m pytest -q -p no:cacheprovider"
            timeout_s = 60
            [budget]
            max_iterations = {iterations}
            """
        )
    )
    return folder / "loop.toml"


def runner_for(spec_path: Path, tmp_path: Path, **kw) -> tuple[Runner, list[Event]]:
    spec = load_spec(spec_path)
    runner = Runner(spec, create_run(spec, tmp_path / "run"), **kw)
    seen: list[Event] = []
    runner.subscribe(seen.append)
    return runner, seen


def of(events: list[Event], kind: type) -> list:
    return [e for e in events if isinstance(e, kind)]


async def until(cond, timeout: float = 20.0) -> None:
    end = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < end, "condition not reached in time"
        await asyncio.sleep(0.02)


@pytest.mark.parametrize(
    ("command", "fmt"),
    [(f"{CLAUDE} --replay clean-{{iteration}}", "claude-stream-json"),
     (f"{CODEX} --replay clean-{{iteration}} -", "codex-json")],
)  # fmt: skip
async def test_two_iteration_loop_reaches_its_goal(tmp_path: Path, command: str, fmt: str) -> None:
    spec = write_cli_loop(tmp_path / "loop", command, fmt)
    runner, seen = runner_for(spec, tmp_path, interactive=False)
    finished = await runner.run()

    assert finished.outcome == "goal_met" and finished.budget.iterations == 2
    assert [t.kind for t in of(seen, AgentText) if t.kind == "raw"] == []
    agents = of(seen, AgentFinished)
    assert [a.tool_calls for a in agents] == [3, 3]
    assert agents[1].final_text == "Fixed add(). All tests pass now."
    paths = {c.input.get("path") for c in of(seen, ToolCall)} - {None}
    assert paths == {"calc.py"}
    # The journal records the system prompt the CLI got from loopconsole: none.
    assert [i.system for i in of(seen, IterationStarted)] == ["", ""]
    turns = of(seen, AgentTurn)
    source = "reported" if fmt == "claude-stream-json" else "priced"
    assert {t.cost_source for t in turns} == {source}
    assert finished.budget.cost_sources == {source: pytest.approx(finished.budget.cost_usd)}
    assert finished.budget.cost_usd > 0


@pytest.mark.parametrize(
    ("command", "fmt", "words"),
    [(f"{CLAUDE} --replay overloaded", "claude-stream-json", "529"),
     (f"{CLAUDE} --replay refused", "claude-stream-json", "ConnectionRefused"),
     (f"{CODEX} --replay server-error -", "codex-json", "high demand"),
     (f"{CODEX} --replay refused -", "codex-json", "Connection failed")],
)  # fmt: skip
async def test_api_down_pauses_without_validators(
    tmp_path: Path, command: str, fmt: str, words: str
) -> None:
    spec = write_cli_loop(tmp_path / "loop", command, fmt)
    runner, seen = runner_for(spec, tmp_path, interactive=False)
    finished = await runner.run()

    assert finished.outcome == "paused" and finished.exit_code == 3
    assert words in finished.reason and "resume" in finished.reason
    assert finished.budget.iterations == 1
    assert of(seen, ValidatorStarted) == []
    assert of(seen, AgentFinished)[0].stop == "api_error"


@pytest.mark.parametrize(
    ("command", "fmt"),
    [(f"{CLAUDE} --replay auth", "claude-stream-json"),
     (f"{CODEX} --replay auth -", "codex-json")],
)  # fmt: skip
async def test_rejected_key_stops_the_run_early(tmp_path: Path, command: str, fmt: str) -> None:
    # The Claude Code recording goes on retrying for 90 s and then hangs.
    spec = write_cli_loop(tmp_path / "loop", f"FAKE_CLI_GAP=0.5 {command}", fmt, timeout_s=120)
    runner, seen = runner_for(spec, tmp_path, interactive=False)
    started = time.monotonic()
    finished = await runner.run()

    assert time.monotonic() - started < 15
    assert finished.outcome == "error" and finished.exit_code == 1
    assert "rejected the key" in finished.reason
    assert of(seen, ValidatorStarted) == []


async def test_synthetic_error_text_never_reaches_the_next_prompt(tmp_path: Path) -> None:
    case = "$(test {iteration} = 1 && echo overloaded || echo clean-2)"
    spec = write_cli_loop(tmp_path / "loop", f"{CLAUDE} --replay {case}", "claude-stream-json")
    runner, seen = runner_for(spec, tmp_path)
    task = asyncio.create_task(runner.run())
    await until(lambda: runner.status == "paused")
    runner.resume()
    await until(lambda: len(of(seen, IterationStarted)) == 2)
    runner.stop()
    finished = await asyncio.wait_for(task, 30)
    prompt = of(seen, IterationStarted)[1].prompt
    # The pause's reason may be recalled; Claude Code's own error text is not
    # quoted back as the agent's words.
    assert "API Error" not in prompt and "You said" not in prompt
    assert {t.model for t in of(seen, AgentTurn)} == {"claude-opus-4-8"}
    assert finished.outcome == "goal_met"


async def test_stopped_session_counts_turns_tools_and_an_estimate(tmp_path: Path) -> None:
    spec = write_cli_loop(tmp_path / "loop", f"{CLAUDE} --replay cut-short", "claude-stream-json")
    runner, seen = runner_for(spec, tmp_path)
    task = asyncio.create_task(runner.run())
    await until(lambda: bool(of(seen, ToolResult)))
    runner.stop(now=True)
    finished = await asyncio.wait_for(task, 10)

    (agent,) = of(seen, AgentFinished)
    assert (agent.turns, agent.tool_calls) == (1, 1)
    (turn,) = of(seen, AgentTurn)
    assert turn.cost_source == "estimated" and turn.usage.output_tokens > 1
    # claude-opus-4-8 has no price in the table: the spec's model prices it.
    assert turn.cost_usd > 0
    assert finished.budget.cost_sources == {"estimated": pytest.approx(turn.cost_usd, abs=1e-5)}
    assert any("estimate" in n.message for n in of(seen, Notice))
    journal = read_journal(tmp_path / "run" / "journal.jsonl").events
    assert next(e for e in journal if isinstance(e, AgentTurn)).cost_source == "estimated"
    assert isinstance(journal[-1], RunFinished)


def headless(spec: Path, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(LOOPCONSOLE), "run", str(spec), "--headless", "--run-dir", str(tmp_path / "r")],
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_cli_usage_error_is_shown_headless_and_pauses(tmp_path: Path) -> None:
    spec = write_cli_loop(
        tmp_path / "loop", f"{BIN / 'fake-claude'} --replay no-verbose", "claude-stream-json"
    )
    proc = headless(spec, tmp_path)
    assert proc.returncode == 3, proc.stdout + proc.stderr
    assert "requires --verbose" in proc.stderr
    assert "paused for a human after 1 iteration" in proc.stdout
    assert "requires --verbose" in proc.stdout  # the reason, in the summary


def test_api_down_headless_says_why_in_one_sentence(tmp_path: Path) -> None:
    spec = write_cli_loop(tmp_path / "loop", f"{CLAUDE} --replay overloaded", "claude-stream-json")
    proc = headless(spec, tmp_path)
    assert proc.returncode == 3
    assert "Claude Code's API failed past its retries (529 overloaded_error)" in proc.stdout
    assert "tests ✓" not in proc.stdout and "tests ✗" not in proc.stdout


def test_check_warns_about_stream_json_without_verbose(tmp_path: Path) -> None:
    command = "claude -p --output-format stream-json --permission-mode acceptEdits"
    # `check` refuses a program that is not there (as `run` does): put a `claude` on PATH.
    (tmp_path / "bin").mkdir()
    (tmp_path / "bin" / "claude").symlink_to(BIN / "fake-claude")
    env = {**os.environ, "PATH": f"{tmp_path / 'bin'}{os.pathsep}{os.environ['PATH']}"}
    spec = write_cli_loop(tmp_path / "loop", command, "claude-stream-json")
    proc = subprocess.run(
        [str(LOOPCONSOLE), "check", str(spec)], capture_output=True, text=True, timeout=60, env=env
    )
    assert proc.returncode == 0
    assert "without --verbose" in proc.stdout and "add --verbose" in proc.stdout
    (tmp_path / "ok").mkdir()
    good = write_cli_loop(tmp_path / "ok", f"{command} --verbose", "claude-stream-json")
    proc = subprocess.run(
        [str(LOOPCONSOLE), "check", str(good)], capture_output=True, text=True, timeout=60, env=env
    )
    assert "warning" not in proc.stdout


DRIVER = """
import asyncio, sys
from pathlib import Path
from tui.agents.command_agent import CommandAgent
from tui.engine.runner import Runner
from tui.engine.rundir import create_run
from tui.spec import load_spec

async def main():
    spec = load_spec(Path(sys.argv[1]))
    runner = Runner(spec, create_run(spec, Path(sys.argv[2])))
    task = asyncio.ensure_future(runner.run())
    while not (Path(sys.argv[2]) / "workspace" / "started").exists():
        await asyncio.sleep(0.02)
    await asyncio.sleep(0.2)
    raise KeyboardInterrupt  # what Ctrl-C does to the event loop

asyncio.run(main())
"""


def test_ctrl_c_during_a_claude_iteration_leaves_no_traceback(tmp_path: Path) -> None:
    command = f"touch started; FAKE_CLI_GAP=0.5 {CLAUDE} --replay clean-1"
    spec = write_cli_loop(tmp_path / "loop", command, "claude-stream-json")
    for attempt in range(3):  # the race it fixes lost about one time in four
        run_dir = tmp_path / f"run{attempt}"
        proc = subprocess.run(
            [sys.executable, "-c", DRIVER, str(spec), str(run_dir)],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert "KeyboardInterrupt" in proc.stderr
        assert "Event loop is closed" not in proc.stderr
        assert "Exception ignored" not in proc.stderr
        left = subprocess.run(["pgrep", "-f", str(run_dir)], capture_output=True, text=True)
        assert left.stdout == ""


def test_check_warns_about_skipping_permissions_as_root(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tui.agents import cli_checks

    monkeypatch.setattr(cli_checks.os, "geteuid", lambda: 0)
    monkeypatch.delenv("IS_SANDBOX", raising=False)
    command = "claude -p --output-format stream-json --verbose --dangerously-skip-permissions"
    spec = load_spec(write_cli_loop(tmp_path / "a", command, "claude-stream-json"))
    (warning,) = cli_checks.command_warnings(spec)
    assert "IS_SANDBOX=1" in warning
    sandboxed = load_spec(
        write_cli_loop(tmp_path / "b", f"IS_SANDBOX=1 {command}", "claude-stream-json")
    )
    assert cli_checks.command_warnings(sandboxed) == []
    codex = load_spec(write_cli_loop(tmp_path / "c", "codex exec --json -", "text"))
    assert "codex-json" in cli_checks.command_warnings(codex)[0]


def test_headless_summary_marks_an_estimate(tmp_path: Path) -> None:
    spec = write_cli_loop(
        tmp_path / "loop", f"{CLAUDE} --replay cut-short", "claude-stream-json", timeout_s=2
    )
    proc = headless(spec, tmp_path)
    assert "agent: timeout" in proc.stdout
    assert "(of which $" in proc.stdout and "estimated)" in proc.stdout
    assert "estimated (session cut short)" in proc.stdout
    assert "are an estimate" in proc.stderr


@pytest.mark.parametrize(
    ("command", "fmt"),
    [(f"{CLAUDE} --replay hang", "claude-stream-json"), (f"{CODEX} --replay hang -", "codex-json")],
)
async def test_a_hung_cli_ends_at_its_time_limit(tmp_path: Path, command: str, fmt: str) -> None:
    spec = write_cli_loop(tmp_path / "loop", command, fmt, timeout_s=1.5, iterations=1)
    runner, seen = runner_for(spec, tmp_path, interactive=False)
    finished = await asyncio.wait_for(runner.run(), 30)
    assert of(seen, AgentFinished)[0].stop == "timeout"
    assert any("agent.timeout_s" in n.message for n in of(seen, Notice))
    assert finished.outcome == "budget"
    # Nothing came back from the API: nothing to charge, and nothing raw shown.
    assert of(seen, AgentTurn) == []
    assert [t for t in of(seen, AgentText) if t.kind == "raw"] == []
