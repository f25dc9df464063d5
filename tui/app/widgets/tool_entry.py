"""ToolEntry: one tool call in the transcript, collapsed to a single line."""

from __future__ import annotations

from typing import Any

from textual.content import Content
from textual.widgets import Collapsible, Static

from tui.events import ToolCall, ToolResult

# Lines of tool output shown when an entry is expanded (head and tail).
SHOWN_LINES = 40


def _short(text: str, width: int = 60) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


def call_summary(name: str, data: dict[str, Any]) -> str:
    """'bash: pytest -q', 'str_replace fizzbuzz.py', 'view src/x.py'."""
    if name == "bash":
        if data.get("restart"):
            return "bash: restart"
        return f"bash: {_short(str(data.get('command', '')))}"
    if "command" in data and "path" in data:
        return f"{data['command']} {data['path']}"
    if "path" in data:
        return f"{name} {data['path']}"
    first = next((v for v in data.values() if isinstance(v, str)), "")
    return f"{name}: {_short(first)}" if first else name


def result_summary(result: ToolResult) -> str:
    """'exit 1 · 2 failed, 5 passed' or 'ok' or 'error: no match'."""
    last = next((ln for ln in reversed(result.output.splitlines()) if ln.strip()), "")
    if result.interrupted:
        return "interrupted"
    if result.exit_code is not None:
        tail = f" · {_short(last, 40)}" if last else ""
        return f"exit {result.exit_code}{tail}"
    if result.is_error:
        first = next((ln for ln in result.output.splitlines() if ln.strip()), "error")
        return f"error: {_short(first, 40)}"
    return "ok"


def _head_tail(text: str, lines: int = SHOWN_LINES) -> str:
    rows = text.splitlines()
    if len(rows) <= lines:
        return text
    half = lines // 2
    cut = len(rows) - 2 * half
    return "\n".join([*rows[:half], f"[... {cut} lines ...]", *rows[-half:]])


def _input_text(name: str, data: dict[str, Any]) -> str:
    if name == "bash":
        return f"$ {data.get('command', '')}"
    parts = []
    for key, value in data.items():
        if key in ("command", "path"):
            continue
        parts.append(f"{key}:\n{value}" if "\n" in str(value) else f"{key}: {value}")
    return "\n".join(parts)


def _tail(text: str, lines: int = 12) -> str:
    return "\n".join(text.splitlines()[-lines:])


class ToolEntry(Collapsible):
    """``▶ bash: pytest -q → exit 1 · 2 failed``; expands to input and output.

    While the model still writes the call's input (streamed), the entry shows
    ``▶ str_replace_based_edit_tool: writing its input… 240 chars`` and,
    expanded, the tail of what it wrote so far.
    """

    # Maximising works on whole panes, not on entries inside them.
    ALLOW_MAXIMIZE = False

    def __init__(
        self, call: ToolCall, result: ToolResult | None = None, partial: str | None = None
    ) -> None:
        # The input and output are written into these only when the entry is
        # expanded: most entries never are, and a file's text can be long.
        self._output = Static("", classes="tool-output")
        self._details = Static("", classes="tool-input")
        super().__init__(
            self._details,
            self._output,
            title=call_summary(call.name, call.input),
            collapsed=True,
        )
        self.call = call
        self.result: ToolResult | None = None
        self.partial: str | None = None
        self.add_class("-pending")
        if partial is not None:
            self.set_partial(partial)
        if result is not None:
            self.set_result(result)

    def set_partial(self, text: str) -> None:
        """Show the input written so far (ToolInputDelta), before the call is complete."""
        self.partial = text
        self.title = f"{self.call.name}: writing its input… {len(text)} chars"
        self._fill()

    def set_call(self, call: ToolCall) -> None:
        """The call is complete: show its summary and input."""
        self.call = call
        self.partial = None
        self.title = call_summary(call.name, call.input)
        self._fill()

    def set_result(self, result: ToolResult) -> None:
        """Show how the call ended."""
        self.result = result
        self.title = f"{call_summary(self.call.name, self.call.input)} → {result_summary(result)}"
        failed = result.is_error or (result.exit_code not in (None, 0))
        self.remove_class("-pending")
        self.set_class(failed, "-failed")
        self._fill()

    def watch_collapsed(self, collapsed: bool) -> None:
        if not collapsed:
            self._fill()

    def _fill(self) -> None:
        """Write the input and output into the expanded entry."""
        if self.collapsed:
            return
        if self.partial is not None:
            self._details.update(Content(_tail(self.partial)))
        else:
            self._details.update(Content(_input_text(self.call.name, self.call.input)))
        output = _head_tail(self.result.output) if self.result is not None else ""
        self._output.update(Content(output))
