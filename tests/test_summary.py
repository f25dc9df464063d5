"""`loopconsole runs`: a table of runs read from their journals."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from tests.loops import SAMPLES
from tui.cli import main
from tui.engine.rundir import find_runs


def test_runs_lists_outcome_iterations_cost_and_signals(tmp_path: Path, capsys) -> None:
    spec_dir = tmp_path / "thrash"

    shutil.copytree(SAMPLES / "thrash-demo", spec_dir)
    assert main(["run", str(spec_dir), "--headless"]) == 3
    shutil.copytree(SAMPLES / "fizzbuzz", tmp_path / "fizz")
    assert main(["run", str(tmp_path / "fizz"), "--headless"]) == 0
    capsys.readouterr()
    assert main(["runs", str(tmp_path)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["run", "outcome", "iter", "cost", "time", "signals", "folder"]
    rows = {line.split()[0].split("-", 2)[-1]: line.split() for line in lines[1:]}
    assert rows["thrash-demo"][1:3] == ["paused", "3"]
    assert rows["thrash-demo"][-2] == "1"
    # Each run's folder, so it can be opened or removed.
    assert (Path(rows["thrash-demo"][-1]) / "journal.jsonl").is_file()
    assert rows["fizzbuzz"][1:3] == ["goal_met", "2"]
    assert rows["fizzbuzz"][3].startswith("$")


def test_runs_says_when_the_path_does_not_exist(tmp_path: Path, capsys) -> None:
    assert main(["runs", str(tmp_path / "nowhere")]) == 2
    err = capsys.readouterr().err
    assert "nowhere does not exist" in err and "Traceback" not in err


def test_a_crashed_run_shows_how_long_it_ran(tmp_path: Path, capsys) -> None:
    spec_dir = tmp_path / "fizz"
    shutil.copytree(SAMPLES / "fizzbuzz", spec_dir)
    assert main(["run", str(spec_dir), "--headless"]) == 0
    (run,) = find_runs(spec_dir)
    journal = run / "journal.jsonl"
    lines = journal.read_text().splitlines()
    # Cut the journal before its end (a crash), and space its events out.
    kept = [line for line in lines if '"run_finished"' not in line]
    first = json.loads(kept[0])
    last = json.loads(kept[-1])
    last["ts"] = first["ts"] + 75
    journal.write_text("\n".join([*kept[:-1], json.dumps(last)]) + "\n")
    capsys.readouterr()
    assert main(["runs", str(spec_dir)]) == 0
    row = capsys.readouterr().out.splitlines()[1]
    assert "crashed or killed" in row and "1 min 15 s" in row, row
