"""TranscriptPane: what the agent says and does, live or for an earlier iteration."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from textual.app import ComposeResult
from textual.containers import VerticalScroll

from tui.app.store import RunStore
from tui.app.widgets.iteration_block import IterationBlock
from tui.app.widgets.pane import Pane
from tui.events import (
    AgentFinished,
    AgentText,
    Decided,
    Event,
    GoalChanged,
    HintAdded,
    IterationStarted,
    Paused,
    RunFinished,
    ToolCall,
    ToolResult,
)

# Iterations kept on screen while following the run; older ones are pruned
# (the store still has them, the timeline brings them back).
KEEP_BLOCKS = 3


def coalesce(events: Sequence[Event]) -> Iterator[Event]:
    """Join runs of text deltas of one kind, so a burst becomes one write."""
    pending: AgentText | None = None
    parts: list[str] = []
    for event in events:
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


def agent_note(e: AgentFinished) -> str:
    done = " · says it is done" if e.claims_done else ""
    return f"agent finished ({e.stop}) · {e.turns} turns · {e.tool_calls} tool calls{done}"


class TranscriptPane(Pane):
    """Streams the live iteration, or shows one earlier iteration in full."""

    TITLE = "Transcript"

    def __init__(self, store: RunStore, **kwargs) -> None:
        super().__init__(**kwargs)
        self.store = store
        self.shown: int | None = None  # None: following the live run
        self._blocks: dict[int, IterationBlock] = {}

    def compose(self) -> ComposeResult:
        yield VerticalScroll(id="transcript-scroll")

    @property
    def scroller(self) -> VerticalScroll:
        return self.query_one("#transcript-scroll", VerticalScroll)

    def on_mount(self) -> None:
        super().on_mount()
        # Follow the tail until the user scrolls up; scrolling back down resumes.
        self.scroller.anchor()

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

    async def feed(self, events: Sequence[Event]) -> None:
        """Render new events while following the live run."""
        if self.shown is not None:
            return
        for event in coalesce(events):
            if not self.is_attached:  # the app is closing
                return
            await self._render_event(event)

    async def _render_event(self, e: Event) -> None:
        if isinstance(e, IterationStarted):
            await self._block(e.iteration)
        elif isinstance(e, AgentText):
            await (await self._block(e.iteration)).add_text(e.kind, e.text)
        elif isinstance(e, ToolCall):
            await (await self._block(e.iteration)).add_tool(e)
        elif isinstance(e, ToolResult):
            block = self._blocks.get(e.iteration)
            if block is None or not block.set_result(e):
                await (await self._block(e.iteration)).add_tool(
                    ToolCall(call_id=e.call_id, name=e.name, iteration=e.iteration), e
                )
        elif isinstance(e, AgentFinished):
            await (await self._block(e.iteration)).add_note(agent_note(e), "-agent")
        elif isinstance(e, Decided):
            await (await self._block(e.iteration)).add_note(decision_note(e), f"-{e.action}")
        elif isinstance(e, GoalChanged | HintAdded | Paused | RunFinished) and self._blocks:
            await self._note_latest(e)

    async def _note_latest(self, e: GoalChanged | HintAdded | Paused | RunFinished) -> None:
        block = self._blocks[max(self._blocks)]
        if isinstance(e, GoalChanged):
            await block.add_note("goal changed; it applies from the next iteration", "-human")
        elif isinstance(e, HintAdded):
            await block.add_note(f"hint queued for the next prompt: {e.text}", "-human")
        elif isinstance(e, Paused):
            await block.add_note(f"paused: {e.reason}", "-paused")
        else:
            await block.add_note(f"run finished ({e.outcome}): {e.reason}", "-finished")

    async def show(self, number: int | None) -> None:
        """Show iteration ``number`` alone, or go back to following the run."""
        self.shown = number
        for block in self._blocks.values():
            await block.end_text()
        await self.scroller.remove_children()
        self._blocks = {}
        target = number if number is not None else self.store.current
        record = self.store.record(target)
        self.border_subtitle = f"iteration {number} (history)" if number is not None else ""
        if record is None:
            return
        block = IterationBlock(target, record.prompt)
        self._blocks[target] = block
        await self.scroller.mount(block)
        await block.replay(record, live=number is None)
        if record.agent is not None:
            await block.add_note(agent_note(record.agent), "-agent")
        if record.decision is not None:
            await block.add_note(decision_note(record.decision), f"-{record.decision.action}")
        if number is None:
            self.scroller.anchor()
        else:
            self.scroller.scroll_home(animate=False)
