"""kill -9 a headless run at several points, then `resume` reaches the goal."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.loops import edit, write_loop
from tui.engine.journal import read_journal
from tui.events import Decided, RunFinished, RunStarted, ToolResult

# Three iterations; the third writes "good". Each step is paced so a kill can
# land in the middle of an iteration.
SCRIPT = (
    "pace_s = 0.15\n"
    + "".join(
        f"[[iteration]]\n[[iteration.step]]\nsay = 'iteration {i}'\n"
        + edit(f"try {i}", f"notes{i}.txt")
        + "[[iteration.step]]\ntool = 'bash'\ninput = { command = 'sleep 0.3' }\n"
        for i in (1, 2)
    )
    + "[[iteration]]\n[[iteration.step]]\nsay = 'fix'\n"
    + edit("good")
)
CLI = [sys.executable, "-m", "tui.cli"]
NO_THRASH = '[thrash]\naction = "ignore"'


def _start(spec: Path, run_dir: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [*CLI, "run", str(spec), "--headless", "--run-dir", str(run_dir)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _wait_for(journal: Path, needle: bytes, count: int = 1, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if journal.exists() and journal.read_bytes().count(needle) >= count:
            return
        time.sleep(0.01)
    raise AssertionError(f"{needle!r} x{count} never appeared in {journal}")


@pytest.mark.parametrize(
    ("needle", "count"),
    [
        (b'"type":"decision"', 1),  # between iterations
        (b'"type":"tool_call"', 4),  # mid-tool-call (the sleep) in iteration 2
        (b'"type":"validator_started"', 2),  # while iteration 2 validates
        (b'"type":"iteration_started"', 1),  # right at the start
    ],
    ids=["after-iteration-1", "mid-tool-call", "mid-validation", "first-prompt"],
)
def test_kill_9_then_resume_reaches_the_goal(tmp_path: Path, needle: bytes, count: int) -> None:
    spec = write_loop(tmp_path / "loop", script=SCRIPT, extra=NO_THRASH)
    run_dir = tmp_path / "run"
    journal = run_dir / "journal.jsonl"
    proc = _start(spec, run_dir)
    _wait_for(journal, needle, count)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=10)
    before = read_journal(journal).events
    finished_before = sorted({e.iteration for e in before if isinstance(e, Decided)})

    resumed = subprocess.run(
        [*CLI, "resume", str(run_dir), "--headless"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    assert "resumed" in resumed.stdout.splitlines()[0]

    events = read_journal(journal).events
    decided = [e.iteration for e in events if isinstance(e, Decided)]
    # No finished iteration is lost or run twice; the numbering carries on.
    assert decided[: len(finished_before)] == finished_before
    assert decided == list(range(1, len(decided) + 1))
    assert sum(isinstance(e, RunStarted) for e in events) == 2
    assert isinstance(events[-1], RunFinished) and events[-1].outcome == "goal_met"
    # A tool call cut off by the kill is recorded as interrupted, not run again.
    interrupted = [e for e in events if isinstance(e, ToolResult) and e.interrupted]
    if needle == b'"type":"tool_call"':
        assert interrupted
    assert (run_dir / "workspace" / "state.txt").read_text() == "good"


def test_resume_refuses_a_finished_run(tmp_path: Path) -> None:
    spec = write_loop(tmp_path / "loop", script="[[iteration]]\n" + edit("good"))
    run_dir = tmp_path / "run"
    first = subprocess.run(
        [*CLI, "run", str(spec), "--headless", "--run-dir", str(run_dir)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert first.returncode == 0
    again = subprocess.run(
        [*CLI, "resume", str(run_dir), "--headless"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert again.returncode == 2
    assert "already met its goal" in again.stderr and "Traceback" not in again.stderr


def test_resume_of_something_that_is_not_a_run(tmp_path: Path) -> None:
    proc = subprocess.run(
        [*CLI, "resume", str(tmp_path), "--headless"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert proc.returncode == 2 and "not a loopconsole run directory" in proc.stderr


def test_resume_refuses_a_run_that_is_still_running(tmp_path: Path) -> None:
    script = "[[iteration]]\n[[iteration.step]]\ntool = 'bash'\ninput = { command = 'sleep 30' }\n"
    spec = write_loop(tmp_path / "loop", script=script)
    run_dir = tmp_path / "run"
    proc = _start(spec, run_dir)
    try:
        _wait_for(run_dir / "journal.jsonl", b'"type":"tool_call"')
        journal_before = (run_dir / "journal.jsonl").read_bytes()
        again = subprocess.run(
            [*CLI, "resume", str(run_dir), "--headless"], capture_output=True, text=True, timeout=30
        )
        assert again.returncode == 2
        assert f"still running (process {proc.pid})" in again.stderr
        assert (run_dir / "journal.jsonl").read_bytes().startswith(journal_before)
    finally:
        proc.kill()
        proc.wait(timeout=10)
