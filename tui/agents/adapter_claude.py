"""Claude Code's ``claude -p --output-format stream-json --verbose``.

One JSON object per line:

- ``system``: the session start (``init``), API retries, sub-agent progress,
  compaction, hooks (see :mod:`tui.agents.adapter_claude_system`).
- ``assistant``: ``message.content`` blocks (``text``, ``thinking``,
  ``tool_use``) and that request's ``message.usage`` as it stood when the
  response started (so ``output_tokens`` is 1 or so). A response with several
  blocks comes as several lines sharing one ``message.id``. A message whose
  model is ``<synthetic>`` is Claude Code's own text (an API error), not the
  model's. ``parent_tool_use_id`` marks a sub-agent's messages.
- ``user``: ``tool_result`` blocks answering the tool uses, by ``tool_use_id``,
  with ``tool_use_result`` (``interrupted``); a sub-agent's prompt.
- ``result``: the end: ``result`` text, ``is_error``, ``subtype``,
  ``api_error_status``, ``errors``, ``num_turns``, ``usage``, ``modelUsage``,
  ``total_cost_usd`` and ``permission_denials``. A session whose API failed
  ends with subtype "success" and ``is_error`` true.

Claude Code runs its own tools; they are reported here, never executed by us.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from tui.agents.adapter_base import (
    TOOL_OUTPUT_CHARS,
    Item,
    JsonLinesAdapter,
    Spend,
    as_cost,
    as_int,
    clip,
    estimate_tokens,
    raw_once,
    relative_path,
    usage_of,
)
from tui.agents.adapter_claude_system import (
    api_failure,
    denial_notices,
    limit_notice,
    model_name,
    system_line,
)
from tui.events import AgentText, Notice, ToolCall, ToolResult, Usage

SYNTHETIC = "<synthetic>"
_EXIT_CODE = re.compile(r"\AExit code (-?\d+)\n?")
_PATH_KEYS = ("file_path", "notebook_path", "path")


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


def with_relative_path(tool_input: dict[str, Any], workspace: Path | None) -> dict[str, Any]:
    """The input with ``path`` set to the file it names, relative to the workspace."""
    for key in _PATH_KEYS:
        rel = relative_path(tool_input.get(key), workspace)
        if rel is not None:
            return {**tool_input, "path": rel}
    return tool_input


def bash_result(output: str, is_error: bool) -> tuple[str, int | None]:
    """Claude Code's Bash output without its "Exit code N" line, and that code."""
    match = _EXIT_CODE.match(output)
    if match:
        return output[match.end() :], int(match.group(1))
    return output, (None if is_error else 0)


class ClaudeStreamAdapter(JsonLinesAdapter):
    """Claude Code stream-json lines to transcript, tool events and spend."""

    format = "claude-stream-json"

    def __init__(self, workspace: Path | None = None) -> None:
        super().__init__(workspace)
        self.model = ""
        # Logged in to a plan rather than using an API key (init's apiKeySource).
        self.plan = False
        self._last_text = ""
        self._tool_names: dict[str, str] = {}
        # Sub-agents by the Task tool use that started them: their kind.
        self._subagents: dict[str, str] = {}
        # Usage per assistant message id: repeated lines of one message carry
        # the same usage, so keep the last one rather than adding them up.
        self._message_usage: dict[str, Usage] = {}
        # What each message said, in characters: output tokens when cut short.
        self._message_chars: dict[str, int] = {}
        self._charged = False

    def on_object(self, data: dict[str, Any], line: str) -> list[Item]:
        kind = data["type"]
        if kind == "system":
            return system_line(self, data, line)
        if kind == "assistant":
            return self._assistant(data, line)
        if kind == "user":
            return self._user(data, line)
        if kind == "result":
            return self._result(data)
        if kind == "stream_event":
            # Partial-message deltas (--include-partial-messages) repeat what
            # the whole assistant message says; the whole message is enough.
            return []
        return raw_once(self, kind, line)

    def finish(self) -> list[Item]:
        if not self.final_text:
            self.final_text = self._last_text
        closed = self.close_calls()
        if self._charged or not self._message_usage:
            return closed
        # No result line (killed, timed out, crashed): what the messages
        # reported, with output tokens worked out from what they said (the
        # lines carry the count from the start of each response).
        total = Usage()
        for msg_id, usage in self._message_usage.items():
            said = estimate_tokens(self._message_chars.get(msg_id, 0))
            total = total + usage.model_copy(
                update={"output_tokens": max(usage.output_tokens, said)}
            )
        return [
            *closed,
            Spend(total, None, self.model, "cut short", estimated=True, plan=self.plan),
        ]

    # -- line kinds --------------------------------------------------------
    def _assistant(self, data: dict[str, Any], line: str) -> list[Item]:
        message = data.get("message")
        if not isinstance(message, dict) or not isinstance(message.get("content"), list):
            return raw_once(self, "assistant", line)
        if message.get("model") == SYNTHETIC:
            # Claude Code's own words (an API error): not the agent's.
            said = " ".join(
                str(b.get("text", "")) for b in message["content"] if isinstance(b, dict)
            ).strip()
            # The result line that follows says what it means for the loop.
            return [Notice(message=f"Claude Code: {clip(said, 300)}")] if said else []
        parent = data.get("parent_tool_use_id")
        sub = self._subagents.get(str(parent), "sub-agent") if parent else None
        msg_id = str(message.get("id") or f"line-{len(self._message_usage)}")
        if sub is None:
            self.model = model_name(message.get("model")) or self.model
            if msg_id not in self._message_usage:
                self.turns += 1
        self._message_usage[msg_id] = usage_of(message.get("usage"))
        items: list[Item] = []
        for block in message["content"]:
            items.extend(self._block(block, msg_id, sub))
        return items

    def _block(self, block: Any, msg_id: str, sub: str | None) -> list[Item]:
        kind = block.get("type") if isinstance(block, dict) else None
        said = json.dumps(block) if kind not in ("text", "thinking") else ""
        if kind == "text":
            said = str(block.get("text", ""))
        elif kind == "thinking":
            said = str(block.get("thinking", ""))
        self._message_chars[msg_id] = self._message_chars.get(msg_id, 0) + len(said)
        if kind == "text":
            if not said:
                return []
            if sub is not None:
                return [AgentText(text=f"{sub}: {said}\n", kind="thinking")]
            self._last_text = said
            return [AgentText(text=said if said.endswith("\n") else said + "\n")]
        if kind == "thinking":
            return [AgentText(text=said + "\n", kind="thinking")] if said else []
        if kind == "redacted_thinking":
            return []
        if kind in ("tool_use", "server_tool_use") and block.get("id"):
            call_id, name = str(block["id"]), str(block.get("name") or "tool")
            tool_input = block.get("input")
            if not isinstance(tool_input, dict):
                tool_input = {"input": tool_input}
            if name in ("Task", "Agent"):
                self._subagents[call_id] = str(tool_input.get("subagent_type") or "sub-agent")
            if sub is not None:
                name = f"{sub}:{name}"
            self._tool_names[call_id] = name
            self.pending_calls[call_id] = name
            self.tool_calls += 1
            tool_input = with_relative_path(tool_input, self.workspace)
            return [ToolCall(call_id=call_id, name=name, input=tool_input)]
        return raw_once(self, f"block/{kind}", json.dumps(block))

    def _user(self, data: dict[str, Any], line: str) -> list[Item]:
        message = data.get("message")
        content = message.get("content") if isinstance(message, dict) else None
        if not isinstance(content, list):
            return raw_once(self, "user", line)
        extra = data.get("tool_use_result")
        interrupted = isinstance(extra, dict) and extra.get("interrupted") is True
        items: list[Item] = []
        for block in content:
            kind = block.get("type") if isinstance(block, dict) else None
            if kind == "tool_result":
                items.append(self._tool_result(block, interrupted))
            elif kind == "text" and data.get("parent_tool_use_id"):
                continue  # a sub-agent's prompt: its task_started line said it
            elif kind == "text":
                said = clip(str(block.get("text", "")), 300)
                items.append(Notice(level="warning", message=f"Claude Code: {said}"))
            else:
                items.extend(raw_once(self, f"user/{kind}", json.dumps(block)))
        return items

    def _tool_result(self, block: dict[str, Any], interrupted: bool) -> ToolResult:
        call_id = str(block.get("tool_use_id", ""))
        name = self._tool_names.get(call_id, "tool")
        self.pending_calls.pop(call_id, None)
        output = tool_output(block.get("content"))
        is_error = bool(block.get("is_error"))
        code = None
        if name.rsplit(":", 1)[-1] == "Bash":
            output, code = bash_result(output, is_error)
        return ToolResult(
            call_id=call_id,
            name=name,
            output=clip(output, TOOL_OUTPUT_CHARS),
            is_error=is_error or bool(code),
            exit_code=code,
            interrupted=interrupted,
        )

    def _result(self, data: dict[str, Any]) -> list[Item]:
        subtype = str(data.get("subtype") or "")
        said = data.get("result")
        text = said if isinstance(said, str) else ""
        self.turns = max(self.turns, as_int(data.get("num_turns")) if self.turns else 0)
        items: list[Item] = []
        api_failed = data.get("api_error_status") is not None or (
            data.get("is_error") and subtype == "success"
        )
        if api_failed:
            # The result text is Claude Code's error message, not the agent's.
            self.final_text = self._last_text
            self.error = "api_error"
            if self.failure is None or self.failure.kind != "auth":
                self.failure = api_failure(data, text)
            items.append(Notice(level="error", message=self.failure.message))
        else:
            self.final_text = text or self._last_text
            notice = limit_notice(subtype, data) if subtype != "success" else None
            if notice is not None:
                self.error = subtype.removeprefix("error_") or "error"
                items.append(notice)
            elif data.get("is_error"):
                self.error = subtype or "error"
                message = f"Claude Code failed: {clip(text, 300)}"
                items.append(Notice(level="error", message=message))
        items.extend(self.close_calls())
        items.extend(denial_notices(data))
        items.extend(self._spend(data, subtype))
        return items

    def _spend(self, data: dict[str, Any], subtype: str) -> list[Item]:
        # modelUsage covers every model (sub-agents, the small helper model);
        # older versions only have ``usage``, which may hold just the main
        # model or the last request, so take the larger of it and the sum of
        # the messages seen, field by field.
        usage = model_usage_total(data.get("modelUsage"))
        if usage is None:
            seen = sum(self._message_usage.values(), Usage())
            usage = _field_max(usage_of(data.get("usage")), seen)
        cost = as_cost(data.get("total_cost_usd"))
        self._charged = True
        if not usage.total and not cost:
            return []
        stop = str(data.get("stop_reason") or subtype or "end_turn")
        return [Spend(usage, cost, self.model, stop, plan=self.plan)]
