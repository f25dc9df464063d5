"""Output adapters: what an agent CLI prints, turned into loop events.

The command backend reads the CLI's output line by line and hands each
complete line to the adapter chosen by ``agent.format``:

- ``text``: every line is transcript text, as it comes.
- ``claude-stream-json``: Claude Code's ``-p --output-format stream-json
  --verbose`` (see :mod:`tui.agents.adapter_claude`).
- ``codex-json``: ``codex exec --json`` (see :mod:`tui.agents.adapter_codex`).

Adapters are pure: they turn a line into events and :class:`Spend` records
and never touch the engine, so they are tested with plain strings. A line an
adapter does not understand becomes an ``AgentText`` of kind ``raw`` (once per
kind of line); no line ever stops the loop. An adapter also says when the CLI
reported its API failing (``failure``: pause, or stop on a rejected key) and
when the CLI should be ended at once (``abort``: it retries what cannot work).
"""

from __future__ import annotations

from collections import deque
from pathlib import Path

from tui.agents.adapter_base import (
    FINAL_TEXT_CHARS,
    RAW_LINE_CHARS,
    ApiFailure,
    Item,
    OutputAdapter,
    Spend,
    clip,
    strip_ansi,
)
from tui.agents.adapter_claude import ClaudeStreamAdapter
from tui.agents.adapter_codex import CodexJsonAdapter
from tui.events import AgentText

FINAL_PARAGRAPH_LINES = 20

__all__ = [
    "ApiFailure",
    "ClaudeStreamAdapter",
    "CodexJsonAdapter",
    "Item",
    "OutputAdapter",
    "Spend",
    "TextAdapter",
    "make_adapter",
]


class TextAdapter(OutputAdapter):
    """Plain output: each line is transcript text.

    The final text is the last paragraph (the lines after the last blank
    line, at most :data:`FINAL_PARAGRAPH_LINES` of them): where a CLI or a
    script says how it went, and what the next prompt quotes back to it.
    """

    format = "text"

    def __init__(self, workspace: Path | None = None) -> None:
        self._paragraph: deque[str] = deque(maxlen=FINAL_PARAGRAPH_LINES)
        super().__init__(workspace)
        self._closed = False

    # Worked out when read, not joined again on every line.
    @property
    def final_text(self) -> str:  # type: ignore[override]
        return "\n".join(self._paragraph)[-FINAL_TEXT_CHARS:]

    @final_text.setter
    def final_text(self, _value: str) -> None:
        """The base class starts every adapter with an empty final text."""

    def feed(self, line: str) -> list[Item]:
        # Colour codes and carriage-return progress bars are for terminals;
        # keep what a person would have seen last on the line.
        text = strip_ansi(line).rsplit("\r", 1)[-1]
        if not text.strip():
            self._closed = True
        else:
            if self._closed:
                self._paragraph.clear()
                self._closed = False
            self._paragraph.append(text)
        return [AgentText(text=clip(text, RAW_LINE_CHARS) + "\n")]


ADAPTERS: dict[str, type[OutputAdapter]] = {
    adapter.format: adapter for adapter in (TextAdapter, ClaudeStreamAdapter, CodexJsonAdapter)
}


def make_adapter(fmt: str, workspace: Path | None = None) -> OutputAdapter:
    """A fresh adapter for one iteration's output in format ``fmt``.

    Paths in tool calls under ``workspace`` are shown relative to it.
    """
    try:
        return ADAPTERS[fmt](workspace)
    except KeyError:
        raise ValueError(f"unknown output format {fmt!r}") from None
