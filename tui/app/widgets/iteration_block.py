"""IterationBlock: one iteration in the transcript, from its prompt to its decision."""

from __future__ import annotations

from markdown_it import MarkdownIt
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.content import Content
from textual.widget import Widget
from textual.widgets import Markdown, Static
from textual.widgets.markdown import MarkdownStream

from tui.app.store import IterationRecord, TextBlock
from tui.app.widgets.hidden_note import HiddenNote
from tui.app.widgets.prompt_separator import PromptSeparator
from tui.app.widgets.tool_entry import ToolEntry
from tui.events import ToolCall, ToolResult

# Text kinds shown as printed: lines no adapter understood, plain-text agents.
VERBATIM = ("raw", "plain")


class RawText(Static):
    """Output of an agent that prints plain text: shown verbatim, never as Markdown."""

    def __init__(self, text: str = "", **kwargs) -> None:
        super().__init__(Content(text.rstrip("\n")), markup=False, **kwargs)
        self.text = text

    def append(self, text: str) -> None:
        self.text += text
        self.update(Content(self.text.rstrip("\n")))


def _parser() -> MarkdownIt:
    # No linkify: agents name files like fizzbuzz.py, which is not a web address.
    return MarkdownIt("gfm-like", {"linkify": False})


# A text block moves on to a new Markdown widget past this many characters
# (at a paragraph break), so appends never re-parse a long document.
CHUNK_CHARS = 1_200


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
        self._md: Markdown | RawText | None = None
        self._kind = ""
        self._stream: MarkdownStream | None = None
        self._tools: dict[str, ToolEntry] = {}
        self._md_chars = 0
        self.hidden = 0  # entries pruned from the top
        self._initial: list[Widget] = []  # entries mounted with the block (preload)

    def compose(self) -> ComposeResult:
        body = Static(Content(self._prompt or "(prompt not recorded)"), classes="prompt-text")
        yield PromptSeparator(body, title=f"Iteration {self.number} · prompt", collapsed=True)
        yield from self._initial
        self._initial = []

    async def add_text(self, kind: str, text: str, keep_chars: int | None = None) -> None:
        """Append assistant text; a new kind (text / thinking / raw) starts a new block.

        With ``keep_chars``, a burst longer than that is cut to its tail first:
        the head would be pruned as soon as it was mounted.
        """
        if not self.is_attached:  # the app is closing
            return
        brk = "\n" if kind in VERBATIM else "\n\n"
        if keep_chars is not None and len(text) > keep_chars:
            cut = text.find(brk, len(text) - keep_chars)
            if cut >= 0:
                await self.end_text()
                skipped = len(text[:cut].split(brk))
                text = text[cut + len(brk) :]
                await self._note_hidden(skipped)
                if not text:
                    return
        if self._md is None or kind != self._kind:
            await self.end_text()
            await self._open(kind)
        while True:
            # Past CHUNK_CHARS, finish this chunk at the next break; the rest
            # opens a new one (a burst may hold many chunks' worth).
            cut = text.find(brk, max(0, CHUNK_CHARS - self._md_chars))
            if cut < 0:
                break
            await self._write(text[: cut + len(brk)])
            await self.end_text()
            text = text[cut + len(brk) :]
            if not text:
                return
            await self._open(kind)
        await self._write(text)

    async def _open(self, kind: str) -> None:
        if kind in VERBATIM:
            self._md = RawText(classes=f"agent-text -{kind}")
        else:
            self._md = Markdown(classes=f"agent-text -{kind}", parser_factory=_parser)
        self._kind = kind
        self._md_chars = 0
        await self.mount(self._md)

    async def _write(self, text: str) -> None:
        if self._md is None:
            # A note (a hand-back, a rewind) ended the block while it was being
            # mounted: the text goes on in a new one.
            await self._open(self._kind or "text")
        assert self._md is not None
        if isinstance(self._md, RawText):
            self._md_chars += len(text)
            self._md.append(text)
            return
        if self._stream is None:
            self._stream = Markdown.get_stream(self._md)
        self._md_chars += len(text)
        await self._stream.write(text)

    async def end_text(self) -> None:
        """Finish the text block in progress, if any."""
        if self._stream is not None:
            await self._stream.stop()
        self._stream = None
        self._md = None

    async def add_tool(
        self, call: ToolCall, result: ToolResult | None = None, partial: str | None = None
    ) -> None:
        """Show a tool call; a call already shown while its input streamed is completed."""
        if not self.is_attached:
            return
        entry = self._tools.get(call.call_id)
        if entry is not None:
            if partial is not None:
                entry.set_partial(partial)
            else:
                entry.set_call(call)
            return
        await self.end_text()
        entry = ToolEntry(call, result, partial)
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

    def entries(self) -> list[Widget]:
        """The widgets after the prompt separator and the hidden-entries note."""
        return [c for c in self.children if not isinstance(c, PromptSeparator | HiddenNote)]

    def prunable(self) -> list[Widget]:
        """Entries that may be pruned, oldest first (not the text streaming now)."""
        return [w for w in self.entries() if w is not self._md]

    async def drop(self, widgets: list[Widget]) -> None:
        """Remove old entries and say how many are hidden."""
        if not widgets:
            return
        for widget in widgets:
            if isinstance(widget, ToolEntry):
                self._tools.pop(widget.call.call_id, None)
        await self.remove_children(widgets)
        await self._note_hidden(len(widgets))

    async def _note_hidden(self, count: int) -> None:
        self.hidden += count
        note = self.query(HiddenNote)
        if note:
            note.first().update(self._hidden_text())
        else:
            await self.mount(HiddenNote(self._hidden_text()), after=0)

    def preload(
        self,
        record: IterationRecord,
        live: bool,
        keep: int,
        notes: list[tuple[str, str]] = (),  # type: ignore[assignment]
    ) -> None:
        """Build the block from the store before it is mounted: at most ``keep`` entries
        (the newest), then ``notes`` (text, kind); all mount with the block, in one go.

        ``live`` leaves the last text block open for the deltas still to come.
        """
        widgets: list[Widget] = []
        last_md: tuple[Markdown | RawText, str, int] | None = None
        entries = record.entries
        for i, entry in enumerate(entries):
            if isinstance(entry, TextBlock):
                open_end = live and i == len(entries) - 1
                chunks = _chunks(entry.text, "\n" if entry.kind in VERBATIM else "\n\n")
                for chunk in chunks:
                    classes = f"agent-text -{entry.kind}"
                    md: Markdown | RawText
                    if entry.kind in VERBATIM:
                        md = RawText(chunk, classes=classes)
                    else:
                        md = Markdown(chunk, classes=classes, parser_factory=_parser)
                    widgets.append(md)
                    last_md = (md, entry.kind, len(chunk)) if open_end else None
            else:
                partial = entry.partial if entry.streaming else None
                tool = ToolEntry(entry.call, entry.result, partial)
                self._tools[entry.call.call_id] = tool
                widgets.append(tool)
        if len(widgets) > keep:
            self.hidden = len(widgets) - keep
            widgets = [HiddenNote(self._hidden_text()), *widgets[-keep:]]
        if last_md is not None and last_md[0] in widgets:
            self._md, self._kind, self._md_chars = last_md
        widgets += [Static(Content(text), classes=f"note {kind}") for text, kind in notes]
        self._initial = widgets

    def _hidden_text(self) -> str:
        return f"… {self.hidden} earlier entries are not shown (the journal has them all)"


def _chunks(text: str, brk: str) -> list[str]:
    """``text`` cut at breaks into pieces of about CHUNK_CHARS."""
    out: list[str] = []
    start = 0
    while len(text) - start > CHUNK_CHARS:
        cut = text.find(brk, start + CHUNK_CHARS)
        if cut < 0:
            break
        out.append(text[start : cut + len(brk)])
        start = cut + len(brk)
    out.append(text[start:])
    return out
