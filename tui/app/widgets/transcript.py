"""TranscriptPane: what the agent says and does, live or for an earlier iteration."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator, Sequence
from typing import cast

from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Markdown, Static
from textual.worker import Worker

from tui.app.store import RunStore
from tui.app.widgets.iteration_block import CHUNK_CHARS, IterationBlock, RawText
from tui.app.widgets.pane import Pane
from tui.events import (
    AgentFinished,
    AgentText,
    Checkpointed,
    ControlApplied,
    Decided,
    Event,
    GoalChanged,
    HintAdded,
    InstructionSet,
    IterationReceipt,
    IterationStarted,
    Paused,
    RunFinished,
    ToolCall,
    ToolInputDelta,
    ToolResult,
)
from tui.spend import receipt_text

# Events that leave a line in the newest iteration (human actions, pauses, the end).
_NOTED = (
    GoalChanged,
    HintAdded,
    Paused,
    RunFinished,
    Checkpointed,
    ControlApplied,
    InstructionSet,
)
# Iterations kept on screen while following the run; older ones are pruned
# (the store still has them, the timeline brings them back).
KEEP_BLOCKS = 3
# Entries (text chunks, tool calls, notes) kept on screen in all; beyond
# this the oldest go, so layout and restyling stay cheap in long iterations.
KEEP_ENTRIES = 60
# Text chunks (about CHUNK_CHARS each) kept on screen: a screenful or three.
KEEP_TEXT_CHUNKS = 12
# While text floods in, render at most this often (seconds), so a burst is
# one layout pass rather than hundreds.
FRAME_S = 0.05


def coalesce(events: Sequence[Event]) -> Iterator[Event]:
    """Join runs of text deltas of one kind, so a burst becomes one write.

    Runs of tool input deltas of one call become their last one: the entry
    shows the input written so far, which the store keeps.
    """
    pending: AgentText | None = None
    parts: list[str] = []
    for i, event in enumerate(events):
        if isinstance(event, ToolInputDelta):
            following = events[i + 1] if i + 1 < len(events) else None
            if isinstance(following, ToolInputDelta) and following.call_id == event.call_id:
                continue
        if isinstance(event, AgentText):
            if pending is not None and (pending.kind, pending.iteration) == (
                event.kind,
                event.iteration,
            ):
                parts.append(event.text)
                continue
            if pending is not None:
                yield pending.model_copy(update={"text": "".join(parts)})
            pending, parts = event, [event.text]
            continue
        if pending is not None:
            yield pending.model_copy(update={"text": "".join(parts)})
            pending, parts = None, []
        yield event
    if pending is not None:
        yield pending.model_copy(update={"text": "".join(parts)})


def decision_note(e: Decided) -> str:
    checks = f" · {e.passing_checks}/{e.total_checks} checks passing" if e.total_checks else ""
    return f"decision: {e.action}{checks} — {e.reason}"


def decision_classes(e: Decided) -> str:
    """``-continue``, ``-pause``; a stop is coloured by its outcome (budget: no success)."""
    if e.action != "stop":
        return f"-{e.action}"
    return "-stop -goal-met" if e.outcome == "goal_met" else "-stop -not-met"


def rewind_note(iteration: int) -> str:
    return (
        f"rewound: the workspace is back to how iteration {iteration} left it; "
        "the next iteration starts from there"
    )


def _count(n: int, word: str) -> str:
    return f"{n} {word}" + ("" if n == 1 else "s")


def agent_note(e: AgentFinished) -> str:
    """``agent finished (end_turn) · 3 turns · 5 tool calls``; counts of nothing are left out."""
    parts = [f"agent finished ({e.stop})"]
    if e.turns:
        parts.append(_count(e.turns, "turn"))
    if e.tool_calls:
        parts.append(_count(e.tool_calls, "tool call"))
    if e.claims_done:
        parts.append("says it is done")
    return " · ".join(parts)


def receipt_note(e: IterationReceipt) -> str | None:
    """``spent: $0.0123 for 1,820 tokens (...)``; None when nothing was spent or retried."""
    if not (e.usage.total or e.cost_usd or e.retries):
        return None
    return f"spent: {receipt_text(e)}"


class TranscriptPane(Pane):
    """Streams the live iteration, or shows one earlier iteration in full."""

    TITLE = "Transcript"

    def __init__(self, store: RunStore, **kwargs) -> None:
        super().__init__(**kwargs)
        self.store = store
        self.shown: int | None = None  # None: following the live run
        # Said after the iteration number when an earlier one is shown (not in a replay).
        self.history_mark = " (history)"
        self._blocks: dict[int, IterationBlock] = {}
        self._queue: list[list[Event] | int | None] = []
        self._renderer: Worker | None = None
        self.timeline_key = "l"  # the key that focuses the timeline (the screen sets it)

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="transcript-scroll"):
            yield Static(id="transcript-older", classes="note")
            yield Static(id="transcript-waiting")

    def on_mount(self) -> None:
        super().on_mount()
        # Text laid out a frame or two after it was written still moves the tail.
        self.watch(self.scroller, "virtual_size", self._content_grew, init=False)

    def _content_grew(self) -> None:
        self.call_after_refresh(self._follow)

    def show_waiting(self, text: str | None) -> None:
        """The line shown before the first iteration starts (None hides it)."""
        waiting = self.query_one("#transcript-waiting", Static)
        waiting.display = text is not None
        if text is not None:
            waiting.update(text)

    @property
    def scroller(self) -> VerticalScroll:
        return self.query_one("#transcript-scroll", VerticalScroll)

    def _follow(self) -> None:
        """Anchor to the tail once the text overflows the pane.

        Follows the tail until the user scrolls up; scrolling back down
        resumes. Anchoring earlier would pin short content to the bottom
        (Textual lets an anchored scroll go negative).
        """
        scroller = self.scroller
        if scroller.is_anchored and scroller.max_scroll_y <= 0:
            # Everything fits (the pane grew, e.g. maximised): top-align again.
            scroller.anchor(False)
            scroller.scroll_to(y=0, animate=False, immediate=True)
        elif self.shown is None and not scroller.is_anchored and scroller.max_scroll_y > 0:
            scroller.anchor()

    def on_resize(self) -> None:
        self.call_after_refresh(self._follow)

    async def _block(self, number: int) -> IterationBlock:
        block = self._blocks.get(number)
        if block is None:
            record = self.store.record(number)
            block = IterationBlock(number, record.prompt if record else "")
            self._blocks[number] = block
            await self.scroller.mount(block)
            await self._prune()
        return block

    async def _prune(self) -> None:
        old = sorted(self._blocks)[:-KEEP_BLOCKS]
        for number in old:
            await self._blocks.pop(number).remove()
        self._show_older()

    def _show_older(self) -> None:
        """Say how many earlier iterations are not on screen, and how to see them."""
        found = self.query("#transcript-older")
        if not found or not self.is_attached:
            return  # the app is closing
        older = found.first(Static)
        first = min(self._blocks) if self._blocks and self.shown is None else 1
        hidden = sum(1 for n in self.store.numbers() if n < first)
        older.display = hidden > 0
        if hidden:
            plural = "s are" if hidden > 1 else " is"
            older.update(
                f"… {hidden} older iteration{plural} hidden: {self.timeline_key} and ← → on "
                "the timeline show them"
            )

    async def _cap_entries(self) -> None:
        """Prune the oldest entries until both caps hold."""
        numbers = sorted(self._blocks)
        candidates = [(n, w) for n in numbers for w in self._blocks[n].prunable()]
        entries = sum(len(self._blocks[n].entries()) for n in numbers)
        texts = sum(isinstance(w, Markdown | RawText) for _, w in candidates)
        doomed: dict[int, list] = {}
        for n, widget in candidates:
            if entries <= KEEP_ENTRIES and texts <= KEEP_TEXT_CHUNKS:
                break
            doomed.setdefault(n, []).append(widget)
            entries -= 1
            texts -= isinstance(widget, Markdown | RawText)
        for n, widgets in doomed.items():
            block = self._blocks[n]
            if n != numbers[-1] and len(widgets) == len(block.entries()):
                await self._blocks.pop(n).remove()
            else:
                await block.drop(widgets)

    def feed(self, events: Sequence[Event]) -> None:
        """Queue new events for rendering (while following the live run)."""
        self._queue.append(list(events))
        self._kick()

    def show(self, number: int | None) -> None:
        """Show iteration ``number`` alone, or go back to following the run (None)."""
        self._queue.append(number)
        self._kick()

    def _kick(self) -> None:
        if self._renderer is None or self._renderer.is_finished:
            self._renderer = self.run_worker(self._render_queue(), group="transcript")

    async def _render_queue(self) -> None:
        """Render what is queued, in order, outside the pane's message queue.

        Mounting and Markdown parsing happen here, in a worker, so a flood of
        text never holds up key presses bubbling through the pane and screen.
        """
        while self._queue and self.is_attached:
            item = self._queue.pop(0)
            if isinstance(item, list):
                # Join consecutive batches: one pass over a burst.
                while self._queue and isinstance(self._queue[0], list):
                    item += cast(list[Event], self._queue.pop(0))
                if self.shown is None:
                    await self._render_events(item)
                    # Let the next frame's worth of events gather.
                    await asyncio.sleep(FRAME_S)
            else:
                await self._show(item)

    @property
    def idle(self) -> bool:
        """Nothing waiting to be rendered."""
        return not self._queue and (self._renderer is None or self._renderer.is_finished)

    async def _render_events(self, events: list[Event]) -> None:
        for event in coalesce(events):
            if not self.is_attached:  # the app is closing
                return
            await self._render_event(event)
        await self._cap_entries()
        self.call_after_refresh(self._follow)

    async def _render_event(self, e: Event) -> None:
        if isinstance(e, IterationStarted):
            await self._block(e.iteration)
        elif isinstance(e, AgentText):
            block = await self._block(e.iteration)
            await block.add_text(e.kind, e.text, keep_chars=KEEP_TEXT_CHUNKS * CHUNK_CHARS)
        elif isinstance(e, ToolInputDelta):
            record = self.store.record(e.iteration)
            tool = record.tool_block(e.call_id) if record else None
            if tool is not None and tool.streaming:
                call = ToolCall(call_id=e.call_id, name=e.name, iteration=e.iteration)
                await (await self._block(e.iteration)).add_tool(call, partial=tool.partial)
        elif isinstance(e, ToolCall):
            await (await self._block(e.iteration)).add_tool(e)
        elif isinstance(e, ToolResult):
            shown = self._blocks.get(e.iteration)
            if shown is None or not shown.set_result(e):
                await (await self._block(e.iteration)).add_tool(
                    ToolCall(call_id=e.call_id, name=e.name, iteration=e.iteration), e
                )
        elif isinstance(e, AgentFinished):
            await (await self._block(e.iteration)).add_note(agent_note(e), "-agent")
        elif isinstance(e, IterationReceipt):
            note = receipt_note(e)
            if note is not None:
                await (await self._block(e.iteration)).add_note(note, "-receipt")
        elif isinstance(e, Decided):
            await (await self._block(e.iteration)).add_note(decision_note(e), decision_classes(e))
        elif isinstance(e, _NOTED) and self._blocks:
            await self._note_latest(e)

    async def add_human_note(self, text: str) -> None:
        """A line for what the engineer did that the engine has no event for (a take-over)."""
        if self._blocks and self.shown is None:
            await self._blocks[max(self._blocks)].add_note(text, "-human")

    async def _note_latest(self, e: Event) -> None:
        block = self._blocks[max(self._blocks)]
        if isinstance(e, Checkpointed):
            if e.kind == "rewind" and e.restored_iteration is not None:
                await block.add_note(rewind_note(e.restored_iteration), "-human")
        elif isinstance(e, ControlApplied):
            if e.control == "take_over":
                await block.add_note(f"handed back to the agent: {e.detail}", "-human")
        elif isinstance(e, InstructionSet):
            await block.add_note(f"instruction for the next iteration: {e.text}", "-human")
        elif isinstance(e, GoalChanged):
            await block.add_note("goal changed; it applies from the next iteration", "-human")
        elif isinstance(e, HintAdded):
            await block.add_note(f"hint queued for the next prompt: {e.text}", "-human")
        elif isinstance(e, Paused):
            decision = self.store.last_decision
            if decision is None or decision.reason != e.reason:  # else it was just said
                await block.add_note(f"paused: {e.reason}", "-paused")
        elif isinstance(e, RunFinished):
            await block.add_note(f"run finished ({e.outcome}): {e.reason}", "-finished")

    async def _show(self, number: int | None) -> None:
        self.shown = number
        self.scroller.anchor(False)
        for old in self._blocks.values():
            await old.end_text()
        self._blocks = {}
        target = number if number is not None else self.store.current
        record = self.store.record(target)
        self.border_subtitle = (
            f"iteration {number}{self.history_mark}" if number is not None else ""
        )
        block: IterationBlock | None = None
        if record is not None:
            notes = []
            if record.agent is not None:
                notes.append((agent_note(record.agent), "-agent"))
            spent = receipt_note(record.receipt) if record.receipt is not None else None
            if spent is not None:
                notes.append((spent, "-receipt"))
            if record.decision is not None:
                d = record.decision
                notes.append((decision_note(d), decision_classes(d)))
            # What the engineer did after the iteration, as it was said live.
            for c in record.checkpoints:
                if c.kind == "rewind" and c.restored_iteration is not None:
                    notes.append((rewind_note(c.restored_iteration), "-human"))
                elif c.kind == "human":
                    notes.append(
                        (f"handed back to the agent: {c.files_changed} file(s) changed", "-human")
                    )
            block = IterationBlock(target, record.prompt)
            block.preload(record, live=number is None, keep=KEEP_ENTRIES, notes=notes)
            self._blocks[target] = block
        # One swap, one repaint: the old iteration out, the new one in with all its entries.
        with self.app.batch_update():
            await self.scroller.remove_children(IterationBlock)
            if block is not None:
                await self.scroller.mount(block)
        self._show_older()
        if block is None:
            return
        if number is None:
            self.call_after_refresh(self._follow)
        else:
            self.scroller.scroll_home(animate=False)
