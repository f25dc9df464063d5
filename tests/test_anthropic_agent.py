"""The anthropic backend through the real SDK against the fake Messages API: tool use,
streaming, caching, thinking, memory."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pydantic import BaseModel

from tests.anthropic_harness import KEY, MODEL, Harness, assert_journal_paired, assert_paired
from tests.fake_messages_server import (
    FakeMessagesServer,
    redacted_thinking,
    text,
    thinking,
    tool_use,
    turn,
)
from tui import events
from tui.agents import anthropic_stream
from tui.events import AgentText, AgentTurn, ToolCall, ToolResult

BUGGY = "def add(a, b):\n    return a - b\n"
CHECK = "from calc import add\nassert add(2, 3) == 5, 'add is wrong'\nprint('ok')\n"

FIX_SCRIPT = [
    turn(text("Let me look at the code first."),
         tool_use("str_replace_based_edit_tool", {"command": "view", "path": "calc.py"})),
    turn(text("The operator is wrong."),
         tool_use("str_replace_based_edit_tool",
                  {"command": "str_replace", "path": "calc.py",
                   "old_str": "return a - b", "new_str": "return a + b"})),
    turn(tool_use("bash", {"command": "python check.py"})),
    turn(text("Fixed: add() used subtraction.\nAll tests pass now.")),
]  # fmt: skip


async def test_tool_use_loop_fixes_a_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    with FakeMessagesServer(FIX_SCRIPT, api_key=KEY) as server:
        h = Harness(tmp_path, monkeypatch, server, files={"calc.py": BUGGY, "check.py": CHECK})
        result = await h.iterate()
    assert (h.workspace / "calc.py").read_text() == "def add(a, b):\n    return a + b\n"
    assert result.stop == "end_turn"
    assert result.turns == 4 and result.tool_calls == 3
    assert result.final_text == "Fixed: add() used subtraction.\nAll tests pass now."
    assert result.claims_done
    results = h.of(ToolResult)
    assert [r.is_error for r in results] == [False, False, False]
    assert "return a - b" in results[0].output  # the model saw the file
    assert results[2].output.strip() == "ok" and results[2].exit_code == 0
    # The tool results went back to the model, paired with their calls.
    requests = server.message_requests
    assert len(requests) == 4
    assert_paired(requests)
    assert_journal_paired(h.events)
    last_user = requests[3]["messages"][-1]["content"]
    assert last_user[0]["type"] == "tool_result" and last_user[0]["content"].strip() == "ok"
    # One AgentTurn per request, charged with the spec's model.
    turns = h.of(AgentTurn)
    assert [t.turn for t in turns] == [1, 2, 3, 4]
    assert [t.stop_reason for t in turns] == ["tool_use"] * 3 + ["end_turn"]
    assert [m for m, _ in h.charges] == [MODEL] * 4
    assert [t.usage for t in turns] == [u for _, u in h.charges]
    assert h.budget_checks == [(MODEL, 4096)] * 4


async def test_request_carries_tools_system_key_and_settings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    with FakeMessagesServer([turn(text("hi"))], api_key=KEY) as server:
        h = Harness(tmp_path, monkeypatch, server, max_tokens=8000, thinking_budget=2048,
                    effort="high")  # fmt: skip
        await h.iterate(prompt="The goal is X.")
    request = server.requests[0]
    assert request.api_key == KEY
    assert request.path == "/v1/messages"
    body = request.body
    assert body["stream"] is True
    assert body["model"] == MODEL and body["max_tokens"] == 8000
    assert body["thinking"] == {"type": "enabled", "budget_tokens": 2048}
    assert body["output_config"] == {"effort": "high"}
    assert [(t["type"], t["name"]) for t in body["tools"]] == [
        ("text_editor_20250728", "str_replace_based_edit_tool"),
        ("bash_20250124", "bash"),
        ("custom", "ask_human"),
        ("memory_20250818", "memory"),
    ]
    system = body["system"][0]["text"]
    assert system.startswith("You are a careful coding agent.")
    assert str(h.workspace) in system
    assert body["messages"] == [
        {"role": "user", "content": [{"type": "text", "text": "The goal is X.",
                                      "cache_control": {"type": "ephemeral"}}]}
    ]  # fmt: skip


def _marks(body: dict) -> list[str]:
    """Where the request's cache breakpoints are."""
    where = [f"tool:{t['name']}" for t in body["tools"] if "cache_control" in t]
    where += ["system" for b in body["system"] if "cache_control" in b]
    for i, m in enumerate(body["messages"]):
        where += [f"message{i}:{b['type']}" for b in m["content"] if "cache_control" in b]
    return where


async def test_cache_breakpoints_on_tools_system_and_newest_message(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    with FakeMessagesServer(FIX_SCRIPT) as server:
        h = Harness(tmp_path, monkeypatch, server, files={"calc.py": BUGGY, "check.py": CHECK})
        await h.iterate()
        # A second iteration: a fresh conversation, with tools + system read from cache.
        server.add(turn(text("again")))
        second = await h.iterate(prompt="Fix the bug, second try.", iteration=2)
    assert second.stop == "end_turn"
    requests = server.message_requests[:4]
    assert [_marks(b) for b in requests] == [
        ["tool:memory", "system", "message0:text"],
        ["tool:memory", "system", "message2:tool_result"],
        ["tool:memory", "system", "message4:tool_result"],
        ["tool:memory", "system", "message6:tool_result"],
    ]
    # Later turns read the earlier ones from the (simulated) cache, and say so.
    turns = h.of(AgentTurn)[:4]
    assert turns[0].usage.cache_read_tokens == 0 and turns[0].usage.cache_write_tokens > 0
    for earlier, later in zip(turns, turns[1:], strict=False):
        written = earlier.usage.cache_read_tokens + earlier.usage.cache_write_tokens
        assert later.usage.cache_read_tokens == written
    assert len(server.message_requests[4]["messages"]) == 1
    again = h.of(AgentTurn)[-1].usage
    assert again.cache_read_tokens > 0 and again.cache_write_tokens > 0


async def test_thinking_streams_and_goes_back_unchanged(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    first = turn(
        thinking("The file is probably empty.", signature="sig-abc"),
        redacted_thinking("opaque-data"),
        text("Checking."),
        tool_use("bash", {"command": "echo hi"}),
    )
    with FakeMessagesServer([first, turn(text("Done."))]) as server:
        h = Harness(tmp_path, monkeypatch, server, max_tokens=8000, thinking_budget=2048)
        await h.iterate()
    assert h.text("thinking") == "The file is probably empty."
    sent_back = server.message_requests[1]["messages"][1]
    assert sent_back["role"] == "assistant"
    assert sent_back["content"][:3] == [
        {"type": "thinking", "thinking": "The file is probably empty.", "signature": "sig-abc"},
        {"type": "redacted_thinking", "data": "opaque-data"},
        {"type": "text", "text": "Checking."},
    ]
    assert sent_back["content"][3]["type"] == "tool_use"


async def test_text_streams_in_coalesced_pieces(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    long = "word " * 150 + "\nsecond line\n" + "tail"
    with FakeMessagesServer([turn(text(long))], chunk=5) as server:
        h = Harness(tmp_path, monkeypatch, server)
        await h.iterate()
    pieces = [e.text for e in h.of(AgentText)]
    assert "".join(pieces) == long
    # 5-character deltas were batched: far fewer events than deltas, none huge.
    assert 3 <= len(pieces) < len(long) // 5 // 4
    assert all(len(p) <= 205 for p in pieces)


async def test_memory_notes_survive_into_the_next_iteration(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    note = "- tried subtraction fix; tests still fail on negatives\n"
    script = [
        turn(tool_use("memory", {"command": "create", "path": "/memories/progress.md",
                                 "file_text": note})),
        turn(text("Noted.")),
        turn(tool_use("memory", {"command": "view", "path": "/memories/progress.md"})),
        turn(text("I remember.")),
    ]  # fmt: skip
    with FakeMessagesServer(script) as server:
        h = Harness(tmp_path, monkeypatch, server)
        await h.iterate(iteration=1)
        await h.iterate(iteration=2)
    assert (h.run_dir / "memories" / "progress.md").read_text() == note
    viewed = h.of(ToolResult)[-1]
    assert not viewed.is_error and "tried subtraction fix" in viewed.output
    assert [c.name for c in h.of(ToolCall)] == ["memory", "memory"]


class _StandInToolInput(BaseModel):
    """Used when tui.events has no ToolInputDelta yet (requested from the lead)."""

    type: str = "tool_input_delta"
    call_id: str
    name: str
    text: str


async def test_tool_input_streams_before_the_call_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    kind = getattr(events, "ToolInputDelta", None) or _StandInToolInput
    monkeypatch.setattr(anthropic_stream, "ToolInputDelta", kind)
    body = "".join(f"line {i}\n" for i in range(200))
    call = tool_use(
        "str_replace_based_edit_tool", {"command": "create", "path": "f.txt", "file_text": body}
    )
    with FakeMessagesServer([turn(text("Writing."), call), turn(text("Done."))]) as server:
        h = Harness(tmp_path, monkeypatch, server)
        await h.iterate()
    pieces = [e for e in h.events if isinstance(e, kind)]
    assert len(pieces) > 5 and all(p.call_id == call["id"] for p in pieces)
    assert json.loads("".join(p.text for p in pieces)) == call["input"]
    first_call = next(i for i, e in enumerate(h.events) if isinstance(e, ToolCall))
    assert h.events.index(pieces[-1]) < first_call
    assert (h.workspace / "f.txt").read_text() == body
