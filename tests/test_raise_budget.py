"""`resume RUN --raise LIMIT=VALUE`: a run stopped on its budget goes on and meets its goal."""

from __future__ import annotations

import json
from pathlib import Path

from tests.loops import edit, write_loop
from tui.cli import main

SCRIPT = "[[iteration]]\n" + edit("almost\\n") + "\n[[iteration]]\n" + edit("good\\n")


def _events(run_dir: Path) -> list[dict]:
    return [json.loads(line) for line in (run_dir / "journal.jsonl").read_text().splitlines()]


def test_a_raised_limit_lets_a_stopped_run_reach_its_goal(tmp_path: Path, capsys) -> None:
    spec = write_loop(tmp_path / "loop", script=SCRIPT, budget="max_iterations = 1")
    run_dir = tmp_path / "run"
    assert main(["run", str(spec), "--headless", "--run-dir", str(run_dir)]) == 1
    assert "budget" in capsys.readouterr().out

    assert main(["resume", str(run_dir), "--headless", "--raise", "max_iterations=3"]) == 0
    captured = capsys.readouterr()
    assert "budget raised on resume: max_iterations 1 → 3" in captured.err
    assert "goal met after 2 iterations" in captured.out
    events = _events(run_dir)
    assert any(e["type"] == "spec_reloaded" and "budget" in e["changed"] for e in events)
    notices = [e["message"] for e in events if e["type"] == "notice"]
    assert "budget raised on resume: max_iterations 1 → 3" in notices
    assert events[-1]["type"] == "run_finished" and events[-1]["outcome"] == "goal_met"


def test_a_raise_that_is_not_a_raise_is_refused_and_the_run_untouched(
    tmp_path: Path, capsys
) -> None:
    spec = write_loop(tmp_path / "loop", script=SCRIPT, budget="max_iterations = 1")
    run_dir = tmp_path / "run"
    main(["run", str(spec), "--headless", "--run-dir", str(run_dir)])
    journal = (run_dir / "journal.jsonl").read_bytes()
    capsys.readouterr()
    for bad, said in [
        ("max_iterations=1", "the limit is already 1; raise it above"),
        ("max_turns=5", "write LIMIT=VALUE with LIMIT one of"),
        ("max_cost_usd=lots", "'lots' is not a number"),
    ]:
        assert main(["resume", str(run_dir), "--headless", "--raise", bad]) == 2
        err = capsys.readouterr().err
        assert said in err and len(err.strip().splitlines()) == 1
    assert (run_dir / "journal.jsonl").read_bytes() == journal
