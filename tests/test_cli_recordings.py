"""The adapters on what the real CLIs printed (tests/fixtures/cli, recorded by
tests/fixtures/record_clis.py from Claude Code 2.1.197 and Codex CLI 0.169.0)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tui.agents.adapters import Item, OutputAdapter, Spend, make_adapter
from tui.events import AgentText, Notice, ToolCall, ToolResult

RECORDINGS = Path(__file__).parent / "fixtures" / "cli"
WORKSPACE = Path("/home/me/project")
ALL = sorted(p.stem for p in RECORDINGS.glob("*.json"))
# Sessions where the CLI worked as it should: nothing raw in the transcript.
ORDINARY = [
    "claude-clean-1",
    "claude-clean-2",
    "claude-subagent",
    "claude-denied",
    "claude-max-turns",
    "claude-max-budget",
    "claude-cut-short",
    "codex-clean-1",
    "codex-clean-2",
    "codex-denied",
    "codex-cut-short",
]


def recording(name: str) -> dict[str, Any]:
    return json.loads((RECORDINGS / f"{name}.json").read_text())


def replay(name: str, stop_at_abort: bool = False) -> tuple[OutputAdapter, list[Item]]:
    """Every line of recording ``name`` fed to its adapter, as the command backend does."""
    rec = recording(name)
    fmt = "claude-stream-json" if rec["cli"] == "claude" else "codex-json"
    adapter = make_adapter(fmt, WORKSPACE)
    adapter.prompt_chars = 400
    items: list[Item] = []
    text = "".join(line for _at, _stream, line in rec["lines"])
    for line in text.replace("{workspace}", str(WORKSPACE)).splitlines():
        items.extend(adapter.feed(line))
        if stop_at_abort and adapter.abort:
            break
    items.extend(adapter.finish())
    return adapter, items


def of(items: list[Item], kind: type) -> list:
    return [i for i in items if isinstance(i, kind)]


def said(items: list[Item]) -> str:
    return "".join(t.text for t in of(items, AgentText) if t.kind == "text")


def test_every_case_of_the_issue_was_recorded() -> None:
    for name in ["claude-overloaded", "claude-server-error", "claude-auth", "claude-refused",
                 "claude-hang", "claude-max-turns", "claude-max-budget", "claude-subagent",
                 "claude-denied", "codex-overloaded", "codex-server-error", "codex-auth",
                 "codex-refused", "codex-hang"]:  # fmt: skip
        assert name in ALL
    versions = {recording(n)["version"] for n in ALL}
    assert versions == {"2.1.197 (Claude Code)", "codex-cli 0.169.0"}


@pytest.mark.parametrize("name", ORDINARY)
def test_no_raw_json_in_an_ordinary_session(name: str) -> None:
    adapter, items = replay(name)
    assert [t.text for t in of(items, AgentText) if t.kind == "raw"] == []
    # Every tool call has exactly one result, even when the session was cut short.
    calls = [c.call_id for c in of(items, ToolCall)]
    assert sorted(calls) == sorted(r.call_id for r in of(items, ToolResult))
    assert adapter.tool_calls == len(calls)


@pytest.mark.parametrize("name", ALL)
def test_no_error_is_ever_called_a_success(name: str) -> None:
    _, items = replay(name)
    assert not any("success" in n.message for n in of(items, Notice))


def test_claude_bash_shows_exit_code_and_counts_and_paths_are_relative() -> None:
    adapter, items = replay("claude-clean-1")
    read, edit, bash = of(items, ToolCall)
    assert (read.name, read.input["path"]) == ("Read", "calc.py")
    assert (edit.name, edit.input["path"]) == ("Edit", "calc.py")
    assert read.input["file_path"] == str(WORKSPACE / "calc.py")  # kept as sent
    result = next(r for r in of(items, ToolResult) if r.call_id == bash.call_id)
    assert result.exit_code == 1 and result.is_error
    assert not result.output.startswith("Exit code")
    assert result.output.splitlines()[-1].startswith("1 failed, 1 passed")
    (spend,) = of(items, Spend)
    assert spend.cost_usd == pytest.approx(0.1710315) and not spend.estimated
    assert spend.model == "claude-opus-4-8"  # the context suffix "[1m]" is not a model
    assert (adapter.turns, adapter.tool_calls) == (4, 3)
    passed = next(r for r in of(replay("claude-clean-2")[1], ToolResult) if r.name == "Bash")
    assert passed.exit_code == 0 and not passed.is_error


@pytest.mark.parametrize(
    ("name", "words"),
    [
        ("claude-overloaded", "529 overloaded_error"),
        ("claude-server-error", "500"),
        ("claude-refused", "Unable to connect to API (ConnectionRefused)"),
        ("codex-overloaded", "529"),
        ("codex-server-error", "high demand"),
    ],
)
def test_api_down_past_retries_is_a_pause_reason(name: str, words: str) -> None:
    adapter, items = replay(name)
    assert adapter.failure is not None and adapter.failure.kind == "unavailable"
    assert words in adapter.failure.message and "resume" in adapter.failure.message
    assert adapter.abort is None  # the CLI's own retries are let run
    # Claude Code's <synthetic> error message is not the agent's words.
    assert said(items) == "" and adapter.final_text == ""
    assert getattr(adapter, "model", "") != "<synthetic>"
    retries = [n for n in of(items, Notice) if "retrying" in n.message]
    assert retries and retries[0].level == "warning"
    assert {n.level for n in retries[1:]} <= {"info"}  # quiet after the first
    assert of(items, Spend) == []


def test_codex_waiting_for_network_without_end_is_cut_and_paused() -> None:
    adapter, items = replay("codex-refused", stop_at_abort=True)
    assert adapter.failure is not None and adapter.failure.kind == "unavailable"
    assert "Connection failed" in adapter.failure.message
    assert adapter.abort == adapter.failure.message
    waits = [n for n in of(items, Notice) if "cannot reach" in n.message]
    assert [n.level for n in waits] == ["warning", "info", "info", "info", "error"]


@pytest.mark.parametrize("name", ["claude-auth", "claude-auth-full", "codex-auth"])
def test_rejected_key_ends_the_session_at_once(name: str) -> None:
    adapter, items = replay(name, stop_at_abort=True)
    assert adapter.failure is not None and adapter.failure.kind == "auth"
    assert adapter.abort and "key" in adapter.abort
    # Asked to end after the first failed attempt, not after ten.
    lines = [line for _at, _stream, line in recording(name)["lines"]]
    seen = 1 + next(i for i, line in enumerate(lines) if "401" in line)
    assert seen <= 3
    assert [n.level for n in of(items, Notice) if "key" in n.message] == ["error"]


def test_claude_subagent_calls_are_events_not_the_agents_words() -> None:
    adapter, items = replay("claude-subagent")
    names = [c.name for c in of(items, ToolCall)]
    assert names == ["Task", "general-purpose:Read"]
    assert "add() subtracts instead of adding" not in said(items)
    notices = [n.message for n in of(items, Notice)]
    assert "sub-agent general-purpose started: Find the bug" in notices
    assert any(
        m.startswith("sub-agent completed: Find the bug (12,866 tokens, 1 tool)") for m in notices
    )
    assert (adapter.turns, adapter.tool_calls) == (2, 2)
    # modelUsage counts the sub-agent's tokens too.
    (spend,) = of(items, Spend)
    assert spend.usage.input_tokens == 3035


def test_claude_denied_tool_says_how_to_allow_it() -> None:
    _, items = replay("claude-denied")
    (denied,) = [n for n in of(items, Notice) if "denied" in n.message]
    assert denied.message == (
        "the agent was denied tool Bash (make deploy): widen --allowedTools if it needs it"
    )


def test_codex_denied_patch_comes_from_its_log_line() -> None:
    _, items = replay("codex-denied")
    (denied,) = [n for n in of(items, Notice) if "denied" in n.message]
    assert "patch rejected: writing is blocked by read-only sandbox" in denied.message
    assert denied.level == "warning"


@pytest.mark.parametrize(
    ("name", "error", "words"),
    [("claude-max-turns", "max_turns", "--max-turns"),
     ("claude-max-budget", "max_budget_usd", "--max-budget-usd")],
)  # fmt: skip
def test_claude_own_limits_are_named(name: str, error: str, words: str) -> None:
    adapter, items = replay(name)
    assert adapter.error == error
    assert any(words in n.message for n in of(items, Notice))
    (spend,) = of(items, Spend)
    assert spend.cost_usd and spend.cost_usd > 0 and spend.usage.total > 0


@pytest.mark.parametrize("name", ["claude-cut-short", "codex-cut-short"])
def test_cut_short_session_is_estimated_never_zero(name: str) -> None:
    adapter, items = replay(name)
    (spend,) = of(items, Spend)
    assert spend.estimated and spend.cost_usd is None
    assert spend.usage.output_tokens > 1 and spend.usage.total > 100
    assert adapter.tool_calls == 1


def test_codex_file_change_paths_are_relative() -> None:
    _, items = replay("codex-clean-1")
    change = next(c for c in of(items, ToolCall) if c.name == "file_change")
    assert change.input["path"] == "calc.py"
    result = next(r for r in of(items, ToolResult) if r.call_id == change.call_id)
    assert result.output == "update calc.py"


def test_codex_model_metadata_warning_and_unknown_lines_once() -> None:
    adapter = make_adapter("codex-json", WORKSPACE)
    future = json.dumps({"type": "thread.resumed", "x": 1})
    items = adapter.feed(future) + adapter.feed(future)
    assert [t.kind for t in of(items, AgentText)] == ["raw"]


@pytest.mark.parametrize(
    "line",
    [
        {"type": "system", "subtype": "thinking_tokens", "estimated_tokens": 3},
        {"type": "system", "subtype": "task_progress", "description": "x"},
        {"type": "system", "subtype": "task_updated", "patch": {}},
        {"type": "system", "subtype": "status", "status": "compacting"},
        {"type": "system", "subtype": "hook_started", "hook_name": "h"},
        {"type": "system", "subtype": "hook_response", "hook_name": "h", "exit_code": 0},
    ],
)
def test_claude_progress_lines_are_quiet(line: dict[str, Any]) -> None:
    assert make_adapter("claude-stream-json").feed(json.dumps(line)) == []


def test_claude_status_lines_become_notices_and_unknown_ones_show_once() -> None:
    adapter = make_adapter("claude-stream-json")
    lines = [
        {"type": "system", "subtype": "compact_boundary", "compact_metadata": {"pre_tokens": 9000}},
        {"type": "system", "subtype": "model_fallback", "from_model": "a", "to_model": "b-1"},
        {"type": "system", "subtype": "notification", "message": "rate limited soon"},
        {"type": "system", "subtype": "hook_response", "hook_name": "lint", "exit_code": 2,
         "stderr": "bad"},
        {"type": "system", "subtype": "brand_new"},
        {"type": "system", "subtype": "brand_new"},
    ]  # fmt: skip
    items = [i for line in lines for i in adapter.feed(json.dumps(line))]
    messages = [n.message for n in of(items, Notice)]
    assert messages == [
        "Claude Code compacted its conversation at 9,000 tokens.",
        "Claude Code fell back from a to b-1.",
        "Claude Code: rate limited soon",
        "Claude Code hook lint failed: bad",
    ]
    assert [t.kind for t in of(items, AgentText)] == ["raw"]
    assert adapter.model == "b-1"


def test_claude_interrupted_tool_result_and_plan_billing() -> None:
    adapter = make_adapter("claude-stream-json", WORKSPACE)
    init = {"type": "system", "subtype": "init", "model": "claude-x", "apiKeySource": "none"}
    (notice,) = adapter.feed(json.dumps(init))
    assert "subscription plan" in notice.message
    use = {"type": "tool_use", "id": "t1", "name": "Bash", "input": {"command": "sleep 9"}}
    msg = {"type": "assistant", "message": {"id": "m", "model": "claude-x", "content": [use]}}
    adapter.feed(json.dumps(msg))
    block = {"type": "tool_result", "tool_use_id": "t1", "content": "Exit code 137\nKilled",
             "is_error": True}  # fmt: skip
    line = {"type": "user", "message": {"content": [block]},
            "tool_use_result": {"interrupted": True}}  # fmt: skip
    (result,) = adapter.feed(json.dumps(line))
    assert isinstance(result, ToolResult)
    assert (result.exit_code, result.interrupted, result.output) == (137, True, "Killed")
    end = {"type": "result", "subtype": "success", "result": "ok", "total_cost_usd": 1.5,
           "usage": {"input_tokens": 10}}  # fmt: skip
    (spend,) = of(adapter.feed(json.dumps(end)), Spend)
    assert spend.plan is True
