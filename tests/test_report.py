"""`loopconsole report`: a self-contained HTML and Markdown post-mortem of a real run."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from tests.loops import edit, write_loop
from tui.cli import main
from tui.engine.journal import read_journal
from tui.events import RunFinished

SCRIPT = (
    "[[iteration]]\nusage = { input_tokens = 1000, output_tokens = 200 }\n"
    + edit("almost\\n")
    + "\n[[iteration]]\nusage = { input_tokens = 1500, output_tokens = 300 }\n"
    + edit("good\\n")
)


def test_report_of_a_real_run_holds_its_figures(tmp_path: Path, capsys) -> None:
    spec = write_loop(tmp_path / "loop", script=SCRIPT)
    run_dir = tmp_path / "run"
    assert main(["run", str(spec), "--headless", "--run-dir", str(run_dir)]) == 0
    finished = [
        e for e in read_journal(run_dir / "journal.jsonl").events if isinstance(e, RunFinished)
    ]
    cost = finished[-1].budget.cost_usd
    capsys.readouterr()

    assert main(["report", str(run_dir), "--out", str(tmp_path / "out")]) == 0
    printed = capsys.readouterr().out.split()
    page = (tmp_path / "out" / "report.html").read_text()
    markdown = (tmp_path / "out" / "report.md").read_text()
    assert printed == [str(tmp_path / "out" / "report.html"), str(tmp_path / "out" / "report.md")]

    for text in (page, markdown):
        assert "Make check.py exit 0." in text  # the goal
        assert f"${cost:.4f}" in text  # the run's cost, as the journal has it
        assert "check failed" in text and "check passed" in text  # per-iteration validators
        assert "goal met" in text
        assert "+good" in text and "-almost" in text  # iteration 2's diff
        assert "1,200" in text and "1,800" in text  # tokens per iteration
        assert "1,500 input" in text and "300 output" in text  # iteration 2's receipt
    # Self-contained: nothing is loaded from anywhere (the only URL is SVG's namespace).
    urls = set(re.findall(r"https?://[^\s\"'<>]+", page))
    assert urls == {"http://www.w3.org/2000/svg"}
    assert page.count("<svg") == 2  # passing checks and cumulative cost
    assert "<script" not in page and "<link" not in page


def test_report_of_a_crashed_run_says_so(tmp_path: Path, capsys) -> None:
    spec = write_loop(tmp_path / "loop", script=SCRIPT)
    run_dir = tmp_path / "run"
    main(["run", str(spec), "--headless", "--run-dir", str(run_dir)])
    journal = run_dir / "journal.jsonl"
    lines = journal.read_text().splitlines(keepends=True)
    journal.write_text("".join(line for line in lines if '"type":"run_finished"' not in line))
    assert main(["report", str(run_dir)]) == 0
    said = (run_dir / "report.md").read_text()
    assert "crashed: the run stopped without finishing; `loopconsole resume run`" in said

    # The same journal while a process holds the run: still running, not crashed.
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(run_dir)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "held\n"
        assert main(["report", str(run_dir)]) == 0
        assert "| Outcome | still running" in (run_dir / "report.md").read_text()
    finally:
        holder.kill()
        holder.wait()


HOLD = """
import sys, time
from pathlib import Path
from tui.engine.rundir import lock_run
lock_run(Path(sys.argv[1]))
print("held", flush=True)
time.sleep(60)
"""
