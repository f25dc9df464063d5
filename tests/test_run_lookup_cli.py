"""The command line: a run by id or prefix, `run --json | head`, the console's last words."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.loops import SAMPLES
from tui.app.exit_summary import exit_summary
from tui.engine.rundir import RunDirError, find_runs
from tui.events import BudgetState, RunFinished
from tui.run_lookup import resolve_run


def make_runs(root: Path, *names: str) -> list[Path]:
    runs = []
    for name in names:
        run = root / "loop" / ".loopconsole" / "runs" / name
        run.mkdir(parents=True)
        (run / "journal.jsonl").write_text("")
        runs.append(run)
    return runs


def test_a_run_is_found_by_folder_id_or_unique_prefix(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    a, b = make_runs(tmp_path, "20261126-101500-fizz", "20261126-111500-fizz")
    assert resolve_run(a, here=tmp_path) == a.resolve()
    assert resolve_run("20261126-101500-fizz", here=tmp_path) == a.resolve()
    assert resolve_run("20261126-11", here=tmp_path) == b.resolve()
    with pytest.raises(RunDirError, match="matches 2 runs .*give more of the run id"):
        resolve_run("20261126", here=tmp_path)
    with pytest.raises(RunDirError, match="no run folder or run id matches 'nope'"):
        resolve_run("nope", here=tmp_path)


def test_replay_takes_a_prefix_and_says_one_sentence_when_none_matches(
    tmp_path: Path, monkeypatch, capsys
) -> None:
    from tui.cli import main

    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    monkeypatch.chdir(tmp_path)
    assert main(["replay", "20991231"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("loopconsole: no run folder or run id matches") and "Traceback" not in err
    assert main(["resume", "20991231", "--headless"]) == 2


def test_leaving_the_console_says_the_outcome_the_folder_and_how_to_replay() -> None:
    finished = RunFinished(
        outcome="budget",
        reason="cost $0.21 reached the limit of $0.20",
        exit_code=1,
        budget=BudgetState(iterations=3, cost_usd=0.21, wall_s=95),
    )
    text = exit_summary(finished, "/runs/20261126-101500-fizz", "20261126-101500-fizz")
    assert text.splitlines() == [
        "loopconsole: budget exhausted after 3 iterations (1 min 35 s, $0.21): "
        "cost $0.21 reached the limit of $0.20",
        "  run folder  /runs/20261126-101500-fizz",
        "  replay      loopconsole replay 20261126-101500-fizz",
    ]
    stopped = finished.model_copy(update={"outcome": "stopped"})
    assert "resume      loopconsole resume" in exit_summary(stopped, "/r/x", "x")


def test_run_json_into_head_ends_quietly_and_is_not_an_error(tmp_path: Path) -> None:
    loop = tmp_path / "fizz"
    shutil.copytree(SAMPLES / "fizzbuzz", loop)
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parent.parent)}
    run = subprocess.run(
        f"{sys.executable} -m tui.cli run {loop} --json | head -1",
        shell=True,
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert run.stdout.count("\n") == 1 and '"run_started"' in run.stdout
    assert "Traceback" not in run.stderr and "BrokenPipe" not in run.stderr, run.stderr
    (run_dir,) = find_runs(loop)
    journal = run_dir / "journal.jsonl"
    last = journal.read_text().splitlines()[-1]
    assert '"run_finished"' in last and '"outcome":"error"' not in last
