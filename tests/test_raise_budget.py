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


SPENDING = (
    "[[iteration]]\nusage = { input_tokens = 1000, output_tokens = 200 }\n"
    + edit("almost\\n")
    + "\n[[iteration]]\nusage = { input_tokens = 1000, output_tokens = 200 }\n"
    + edit("good\\n")
)


def test_a_raise_below_what_the_run_used_or_not_a_raise_is_refused_in_one_sentence(
    tmp_path: Path, capsys
) -> None:
    # 1,200 tokens used against a limit of 1,000: the run stops on max_tokens.
    spec = write_loop(tmp_path / "loop", script=SPENDING, budget="max_tokens = 1000")
    run_dir = tmp_path / "run"
    assert main(["run", str(spec), "--headless", "--run-dir", str(run_dir)]) == 1
    journal = (run_dir / "journal.jsonl").read_bytes()
    capsys.readouterr()
    cases = [
        ("max_tokens=1100", "the run has already used 1,200; raise it above that"),
        ("max_tokens=900", "the limit is already 1,000; raise it above that"),
        ("max_tokens=2000.5", "max_tokens takes a whole number, not '2000.5'"),
        ("max_cost_usd=nan", "give a finite number, not 'nan'"),
        ("max_cost_usd=-1", "a limit must be more than 0"),
        ("max_wall_s=inf", "give a finite number, not 'inf'"),
        ("budget=10", "write LIMIT=VALUE with LIMIT one of max_iterations, max_tokens"),
        ("max_tokens", "write LIMIT=VALUE"),
    ]
    for headless in (["--headless"], []):  # the console's resume refuses before it starts
        for bad, said in cases:
            assert main(["resume", str(run_dir), *headless, "--raise", bad]) == 2, bad
            err = capsys.readouterr().err
            assert said in err and len(err.strip().splitlines()) == 1, err
            assert "Traceback" not in err
    twice = ["--raise", "max_tokens=5000", "--raise", "max_tokens=6000"]
    assert main(["resume", str(run_dir), *twice]) == 2
    assert "--raise max_tokens is given twice" in capsys.readouterr().err
    # Nothing was touched: no engine was started, the journal is as it was.
    assert (run_dir / "journal.jsonl").read_bytes() == journal
    assert not (run_dir / "engine.log").exists()

    assert main(["resume", str(run_dir), "--headless", "--raise", "max_tokens=5000"]) == 0
    assert "budget raised on resume: max_tokens 1000 → 5000" in capsys.readouterr().err


def test_the_exit_summary_of_a_run_stopped_on_its_budget_says_how_to_go_on() -> None:
    from tui.app.exit_summary import exit_summary
    from tui.events import BudgetState, RunFinished, Usage

    spent = BudgetState(
        iterations=2, usage=Usage(input_tokens=5000), max_iterations=10, max_tokens=5000
    )
    finished = RunFinished(
        outcome="budget", reason="token limit reached", exit_code=1, budget=spent
    )
    text = exit_summary(finished, "/r/x", "x")
    assert "go on       loopconsole resume x --raise max_tokens=10000" in text


def test_the_limit_offered_is_the_one_reached_or_nearest_and_doubled() -> None:
    from tui.engine.raise_budget import limit_to_raise, proposed_value
    from tui.events import BudgetState, Usage

    on_iterations = BudgetState(iterations=3, max_iterations=3, cost_usd=0.5, max_cost_usd=5.0)
    assert limit_to_raise(on_iterations) == "max_iterations"
    assert proposed_value("max_iterations", on_iterations) == 6
    # Stopped before a request that could break the cost limit: the cost is nearest.
    early = BudgetState(iterations=1, max_iterations=10, cost_usd=0.93, max_cost_usd=1.0)
    assert limit_to_raise(early) == "max_cost_usd"
    assert proposed_value("max_cost_usd", early) == 2.0
    over = BudgetState(usage=Usage(output_tokens=2600), max_tokens=1000, max_iterations=10)
    assert limit_to_raise(over) == "max_tokens"
    assert proposed_value("max_tokens", over) == 5200  # above what was used
    assert limit_to_raise(BudgetState()) is None
