"""The RunStore: the console's picture of a run, derived from events only."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.app import sample_events as sample
from tui.app.replay_store import ReplayStore
from tui.app.store import RunStore, TextBlock, ToolBlock
from tui.engine.journal import JournalWriter
from tui.engine.journal_index import JournalIndex
from tui.events import (
    AgentText,
    AgentTurn,
    Checkpointed,
    ControlApplied,
    Decided,
    Event,
    FileStat,
    InstructionSet,
    IterationStarted,
    Paused,
    Resumed,
    SignalDismissed,
    SignalRecovered,
    ToolCall,
    ToolInputDelta,
    ValidatorOutput,
    ValidatorStarted,
    WorkspaceEdited,
)


def fed(events) -> RunStore:
    store = RunStore()
    for e in events:
        store.apply(e)
    return store


def test_transcript_joins_deltas_and_pairs_tool_calls_with_results() -> None:
    store = fed(sample.succeeded())
    entries = store.record(1).entries
    kinds = [type(e).__name__ for e in entries]
    assert kinds == ["TextBlock", "ToolBlock", "ToolBlock", "TextBlock"]
    assert isinstance(entries[0], TextBlock)
    assert entries[0].text == "I'll read **fizzbuzz.py** and the tests first."
    bash = entries[2]
    assert isinstance(bash, ToolBlock) and bash.result is not None
    assert bash.result.exit_code == 1


def test_consecutive_deltas_of_one_kind_make_one_block() -> None:
    store = fed(sample.running())
    block = store.record(2).entries[0]
    assert isinstance(block, TextBlock)
    assert block.text.endswith("must come first. I'll reorder the checks.")
    store.apply(AgentText(text="hmm", kind="thinking", iteration=2))
    store.apply(AgentText(text=" more", kind="thinking", iteration=2))
    assert [b.text for b in store.record(2).entries if isinstance(b, TextBlock)][-1] == "hmm more"


def test_status_follows_the_run() -> None:
    events = sample.running()
    store = fed(events[:1])
    assert store.status == "running" and store.current == 0
    store = fed(events)
    assert store.status == "running" and store.current == 2
    assert store.iteration_status(1) == "failed"
    assert store.iteration_status(2) == "running"
    store.apply(ControlApplied(control="pause", iteration=2))
    assert store.status == "pausing"
    store.apply(Paused(reason="paused by the human", iteration=2, by_human=True))
    assert store.status == "paused" and store.paused_by_human
    assert store.iteration_status(2) == "paused"
    store.apply(Resumed(iteration=2))
    assert store.status == "running"


def test_an_engine_pause_is_not_a_human_one() -> None:
    store = fed(sample.paused())
    assert store.status == "paused"
    assert not store.paused_by_human
    assert store.pause_reason == "thrash: the same 3 tests failed twice in a row"
    assert store.iteration_status(2) == "signal"


def test_hints_queue_until_the_next_prompt_uses_them() -> None:
    store = fed(sample.paused())
    assert store.hints == ["Check n % 15 before n % 3."]
    store.apply(sample.IterationStarted(goal="g", prompt="p", iteration=3))
    assert store.hints == []


def test_notes_come_from_iteration_started() -> None:
    store = fed(sample.running())
    assert store.notes == ""
    store = fed(sample.paused())
    assert store.notes == "Check 15 before 3 and 5."


def test_finished_run() -> None:
    store = fed(sample.succeeded())
    assert store.status == "finished"
    assert store.finished is not None and store.finished.outcome == "goal_met"
    assert [store.iteration_status(n) for n in store.numbers()] == ["failed", "passed"]
    assert store.passing_history() == [(1, 3, 6), (2, 6, 6)]
    assert store.budget.iterations == 2


def test_comparison_with_the_previous_iteration() -> None:
    store = fed(sample.over_budget())
    cmp = store.compare(2, "tests")
    assert cmp.newly_failing == []
    assert cmp.newly_passing == [sample.IDS[2]]
    lint = store.compare(2, "lint")
    assert lint.validator_changed == "now failing"
    assert store.compare(3, "lint").validator_changed == "now passing"
    assert store.compare(1, "tests").newly_passing == []  # nothing before iteration 1


def test_revalidation_replaces_the_earlier_output() -> None:
    store = fed(sample.succeeded())
    assert "6 passed" in store.record(2).validators["tests"].output
    store.apply(ValidatorStarted(name="tests", command="pytest", iteration=2))
    run = store.record(2).validators["tests"]
    assert run.result is None and run.output == ""
    store.apply(ValidatorOutput(name="tests", text="again\n", iteration=2))
    assert run.output == "again\n"


def test_summary_version_ignores_streamed_text() -> None:
    store = fed(sample.running())
    version = store.version
    store.apply(AgentText(text="more", iteration=2))
    store.apply(ValidatorOutput(name="tests", text="x", iteration=2))
    assert store.version == version
    store.apply(Paused(reason="r", iteration=2))
    assert store.version == version + 1


def test_a_pause_is_the_humans_when_the_event_says_so() -> None:
    store = fed(sample.running())
    store.apply(Paused(reason="whatever the wording", iteration=2, by_human=True))
    assert store.paused_by_human
    store.apply(Paused(reason="paused by the human", iteration=2))  # words do not count
    assert not store.paused_by_human


def test_tool_input_streams_into_a_pending_call_then_completes() -> None:
    store = fed(sample.running())
    version = store.version
    for part in ('{"command": "str_replace", ', '"path": "fizzbuzz.py"'):
        store.apply(ToolInputDelta(call_id="t1", name="edit", text=part, iteration=2))
    assert store.version == version  # streamed, like text
    block = store.record(2).tool_block("t1")
    assert block is not None and block.streaming
    assert block.partial == '{"command": "str_replace", "path": "fizzbuzz.py"'
    call = ToolCall(call_id="t1", name="edit", input={"path": "fizzbuzz.py"}, iteration=2)
    store.apply(call)
    assert not block.streaming and block.call is call
    assert [e for e in store.record(2).entries if isinstance(e, ToolBlock)][-1] is block


def test_take_over_edits_instruction_and_checkpoints() -> None:
    store = fed(sample.paused())
    store.apply(WorkspaceEdited(paths=["a.py", "b.py"], iteration=2))
    store.apply(WorkspaceEdited(paths=["a.py"], iteration=2))
    assert store.edited == ["b.py", "a.py"]  # most recent last
    store.apply(InstructionSet(text="only tidy up", iteration=2))
    assert store.instruction == "only tidy up"
    human = FileStat(path="a.py", status="modified", insertions=1, deletions=1)
    store.apply(Checkpointed(kind="human", commit="c2", tree="t2", files=[human], iteration=2))
    store.apply(
        Checkpointed(kind="rewind", commit="c3", tree="t1", restored_iteration=1, iteration=2)
    )
    rec = store.record(2)
    assert rec.human_files == [human] and rec.rewound_to == 1
    items = store.timeline()
    assert items[1].human and items[1].rewound_to == 1 and items[1].abandoned
    assert [c.commit for c in store.checkpoints_of(2)] == ["c2", "c3"]
    store.apply(IterationStarted(goal="g", prompt="p", notes="n", iteration=3))
    assert store.instruction is None and store.edited == [] and store.notes == "n"
    assert store.timeline()[2].parent == 1


def test_dismissing_a_signal_or_its_kind() -> None:
    store = fed(sample.oscillating())
    (signal,) = store.signals
    assert store.signal_state(signal) == "active"
    store.apply(SignalDismissed(kind="oscillation", key="oscillation:abc", iteration=3))
    assert store.signal_state(signal) == "dismissed"
    store.apply(SignalDismissed(kind="oscillation", whole_kind=True, iteration=3))
    assert store.signal_state(signal) == "kind off"


def _stepped() -> list[Event]:
    """Iteration 1 stepped: decided as a pause, and the run is held there."""
    return [
        sample.running()[0],
        IterationStarted(goal="g", prompt="p", iteration=1),
        Decided(action="pause", reason="stepped one iteration", iteration=1),
        Paused(reason="stepped one iteration", iteration=1, by_human=True),
    ]


@pytest.mark.parametrize(
    "events",
    [
        sample.running(),
        sample.paused(),
        sample.succeeded(),
        sample.over_budget(),
        sample.oscillating(),
        _stepped(),
    ],
    ids=["running", "paused", "succeeded", "over_budget", "oscillating", "stepped"],
)
def test_live_and_replay_give_every_iteration_the_same_status(
    events: list[Event], tmp_path: Path
) -> None:
    live = fed(events)
    journal = tmp_path / "journal.jsonl"
    writer = JournalWriter(journal)
    for e in events:
        writer.write(e)
    writer.close()
    replay = ReplayStore(JournalIndex.build(journal))
    statuses = [(i.number, i.status) for i in live.timeline()]
    assert statuses == [(i.number, i.status) for i in replay.timeline()]
    for number, status in statuses:
        replay.load(number)  # the header reads the loaded store
        assert replay.iteration_status(number) == status


def test_the_one_status_rule() -> None:
    store = fed(sample.over_budget())
    # Stopped by the budget, though its required validators failed.
    assert [store.iteration_status(n) for n in store.numbers()] == [
        "failed",
        "failed",
        "stopped",
    ]
    assert fed(_stepped()).iteration_status(1) == "paused"
    stepped_on = fed([*_stepped(), Resumed(iteration=1)])
    assert stepped_on.iteration_status(1) == "failed"  # paused only while it is held there


def test_tool_calls_do_not_redraw_the_summary_panes() -> None:
    store = fed(sample.running())
    before = store.version
    store.apply(ToolCall(call_id="c9", name="bash", iteration=2))
    store.apply(AgentTurn(turn=3, iteration=2))
    assert store.version == before
    assert store.record(2).tool_block("c9") is not None  # the transcript still gets it
    store.apply(Paused(reason="r", iteration=2, by_human=True))
    assert store.version == before + 1


def test_a_recovery_note_is_queued_once_for_the_next_prompt() -> None:
    store = fed(
        [*sample.running(), SignalRecovered(kind="oscillation", to_iteration=0, note="try B")]
    )
    assert store.hints == ["try B"]
