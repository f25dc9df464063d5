"""The console's picture of a run, derived from events alone.

Every pane reads from a :class:`RunStore`; the store is fed the same events
whether they come from a live runner or, for replay, from a journal. Nothing
here imports Textual, so the store is tested on plain event lists.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from tui.events import (
    AgentFinished,
    AgentText,
    AgentTurn,
    BudgetState,
    BudgetUpdated,
    ControlApplied,
    Decided,
    Event,
    GoalChanged,
    HintAdded,
    IterationStarted,
    Notice,
    Paused,
    Resumed,
    RunFinished,
    RunStarted,
    SignalRaised,
    ToolCall,
    ToolResult,
    ValidatorFinished,
    ValidatorOutput,
    ValidatorResult,
    ValidatorStarted,
)

RunStatus = Literal[
    "starting", "running", "validating", "pausing", "paused", "stopping", "finished"
]
IterationStatus = Literal["running", "passed", "failed", "paused", "signal", "stopped"]

# The engine's prompt ends with the agent's notes under this heading
# (tui/engine/prompt.py); the console shows them in the State pane.
NOTES_HEADING = "# Your notes from earlier iterations\n"

# How the runner words the pauses a human asked for (tui/engine/runner.py,
# tui/engine/decide.py); any other pause reason came from the engine.
_HUMAN_PAUSES = ("started paused", "paused by the human", "stepped one iteration")

# Validator output kept per validator and iteration; the engine caps output
# too, this only bounds memory if a journal holds more than expected.
MAX_OUTPUT_CHARS = 8_000_000


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
    """One tool call and, once it came back, its result."""

    call: ToolCall
    result: ToolResult | None = None


Entry = TextBlock | ToolBlock


@dataclass
class ValidatorRun:
    """One run of one validator: its streamed output and its result."""

    name: str
    command: str = ""
    chunks: list[str] = field(default_factory=list)
    chars: int = 0
    dropped_chars: int = 0
    result: ValidatorResult | None = None

    @property
    def running(self) -> bool:
        return self.result is None

    @property
    def output(self) -> str:
        """Everything streamed, or the result's output when nothing streamed."""
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
            self.dropped_chars += len(gone)


@dataclass
class IterationRecord:
    """Everything that happened in one iteration."""

    number: int
    goal: str = ""
    prompt: str = ""
    entries: list[Entry] = field(default_factory=list)
    validators: dict[str, ValidatorRun] = field(default_factory=dict)
    agent: AgentFinished | None = None
    decision: Decided | None = None
    signals: list[SignalRaised] = field(default_factory=list)
    turns: int = 0
    cost_usd: float = 0.0
    tokens: int = 0
    paused_reason: str | None = None

    @property
    def done(self) -> bool:
        return self.decision is not None

    @property
    def required_passed(self) -> bool | None:
        """Whether every required validator passed; None before any finished."""
        results = [v.result for v in self.validators.values() if v.result is not None]
        if not results:
            return None
        return all(r.passed for r in results if r.required)

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


class RunStore:
    """The state of one run as the console shows it; fed with :meth:`apply`."""

    def __init__(self) -> None:
        self.started: RunStarted | None = None
        self.finished: RunFinished | None = None
        self.status: RunStatus = "starting"
        self.goal = ""
        self.hints: list[str] = []
        self.notes = ""
        self.budget = BudgetState()
        self.budget_ts: float | None = None
        self.last_decision: Decided | None = None
        self.pause_reason: str | None = None
        self.iterations: dict[int, IterationRecord] = {}
        self.current = 0
        # Bumped on every event that changes what summary panes show, so the
        # screen can skip re-rendering them while only text streams in.
        self.version = 0
        self.paused_by_human = False
        self._human_pause = False

    # -- reading ----------------------------------------------------------
    @property
    def run_id(self) -> str:
        return self.started.run_id if self.started else ""

    @property
    def name(self) -> str:
        return self.started.name if self.started else ""

    @property
    def validator_names(self) -> list[str]:
        return list(self.started.validators) if self.started else []

    @property
    def max_iterations(self) -> int | None:
        return self.budget.max_iterations

    def record(self, number: int) -> IterationRecord | None:
        return self.iterations.get(number)

    def numbers(self) -> list[int]:
        return sorted(self.iterations)

    def iteration_status(self, number: int) -> IterationStatus:
        """The timeline glyph's meaning for one iteration."""
        rec = self.iterations[number]
        if not rec.done:
            if number == self.current and self.status not in ("finished", "paused"):
                return "running"
            if number == self.current and self.status == "paused":
                return "paused"
            return "stopped"
        if rec.signals:
            return "signal"
        if number == self.current and self.status == "paused":
            return "paused"
        passed = rec.required_passed
        if passed is None:
            outcome = rec.decision.outcome if rec.decision else None
            return "passed" if outcome == "goal_met" else "failed"
        return "passed" if passed else "failed"

    def passing_history(self) -> list[tuple[int, int, int]]:
        """(iteration, passing checks, total checks) for decided iterations."""
        return [
            (n, r.decision.passing_checks, r.decision.total_checks)
            for n, r in sorted(self.iterations.items())
            if r.decision is not None
        ]

    def latest_with_validators(self) -> int | None:
        """The newest iteration whose validators have started."""
        for n in sorted(self.iterations, reverse=True):
            if self.iterations[n].validators:
                return n
        return None

    def compare(self, number: int, name: str) -> Comparison:
        """How validator ``name`` in iteration ``number`` differs from the one before."""
        rec = self.iterations.get(number)
        run = rec.validators.get(name) if rec else None
        before = None
        for n in sorted(self.iterations, reverse=True):
            if n < number and name in self.iterations[n].validators:
                before = self.iterations[n].validators[name].result
                if before is not None:
                    break
        if run is None or run.result is None or before is None:
            return Comparison()
        now_ids, old_ids = set(run.result.failing_ids), set(before.failing_ids)
        changed = ""
        if run.result.passed != before.passed:
            changed = "now passing" if run.result.passed else "now failing"
        return Comparison(
            newly_failing=[i for i in run.result.failing_ids if i not in old_ids],
            newly_passing=[i for i in before.failing_ids if i not in now_ids],
            validator_changed=changed,
        )

    # -- feeding ----------------------------------------------------------
    def apply(self, event: Event) -> None:
        """Fold one event into the picture."""
        if isinstance(event, AgentText):
            self._text(event)
            return
        if isinstance(event, ValidatorOutput):
            rec = self._rec(event.iteration)
            run = rec.validators.setdefault(event.name, ValidatorRun(event.name))
            run.add(event.text)
            return
        self.version += 1
        handler = _HANDLERS.get(type(event))
        if handler is not None:
            handler(self, event)

    def _rec(self, number: int) -> IterationRecord:
        rec = self.iterations.get(number)
        if rec is None:
            rec = self.iterations[number] = IterationRecord(number)
        return rec

    def _text(self, event: AgentText) -> None:
        entries = self._rec(event.iteration).entries
        last = entries[-1] if entries else None
        if isinstance(last, TextBlock) and last.kind == event.kind:
            last.parts.append(event.text)
        else:
            entries.append(TextBlock(event.kind, [event.text]))

    def _run_started(self, e: RunStarted) -> None:
        self.started = e
        self.goal = e.goal
        self.budget = e.budget
        self.budget_ts = e.ts
        self.status = "running"

    def _iteration_started(self, e: IterationStarted) -> None:
        rec = self._rec(e.iteration)
        rec.goal, rec.prompt = e.goal, e.prompt
        self.current = max(self.current, e.iteration)
        self.goal = e.goal
        # Hints are one-shot: the prompt that just went out carried them.
        self.hints = []
        if NOTES_HEADING in e.prompt:
            self.notes = e.prompt.split(NOTES_HEADING, 1)[1].strip()
        if self.status not in ("pausing", "stopping"):
            self.status = "running"

    def _turn(self, e: AgentTurn) -> None:
        rec = self._rec(e.iteration)
        rec.turns = max(rec.turns, e.turn)
        rec.cost_usd += e.cost_usd
        rec.tokens += e.usage.total

    def _tool_call(self, e: ToolCall) -> None:
        self._rec(e.iteration).entries.append(ToolBlock(e))

    def _tool_result(self, e: ToolResult) -> None:
        rec = self._rec(e.iteration)
        block = rec.tool_block(e.call_id)
        if block is None:  # a result without its call: still show it
            block = ToolBlock(ToolCall(call_id=e.call_id, name=e.name, iteration=e.iteration))
            rec.entries.append(block)
        block.result = e

    def _agent_finished(self, e: AgentFinished) -> None:
        self._rec(e.iteration).agent = e

    def _validator_started(self, e: ValidatorStarted) -> None:
        # A re-run (revalidate) replaces the earlier run of the same validator.
        self._rec(e.iteration).validators[e.name] = ValidatorRun(e.name, e.command)
        if self.status not in ("pausing", "stopping", "paused"):
            self.status = "validating"

    def _validator_finished(self, e: ValidatorFinished) -> None:
        rec = self._rec(e.iteration)
        run = rec.validators.setdefault(e.result.name, ValidatorRun(e.result.name))
        run.command = run.command or e.result.command
        run.result = e.result

    def _budget(self, e: BudgetUpdated) -> None:
        self.budget = e.budget
        self.budget_ts = e.ts

    def _signal(self, e: SignalRaised) -> None:
        self._rec(e.iteration).signals.append(e)

    def _decided(self, e: Decided) -> None:
        self._rec(e.iteration).decision = e
        self.last_decision = e
        if self.status == "validating":
            self.status = "running"

    def _control(self, e: ControlApplied) -> None:
        if e.control in ("pause", "step"):
            self._human_pause = True
        if e.control == "pause" and self.status != "paused":
            self.status = "pausing"
        elif e.control == "stop":
            self.status = "stopping"

    def _goal(self, e: GoalChanged) -> None:
        self.goal = e.goal

    def _hint(self, e: HintAdded) -> None:
        self.hints.append(e.text)

    def _paused(self, e: Paused) -> None:
        self.status = "paused"
        self.pause_reason = e.reason
        # A pause the human asked for (pause, step, --paused, --step) needs no
        # alarm; one the engine chose (thrash, an agent asking) does.
        asked = self._human_pause or e.reason.startswith(_HUMAN_PAUSES) or self.current == 0
        self.paused_by_human, self._human_pause = asked, False
        if e.iteration in self.iterations:
            self.iterations[e.iteration].paused_reason = e.reason

    def _resumed(self, e: Resumed) -> None:
        self.status = "running"
        self.pause_reason = None
        self._human_pause = False

    def _run_finished(self, e: RunFinished) -> None:
        self.finished = e
        self.status = "finished"
        self.budget = e.budget
        self.budget_ts = e.ts


def _ignore(_store: RunStore, _event: Notice) -> None:
    """Notices change nothing in the store; the screen turns them into notifications."""


_HANDLERS = {
    RunStarted: RunStore._run_started,
    IterationStarted: RunStore._iteration_started,
    AgentTurn: RunStore._turn,
    ToolCall: RunStore._tool_call,
    ToolResult: RunStore._tool_result,
    AgentFinished: RunStore._agent_finished,
    ValidatorStarted: RunStore._validator_started,
    ValidatorFinished: RunStore._validator_finished,
    BudgetUpdated: RunStore._budget,
    SignalRaised: RunStore._signal,
    Decided: RunStore._decided,
    ControlApplied: RunStore._control,
    GoalChanged: RunStore._goal,
    HintAdded: RunStore._hint,
    Paused: RunStore._paused,
    Resumed: RunStore._resumed,
    RunFinished: RunStore._run_finished,
    Notice: _ignore,
}
