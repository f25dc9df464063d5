"""Receipts: each iteration's spend (tokens by kind, cost, the retries' share, sources)
is journaled, shown in the console and written in the report.

The loop is real: the anthropic backend through the real SDK against the fake
Messages API, whose first stream breaks midway and is retried.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.anthropic_harness import use_key
from tests.app.helpers import wait_for
from tests.fake_messages_server import (
    FakeMessagesServer,
    sse_error,
    status_error,
    text,
    tool_use,
    turn,
)
from tests.test_anthropic_loop import write_claude_loop
from tui.agents.anthropic_agent import AnthropicAgent
from tui.app.app import ConsoleApp
from tui.app.widgets.budget import BudgetPane
from tui.app.widgets.transcript import TranscriptPane
from tui.engine.journal import read_journal
from tui.engine.record import load_record
from tui.engine.rundir import create_run
from tui.engine.runner import Runner
from tui.events import AgentTurn, BudgetUpdated, IterationReceipt, IterationStarted, Usage
from tui.pricing import cost_usd
from tui.report import write_report
from tui.spec import Price, load_spec

FIX = {
    "command": "str_replace",
    "path": "calc.py",
    "old_str": "return a - b",
    "new_str": "return a + b",
}
EDIT = turn(text("add() subtracts; fixing it now."), tool_use("str_replace_based_edit_tool", FIX))
# A 529 the SDK retries (no tokens); then an attempt streams its text and half the tool
# call before the API says it is overloaded mid-stream (paid for), and is sent again.
SCRIPT = [
    status_error(529),
    sse_error(EDIT, after=9),
    EDIT,
    turn(text("Fixed add(); all tests pass now.")),
]


def _runner(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, url: str) -> Runner:
    use_key(monkeypatch)
    spec = load_spec(write_claude_loop(tmp_path / "loop"))
    spec.agent.base_url = url
    agent = AnthropicAgent(spec, retry_delays=(0.01,))
    return Runner(spec, create_run(spec, tmp_path / "run"), agent, interactive=False)


async def test_a_retried_stream_is_on_the_receipt_and_the_totals_add_up(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with FakeMessagesServer(SCRIPT) as server:
        runner = _runner(tmp_path, monkeypatch, server.url)
        finished = await runner.run()
    assert finished.outcome == "goal_met", finished.reason
    assert len(server.message_requests) == 4
    events = read_journal(runner.run_dir.journal_path).events
    [receipt] = [e for e in events if isinstance(e, IterationReceipt)]
    turns = [e for e in events if isinstance(e, AgentTurn)]
    broken = turns[0]
    assert broken.retried and broken.stop_reason == "stream_broken"
    # The broken attempt read the whole prompt and streamed part of its answer.
    assert broken.usage.input_tokens + broken.usage.cache_write_tokens > 0
    assert broken.usage.output_tokens > 0
    assert broken.cost_source == "estimated"
    price = Price(input=10.0, output=100.0)
    assert broken.cost_usd == pytest.approx(cost_usd(broken.usage, price), abs=1e-6)

    assert receipt.turns == 2 and receipt.retries == 2  # the SDK's and the broken stream's
    assert [t.retries for t in turns] == [1, 0, 0]
    assert receipt.retried_usage == broken.usage
    assert receipt.retried_cost_usd == pytest.approx(broken.cost_usd, abs=1e-6)
    # The receipt is the sum of the iteration's turns, which is what the budget was charged.
    total = sum((t.usage for t in turns), Usage())
    assert receipt.usage == total
    assert receipt.cost_usd == pytest.approx(sum(t.cost_usd for t in turns), abs=1e-6)
    started = next(i for i, e in enumerate(events) if isinstance(e, IterationStarted))
    before = [e for e in events[:started] if isinstance(e, BudgetUpdated)]
    spent_before = before[-1].budget.cost_usd if before else 0.0
    assert finished.budget.cost_usd - spent_before == pytest.approx(receipt.cost_usd, abs=1e-6)
    assert finished.budget.usage == total
    assert receipt.cost_sources.keys() == {"priced", "estimated"}
    assert receipt.cost_sources["estimated"] == pytest.approx(broken.cost_usd, abs=1e-6)
    assert sum(receipt.cost_sources.values()) == pytest.approx(receipt.cost_usd, abs=1e-6)

    # The report says it, in both formats.
    files = write_report(load_record(runner.run_dir.path))
    share = f"retries: 2 (${broken.cost_usd:.4f} for {broken.usage.total:,} tokens)"
    markdown = files.markdown.read_text()
    html = files.html.read_text()
    spend = f"${receipt.cost_usd:.4f} for {receipt.usage.total:,} tokens"
    for written in (markdown, html):
        assert spend in written and share in written
        assert "estimated" in written and "priced from API usage" in written
    assert f"retries: 2 (${broken.cost_usd:.4f} of it)" in markdown


async def test_the_console_shows_the_receipt_and_the_retries(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with FakeMessagesServer(SCRIPT) as server:
        runner = _runner(tmp_path, monkeypatch, server.url)
        app = ConsoleApp(runner)
        async with app.run_test(size=(140, 40)) as pilot:
            store = app.main.store
            await wait_for(pilot, lambda: store.finished is not None, "the run's end", 30)
            transcript = app.main.query_one(TranscriptPane)
            await wait_for(pilot, lambda: transcript.idle, "the transcript")
            notes = [str(w.render()) for w in transcript.query(".-receipt")]
            budget = str(app.main.query_one(BudgetPane).query_one("#budget-retries").render())
    receipt = store.record(1).receipt  # type: ignore[union-attr]
    assert receipt is not None and receipt.retries == 2
    assert notes == [f"spent: {_words(receipt)}"]
    assert "retries: 2 ($" in notes[0] and "estimated" in notes[0]
    assert budget == f"retries: 2 · ${receipt.retried_cost_usd:.4f} of the cost"


def _words(receipt: IterationReceipt) -> str:
    from tui.spend import receipt_text

    return receipt_text(receipt)


@pytest.mark.parametrize(
    ("command", "fmt", "retries"),
    [("claude", "claude-stream-json", 10), ("codex", "codex-json", 5)],
)
async def test_the_retries_a_cli_reports_are_on_the_receipt(
    tmp_path: Path, command: str, fmt: str, retries: int
) -> None:
    from tests.test_cli_loops import CLAUDE, CODEX, runner_for, write_cli_loop

    line = (
        f"{CLAUDE} --replay overloaded" if command == "claude" else f"{CODEX} --replay overloaded -"
    )
    spec = write_cli_loop(tmp_path / "loop", line, fmt)
    runner, seen = runner_for(spec, tmp_path, interactive=False)
    finished = await runner.run()
    assert finished.outcome == "paused"
    [receipt] = [e for e in seen if isinstance(e, IterationReceipt)]
    assert receipt.retries == retries
    # The CLI gives no tokens for its retries: none are invented.
    assert receipt.retried_usage == Usage() and receipt.retried_cost_usd == 0
    words = _words(receipt)
    assert f"retries: {retries} (no tokens reported apart)" in words


def test_a_journal_from_before_receipts_still_reads_with_its_spend(tmp_path: Path) -> None:
    from tests.loops import write_loop
    from tests.test_report import SCRIPT as SPENDING
    from tui.cli import main

    spec = write_loop(tmp_path / "loop", script=SPENDING)
    run_dir = tmp_path / "run"
    assert main(["run", str(spec), "--headless", "--run-dir", str(run_dir)]) == 0
    journal = run_dir / "journal.jsonl"
    lines = journal.read_text().splitlines(keepends=True)
    assert sum('"type":"receipt"' in line for line in lines) == 2
    # An older journal: no receipts, and turns without the new fields.
    old = [line for line in lines if '"type":"receipt"' not in line]
    old = [line.replace(',"retried":false,"retries":0', "") for line in old]
    journal.write_text("".join(old))
    assert read_journal(journal).warnings == []
    record = load_record(run_dir)
    assert [it.receipt for it in record.iterations] == [None, None]
    markdown = write_report(record).markdown.read_text()
    second = record.iterations[1]
    assert second.cost_usd > 0
    assert f"spend: ${second.cost_usd:.4f} for 1,800 tokens (1,500 input, 300 output)" in markdown
    assert "retries" not in markdown
