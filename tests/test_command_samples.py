"""The command-backend sample loops, run as a user runs them."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

from tests.loops import SAMPLES
from tui.engine.journal import read_journal
from tui.events import (
    AgentFinished,
    AgentTurn,
    IterationStarted,
    RunFinished,
    RunStarted,
    ToolCall,
)

BIN = Path(__file__).parent / "fixtures" / "bin"
LOOPCONSOLE = Path(sys.executable).parent / "loopconsole"


def loopconsole(*args: str | Path, env: dict[str, str] | None = None, timeout: float = 120):
    return subprocess.run(
        [str(LOOPCONSOLE), *map(str, args)],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
    )


def snapshot(folder: Path) -> dict[str, str]:
    """Every file under ``folder`` with a hash of its content."""
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def events(run_dir: Path) -> list:
    result = read_journal(run_dir / "journal.jsonl")
    assert result.warnings == []
    return result.events


def test_shell_agent_sample_reaches_its_goal_headless(tmp_path: Path) -> None:
    sample = SAMPLES / "shell-agent"
    before = snapshot(sample)
    proc = loopconsole("run", sample, "--headless", "--run-dir", tmp_path / "r")

    assert proc.returncode == 0, proc.stdout + proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[1].startswith("#1") and "slug-check ✗" in lines[1]
    assert lines[2].startswith("#2") and "slug-check ✓" in lines[2]
    assert "goal met after 2 iterations" in proc.stdout
    assert snapshot(sample) == before  # runs work on a copy

    journal = events(tmp_path / "r")
    assert next(e for e in journal if isinstance(e, RunStarted)).backend == "command"
    prompts = [e.prompt for e in journal if isinstance(e, IterationStarted)]
    # The validator's failures reached the script through its prompt.
    assert "FAIL punctuation" not in prompts[0]
    assert "FAIL punctuation" in prompts[1]
    finished = [e for e in journal if isinstance(e, AgentFinished)]
    assert [f.stop for f in finished] == ["end_turn", "end_turn"]
    assert [f.claims_done for f in finished] == [False, True]
    assert finished[1].final_text.startswith("slug.py now has: lowercase words")
    assert "import unicodedata" in (tmp_path / "r" / "workspace" / "slug.py").read_text()


def test_claude_code_sample_with_a_stand_in_claude(tmp_path: Path) -> None:
    """The sample's command and budget wiring, with a recorded Claude Code on PATH."""
    bindir = tmp_path / "bin"
    bindir.mkdir()
    (bindir / "claude").symlink_to(BIN / "fake-claude")
    env = {**os.environ, "PATH": f"{bindir}{os.pathsep}{os.environ['PATH']}"}
    sample = SAMPLES / "claude-code"
    before = snapshot(sample)
    proc = loopconsole("run", sample, "--headless", "--run-dir", tmp_path / "r", env=env)

    # The recording edits nothing, so the goal is not met; it is not a crash.
    assert proc.returncode in (1, 3), proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr
    assert snapshot(sample) == before
    journal = events(tmp_path / "r")
    first = [e for e in journal if e.iteration == 1]
    assert [c.name for c in first if isinstance(c, ToolCall)] == ["Edit", "Bash"]
    (turn,) = [e for e in first if isinstance(e, AgentTurn)]
    assert turn.cost_usd == 0.0537125
    iterations = sum(isinstance(e, AgentFinished) for e in journal)
    end = next(e for e in journal if isinstance(e, RunFinished))
    assert abs(end.budget.cost_usd - 0.0537125 * iterations) < 1e-9


def test_claude_code_sample_without_claude_is_a_clear_error(tmp_path: Path) -> None:
    env = {**os.environ, "PATH": str(tmp_path)}
    proc = loopconsole("run", SAMPLES / "claude-code", "--headless", env=env)
    assert proc.returncode == 2
    assert proc.stdout == ""
    (line,) = proc.stderr.splitlines()
    assert "'claude' was not found on PATH" in line
