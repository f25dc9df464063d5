"""Output into a reader that went away (`| head -1`) ends quietly, as Unix tools do.

Each command runs as a real process whose stdout is a pipe with its reading
end already closed, so its first write fails: no traceback, exit 141 (the
shell's code for a command ended by SIGPIPE), and what the command did is
still done.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.loops import REPO, write_loop
from tui.engine.protocol import read_engine_info
from tui.live_cli import stop_engine

GONE = 141


def _into_closed_pipe(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[bytes]:
    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader is gone before we write a byte
    try:
        return subprocess.run(
            [sys.executable, "-m", "tui.cli", *args],
            stdout=write_end,
            stderr=subprocess.PIPE,
            cwd=REPO,
            env=env,
            timeout=60,
            check=False,
        )
    finally:
        os.close(write_end)


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {**os.environ, "LOOPCONSOLE_STATE_DIR": str(tmp_path / "state")}


def _quiet(done: subprocess.CompletedProcess[bytes]) -> None:
    stderr = done.stderr.decode()
    assert "Traceback" not in stderr and "BrokenPipe" not in stderr, stderr
    assert done.returncode == GONE, stderr


def test_detach_runs_and_lists_end_quietly_when_nobody_reads(
    tmp_path: Path, env: dict[str, str]
) -> None:
    spec = write_loop(tmp_path / "loop", script="[[iteration]]\n")
    run_dir = tmp_path / "run"
    detach = _into_closed_pipe(
        "run", str(spec), "--detach", "--paused", "--run-dir", str(run_dir), env=env
    )
    try:
        _quiet(detach)
        # The run was started all the same, and the lists still run to their end.
        assert read_engine_info(run_dir) is not None
        _quiet(_into_closed_pipe("fleet", "--json", env=env))
        _quiet(_into_closed_pipe("runs", env=env))
    finally:
        stop_engine(run_dir)
        deadline = time.monotonic() + 20
        while read_engine_info(run_dir) is not None and time.monotonic() < deadline:
            time.sleep(0.05)
