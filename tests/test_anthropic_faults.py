"""Faults: HTTP errors the SDK retries, streams that break midway, rejected keys,
crashing tools and interruptions. Nothing is lost and every tool_use is answered."""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path

import pytest

from tests.anthropic_harness import KEY, Harness, assert_journal_paired, assert_paired
from tests.fake_messages_server import (
    FakeMessagesServer,
    drop,
    sse_error,
    status_error,
    text,
    tool_use,
    turn,
)
from tui.agents.anthropic_agent import AnthropicAgent
from tui.agents.base import AgentConfigError, AgentFatal
from tui.agents.tools import ToolOutcome
from tui.events import AgentText, AgentTurn, Notice, ToolCall, ToolResult
from tui.spec import AgentSpec, LoopSpec

# Broken after the first line of text was published and half of the second queued.
PARTIAL = turn(text("First line.\nSecond line is long"), tool_use("bash", {"command": "echo x"}))
WHOLE = turn(text("First line.\nSecond line, whole."), tool_use("bash", {"command": "echo hi"}))
DONE = turn(text("Done."))


async def test_529_then_success(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    with FakeMessagesServer([status_error(529), DONE]) as s:
        h = Harness(tmp_path, monkeypatch, s)
        result = await h.iterate()
    assert result.stop == "end_turn" and result.final_text == "Done."
    assert [r.headers["x-stainless-retry-count"] for r in s.requests] == ["0", "1"]
    assert len(h.of(AgentTurn)) == 1 and len(h.charges) == 1
    assert h.of(AgentTurn)[0].retries == 1  # the SDK's retry, on the turn's receipt


async def test_429_waits_for_retry_after(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    with FakeMessagesServer([status_error(429, retry_after=1), DONE]) as s:
        h = Harness(tmp_path, monkeypatch, s)
        result = await h.iterate()
    assert result.stop == "end_turn"
    first, second = s.requests
    assert second.at - first.at >= 0.95


@pytest.mark.parametrize(
    ("fault", "reason"),
    [
        (sse_error(PARTIAL, after=5), "overloaded_error: Overloaded"),
        (drop(PARTIAL, after=5), "connection lost"),
        (drop(PARTIAL, after=5, clean=True), "the stream ended before message_stop"),
    ],
    ids=["sse-error-event", "dropped-connection", "ended-without-message-stop"],
)
async def test_broken_stream_is_retried_without_duplicates(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fault: dict, reason: str
):
    with FakeMessagesServer([fault, WHOLE, DONE]) as s:
        h = Harness(tmp_path, monkeypatch, s)
        result = await h.iterate()
        await asyncio.sleep(0.15)  # past the coalescer's delay: no late text from the void turn
    assert result.stop == "end_turn" and result.turns == 2 and result.tool_calls == 1
    # The partial text came first, then the notice that voids it, then the retry.
    kinds = [type(e).__name__ for e in h.events if isinstance(e, AgentText | Notice | ToolCall)]
    assert kinds == ["AgentText", "Notice", "AgentText", "AgentText", "ToolCall", "AgentText"]
    notice = h.of(Notice)[0]
    assert notice.level == "warning" and reason in notice.message
    assert "retrying turn 1 (attempt 2 of 4)" in notice.message and "discarded" in notice.message
    assert h.of(AgentText)[0].text == "First line.\n"
    assert "".join(e.text for e in h.of(AgentText)[1:3]) == "First line.\nSecond line, whole."
    # The broken turn's tool call never ran; the retried one ran once.
    [call] = h.of(ToolCall)
    assert call.input == {"command": "echo hi"}
    # The broken attempt was paid for: charged, and marked as the retries' share.
    turns = h.of(AgentTurn)
    assert [(t.turn, t.retried) for t in turns] == [(1, True), (1, False), (2, False)]
    assert turns[0].stop_reason == "stream_broken" and turns[0].cost_source == "estimated"
    assert len(h.charges) == 3
    assert len(s.message_requests) == 3
    assert s.message_requests[0] == s.message_requests[1]  # the same turn, sent again
    assert_paired(s.message_requests)


async def test_stream_breaking_every_time_pauses_the_loop(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    with FakeMessagesServer([sse_error(PARTIAL, after=5)] * 4) as s:
        h = Harness(tmp_path, monkeypatch, s)
        result = await h.iterate()
    assert result.stop == "api_error"
    assert result.pause_reason is not None and "broke 4 times in turn 1" in result.pause_reason
    assert len(s.message_requests) == 4
    assert h.of(ToolCall) == []
    # Each broken attempt was charged; the last one was not sent again.
    turns = h.of(AgentTurn)
    assert [t.retried for t in turns] == [True, True, True, False] and len(h.charges) == 4


async def test_overloaded_after_sdk_retries_pauses_the_loop(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    with FakeMessagesServer([status_error(529)] * 2) as s:
        h = Harness(tmp_path, monkeypatch, s)
        h.agent.sdk_retries = 1
        result = await h.iterate()
    assert result.stop == "api_error" and len(s.requests) == 2
    assert result.pause_reason is not None
    assert "unavailable (529 overloaded_error" in result.pause_reason


async def test_unreachable_api_pauses_the_loop(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with FakeMessagesServer() as s:
        h = Harness(tmp_path, monkeypatch, s, base_url=f"http://127.0.0.1:{port}")
    h.agent.sdk_retries = 0
    result = await h.iterate()
    assert result.stop == "api_error"
    assert result.pause_reason is not None and "cannot be reached" in result.pause_reason


@pytest.mark.parametrize("status", [401, 403])
async def test_rejected_key_is_fatal(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, status: int):
    with FakeMessagesServer([status_error(status)]) as s:
        h = Harness(tmp_path, monkeypatch, s)
        with pytest.raises(AgentFatal, match="check ANTHROPIC_API_KEY") as caught:
            await h.iterate()
    assert str(status) in str(caught.value)
    assert len(s.requests) == 1  # not retried
    assert KEY not in str(caught.value)


async def test_wrong_key_reaches_the_server_and_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    with FakeMessagesServer([DONE], api_key="the-right-key") as s:
        h = Harness(tmp_path, monkeypatch, s)
        with pytest.raises(AgentFatal, match="401 authentication_error"):
            await h.iterate()


async def test_prompt_too_long_ends_the_iteration(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    too_long = status_error(400, message="prompt is too long: 1200000 tokens > 1000000 maximum")
    with FakeMessagesServer([too_long]) as s:
        h = Harness(tmp_path, monkeypatch, s)
        result = await h.iterate()
    assert result.stop == "context_window_exceeded" and result.pause_reason is None
    assert "context window" in h.of(Notice)[0].message


async def test_crashing_tool_still_answers_its_tool_use(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    async def broken(tool_input: dict) -> ToolOutcome:
        raise RuntimeError("disk on fire")

    script = [turn(tool_use("bash", {"command": "ls"}), tool_use("bash", {"command": "pwd"})), DONE]
    with FakeMessagesServer(script) as s:
        h = Harness(tmp_path, monkeypatch, s)
        h.toolbox.register("bash", broken)
        result = await h.iterate()
    assert result.stop == "end_turn" and result.tool_calls == 2
    assert_paired(s.message_requests)
    assert_journal_paired(h.events)
    answers = s.message_requests[1]["messages"][2]["content"]
    assert all(a["is_error"] and "disk on fire" in a["content"] for a in answers)
    assert [n.level for n in h.of(Notice)] == ["error", "error"]


async def test_stop_during_a_tool_answers_every_call(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    calls = [tool_use("bash", {"command": "sleep 5"}), tool_use("bash", {"command": "echo a"}),
             tool_use("str_replace_based_edit_tool", {"command": "view", "path": "."})]  # fmt: skip
    with FakeMessagesServer([turn(*calls)]) as s:
        h = Harness(tmp_path, monkeypatch, s)
        task = asyncio.ensure_future(h.iterate())
        while not h.of(ToolCall):
            await asyncio.sleep(0.01)
        await asyncio.sleep(0.1)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    results = h.of(ToolResult)
    assert [r.call_id for r in results] == [c["id"] for c in calls]
    assert all(r.interrupted and r.is_error for r in results)
    assert_journal_paired(h.events)


async def test_stop_while_streaming_keeps_what_was_said(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    slow = turn(text("abcdefghij" * 30), tool_use("bash", {"command": "echo never"}))
    with FakeMessagesServer([slow], chunk=10, event_delay=0.02) as s:
        h = Harness(tmp_path, monkeypatch, s)
        task = asyncio.ensure_future(h.iterate())
        while not h.of(AgentText):
            await asyncio.sleep(0.01)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    said = "".join(e.text for e in h.of(AgentText))
    assert said and "abcdefghij".startswith(said[:10]) and len(said) < 300
    assert h.of(ToolCall) == [] and h.charges == []


def _spec(tmp_path: Path, **agent: object) -> LoopSpec:
    return LoopSpec(name="t", goal="g", workspace=tmp_path, agent=AgentSpec(**agent))


def test_prepare_without_a_key_says_how_to_set_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    monkeypatch.delenv("ANTHROPIC_AUTH_TOKEN", raising=False)
    with pytest.raises(AgentConfigError, match="export ANTHROPIC_API_KEY="):
        AnthropicAgent(_spec(tmp_path)).prepare()
    monkeypatch.setenv("ANTHROPIC_API_KEY", KEY)
    AnthropicAgent(_spec(tmp_path)).prepare()


@pytest.mark.parametrize(
    ("budget", "problem"), [(500, "at least 1024"), (16_000, "must be below agent.max_tokens")]
)
def test_prepare_checks_the_thinking_budget(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, budget: int, problem: str
):
    monkeypatch.setenv("ANTHROPIC_API_KEY", KEY)
    agent = AnthropicAgent(_spec(tmp_path, thinking_budget=budget, max_tokens=16_000))
    with pytest.raises(AgentConfigError, match=problem):
        agent.prepare()
