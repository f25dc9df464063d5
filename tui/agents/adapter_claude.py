"""Claude Code's ``claude -p --output-format stream-json --verbose``.

One JSON object per line:

- ``system`` / ``init``: session, model, tools (shown as a notice).
- ``assistant``: ``message.content`` blocks (``text``, ``thinking``,
  ``tool_use``) and that request's ``message.usage``. A response with several
  blocks may come as several lines sharing one ``message.id``.
- ``user``: ``tool_result`` blocks answering the tool uses, by ``tool_use_id``.
- ``result``: the end: ``result`` text, ``is_error``, ``subtype``,
  ``num_turns``, ``usage``, ``modelUsage`` and ``total_cost_usd``.

Claude Code runs its own tools; they are reported here, never executed by us.
"""

from __future__ import annotations

import json
from typing import Any

from tui.agents.adapter_base import (
    TOOL_OUTPUT_CHARS,
    Item,
    JsonLinesAdapter,
    Spend,
    as_cost,
    as_int,
    clip,
    raw,
    usage_of,
)
from tui.events import AgentText, Notice, ToolCall, ToolResult, Usage


def model_usage_total(data: Any) -> Usage | None:
    """The sum of ``modelUsage`` (camelCase, one entry per model), if it has tokens."""
    if not isinstance(data, dict):
        return None
    total = Usage()
    for entry in data.values():
        if isinstance(entry, dict):
            total = total + Usage(
                input_tokens=as_int(entry.get("inputTokens")),
                output_tokens=as_int(entry.get("outputTokens")),
                cache_write_tokens=as_int(entry.get("cacheCreationInputTokens")),
                cache_read_tokens=as_int(entry.get("cacheReadInputTokens")),
            )
    return total if total.total else None


def _field_max(a: Usage, b: Usage) -> Usage:
    return Usage(
        input_tokens=max(a.input_tokens, b.input_tokens),
        output_tokens=max(a.output_tokens, b.output_tokens),
        cache_write_tokens=max(a.cache_write_tokens, b.cache_write_tokens),
        cache_read_tokens=max(a.cache_read_tokens, b.cache_read_tokens),
    )


def tool_output(content: Any) -> str:
    """A tool_result's content (a string or a list of blocks) as text."""
    if isinstance(content, str):
        return content
    if not isinstance(content, list):
        return "" if content is None else json.dumps(content)
    parts: list[str] = []
    for block in content:
        if isinstance(block, dict) and block.get("type") == "text":
            parts.append(str(block.get("text", "")))
        elif isinstance(block, dict) and block.get("type") == "image":
            parts.append("[image]")
        else:
            parts.append(json.dumps(block))
    return "\n".join(parts)


class ClaudeStreamAdapter(JsonLinesAdapter):
    """Claude Code stream-json lines to transcript, tool events and spend."""

    format = "claude-stream-json"

    def __init__(self) -> None:
        super().__init__()
        self.model = ""
        self._last_text = ""
        self._tool_names: dict[str, str] = {}
        # Usage per assistant message id: repeated lines of one message carry
        # the same usage, so keep the last one rather than adding them up.
        self._message_usage: dict[str, Usage] = {}
        self._charged = False

    def on_object(self, data: dict[str, Any], line: str) -> list[Item]:
        handler = {
            "system": self._system,
            "assistant": self._assistant,
            "user": self._user,
            "result": self._result,
            # Partial-message deltas (--include-partial-messages) repeat what
            # the whole assistant message says; the whole message is enough.
            "stream_event": lambda _d, _l: [],
        }.get(data["type"])
        if handler is None:
            return [raw(line)]
        return handler(data, line)

    def finish(self) -> list[Item]:
        if not self.final_text:
            self.final_text = self._last_text
        if self._charged or not self._message_usage:
            return []
        # No result line (killed, timed out, crashed): charge what the
        # messages reported, priced by the engine since there is no cost.
        total = sum(self._message_usage.values(), Usage())
        return [Spend(total, None, self.model, "no result")]

    # -- line kinds --------------------------------------------------------
    def _system(self, data: dict[str, Any], line: str) -> list[Item]:
        if data.get("subtype") != "init":
            return [raw(line)]
        self.model = str(data.get("model") or self.model)
        version = data.get("claude_code_version")
        parts = [f"Claude Code {version}" if version else "Claude Code"]
        if self.model:
            parts.append(f"model {self.model}")
        if data.get("permissionMode"):
            parts.append(f"permissions {data['permissionMode']}")
        return [Notice(message=" · ".join(parts) + " started")]

    def _assistant(self, data: dict[str, Any], line: str) -> list[Item]:
        message = data.get("message")
        if not isinstance(message, dict) or not isinstance(message.get("content"), list):
            return [raw(line)]
        self.model = str(message.get("model") or self.model)
        msg_id = str(message.get("id") or f"line-{len(self._message_usage)}")
        if msg_id not in self._message_usage:
            self.turns += 1
        self._message_usage[msg_id] = usage_of(message.get("usage"))
        items: list[Item] = []
        for block in message["content"]:
            items.extend(self._block(block))
        return items

    def _block(self, block: Any) -> list[Item]:
        kind = block.get("type") if isinstance(block, dict) else None
        if kind == "text":
            text = str(block.get("text", ""))
            if not text:
                return []
            self._last_text = text
            return [AgentText(text=text if text.endswith("\n") else text + "\n")]
        if kind == "thinking":
            thought = str(block.get("thinking", ""))
            return [AgentText(text=thought + "\n", kind="thinking")] if thought else []
        if kind == "redacted_thinking":
            return []
        if kind in ("tool_use", "server_tool_use") and block.get("id"):
            call_id, name = str(block["id"]), str(block.get("name") or "tool")
            self._tool_names[call_id] = name
            self.tool_calls += 1
            tool_input = block.get("input")
            if not isinstance(tool_input, dict):
                tool_input = {"input": tool_input}
            return [ToolCall(call_id=call_id, name=name, input=tool_input)]
        return [raw(json.dumps(block))]

    def _user(self, data: dict[str, Any], line: str) -> list[Item]:
        message = data.get("message")
        content = message.get("content") if isinstance(message, dict) else None
        if not isinstance(content, list):
            return [raw(line)]
        items: list[Item] = []
        for block in content:
            if isinstance(block, dict) and block.get("type") == "tool_result":
                call_id = str(block.get("tool_use_id", ""))
                items.append(
                    ToolResult(
                        call_id=call_id,
                        name=self._tool_names.get(call_id, "tool"),
                        output=clip(tool_output(block.get("content")), TOOL_OUTPUT_CHARS),
                        is_error=bool(block.get("is_error")),
                    )
                )
            else:
                # Text a CLI puts in the user's mouth (a sub-agent's prompt,
                # "[Request interrupted]") is worth seeing as it is.
                items.append(raw(json.dumps(block)))
        return items

    def _result(self, data: dict[str, Any], line: str) -> list[Item]:
        subtype = str(data.get("subtype") or "")
        text = data.get("result")
        self.final_text = text if isinstance(text, str) and text else self._last_text
        self.turns = max(self.turns, as_int(data.get("num_turns")))
        items: list[Item] = []
        if data.get("is_error") or (subtype and subtype != "success"):
            self.error = subtype or "error"
            detail = f": {clip(text, 300)}" if isinstance(text, str) and text else ""
            items.append(
                Notice(level="error", message=f"Claude Code ended with {self.error}{detail}")
            )
        # modelUsage covers every model (sub-agents, the small helper model);
        # older versions only have ``usage``, which may hold just the main
        # model or the last request, so take the larger of it and the sum of
        # the messages seen, field by field.
        usage = model_usage_total(data.get("modelUsage"))
        if usage is None:
            seen = sum(self._message_usage.values(), Usage())
            usage = _field_max(usage_of(data.get("usage")), seen)
        cost = as_cost(data.get("total_cost_usd"))
        if usage.total or cost is not None:
            self._charged = True
            items.append(Spend(usage, cost, self.model, subtype or "end_turn"))
        return items
