"""The journal index agrees with a full read of the journal, for real and damaged runs."""

from __future__ import annotations

import asyncio
import json
from collections import defaultdict
from pathlib import Path

import pytest

from tests.benchmarks.make_journal import make_journal
from tests.loops import SAMPLES, edit, write_loop
from tui.engine.journal import JournalWriter, read_journal
from tui.engine.journal_index import JournalIndex
from tui.engine.resume import load_resume_state, prepare_workspace
from tui.engine.rundir import create_run, open_run
from tui.engine.runner import Runner
from tui.events import (
    BudgetState,
    BudgetUpdated,
    Checkpointed,
    Decided,
    Event,
    IterationStarted,
    Notice,
    Paused,
    RunFinished,
    RunStarted,
    SignalRaised,
    ToolCall,
    ToolResult,
    Usage,
    dump_event,
)
from tui.spec import load_spec

NEVER_FIX = "".join(
    f"[[iteration]]\nusage = {{ input_tokens = 1000, output_tokens = 100 }}\n"
    f"[[iteration.step]]\nsay = 'attempt {i}'\n{edit(f'bad {i}')}"
    for i in range(6)
)


def _run(spec_path: Path, run_dir: Path) -> Path:
    spec = load_spec(spec_path)
    runner = Runner(spec, create_run(spec, run_dir), interactive=False)
    asyncio.run(runner.run())
    return runner.run_dir.journal_path


@pytest.fixture(scope="module")
def fizzbuzz(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _run(SAMPLES / "fizzbuzz", tmp_path_factory.mktemp("fizzbuzz") / "run")


@pytest.fixture(scope="module")
def thrash(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _run(SAMPLES / "thrash-demo", tmp_path_factory.mktemp("thrash") / "run")


def _by_iteration(events: list[Event]) -> dict[int, list[Event]]:
    out: dict[int, list[Event]] = defaultdict(list)
    for e in events:
        out[e.iteration].append(e)
    return out


def _expected_row(events: list[Event]) -> dict:
    """What one iteration's row must say, from its full events."""
    last_start = max(i for i, e in enumerate(events) if isinstance(e, IterationStarted))
    events = events[last_start:]  # an earlier, cut-short attempt does not count
    decisions = [i for i, e in enumerate(events) if isinstance(e, Decided)]
    upto = events[: decisions[-1] + 1] if decisions else events
    budgets = [e.budget for e in upto if isinstance(e, BudgetUpdated)]
    commits = [e.commit for e in events if isinstance(e, Checkpointed) and e.kind == "agent"]
    d = events[decisions[-1]] if decisions else None
    return {
        "action": d.action if d else "",
        "reason": d.reason if d else "",
        "passing": d.passing_checks if d else 0,
        "total": d.total_checks if d else 0,
        "signals": [e.kind for e in events if isinstance(e, SignalRaised)],
        "cost_usd": budgets[-1].cost_usd if budgets else 0.0,
        "tokens": budgets[-1].usage.total if budgets else 0,
        "commit": commits[-1] if commits else None,
    }


def assert_agrees_with_full_read(index: JournalIndex) -> None:
    """Rows, head, per-iteration events and warnings all match read_journal."""
    full = read_journal(index.path)
    assert sorted(index.warnings) == sorted(full.warnings)
    by = _by_iteration(full.events)
    assert [r.iteration for r in index.rows] == sorted(n for n in by if n > 0)
    for row in index.rows:
        got = {k: getattr(row, k) for k in _expected_row(by[row.iteration])}
        assert got == _expected_row(by[row.iteration]), row.iteration
        assert (row.status == "running") == (row.action == "")
    for n, events in by.items():
        assert index.events(n) == events, n
    assert index.head_events() == by.get(0, [])
    starts = [e for e in full.events if isinstance(e, RunStarted)]
    assert index.run_started == (starts[0] if starts else None)
    # The end of the last session only: a resume after a finish makes it not the end.
    since = full.events[full.events.index(starts[-1]) :] if starts else []
    ends = [e for e in since if isinstance(e, RunFinished)]
    assert index.run_finished == (ends[-1] if ends else None)


def test_rows_and_events_of_a_run_that_met_its_goal(fizzbuzz: Path) -> None:
    index = JournalIndex.build(fizzbuzz)
    assert_agrees_with_full_read(index)
    assert [r.status for r in index.rows] == ["failed", "passed"]
    first, second = index.rows
    assert (first.action, second.action, second.outcome) == ("continue", "stop", "goal_met")
    assert first.passing < first.total and second.passing == second.total > 0
    assert 0 < first.tokens < second.tokens and first.cost_usd < second.cost_usd
    assert first.commit and len(first.commit) == 40 and first.commit != second.commit
    assert index.run_finished is not None and index.run_finished.outcome == "goal_met"
    assert index.run_started is not None and index.run_started.name == "fizzbuzz"
    head = index.head_events()
    assert isinstance(head[0], RunStarted)
    assert any(isinstance(e, Checkpointed) and e.kind == "start" for e in head)
    assert index.first_ts == head[0].ts and index.last_ts == index.run_finished.ts


def test_rows_of_the_thrash_demo_mark_the_oscillation(thrash: Path) -> None:
    index = JournalIndex.build(thrash)
    assert_agrees_with_full_read(index)
    assert [r.status for r in index.rows] == ["failed", "failed", "signal"]
    last = index.rows[-1]
    assert last.signals == ["oscillation"] and last.action == "pause"
    assert last.reason.startswith("thrash, oscillation")
    assert index.run_finished is not None and index.run_finished.outcome == "paused"


def test_events_are_cached_and_callers_cannot_change_the_cache(thrash: Path) -> None:
    index = JournalIndex.build(thrash)
    events = index.events(2)
    events.clear()
    assert index.events(2) == _by_iteration(read_journal(thrash).events)[2]
    assert index.events(99) == [] and index.row(99) is None
    assert index.row(2) is index.rows[1]


def test_a_torn_last_line_is_a_warning_and_a_refresh_picks_it_up_once_complete(
    fizzbuzz: Path, tmp_path: Path
) -> None:
    data = fizzbuzz.read_bytes()
    body, last = (
        data[: data.rstrip(b"\n").rfind(b"\n") + 1],
        data[data.rstrip(b"\n").rfind(b"\n") + 1 :],
    )
    journal = tmp_path / "journal.jsonl"
    journal.write_bytes(body + last[:30])
    index = JournalIndex.build(journal)
    assert index.warnings == [
        f"{journal}: the last line is incomplete (torn write); it was skipped"
    ]
    assert_agrees_with_full_read(index)
    assert index.run_finished is None and [r.status for r in index.rows] == ["failed", "passed"]
    assert index.refresh() is False  # nothing new was written yet
    with open(journal, "ab") as f:
        f.write(last[30:])
    assert index.refresh() is True
    assert index.warnings == [] and index.run_finished is not None
    assert_agrees_with_full_read(index)


def test_a_crashed_run_ends_with_a_running_row(thrash: Path, tmp_path: Path) -> None:
    lines = thrash.read_bytes().splitlines(keepends=True)
    events = read_journal(thrash).events
    third = max(i for i, e in enumerate(events) if isinstance(e, IterationStarted))
    call = next(i for i, e in enumerate(events) if i > third and isinstance(e, ToolCall))
    journal = tmp_path / "journal.jsonl"
    journal.write_bytes(b"".join(lines[: call + 1]))
    index = JournalIndex.build(journal)
    assert_agrees_with_full_read(index)
    assert [r.status for r in index.rows] == ["failed", "failed", "running"]
    assert index.rows[-1].action == "" and index.rows[-1].signals == []
    assert index.run_finished is None and index.rows[-1].commit is None


async def test_a_resumed_run_with_interrupted_results_appended_later(tmp_path: Path) -> None:
    spec_path = write_loop(tmp_path / "loop", script=NEVER_FIX, budget="max_iterations = 4")
    spec = load_spec(spec_path)
    runner = Runner(spec, create_run(spec, tmp_path / "run"), interactive=False)
    await runner.run()
    journal = runner.run_dir.journal_path
    lines = journal.read_bytes().splitlines(keepends=True)
    events = read_journal(journal).events
    third = max(
        i for i, e in enumerate(events) if isinstance(e, IterationStarted) and e.iteration == 3
    )
    call = next(i for i, e in enumerate(events) if i > third and isinstance(e, ToolCall))
    # Killed mid-write just after iteration 3's tool call; then resumed.
    journal.write_bytes(b"".join(lines[: call + 1]) + lines[call + 1][:20])
    state = load_resume_state(runner.run_dir.path)
    run = open_run(state.run_dir, state.spec)
    prep = prepare_workspace(state, run.workspace)
    resumed = Runner(state.spec, run, interactive=False, resume=state, prep=prep)
    await resumed.run()

    full = read_journal(journal).events
    positions = [i for i, e in enumerate(full) if e.iteration == 3]
    assert positions != list(range(positions[0], positions[-1] + 1))  # not one stretch
    assert any(isinstance(e, ToolResult) and e.interrupted and e.iteration == 3 for e in full)
    index = JournalIndex.build(journal)
    assert_agrees_with_full_read(index)
    row = index.row(3)
    assert row is not None and row.attempts == 2 and row.status == "failed"
    assert [r.iteration for r in index.rows] == [1, 2, 3, 4]
    assert index.rows[-1].status == "stopped" and index.rows[-1].action == "stop"
    assert index.run_started is not None and not index.run_started.resumed
    assert index.run_finished is not None and index.run_finished.outcome == "budget"


def test_refresh_picks_up_appended_lines_and_drops_stale_cache(
    thrash: Path, tmp_path: Path
) -> None:
    data = thrash.read_bytes()
    lines = data.splitlines(keepends=True)
    events = read_journal(thrash).events
    mid = next(i for i, e in enumerate(events) if e.iteration == 2 and e.type == "tool_result")
    journal = tmp_path / "journal.jsonl"
    journal.write_bytes(b"".join(lines[: mid + 1]))
    index = JournalIndex.build(journal)
    assert [r.status for r in index.rows] == ["failed", "running"]
    before = index.events(2)  # cached now
    row = index.row(2)
    assert index.refresh() is False
    # Only bulk lines of the same iteration: they extend its last stretch.
    with open(journal, "ab") as f:
        f.write(b"".join(lines[mid + 1 : mid + 3]))
    assert index.refresh() is True
    assert index.events(2) == before + events[mid + 1 : mid + 3]
    with open(journal, "ab") as f:
        f.write(b"".join(lines[mid + 3 :]))
    assert index.refresh() is True
    assert index.row(2) is row and row.status == "failed"  # rows are updated in place
    assert_agrees_with_full_read(index)


def test_refresh_after_the_journal_was_cut_reads_it_again(fizzbuzz: Path, tmp_path: Path) -> None:
    journal = tmp_path / "journal.jsonl"
    journal.write_bytes(fizzbuzz.read_bytes())
    index = JournalIndex.build(journal)
    lines = journal.read_bytes().splitlines(keepends=True)
    journal.write_bytes(b"".join(lines[:5]))
    assert index.refresh() is True
    assert_agrees_with_full_read(index)
    assert index.run_finished is None


def _write(path: Path, events: list[Event]) -> None:
    writer = JournalWriter(path)
    for e in events:
        e.run_id = "r"
        writer.write(e)
    writer.close()


def _decided(n: int, action: str, reason: str = "", outcome=None, passing=1, total=3) -> Decided:
    return Decided(
        iteration=n,
        action=action,  # type: ignore[arg-type]
        outcome=outcome,
        reason=reason or action,
        passing_checks=passing,
        total_checks=total,
    )


def _cp(n: int, kind: str, restored: int | None = None) -> Checkpointed:
    return Checkpointed(
        iteration=n,
        kind=kind,  # type: ignore[arg-type]
        commit=f"{n:040x}",
        tree="f" * 40,
        restored_iteration=restored,
    )


def test_statuses_pauses_rewinds_and_spending(tmp_path: Path) -> None:
    spent = BudgetState(iterations=1, usage=Usage(input_tokens=10, output_tokens=5), cost_usd=0.5)
    more = BudgetState(iterations=2, usage=Usage(input_tokens=99), cost_usd=9.0)
    events: list[Event] = [
        RunStarted(name="x", goal="g", spec_path="", run_dir="", workspace="", backend="scripted"),
        Paused(reason="started paused", by_human=True),
        IterationStarted(iteration=1, goal="g", prompt="p"),
        BudgetUpdated(iteration=1, budget=spent),
        _cp(1, "agent"),
        _decided(1, "pause", "stepped one iteration"),
        Paused(iteration=1, reason="stepped one iteration", by_human=True),
        _cp(1, "rewind", restored=0),
        BudgetUpdated(iteration=1, budget=more),  # after the decision: not this row's
        IterationStarted(iteration=2, goal="g", prompt="p"),
        _decided(2, "continue", passing=3, total=3),
        IterationStarted(iteration=3, goal="g", prompt="p"),
        SignalRaised(iteration=3, kind="no_progress", explanation="e"),
        SignalRaised(iteration=3, kind="same_failure", explanation="e"),
        _decided(3, "continue"),
        IterationStarted(iteration=4, goal="g", prompt="p"),
        SignalRaised(iteration=4, kind="no_progress", explanation="e"),
        _cp(4, "agent"),
        # Killed before the decision; resumed, iteration 4 runs again.
        RunStarted(
            iteration=3,
            name="x",
            goal="g",
            spec_path="",
            run_dir="",
            workspace="",
            backend="scripted",
            resumed=True,
        ),
        IterationStarted(iteration=4, goal="g", prompt="p"),
        _decided(4, "stop", "budget", outcome="budget"),
        RunFinished(iteration=4, outcome="budget", reason="budget", exit_code=1),
    ]
    journal = tmp_path / "journal.jsonl"
    _write(journal, events)
    index = JournalIndex.build(journal)
    assert_agrees_with_full_read(index)
    # One rule (iteration_status): a stepped pause is "failed" in the index (only
    # the replay store knows the run is paused there), and every check passing
    # without the goal met is not "passed".
    assert [r.status for r in index.rows] == ["failed", "failed", "signal", "stopped"]
    one = index.rows[0]
    assert (one.cost_usd, one.tokens, one.commit) == (0.5, 15, f"{1:040x}")
    assert one.restored_iteration == 0 and one.paused_reason == "stepped one iteration"
    assert index.rows[2].signals == ["no_progress", "same_failure"]
    four = index.rows[3]
    assert (four.attempts, four.signals, four.commit) == (2, [], None)
    assert index.run_started is not None and not index.run_started.resumed
    assert [type(e) for e in index.head_events()] == [RunStarted, Paused]


def test_lines_in_another_key_order_blank_and_bad_lines(tmp_path: Path) -> None:
    journal = tmp_path / "journal.jsonl"
    _write(
        journal,
        [
            RunStarted(name="x", goal="g", spec_path="", run_dir="", workspace="", backend="b"),
            IterationStarted(iteration=1, goal="g", prompt="p"),
        ],
    )
    # Written by another tool: same event, keys in another order.
    odd = json.loads(dump_event(_decided(1, "continue")))
    odd = {"type": odd.pop("type"), **odd}
    with open(journal, "ab") as f:
        f.write(json.dumps(odd).encode() + b"\n\n")
        f.write(b'{"ts":1.0,"run_id":"r","iteration":1,"type":"decision","action":"nope"}\n')
        f.write(b'{"ts":1.0,"run_id":"r","iteration":1,"type":"agent_text","text":\n')
        f.write(b"not json at all\n")
        f.write(dump_event(Notice(iteration=1, message="still read")).encode() + b"\n")
    index = JournalIndex.build(journal)
    assert index.rows[0].status == "failed" and index.rows[0].action == "continue"
    index.events(1)  # the bad agent_text line is found when its iteration is read
    assert_agrees_with_full_read(index)
    assert sorted(w.split(": ", 1)[1] for w in index.warnings) == [
        f"line {n} is not a valid event; it was skipped" for n in (5, 6, 7)
    ]
    assert isinstance(index.events(1)[-1], Notice)


def test_the_synthetic_journal_is_readable_and_indexed_the_same(tmp_path: Path) -> None:
    path = make_journal(tmp_path / "journal.jsonl", iterations=40, mb=3)
    assert 2.9 < path.stat().st_size / 2**20 < 3.2
    index = JournalIndex.build(path)
    assert_agrees_with_full_read(index)
    assert len(index.rows) == 40 and index.warnings == []
    row = index.row(37)
    assert row is not None and (row.status, row.signals) == ("signal", ["oscillation"])
    assert row.action == "pause" and row.paused_reason == row.reason and row.total == 240
    assert all(r.status == "failed" for r in index.rows[:36])
    assert all(len(r.commit or "") == 40 for r in index.rows)
    assert index.rows[-1].status == "stopped" and index.run_finished is not None


def test_a_last_line_without_its_newline_is_read_and_refresh_goes_on_after_it(
    fizzbuzz: Path, tmp_path: Path
) -> None:
    journal = tmp_path / "journal.jsonl"
    journal.write_bytes(fizzbuzz.read_bytes().rstrip(b"\n"))
    index = JournalIndex.build(journal)
    assert index.warnings == [] and index.run_finished is not None
    assert_agrees_with_full_read(index)
    with open(journal, "ab") as f:
        f.write(b"\n" + dump_event(Notice(iteration=2, message="late")).encode() + b"\nbad\n")
    assert index.refresh() is True
    assert_agrees_with_full_read(index)
    assert isinstance(index.events(2)[-1], Notice) and len(index.warnings) == 1


def test_a_run_resumed_after_it_finished_then_crashed_has_no_end(tmp_path: Path) -> None:
    def started(n: int, resumed: bool) -> RunStarted:
        return RunStarted(
            iteration=n, name="x", goal="g", spec_path="", run_dir="", workspace="",
            backend="scripted", resumed=resumed,
        )  # fmt: skip

    journal = tmp_path / "journal.jsonl"
    _write(
        journal,
        [
            started(0, False),
            IterationStarted(iteration=1, goal="g", prompt="p"),
            _decided(1, "pause", "thrash"),
            RunFinished(iteration=1, outcome="paused", reason="thrash", exit_code=3),
            started(1, True),
            IterationStarted(iteration=2, goal="g", prompt="p"),
        ],
    )
    index = JournalIndex.build(journal)
    assert_agrees_with_full_read(index)
    assert index.run_finished is None and [r.status for r in index.rows] == ["failed", "running"]


def test_chunk_boundaries_and_lines_longer_than_a_chunk(
    thrash: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("tui.engine.journal_index._CHUNK", 64)
    index = JournalIndex.build(thrash)
    assert_agrees_with_full_read(index)
    assert [r.status for r in index.rows] == ["failed", "failed", "signal"]


def test_rows_mark_human_checkpoints(tmp_path: Path) -> None:
    from tui.engine.journal import JournalWriter
    from tui.events import Checkpointed, Decided, IterationStarted

    path = tmp_path / "journal.jsonl"
    writer = JournalWriter(path)
    for n in (1, 2):
        writer.write(IterationStarted(iteration=n, goal="g", prompt="p"))
        writer.write(Checkpointed(iteration=n, kind="agent", commit=f"{n}" * 40, tree="t" * 40))
        writer.write(Decided(iteration=n, action="pause", reason="stepped"))
    writer.write(Checkpointed(iteration=2, kind="human", commit="h" * 40, tree="u" * 40))
    writer.close()
    rows = JournalIndex.build(path).rows
    assert [(r.iteration, r.human) for r in rows] == [(1, False), (2, True)]
