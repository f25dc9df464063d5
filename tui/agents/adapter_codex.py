"""Codex's ``codex exec --json``.

One JSON object per line, tagged by ``type``:

- ``thread.started`` (``thread_id``), ``turn.started``.
- ``item.started`` / ``item.updated`` / ``item.completed`` with an ``item``
  whose own ``type`` is ``agent_message`` (``text``), ``reasoning``
  (``text``), ``command_execution`` (``command``, ``aggregated_output``,
  ``exit_code``, ``status``), ``file_change`` (``changes``: path and kind,
  ``status``), ``mcp_tool_call``, ``web_search``, ``todo_list`` or ``error``.
- ``turn.completed`` with ``usage`` (``input_tokens``, ``cached_input_tokens``,
  ``output_tokens``); ``turn.failed`` and ``error`` with a message.

Codex reports tokens but no cost; the engine prices them with the spec's model.
"""

from __future__ import annotations

import json
from typing import Any

from tui.agents.adapter_base import (
    TOOL_OUTPUT_CHARS,
    Item,
    JsonLinesAdapter,
    Spend,
    as_int,
    clip,
    raw,
)
from tui.events import AgentText, Notice, ToolCall, ToolResult, Usage

# Item types that are tool use: what to call the tool and what input to show.
_TOOLS = {"command_execution", "file_change", "mcp_tool_call", "web_search"}
_FAILED = {"failed", "declined"}


def codex_usage(data: Any) -> Usage:
    """Codex usage as Usage; cached input is part of ``input_tokens`` there."""
    if not isinstance(data, dict):
        return Usage()
    total_in = as_int(data.get("input_tokens"))
    cached = min(as_int(data.get("cached_input_tokens")), total_in)
    return Usage(
        input_tokens=total_in - cached,
        output_tokens=as_int(data.get("output_tokens")),
        cache_read_tokens=cached,
    )


def _message(data: dict[str, Any]) -> str:
    error = data.get("error")
    if isinstance(error, dict) and error.get("message"):
        return str(error["message"])
    return str(data.get("message") or "no message")


def _tool_call(item: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    kind = item["type"]
    if kind == "command_execution":
        return "command", {"command": item.get("command", "")}
    if kind == "file_change":
        return "file_change", {"changes": item.get("changes", [])}
    if kind == "mcp_tool_call":
        args = item.get("arguments")
        name = f"{item.get('server', 'mcp')}.{item.get('tool', 'tool')}"
        return name, args if isinstance(args, dict) else {"arguments": args}
    return "web_search", {"query": item.get("query", "")}


def _tool_result(item: dict[str, Any]) -> tuple[str, bool, int | None]:
    """Output, is_error and exit code of a finished tool item."""
    kind = item["type"]
    status = item.get("status")
    if kind == "command_execution":
        code = item.get("exit_code")
        code = code if isinstance(code, int) and not isinstance(code, bool) else None
        failed = status in _FAILED or (code is not None and code != 0)
        return str(item.get("aggregated_output") or ""), failed, code
    if kind == "file_change":
        changes = item.get("changes") or []
        lines = [
            f"{c.get('kind', 'update')} {c.get('path', '?')}"
            for c in changes
            if isinstance(c, dict)
        ]
        return "\n".join(lines) or str(status or ""), status in _FAILED, None
    if kind == "mcp_tool_call":
        error = item.get("error")
        if isinstance(error, dict) and error.get("message"):
            return str(error["message"]), True, None
        result = item.get("result")
        return ("" if result is None else json.dumps(result)), status in _FAILED, None
    return "", status in _FAILED, None


class CodexJsonAdapter(JsonLinesAdapter):
    """``codex exec --json`` events to transcript, tool events and spend."""

    format = "codex-json"

    def __init__(self) -> None:
        super().__init__()
        self._open_tools: set[str] = set()

    def on_object(self, data: dict[str, Any], line: str) -> list[Item]:
        kind = data["type"]
        if kind in ("thread.started", "turn.started", "item.updated", "item.plan.delta"):
            # Bookkeeping or progress whose outcome arrives in a later line.
            return []
        if kind == "turn.completed":
            self.turns += 1
            return [Spend(codex_usage(data.get("usage")), None, "", "turn.completed")]
        if kind in ("turn.failed", "error"):
            # A failed turn ends Codex's work; a bare error may be a
            # reconnect it recovers from, and the exit status tells.
            if kind == "turn.failed":
                self.error = kind
            return [Notice(level="error", message=f"Codex reported an error: {_message(data)}")]
        if kind == "request_user_input":
            return [
                Notice(
                    level="warning",
                    message="Codex asked for input, which a loop cannot give; "
                    "run it with approvals that need no answers.",
                )
            ]
        item = data.get("item")
        if kind not in ("item.started", "item.completed") or not isinstance(item, dict):
            return [raw(line)]
        if not isinstance(item.get("type"), str):
            return [raw(line)]
        return self._item(item, completed=kind == "item.completed", line=line)

    def _item(self, item: dict[str, Any], *, completed: bool, line: str) -> list[Item]:
        kind = item["type"]
        item_id = str(item.get("id") or f"item-{self.tool_calls}")
        if kind in _TOOLS:
            items: list[Item] = []
            name, tool_input = _tool_call(item)
            if item_id not in self._open_tools:
                # file_change arrives only completed; announce the call first
                # so every tool result has its call.
                self._open_tools.add(item_id)
                self.tool_calls += 1
                items.append(ToolCall(call_id=item_id, name=name, input=tool_input))
            if completed:
                output, is_error, code = _tool_result(item)
                items.append(
                    ToolResult(
                        call_id=item_id,
                        name=name,
                        output=clip(output, TOOL_OUTPUT_CHARS),
                        is_error=is_error,
                        exit_code=code,
                    )
                )
            return items
        if not completed:
            return []
        text = str(item.get("text") or "")
        if kind == "agent_message":
            self.final_text = text
            return [AgentText(text=text if text.endswith("\n") else text + "\n")] if text else []
        if kind == "reasoning":
            return [AgentText(text=text + "\n", kind="thinking")] if text else []
        if kind == "todo_list":
            todos = [
                f"[{'x' if t.get('completed') else ' '}] {t.get('text', '')}"
                for t in item.get("items") or []
                if isinstance(t, dict)
            ]
            return [AgentText(text="plan:\n" + "\n".join(todos) + "\n", kind="thinking")]
        if kind == "error":
            message = str(item.get("message") or "no message")
            return [Notice(level="warning", message=f"Codex: {message}")]
        return [raw(line)]
