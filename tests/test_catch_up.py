"""Catching up through the journal index: the whole journal's picture, for a fraction of it.

The console's store fed the indexed catch-up (plus the live events after it)
must say what the store fed every event of the journal says, and an older
iteration read on demand must come back exactly as a full read has it.
"""

from __future__ import annotations

import asyncio
from dataclasses import fields
from pathlib import Path
from typing import Any

import pytest

from tests.benchmarks.make_journal import make_journal
from tests.loops import SAMPLES
from tui.app.records import IterationRecord, TextBlock, ToolBlock
from tui.app.store import RunStore
from tui.engine.catch_up import JournalHistory
from tui.engine.journal import JournalWriter, read_journal
from tui.engine.journal_index import BULK_KINDS
from tui.engine.rundir import create_run
from tui.engine.runner import Runner
from tui.events import Event, SignalRaised
from tui.spec import load_spec


@pytest.fixture(scope="module")
def long_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Sixty iterations, a few MB, signals and pauses now and then."""
    return make_journal(tmp_path_factory.mktemp("long") / "journal.jsonl", iterations=60, mb=4)


@pytest.fixture(scope="module")
def thrash(tmp_path_factory: pytest.TempPathFactory) -> Path:
    spec = load_spec(SAMPLES / "thrash-demo")
    run = create_run(spec, tmp_path_factory.mktemp("thrash") / "run")
    runner = Runner(spec, run, interactive=False)
    asyncio.run(runner.run())
    return runner.run_dir.journal_path


def _record(rec: IterationRecord) -> dict[str, Any]:
    """Everything a pane reads of one iteration, text joined."""
    entries: list[Any] = []
    for entry in rec.entries:
        if isinstance(entry, TextBlock):
            entries.append((entry.kind, entry.text))
        elif isinstance(entry, ToolBlock):
            entries.append((entry.call, entry.result, entry.partial, entry.streaming))
    validators = {
        name: (run.command, run.output, run.result, run.replaced, run.rerun)
        for name, run in rec.validators.items()
    }
    return {
        "head": (rec.goal, rec.prompt, rec.notes, rec.agent, rec.decision, rec.paused_reason),
        "receipt": rec.receipt,
        "signals": rec.signals,
        "checkpoints": rec.checkpoints,
        "entries": entries,
        "validators": validators,
    }


def _summary(store: RunStore) -> dict[str, Any]:
    """What the header, state, budget and timeline panes read."""
    # The run state of every field a view reads (tool call ids are the runner's).
    run = {f.name: getattr(store.run, f.name) for f in fields(store.run) if f.name != "call_ids"}
    return {
        "run": run,
        "budget": (store.budget, store.budget_ts),
        "where": (store.current, store.notes, store.rewound_to, store.edited),
        "signals": (store.signals, store.dismissed_keys, store.kinds_off, store.recovered),
        "thresholds": (store.thresholds, store.finish_offered, store.early_checkpoints),
        "timeline": store.timeline(),
        "passing": store.passing_history(),
        "decisions": {n: r.decision for n, r in store.iterations.items()},
        "results": {n: r.results() for n, r in store.iterations.items()},
    }


def _full(events: list[Event]) -> RunStore:
    store = RunStore()
    for event in events:
        store.apply(event)
    return store


def _caught_up(journal: Path, end: int, live: list[Event]) -> tuple[RunStore, list[Event]]:
    """A store caught up through the index to ``end``, then fed ``live`` as a console is."""
    history, events = JournalHistory.read(journal, end)
    store = RunStore()
    store.history = history
    for event in events:
        store.apply(event)
    for event in live:
        history.saw(event)
        store.apply(event)
    return store, events


@pytest.mark.parametrize("name", ["long_run", "thrash"])
def test_the_indexed_catch_up_paints_what_the_whole_journal_paints(
    name: str, request: pytest.FixtureRequest
) -> None:
    journal: Path = request.getfixturevalue(name)
    everything = read_journal(journal).events
    full = _full(everything)
    store, handed = _caught_up(journal, journal.stat().st_size, [])
    newest = max(e.iteration for e in everything)
    # Old iterations come without their bulk, and that is most of the journal.
    assert all(e.type.encode() not in BULK_KINDS for e in handed if e.iteration not in (0, newest))
    if name == "long_run":
        assert len(handed) < len(everything) / 3
    assert _summary(store) == _summary(full)
    # The newest iteration is whole at once; the others when asked for.
    assert _record(store.iterations[newest]) == _record(full.iterations[newest])
    assert store.history is not None
    assert store.history.partial == set(full.iterations) - {newest}
    for n in sorted(full.iterations):
        store.load_history(n)
        assert _record(store.iterations[n]) == _record(full.iterations[n]), n
    assert store.history.partial == set()
    assert _summary(store) == _summary(full)


def test_a_catch_up_mid_run_then_live_events_has_no_gap_and_no_duplicate(
    long_run: Path, tmp_path: Path
) -> None:
    """Split the journal where a client joined: the index reads up to there, the rest
    comes live, including a late event of an iteration left in the journal."""
    journal = tmp_path / "journal.jsonl"
    data = long_run.read_bytes()
    events = read_journal(long_run).events
    # Join in the middle of iteration 30's turns.
    at = next(i for i, e in enumerate(events) if e.iteration == 30 and e.type == "tool_result")
    cut = sum(len(line) for line in data.splitlines(keepends=True)[: at + 1])
    late = SignalRaised(kind="no_progress", iterations=[3], explanation="late", iteration=3)
    late.run_id = events[0].run_id
    journal.write_bytes(data)
    writer = JournalWriter(journal)
    writer.write(late)
    writer.close()
    everything = [*events, late]
    live = everything[at + 1 :]
    store, handed = _caught_up(journal, cut, live)
    assert max(e.iteration for e in handed) == 30  # nothing past the join point
    full = _full(everything)
    assert _summary(store) == _summary(full)
    for n in sorted(full.iterations):
        store.load_history(n)
        assert _record(store.iterations[n]) == _record(full.iterations[n]), n
    assert store.iterations[3].signals[-1].explanation == "late"
