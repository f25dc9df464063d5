"""The journal: one line per event, torn tails skipped with a warning."""

from __future__ import annotations

from pathlib import Path

from tui.engine.journal import JournalWriter, read_journal, repair_torn_tail
from tui.events import Decided, Notice, RunFinished


def _write(path: Path, n: int) -> None:
    writer = JournalWriter(path)
    for i in range(n):
        writer.write(Notice(message=f"chunk {i}", run_id="r", iteration=1))
    writer.write(Decided(action="continue", reason="r", run_id="r", iteration=1))
    writer.close()


def test_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "journal.jsonl"
    _write(path, 3)
    result = read_journal(path)
    assert result.warnings == []
    assert [e.type for e in result.events] == ["notice"] * 3 + ["decision"]
    assert result.events[1].message == "chunk 1"
    assert len(path.read_text().splitlines()) == 4


def test_torn_last_line_is_skipped_with_a_warning(tmp_path: Path) -> None:
    path = tmp_path / "journal.jsonl"
    _write(path, 2)
    with open(path, "ab") as f:
        f.write(b'{"type":"notice","message":"half a li')
    result = read_journal(path)
    assert len(result.events) == 3
    assert len(result.warnings) == 1 and "torn" in result.warnings[0]
    # Before appending (resume), the torn tail is cut so the next line is whole.
    assert repair_torn_tail(path)
    w = JournalWriter(path)
    w.write(Notice(message="resumed"))
    w.close()
    again = read_journal(path)
    assert again.warnings == [] and again.events[-1].type == "notice"


def test_bad_line_in_the_middle_is_reported_with_its_number(tmp_path: Path) -> None:
    path = tmp_path / "journal.jsonl"
    _write(path, 1)
    lines = path.read_text().splitlines()
    path.write_text("\n".join([lines[0], "not json", lines[1]]) + "\n")
    result = read_journal(path)
    assert len(result.events) == 2
    assert result.warnings == [f"{path}: line 2 is not a valid event; it was skipped"]


def test_writer_ignores_events_after_close(tmp_path: Path) -> None:
    path = tmp_path / "journal.jsonl"
    w = JournalWriter(path)
    w.write(RunFinished(outcome="stopped", reason="x", exit_code=1))
    w.close()
    w.write(Notice(message="late"))
    assert len(read_journal(path).events) == 1
