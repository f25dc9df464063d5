"""IterationBlock: one iteration in the transcript, from its prompt to its decision."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.content import Content
from textual.widgets import Collapsible, Markdown, Static
from textual.widgets.markdown import MarkdownStream

from tui.app.store import IterationRecord, TextBlock
from tui.app.widgets.tool_entry import ToolEntry
from tui.events import ToolCall, ToolResult

_FENCE = "```\n"


class PromptSeparator(Collapsible):
    """The iteration's rule; expands to the prompt the agent was given."""

    ALLOW_MAXIMIZE: ClassVar[bool | None] = False


class IterationBlock(Vertical):
    """Streams an iteration's text and tool calls as they happen.

    Assistant text goes through ``Markdown.get_stream``, so each delta is
    appended (and coalesced when the screen is busy) instead of re-rendering
    the whole text.
    """

    def __init__(self, number: int, prompt: str = "") -> None:
        super().__init__(classes="iteration-block")
        self.number = number
        self._prompt = prompt
        self._md: Markdown | None = None
        self._kind = ""
        self._stream: MarkdownStream | None = None
        self._tools: dict[str, ToolEntry] = {}

    def compose(self) -> ComposeResult:
        body = Static(Content(self._prompt or "(prompt not recorded)"), classes="prompt-text")
        yield PromptSeparator(body, title=f"Iteration {self.number} · prompt", collapsed=True)

    async def add_text(self, kind: str, text: str) -> None:
        """Append assistant text; a new kind (text / thinking / raw) starts a new block."""
        if not self.is_attached:  # the app is closing
            return
        if self._md is None or kind != self._kind:
            await self.end_text()
            self._md = Markdown(classes=f"agent-text -{kind}")
            self._kind = kind
            await self.mount(self._md)
            if kind == "raw":
                text = _FENCE + text
        if self._stream is None:
            self._stream = Markdown.get_stream(self._md)
        await self._stream.write(text)

    async def end_text(self) -> None:
        """Finish the text block in progress, if any."""
        if self._stream is not None:
            if self._kind == "raw":
                await self._stream.write("\n```")
            await self._stream.stop()
        self._stream = None
        self._md = None

    async def add_tool(self, call: ToolCall, result: ToolResult | None = None) -> None:
        if not self.is_attached:
            return
        await self.end_text()
        entry = ToolEntry(call, result)
        self._tools[call.call_id] = entry
        await self.mount(entry)

    def set_result(self, result: ToolResult) -> bool:
        """Show a tool's result; False when its call is not in this block."""
        entry = self._tools.get(result.call_id)
        if entry is None:
            return False
        entry.set_result(result)
        return True

    async def add_note(self, text: str, kind: str = "") -> None:
        """A one-line remark in the transcript (agent finished, decision, hint...)."""
        if not self.is_attached:
            return
        await self.end_text()
        await self.mount(Static(Content(text), classes=f"note {kind}".strip()))

    async def replay(self, record: IterationRecord, live: bool) -> None:
        """Rebuild from the store; ``live`` leaves the last text block open for more."""
        entries = record.entries
        for i, entry in enumerate(entries):
            if isinstance(entry, TextBlock):
                last = live and i == len(entries) - 1
                text = entry.text
                if entry.kind == "raw":
                    text = _FENCE + text + ("" if last else "\n```")
                md = Markdown(text, classes=f"agent-text -{entry.kind}")
                await self.mount(md)
                if last:
                    self._md, self._kind = md, entry.kind
            else:
                await self.add_tool(entry.call, entry.result)
