"""Every stop reason, the turn limit and the budget, handled on purpose."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.anthropic_harness import Harness, assert_journal_paired, assert_paired
from tests.fake_messages_server import FakeMessagesServer, text, tool_use, turn
from tui.events import AgentTurn, Notice, ToolCall, ToolResult


async def test_stop_sequence_ends_the_iteration(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    with FakeMessagesServer(
        [turn(text("Stopped at the marker."), stop_reason="stop_sequence")]
    ) as s:
        h = Harness(tmp_path, monkeypatch, s)
        result = await h.iterate()
    assert result.stop == "stop_sequence"
    assert result.final_text == "Stopped at the marker."
    assert len(s.message_requests) == 1


async def test_max_tokens_asks_claude_to_continue(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    script = [
        turn(text("The first half of a long expla"), stop_reason="max_tokens"),
        turn(text("nation, and its end.")),
    ]
    with FakeMessagesServer(script) as s:
        h = Harness(tmp_path, monkeypatch, s)
        result = await h.iterate()
    assert result.stop == "end_turn" and result.turns == 2
    assert result.final_text == "nation, and its end."
    second = s.message_requests[1]["messages"]
    assert [m["role"] for m in second] == ["user", "assistant", "user"]
    assert second[1]["content"] == [{"type": "text", "text": "The first half of a long expla"}]
    assert "cut off at the max_tokens limit (4096 tokens)" in second[2]["content"][0]["text"]


async def test_max_tokens_cut_off_tool_call_gets_an_error_result(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    cut = tool_use("str_replace_based_edit_tool", {"command": "create", "path": "big.py"})
    script = [
        turn(text("Writing the file."), cut, stop_reason="max_tokens"),
        turn(text("I will write it in parts.")),
    ]
    with FakeMessagesServer(script) as s:
        h = Harness(tmp_path, monkeypatch, s)
        result = await h.iterate()
    assert not (h.workspace / "big.py").exists()
    assert result.stop == "end_turn" and result.tool_calls == 0
    reply = s.message_requests[1]["messages"][2]["content"]
    assert reply[0]["type"] == "tool_result" and reply[0]["tool_use_id"] == cut["id"]
    assert reply[0]["is_error"] is True and "cut off" in reply[0]["content"]
    assert reply[1]["type"] == "text" and "Continue" in reply[1]["text"]
    assert_paired(s.message_requests)
    [call], [res] = h.of(ToolCall), h.of(ToolResult)
    assert call.call_id == res.call_id == cut["id"] and res.is_error


async def test_max_tokens_again_and_again_is_reported(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    script = [turn(text(f"part {i}"), stop_reason="max_tokens") for i in range(4)]
    with FakeMessagesServer(script) as s:
        h = Harness(tmp_path, monkeypatch, s)
        result = await h.iterate()
    assert result.stop == "max_tokens"
    assert len(s.message_requests) == 4  # the first try and three continuations
    [notice] = h.of(Notice)
    assert notice.level == "warning" and "4 times in a row" in notice.message
    assert "agent.max_tokens" in notice.message


async def test_pause_turn_sends_the_turn_back_to_continue(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    script = [turn(text("Still searching."), stop_reason="pause_turn"), turn(text("Found it."))]
    with FakeMessagesServer(script) as s:
        h = Harness(tmp_path, monkeypatch, s)
        result = await h.iterate()
    assert result.stop == "end_turn" and result.final_text == "Found it."
    second = s.message_requests[1]["messages"]
    assert [m["role"] for m in second] == ["user", "assistant"]
    assert second[1]["content"][0]["text"] == "Still searching."


async def test_refusal_pauses_for_the_human_with_the_reason(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    details = {"type": "refusal", "category": "cyber", "explanation": "exploit development"}
    script = [turn(text("I can't help with that."), stop_reason="refusal", stop_details=details)]
    with FakeMessagesServer(script) as s:
        h = Harness(tmp_path, monkeypatch, s)
        result = await h.iterate()
    assert result.stop == "refusal"
    assert result.pause_reason is not None
    assert "declined" in result.pause_reason and "exploit development" in result.pause_reason
    assert len(s.message_requests) == 1


async def test_context_window_exceeded_ends_the_iteration(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    script = [
        turn(tool_use("bash", {"command": "echo lots"})),
        turn(text("And then"), stop_reason="model_context_window_exceeded"),
    ]
    with FakeMessagesServer(script) as s:
        h = Harness(tmp_path, monkeypatch, s)
        result = await h.iterate()
    assert result.stop == "context_window_exceeded"
    assert result.pause_reason is None and result.turns == 2
    [notice] = h.of(Notice)
    assert "context window in turn 2" in notice.message


async def test_max_turns_ends_the_iteration(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    script = [turn(tool_use("bash", {"command": f"echo {i}"})) for i in range(3)]
    with FakeMessagesServer(script) as s:
        h = Harness(tmp_path, monkeypatch, s, max_turns=2)
        result = await h.iterate()
    assert result.stop == "max_turns" and result.turns == 2 and result.tool_calls == 2
    assert len(s.message_requests) == 2
    assert "all 2 turns" in h.of(Notice)[0].message
    assert_journal_paired(h.events)


async def test_budget_is_checked_before_every_request(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    script = [turn(tool_use("bash", {"command": "echo 1"})), turn(text("never sent"))]
    with FakeMessagesServer(script) as s:
        h = Harness(tmp_path, monkeypatch, s, limit="max_cost_usd", limit_after=1)
        result = await h.iterate()
    assert result.stop == "budget"
    assert len(s.message_requests) == 1 and len(h.charges) == 1
    assert len(h.of(AgentTurn)) == 1
    assert "max_cost_usd" in h.of(Notice)[0].message
    assert s.remaining == 1


async def test_no_request_when_the_budget_is_already_spent(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    with FakeMessagesServer([turn(text("never sent"))]) as s:
        h = Harness(tmp_path, monkeypatch, s, limit="max_tokens")
        result = await h.iterate()
    assert result.stop == "budget" and result.turns == 0
    assert s.message_requests == []


async def test_stopping_is_checked_between_turns(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    with FakeMessagesServer([turn(text("never sent"))]) as s:
        h = Harness(tmp_path, monkeypatch, s)
        ctx = h.context()
        ctx.stopping.set()
        result = await h.agent.run_iteration(ctx)
        await h.agent.aclose()
    assert result.stop == "stopped" and s.message_requests == []
