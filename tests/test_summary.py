"""`loopconsole runs`: a table of runs read from their journals."""

from __future__ import annotations

import shutil
from pathlib import Path

from tests.loops import SAMPLES
from tui.cli import main


def test_runs_lists_outcome_iterations_cost_and_signals(tmp_path: Path, capsys) -> None:
    spec_dir = tmp_path / "thrash"

    shutil.copytree(SAMPLES / "thrash-demo", spec_dir)
    assert main(["run", str(spec_dir), "--headless"]) == 3
    shutil.copytree(SAMPLES / "fizzbuzz", tmp_path / "fizz")
    assert main(["run", str(tmp_path / "fizz"), "--headless"]) == 0
    capsys.readouterr()
    assert main(["runs", str(tmp_path)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["run", "outcome", "iter", "cost", "time", "signals"]
    rows = {line.split()[0].split("-", 2)[-1]: line.split() for line in lines[1:]}
    assert rows["thrash-demo"][1:3] == ["paused", "3"]
    assert rows["thrash-demo"][-1] == "1"
    assert rows["fizzbuzz"][1:3] == ["goal_met", "2"]
    assert rows["fizzbuzz"][3].startswith("$")
