"""Output adapters: recorded agent CLI output into events and spend."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tui.agents.adapters import (
    ClaudeStreamAdapter,
    CodexJsonAdapter,
    Item,
    OutputAdapter,
    Spend,
    TextAdapter,
    make_adapter,
)
from tui.events import AgentText, Notice, ToolCall, ToolResult, Usage

BIN = Path(__file__).parent / "fixtures" / "bin"


def recorded(name: str, *args: str, prompt: str = "Fix fizzbuzz\nmore") -> list[str]:
    """The lines a fake CLI in tests/fixtures/bin prints."""
    proc = subprocess.run(
        [str(BIN / name), *args], input=prompt, capture_output=True, text=True, timeout=20
    )
    return proc.stdout.splitlines()


def feed_all(adapter: OutputAdapter, lines: list[str]) -> list[Item]:
    items: list[Item] = []
    for line in lines:
        items.extend(adapter.feed(line))
    items.extend(adapter.finish())
    return items


def of(items: list[Item], kind: type) -> list:
    return [i for i in items if isinstance(i, kind)]


# -- claude-stream-json -------------------------------------------------------
def test_claude_session_becomes_transcript_tools_and_spend() -> None:
    adapter = ClaudeStreamAdapter()
    items = feed_all(adapter, recorded("fake-claude"))

    texts = [t.text for t in of(items, AgentText) if t.kind == "text"]
    assert texts == [
        "Working on: Fix fizzbuzz\n",
        "I fixed the modulo order. All tests pass now.\n",
    ]
    assert [t.text for t in of(items, AgentText) if t.kind == "thinking"] == [
        "The 15 case must come first.\n"
    ]
    calls = of(items, ToolCall)
    assert [(c.call_id, c.name) for c in calls] == [
        ("toolu_01Edit", "Edit"),
        ("toolu_02Bash", "Bash"),
    ]
    assert calls[0].input["new_string"] == "if n % 15 == 0:"
    results = of(items, ToolResult)
    assert [(r.call_id, r.name, r.is_error) for r in results] == [
        ("toolu_01Edit", "Edit", False),
        ("toolu_02Bash", "Bash", True),
    ]
    assert results[1].output == "1 failed, 6 passed in 0.04s"
    # The init line is a notice naming the CLI and its model.
    assert "Claude Code 2.0.14" in of(items, Notice)[0].message
    assert "claude-sonnet-4-5-20250929" in of(items, Notice)[0].message

    # One spend: the result's cost, tokens summed over every model it used.
    (spend,) = of(items, Spend)
    assert spend.cost_usd == pytest.approx(0.0537125)
    assert spend.usage == Usage(
        input_tokens=12 + 820,
        output_tokens=188 + 31,
        cache_write_tokens=4550,
        cache_read_tokens=42426,
    )
    assert spend.model == "claude-sonnet-4-5-20250929"
    assert adapter.final_text == "I fixed the modulo order. All tests pass now."
    assert adapter.turns == 3
    assert adapter.tool_calls == 2
    assert adapter.error is None


def test_claude_malformed_and_foreign_lines_are_shown_raw() -> None:
    items = feed_all(ClaudeStreamAdapter(), recorded("fake-claude"))
    raws = [t.text for t in of(items, AgentText) if t.kind == "raw"]
    assert raws == [
        '{"type": "assistant", "message": {"id": "msg_torn", "content": [\n',
        "[warn] telemetry disabled\n",
    ]


def test_claude_without_result_estimates_usage_once_per_message() -> None:
    adapter = ClaudeStreamAdapter()
    items = feed_all(adapter, recorded("fake-claude", "--exit", "2"))
    (spend,) = of(items, Spend)
    # msg_01 came as two lines with the same usage: counted once, unpriced;
    # its output is worked out from what it said (the lines say 9 tokens
    # as the response started).
    assert spend.usage.model_copy(update={"output_tokens": 9}) == Usage(
        input_tokens=3, output_tokens=9, cache_write_tokens=4120, cache_read_tokens=11292
    )
    assert spend.usage.output_tokens > 9
    assert spend.cost_usd is None
    assert spend.estimated is True
    assert spend.stop_reason == "cut short"
    assert adapter.final_text == "Working on: Fix fizzbuzz"


def test_claude_max_turns_result_keeps_last_text() -> None:
    adapter = ClaudeStreamAdapter()
    items = feed_all(adapter, recorded("fake-claude", "--error"))
    assert adapter.error == "max_turns"
    assert any("--max-turns" in n.message for n in of(items, Notice))
    assert not any("success" in n.message for n in of(items, Notice))
    (spend,) = of(items, Spend)
    assert spend.cost_usd == pytest.approx(0.0421)
    # No modelUsage: the larger of the result's usage and the messages' sum.
    assert spend.usage.output_tokens == 112
    assert spend.usage.cache_read_tokens == 42426
    assert adapter.final_text == "I fixed the modulo order. All tests pass now."


def test_claude_old_result_usage_is_not_below_what_messages_reported() -> None:
    adapter = ClaudeStreamAdapter()
    msg = {"type": "assistant", "message": {"id": "m1", "content": [], "usage": {}}}
    msg["message"]["usage"] = {"input_tokens": 100, "cache_read_input_tokens": 900}
    adapter.feed(json.dumps(msg))
    msg2 = {"type": "assistant", "message": {"id": "m2", "content": [], "usage": {}}}
    msg2["message"]["usage"] = {"input_tokens": 50, "output_tokens": 7}
    adapter.feed(json.dumps(msg2))
    result = {"type": "result", "subtype": "success", "result": "ok"}
    result["usage"] = {"input_tokens": 50, "output_tokens": 40}
    (spend,) = adapter.feed(json.dumps(result))
    assert isinstance(spend, Spend)
    assert spend.usage == Usage(input_tokens=150, output_tokens=40, cache_read_tokens=900)
    assert spend.cost_usd is None


@pytest.mark.parametrize(
    "line",
    [
        "",
        "not json at all",
        "[1, 2, 3]",
        '{"no_type": true}',
        '{"type": "assistant", "message": "oops"}',
        '{"type": "assistant", "message": {"content": [{"type": "tool_use", "name": "Bash"}]}}',
        '{"type": "user", "message": {"content": "plain"}}',
        '{"type": "system", "subtype": "compact_boundary"}',
        '{"type": "rate_limit_event", "detail": 1}',
        '{"type": "result", "usage": "bogus", "total_cost_usd": "free"}',
        "[" * 100_000,
    ],
)
def test_claude_never_raises_on_odd_lines(line: str) -> None:
    adapter = ClaudeStreamAdapter()
    items = adapter.feed(line) + adapter.finish()
    assert all(not isinstance(i, ToolCall) for i in items)
    for item in items:
        if isinstance(item, AgentText):
            assert len(item.text) < 5_000  # clipped, not the whole junk line


def test_claude_partial_message_deltas_are_not_duplicated() -> None:
    adapter = ClaudeStreamAdapter()
    delta = {"type": "stream_event", "event": {"type": "content_block_delta"}}
    assert adapter.feed(json.dumps(delta)) == []


def test_claude_tool_result_with_image_and_large_output_is_readable() -> None:
    adapter = ClaudeStreamAdapter()
    block = {
        "type": "tool_result",
        "tool_use_id": "t1",
        "content": [{"type": "text", "text": "x" * 100_000}, {"type": "image"}],
    }
    (result,) = adapter.feed(json.dumps({"type": "user", "message": {"content": [block]}}))
    assert isinstance(result, ToolResult)
    assert result.name == "tool"  # no call seen for this id
    assert "characters cut" in result.output
    assert result.output.endswith("[image]")
    assert len(result.output) < 45_000


# -- codex-json ----------------------------------------------------------------
def test_codex_session_becomes_transcript_tools_and_spend() -> None:
    adapter = CodexJsonAdapter()
    items = feed_all(adapter, recorded("fake-codex"))

    texts = [t.text for t in of(items, AgentText) if t.kind == "text"]
    assert texts == ["Swapped the checks so 15 is tested first. The tests should now pass.\n"]
    thinking = [t.text for t in of(items, AgentText) if t.kind == "thinking"]
    assert thinking == ["**Reading the task** Fix fizzbuzz\n"]
    calls = of(items, ToolCall)
    assert [(c.call_id, c.name) for c in calls] == [
        ("item_1", "command"),
        ("item_3", "file_change"),
    ]
    assert calls[0].input == {"command": "bash -lc 'python -m pytest -q'"}
    results = of(items, ToolResult)
    assert [(r.call_id, r.is_error, r.exit_code) for r in results] == [
        ("item_1", True, 1),
        ("item_3", False, None),
    ]
    assert "1 failed, 6 passed" in results[0].output
    assert results[1].output == "update fizzbuzz.py"
    (spend,) = of(items, Spend)
    # Codex counts cached input inside input_tokens; the budget counts it apart.
    assert spend.usage == Usage(input_tokens=315, output_tokens=122, cache_read_tokens=24448)
    assert spend.cost_usd is None
    assert adapter.final_text.endswith("The tests should now pass.")
    assert adapter.turns == 1
    assert adapter.tool_calls == 2


def test_codex_malformed_and_unknown_lines_are_shown_raw() -> None:
    items = feed_all(CodexJsonAdapter(), recorded("fake-codex"))
    raws = [t.text for t in of(items, AgentText) if t.kind == "raw"]
    assert raws[0] == '{"type":"item.completed","item":{"id":"item_2"\n'
    assert '"session.configured"' in raws[1]
    assert len(raws) == 2


def test_codex_failed_turn_is_an_api_failure_said_once() -> None:
    adapter = CodexJsonAdapter()
    items = feed_all(adapter, recorded("fake-codex", "--fail"))
    assert adapter.error == "api_error"
    assert adapter.failure is not None and adapter.failure.kind == "unavailable"
    errors = [n.message for n in of(items, Notice) if n.level == "error"]
    assert errors == [adapter.failure.message]
    assert "stream disconnected before completion" in errors[0]
    # Cut short before turn.completed: an estimate, never silently nothing.
    (spend,) = of(items, Spend)
    assert spend.estimated and spend.usage.output_tokens > 0


def test_codex_mcp_call_and_item_error() -> None:
    adapter = CodexJsonAdapter()
    item = {
        "id": "m1",
        "type": "mcp_tool_call",
        "server": "docs",
        "tool": "search",
        "arguments": {"q": "x"},
        "status": "failed",
        "error": {"message": "server gone"},
    }
    items = adapter.feed(json.dumps({"type": "item.completed", "item": item}))
    call, result = items
    assert isinstance(call, ToolCall) and call.name == "docs.search"
    assert call.input == {"q": "x"}
    assert isinstance(result, ToolResult) and result.is_error and result.output == "server gone"
    err = {"type": "item.completed", "item": {"id": "e", "type": "error", "message": "m"}}
    (notice,) = adapter.feed(json.dumps(err))
    assert isinstance(notice, Notice) and notice.message == "Codex: m"


# -- text ----------------------------------------------------------------------
def test_text_lines_pass_through_without_terminal_codes() -> None:
    adapter = TextAdapter()
    lines = ["hello", "\x1b[32mgreen\x1b[0m 10%\r100%", "", "done:", "all tests pass", ""]
    items = feed_all(adapter, lines)
    assert [t.text for t in of(items, AgentText)] == [
        "hello\n",
        "100%\n",
        "\n",
        "done:\n",
        "all tests pass\n",
        "\n",
    ]
    assert all(t.kind == "text" for t in of(items, AgentText))
    # The final text is the last paragraph, trailing blank lines aside.
    assert adapter.final_text == "done:\nall tests pass"
    assert of(items, Spend) == []


def test_text_final_text_is_the_tail_of_a_long_paragraph() -> None:
    adapter = TextAdapter()
    for i in range(5_000):
        adapter.feed(f"line {i}")
    assert adapter.final_text == "\n".join(f"line {i}" for i in range(4_980, 5_000))
    adapter.feed("x" * 10_000)
    assert len(adapter.final_text) == 4_000


def test_make_adapter_by_format() -> None:
    assert isinstance(make_adapter("text"), TextAdapter)
    assert isinstance(make_adapter("claude-stream-json"), ClaudeStreamAdapter)
    assert isinstance(make_adapter("codex-json"), CodexJsonAdapter)
    with pytest.raises(ValueError, match="unknown output format"):
        make_adapter("yaml")
