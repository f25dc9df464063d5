"""Codex's ``codex exec --json``.

One JSON object per line, tagged by ``type``:

- ``thread.started`` (``thread_id``), ``turn.started``.
- ``item.started`` / ``item.updated`` / ``item.completed`` with an ``item``
  whose own ``type`` is ``agent_message`` (``text``), ``reasoning``
  (``text``), ``command_execution`` (``command``, ``aggregated_output``,
  ``exit_code``, ``status``), ``file_change`` (``changes``: path and kind,
  ``status``), ``mcp_tool_call``, ``web_search``, ``todo_list`` or ``error``.
- ``turn.completed`` with ``usage`` (``input_tokens``, ``cached_input_tokens``,
  ``output_tokens``), summed over the turn's requests; ``turn.failed`` and
  ``error`` with a message. While its API fails Codex prints ``error`` lines
  "Reconnecting... 2/5 (…)", then the last error and ``turn.failed``.

Its log lines (``2026-…Z ERROR codex_core::…: …``, e.g. a patch the sandbox
rejected) and usage errors come on stderr, as plain text. Codex reports tokens
but no cost; the engine prices them with the spec's model.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, Literal

from tui.agents.adapter_base import (
    TOOL_OUTPUT_CHARS,
    ApiFailure,
    Item,
    JsonLinesAdapter,
    Spend,
    as_int,
    clip,
    estimate_tokens,
    raw_once,
    relative_path,
)
from tui.events import AgentText, Notice, ToolCall, ToolResult, Usage

# Item types that are tool use: what to call the tool and what input to show.
_TOOLS = {"command_execution", "file_change", "mcp_tool_call", "web_search"}
_FAILED = {"failed", "declined"}
_RECONNECTING = re.compile(r"\AReconnecting\.\.\. (\d+)/(\d+) \((.*)\)\Z", re.DOTALL)
_AUTH = re.compile(r"\b(401|403)\b|unauthori[sz]ed|invalid api key|incorrect api key", re.I)
_WAITING = re.compile(r"\AReconnecting\.\.\. waiting for network \((.*)\)\Z", re.DOTALL)
# Codex retries a refused connection without end ("waiting for network");
# after this many waits (about 90 s) the session is ended and the loop pauses.
NETWORK_WAITS = 5
_URL = re.compile(r",? url: \S+")
_LOG_LINE = re.compile(r"\A\S+Z\s+(ERROR|WARN|INFO|DEBUG|TRACE)\s+(\S+?):?\s+(.*)\Z")
KEY_ADVICE = "check the provider's API key (its env_key) and start the run again"
RESUME_ADVICE = "the loop waits for you: resume when the API is back"


def _short(message: str) -> str:
    """Codex's error without its request URL: '401 Unauthorized: invalid api key'."""
    text = _URL.sub("", message).removeprefix("unexpected status ").strip()
    return clip(text, 200)


def api_failure(message: str) -> ApiFailure:
    """What Codex's last error before giving up means for the loop."""
    message = _short(message)
    if _AUTH.search(message):
        return ApiFailure(
            "auth", f"Codex's API rejected the key ({clip(message, 200)}); {KEY_ADVICE}."
        )
    return ApiFailure(
        "unavailable",
        f"Codex's API failed past its retries ({clip(message, 200)}); {RESUME_ADVICE}.",
    )


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

    def __init__(self, workspace: Path | None = None) -> None:
        super().__init__(workspace)
        self._open_tools: set[str] = set()
        self._charged = False
        # What was streamed, for an estimate when the session is cut short.
        self._said_chars = 0
        self._read_chars = 0
        self._retries = 0
        self._network_waits = 0

    def finish(self) -> list[Item]:
        closed = self.close_calls()
        if self._charged or not (self._said_chars or self._read_chars or self.tool_calls):
            return closed
        # Killed before turn.completed: each request re-reads the prompt and
        # what the tools returned so far; Codex's own instructions are not
        # seen here, so this is a floor.
        requests = self.tool_calls + 1
        prompt = estimate_tokens(self.prompt_chars)
        usage = Usage(
            input_tokens=requests * prompt + estimate_tokens(self._read_chars),
            output_tokens=estimate_tokens(self._said_chars),
        )
        return [*closed, Spend(usage, None, "", "cut short", estimated=True)]

    def on_stray(self, line: str) -> list[Item]:
        stripped = line.strip()
        if stripped.startswith("WARNING: "):
            # Its own start-up chatter ("could not create PATH aliases").
            return [Notice(message=f"Codex: {clip(stripped.removeprefix('WARNING: '), 300)}")]
        match = _LOG_LINE.match(stripped)
        if match is None:
            return super().on_stray(line)
        level, _where, text = match.groups()
        text = clip(text.removeprefix("error="), 300)
        if level == "ERROR" and "rejected" in text:
            message = (
                f"the agent was denied a tool: {text} (widen Codex's --sandbox if it needs it)"
            )
            return [Notice(level="warning", message=message)]
        if level == "ERROR":
            return [Notice(level="warning", message=f"Codex: {text}")]
        if level == "WARN":
            return [Notice(message=f"Codex: {text}")]
        return []

    def on_object(self, data: dict[str, Any], line: str) -> list[Item]:
        kind = data["type"]
        if kind in ("thread.started", "turn.started", "item.updated", "item.plan.delta"):
            # Bookkeeping or progress whose outcome arrives in a later line.
            return []
        if kind == "turn.completed":
            self.turns += 1
            self._charged = True
            return [Spend(codex_usage(data.get("usage")), None, "", "turn.completed")]
        if kind == "error":
            return self._error(_message(data))
        if kind == "turn.failed":
            message = _message(data)
            if self.failure is None:
                self.failure = api_failure(message)
            self.error = "api_error"
            if self.abort:
                return []  # said when the session was ended
            return [Notice(level="error", message=self.failure.message)]
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
            return raw_once(self, kind, line)
        if not isinstance(item.get("type"), str):
            return raw_once(self, f"{kind}/?", line)
        return self._item(item, completed=kind == "item.completed", line=line)

    def _error(self, message: str) -> list[Item]:
        """A bare ``error`` line: a reconnect, or the last word before turn.failed."""
        waiting = _WAITING.match(message)
        if waiting is not None:
            return self._waiting(_short(waiting.group(1)))
        match = _RECONNECTING.match(message)
        if match is None:
            self.failure = api_failure(message)
            return []  # turn.failed follows and says it once
        attempt, most, why = int(match.group(1)), match.group(2), _short(match.group(3))
        self._retries = attempt
        self.retries += 1
        if self.abort:
            return []  # already said, and the session is being ended
        if _AUTH.search(why):
            # Reconnecting cannot fix a rejected key: end the session now.
            self.failure = api_failure(why)
            self.abort = self.failure.message
            return [Notice(level="error", message=self.failure.message)]
        level: Literal["warning", "info"] = "warning" if attempt <= 1 else "info"
        text = f"Codex is retrying its API ({why}): attempt {attempt} of {most}."
        return [Notice(level=level, message=text)]

    def _item(self, item: dict[str, Any], *, completed: bool, line: str) -> list[Item]:
        kind = item["type"]
        item_id = str(item.get("id") or f"item-{self.tool_calls}")
        if kind in _TOOLS:
            items: list[Item] = []
            name, tool_input = _tool_call(item)
            if kind == "file_change":
                tool_input = self._with_paths(tool_input)
            if item_id not in self._open_tools:
                # file_change arrives only completed; announce the call first
                # so every tool result has its call.
                self._open_tools.add(item_id)
                self.pending_calls[item_id] = name
                self._said_chars += len(json.dumps(tool_input))
                self.tool_calls += 1
                items.append(ToolCall(call_id=item_id, name=name, input=tool_input))
            if completed:
                output, is_error, code = _tool_result(item)
                self.pending_calls.pop(item_id, None)
                if kind == "file_change":
                    output = self._relative_lines(output)
                self._read_chars += len(output)
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
        self._said_chars += len(text)
        if kind in ("agent_message", "assistant_message"):
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
        return raw_once(self, f"item/{kind}", line)

    def _waiting(self, why: str) -> list[Item]:
        """Codex waits for an unreachable API without end: give up after a while."""
        self._network_waits += 1
        if self.abort:
            return []
        if self._network_waits >= NETWORK_WAITS:
            self.failure = ApiFailure(
                "unavailable",
                f"Codex cannot reach its API ({why}) and would wait without end; {RESUME_ADVICE}.",
            )
            self.abort = self.failure.message
            return [Notice(level="error", message=self.failure.message)]
        level: Literal["warning", "info"] = "warning" if self._network_waits == 1 else "info"
        count = f"{self._network_waits} of {NETWORK_WAITS}"
        text = f"Codex cannot reach its API ({why}): waiting, {count}."
        return [Notice(level=level, message=text)]

    def _with_paths(self, tool_input: dict[str, Any]) -> dict[str, Any]:
        """A file_change's input with ``path``: the files, relative to the workspace."""
        paths = [
            relative_path(c.get("path"), self.workspace) or str(c.get("path", "?"))
            for c in tool_input.get("changes") or []
            if isinstance(c, dict)
        ]
        return {**tool_input, "path": ", ".join(paths)} if paths else tool_input

    def _relative_lines(self, output: str) -> str:
        """'update /ws/calc.py' lines with the path made relative to the workspace."""
        lines = []
        for line in output.splitlines():
            verb, _, path = line.partition(" ")
            lines.append(f"{verb} {relative_path(path, self.workspace) or path}" if path else line)
        return "\n".join(lines)
