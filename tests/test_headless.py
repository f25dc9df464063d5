"""`loopconsole run --headless` as a user runs it: a real process, real exit codes."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.loops import SAMPLES, edit, write_loop
from tui.engine.journal import read_journal
from tui.events import RunFinished, parse_event

NEVER_FIX = "".join(
    f"[[iteration]]\nusage = {{ input_tokens = 400000, output_tokens = 1000 }}\n{edit(f'bad {i}')}"
    for i in range(8)
)

# These loops repeat one failure on purpose; thrash detection would pause them.
NO_THRASH = '[thrash]\naction = "ignore"'


def loopconsole(*args: str | Path, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tui.cli", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def test_fizzbuzz_headless_exits_0_after_two_iterations(tmp_path: Path) -> None:
    proc = loopconsole("run", SAMPLES / "fizzbuzz", "--headless", "--run-dir", tmp_path / "r")
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0].startswith("fizzbuzz · run r · scripted agent")
    assert lines[1].startswith("#1") and "tests ✗" in lines[1] and "continue" in lines[1]
    assert lines[2].startswith("#2") and "tests ✓" in lines[2] and "stop: goal met" in lines[2]
    assert lines[3].startswith("goal met after 2 iterations")
    assert "Traceback" not in proc.stderr


@pytest.mark.parametrize(
    ("budget", "limit"),
    [
        ("max_iterations = 2", "iteration limit reached (2/2)"),
        ("max_iterations = 8\nmax_tokens = 1_000_000", "token limit reached"),
        ("max_iterations = 8\nmax_cost_usd = 2.5", "cost limit reached"),
    ],
)
def test_budget_exhaustion_exits_1_naming_the_limit(
    tmp_path: Path, budget: str, limit: str
) -> None:
    spec = write_loop(tmp_path / "loop", script=NEVER_FIX, budget=budget, extra=NO_THRASH)
    proc = loopconsole("run", spec, "--headless", "--run-dir", tmp_path / "r")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "stopped on budget after" in proc.stdout and limit in proc.stdout
    finished = read_journal(tmp_path / "r" / "journal.jsonl").events[-1]
    assert isinstance(finished, RunFinished) and finished.outcome == "budget"


def test_wall_time_limit(tmp_path: Path) -> None:
    slow = """
    [[validators]]
    name = "slow"
    run = "sleep 0.6; false"
    """
    spec = write_loop(tmp_path / "loop", script=NEVER_FIX, validators=slow, budget="max_wall_s = 1")
    proc = loopconsole("run", spec, "--headless", "--run-dir", tmp_path / "r")
    assert proc.returncode == 1
    assert "time limit reached" in proc.stdout
    assert "after 2 iterations" in proc.stdout


def test_bad_spec_exits_2_with_one_line(tmp_path: Path) -> None:
    spec = write_loop(tmp_path / "loop", script="", budget="max_iterations = -1")
    proc = loopconsole("run", spec, "--headless")
    assert proc.returncode == 2
    assert proc.stderr.strip().count("\n") == 0
    assert "budget.max_iterations: must be greater than 0" in proc.stderr
    assert not (tmp_path / "loop" / ".loopconsole").exists()


def test_usage_error_exits_2(tmp_path: Path) -> None:
    proc = loopconsole("run", SAMPLES / "fizzbuzz", "--headless", "--paused")
    assert proc.returncode == 2 and "--paused needs the console" in proc.stderr


def test_step_headless_exits_3_paused(tmp_path: Path) -> None:
    spec = write_loop(tmp_path / "loop", script=NEVER_FIX)
    proc = loopconsole("run", spec, "--headless", "--step", "--run-dir", tmp_path / "r")
    assert proc.returncode == 3
    assert "paused for a human after 1 iteration" in proc.stdout


def test_json_lines_are_events(tmp_path: Path) -> None:
    proc = loopconsole("run", SAMPLES / "fizzbuzz", "--json", "--run-dir", tmp_path / "r")
    assert proc.returncode == 0
    events = [parse_event(line) for line in proc.stdout.splitlines()]
    assert events[0].type == "run_started" and events[-1].type == "run_finished"
    assert json.loads(proc.stdout.splitlines()[-1])["outcome"] == "goal_met"


def test_ctrl_c_exits_130_with_journal_closed(tmp_path: Path) -> None:
    script = "[[iteration]]\n[[iteration.step]]\ntool = 'bash'\ninput = { command = 'sleep 30' }\n"
    spec = write_loop(tmp_path / "loop", script=script)
    run_dir = tmp_path / "r"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tui.cli",
            "run",
            str(spec),
            "--headless",
            "--run-dir",
            str(run_dir),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    journal = run_dir / "journal.jsonl"
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if journal.exists() and b'"tool_call"' in journal.read_bytes():
            break
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGINT)
    out, err = proc.communicate(timeout=10)
    assert proc.returncode == 130, out + err
    assert "interrupted" in out
    events = read_journal(journal).events
    assert isinstance(events[-1], RunFinished) and events[-1].outcome == "interrupted"
