"""What the store keeps per iteration: text, tool calls, validator runs, checkpoints.

Plain dataclasses filled by :class:`tui.app.store.RunStore`; the panes read them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from tui.events import (
    AgentFinished,
    Checkpointed,
    Decided,
    FileStat,
    IterationReceipt,
    SignalRaised,
    ToolCall,
    ToolResult,
    ValidatorResult,
)

# Validator output kept per validator and iteration; the engine caps output
# too, this only bounds memory if a journal holds more than expected.
MAX_OUTPUT_CHARS = 8_000_000
# Tool input streamed before its call is complete: only the tail is shown.
MAX_PARTIAL_CHARS = 4_000


@dataclass
class TextBlock:
    """Consecutive assistant text of one kind (text, thinking, raw)."""

    kind: str
    parts: list[str] = field(default_factory=list)

    @property
    def text(self) -> str:
        if len(self.parts) > 1:
            self.parts[:] = ["".join(self.parts)]
        return self.parts[0] if self.parts else ""


@dataclass
class ToolBlock:
    """One tool call and, once it came back, its result.

    While the model is still writing the call's input (ToolInputDelta),
    ``partial`` holds what it wrote so far and ``call.input`` is empty.
    """

    call: ToolCall
    result: ToolResult | None = None
    partial: str = ""
    streaming: bool = False

    def add_partial(self, text: str) -> None:
        self.partial = (self.partial + text)[-MAX_PARTIAL_CHARS:]


Entry = TextBlock | ToolBlock


@dataclass
class ValidatorRun:
    """One run of one validator: its streamed output and its result."""

    name: str
    command: str = ""
    chunks: list[str] = field(default_factory=list)
    chars: int = 0
    result: ValidatorResult | None = None
    # A re-run (r, watch mode, a hand-back): the result it replaced.
    replaced: ValidatorResult | None = None
    rerun: bool = False

    @property
    def output(self) -> str:
        """Everything streamed, or the result's output when nothing streamed.

        Streaming stops at the output cap; once the result is in, its output
        (head, cut marker, tail) is the better picture: the tail is where
        pytest puts its failures and summary.
        """
        if self.result is not None and self.result.output_truncated_bytes:
            return self.result.output
        if self.chunks:
            if len(self.chunks) > 1:
                self.chunks[:] = ["".join(self.chunks)]
            return self.chunks[0]
        return self.result.output if self.result else ""

    def add(self, text: str) -> None:
        self.chunks.append(text)
        self.chars += len(text)
        while self.chars > MAX_OUTPUT_CHARS and len(self.chunks) > 1:
            gone = self.chunks.pop(0)
            self.chars -= len(gone)


@dataclass
class IterationRecord:
    """Everything that happened in one iteration."""

    number: int
    goal: str = ""
    prompt: str = ""
    notes: str = ""
    entries: list[Entry] = field(default_factory=list)
    validators: dict[str, ValidatorRun] = field(default_factory=dict)
    agent: AgentFinished | None = None
    receipt: IterationReceipt | None = None  # what the agent part spent
    decision: Decided | None = None
    signals: list[SignalRaised] = field(default_factory=list)
    checkpoints: list[Checkpointed] = field(default_factory=list)
    paused_reason: str | None = None

    @property
    def done(self) -> bool:
        return self.decision is not None

    @property
    def rechecked(self) -> bool:
        """The validators were re-run after the iteration's own run."""
        return any(run.rerun for run in self.validators.values())

    def results(self) -> list[ValidatorResult]:
        """The latest finished result of each validator."""
        return [run.result for run in self.validators.values() if run.result is not None]

    @property
    def human_checkpoints(self) -> list[Checkpointed]:
        """The engineer's take-over changes committed after this iteration."""
        return [c for c in self.checkpoints if c.kind == "human"]

    @property
    def rewound_to(self) -> int | None:
        """The iteration the workspace was rewound to after this one, if any."""
        for c in reversed(self.checkpoints):
            if c.kind == "rewind" and c.restored_iteration is not None:
                return c.restored_iteration
        return None

    @property
    def human_files(self) -> list[FileStat]:
        return [f for c in self.human_checkpoints for f in c.files]

    def tool_block(self, call_id: str) -> ToolBlock | None:
        for entry in reversed(self.entries):
            if isinstance(entry, ToolBlock) and entry.call.call_id == call_id:
                return entry
        return None


@dataclass
class Comparison:
    """Failing checks of one validator compared with the previous iteration."""

    newly_failing: list[str] = field(default_factory=list)
    newly_passing: list[str] = field(default_factory=list)
    validator_changed: str = ""  # "now passing" / "now failing" / ""
    # What it was compared with: "the last iteration" or "before the re-run".
    against: str = "the last iteration"
