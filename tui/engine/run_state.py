"""The run's state: one pure fold over its events.

The runner feeds every event it publishes into a :class:`RunState` and reads
the goal, the queued hints, the instruction, the human's changes, the last
validator results and the summaries from it; resume folds the journal into
the same class; the console's store keeps one too. There is no second copy
of the truth: whatever the journal says, every reader derives the same.

What a prompt carries is one-shot: hints, the drive instruction and the
human's changes are queued by their events and used up by the next
``IterationStarted``. When that iteration never got its decision (the run
died or was stopped mid-iteration), they are queued again, so nothing the
human said is lost across a stop and resume.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from tui.engine.prompt import IterationSummary
from tui.engine.recovery import RecoveryLog
from tui.events import (
    AgentFinished,
    BudgetState,
    BudgetUpdated,
    ChangesRecorded,
    Checkpointed,
    ControlApplied,
    Decided,
    Event,
    GoalChanged,
    HandedBack,
    HintAdded,
    InstructionSet,
    IterationStarted,
    Paused,
    QuestionAnswered,
    Resumed,
    RunFinished,
    RunStarted,
    SignalDismissed,
    SignalRaised,
    SignalRecovered,
    TakeOverStarted,
    ThresholdRaised,
    ToolCall,
    ToolResult,
    ValidatorFinished,
    ValidatorResult,
    ValidatorStarted,
)

RunStatus = Literal[
    "starting", "running", "validating", "pausing", "paused", "stopping", "finished"
]


@dataclass
class PromptQueue:
    """What the next prompt carries besides the goal: used up by an iteration."""

    hints: list[str] = field(default_factory=list)
    instruction: str | None = None
    human_changes: list[str] = field(default_factory=list)

    def take(self) -> PromptQueue:
        """Everything queued, leaving this queue empty."""
        taken = PromptQueue(list(self.hints), self.instruction, list(self.human_changes))
        self.hints, self.instruction, self.human_changes = [], None, []
        return taken

    def give_back(self, taken: PromptQueue) -> None:
        """An iteration that never finished: what its prompt took is queued again."""
        self.hints = taken.hints + self.hints
        self.instruction = self.instruction or taken.instruction
        self.human_changes = taken.human_changes + self.human_changes


@dataclass
class RunState:  # noqa: PLR0902 - the run's state is many small facts
    """Where a run stands, derived from its events alone (see the module doc)."""

    goal: str = ""
    validators: int = 0  # how many validators one batch has
    started: RunStarted | None = None
    finished: RunFinished | None = None
    status: RunStatus = "starting"
    iteration: int = 0  # the newest iteration started
    last_iteration: int = 0  # the newest iteration decided
    in_flight: int | None = None  # started, not yet decided
    unfinished: int | None = None  # in flight when the journal ends
    queue: PromptQueue = field(default_factory=PromptQueue)
    consumed: PromptQueue = field(default_factory=PromptQueue)  # the in-flight prompt's
    goals_seen: set[str] = field(default_factory=set)
    budget_state: BudgetState | None = None
    decided_iterations: int = 0
    last_results: list[ValidatorResult] = field(default_factory=list)
    results_by_iteration: dict[int, list[ValidatorResult]] = field(default_factory=dict)
    summaries: list[IterationSummary] = field(default_factory=list)
    last_decision: Decided | None = None
    checkpoint: Checkpointed | None = None  # holds the last finished iteration's workspace
    calls: dict[str, ToolCall] = field(default_factory=dict)  # calls without a result
    call_ids: set[str] = field(default_factory=set)  # every tool call id journaled
    signals: list[SignalRaised] = field(default_factory=list)
    dismissed: list[SignalDismissed] = field(default_factory=list)
    pause_reason: str | None = None
    paused_by_human: bool = False
    take_over_pending: bool = False
    taking_over: bool = False
    take_over_changes: list[str] = field(default_factory=list)
    question: str | None = None  # the agent's question, waiting for an answer
    # Thrash: thresholds the human raised; where iterations started from and the
    # recoveries the policy made (the recover policy's bookkeeping).
    thresholds: list[ThresholdRaised] = field(default_factory=list)
    recovery: RecoveryLog = field(default_factory=RecoveryLog)
    _batch: list[ValidatorResult] = field(default_factory=list)
    _revalidation: list[ValidatorResult] | None = None
    _iteration_checkpoint: Checkpointed | None = None
    _agent_said: str = ""

    # -- reading ----------------------------------------------------------
    @property
    def hints(self) -> list[str]:
        """Hints queued for the next prompt."""
        return self.queue.hints

    @property
    def instruction(self) -> str | None:
        """The drive instruction queued for the next prompt."""
        return self.queue.instruction

    @property
    def human_changes(self) -> list[str]:
        """What the human changed, queued for the next prompt."""
        return self.queue.human_changes

    @property
    def live(self) -> bool:
        """Started and not finished."""
        return self.started is not None and self.finished is None

    def budget(self) -> BudgetState:
        """Money, tokens and time spent are all counted, including in an
        unfinished iteration; iterations count only when decided."""
        latest = self.budget_state or BudgetState()
        return latest.model_copy(update={"iterations": self.decided_iterations})

    def batch_or_last(self) -> list[ValidatorResult]:
        """The validator results of the iteration in flight, else the last ones."""
        return list(self._batch) if self._batch else list(self.last_results)

    def goal_met_now(self) -> bool:
        """Every required validator passed in the latest results (a re-run counts)."""
        required = [r for r in self.last_results if r.required]
        return bool(required) and all(r.passed for r in required)

    # -- folding ----------------------------------------------------------
    def apply(self, e: Event) -> None:  # noqa: C901, PLR0912 - one branch per event type
        """Fold one event in."""
        self.recovery.see(e)
        if isinstance(e, RunStarted):
            self._abandon()
            self.started, self.finished = e, None
            self.goal = e.goal
            self.goals_seen.add(e.goal)
            self.validators = len(e.validators)
            self.budget_state = e.budget
            self.status = "running"
            self.take_over_pending = self.taking_over = False  # a new session of the run
        elif isinstance(e, IterationStarted):
            self._abandon()
            self.in_flight = e.iteration
            self.iteration = max(self.iteration, e.iteration)
            self.goal = e.goal
            self.consumed = self.queue.take()
            self._batch, self._agent_said, self._iteration_checkpoint = [], "", None
            if self.status not in ("pausing", "stopping"):
                self.status = "running"
        elif isinstance(e, HintAdded):
            self.queue.hints.append(e.text)
        elif isinstance(e, InstructionSet):
            self.queue.instruction = e.text
        elif isinstance(e, ChangesRecorded):
            self.queue.human_changes.extend(e.changes)
            if self.taking_over:
                self.take_over_changes.extend(e.changes)
        elif isinstance(e, GoalChanged):
            self.goal = e.goal
            self.goals_seen.add(e.goal)
        elif isinstance(e, ToolCall):
            self.calls[e.call_id] = e
            self.call_ids.add(e.call_id)
        elif isinstance(e, ToolResult):
            self.calls.pop(e.call_id, None)
        elif isinstance(e, AgentFinished):
            self._agent_said = " ".join(e.final_text.split())
        elif isinstance(e, ControlApplied):
            self._control(e)
        elif isinstance(e, ValidatorStarted):
            if self.status not in ("pausing", "stopping", "paused"):
                self.status = "validating"
        elif isinstance(e, ValidatorFinished):
            self._validator_finished(e.result)
        elif isinstance(e, BudgetUpdated):
            self.budget_state = e.budget
        elif isinstance(e, Checkpointed):
            self._checkpointed(e)
        elif isinstance(e, SignalRaised):
            self.signals.append(e)
        elif isinstance(e, SignalDismissed):
            self.dismissed.append(e)
        elif isinstance(e, ThresholdRaised):
            self.thresholds.append(e)
        elif isinstance(e, SignalRecovered):
            if e.note:
                self.queue.hints.append(e.note)  # the corrective note, for the next prompt
        elif isinstance(e, Decided):
            self._decided(e)
        elif isinstance(e, Paused):
            self.status = "paused"
            self.pause_reason, self.paused_by_human = e.reason, e.by_human
            self.question = e.question or None
        elif isinstance(e, QuestionAnswered):
            self.queue.hints.append(answer_text(e))
            self.question = None
        elif isinstance(e, Resumed):
            self.status = "running"
            self.pause_reason = None
            self.question = None
        elif isinstance(e, TakeOverStarted):
            self.take_over_pending, self.taking_over = False, True
            self.take_over_changes = []
        elif isinstance(e, HandedBack):
            self.taking_over = False
        elif isinstance(e, RunFinished):
            self.finished = e
            self.status = "finished"
            self.budget_state = e.budget
            self.take_over_pending = self.taking_over = False

    def _control(self, e: ControlApplied) -> None:
        if e.control == "pause":
            if self.status in ("running", "validating"):
                self.status = "pausing"
        elif e.control == "stop":
            if self.status != "finished":
                self.status = "stopping"
        elif e.control == "take_over":
            self.take_over_pending = e.detail == "after the current step"
        elif e.control == "revalidate":
            self._revalidation = [] if self.in_flight is None else None

    def _checkpointed(self, e: Checkpointed) -> None:
        if self.in_flight is None:
            self.checkpoint = e
            if e.restored_iteration is not None:
                self._rewound(e.restored_iteration)
        else:
            self._iteration_checkpoint = e

    def _rewound(self, iteration: int) -> None:
        """A rewind: failures and summaries go back to how ``iteration`` left them;
        the changes the human made before it are gone with it."""
        self.last_results = list(self.results_by_iteration.get(iteration, []))
        self.summaries = [s for s in self.summaries if s.iteration <= iteration]
        self.queue.human_changes = []

    def _validator_finished(self, result: ValidatorResult) -> None:
        if self.in_flight is not None:
            self._batch.append(result)
        elif self._revalidation is not None:
            self._revalidation.append(result)
            if len(self._revalidation) >= self.validators:
                self.last_results, self._revalidation = self._revalidation, None

    def _decided(self, e: Decided) -> None:
        self.last_decision = e
        if self.status == "validating":
            self.status = "running"
        if e.action == "pause" and self.status == "running":
            self.status = "pausing"
        if self.in_flight is None:
            return
        self.last_iteration = e.iteration or self.in_flight
        if self._batch:
            self.last_results = self._batch
        self.results_by_iteration[self.last_iteration] = list(self.last_results)
        if self._iteration_checkpoint is not None:
            self.checkpoint = self._iteration_checkpoint
        self.summaries.append(
            IterationSummary.of(self.last_iteration, self.last_results, e.reason, self._agent_said)
        )
        if self.budget_state is not None:
            self.decided_iterations = self.budget_state.iterations
        self.in_flight, self.consumed = None, PromptQueue()

    def _abandon(self) -> None:
        """An iteration in flight that never got its decision: give its prompt back."""
        if self.in_flight is not None:
            self.unfinished = self.in_flight
            self.queue.give_back(self.consumed)
            self.in_flight, self.consumed = None, PromptQueue()

    def end(self) -> None:
        """The journal ends here (resume): an iteration still in flight is unfinished.

        Only that one: an iteration cut short in an earlier session was run
        again after that session's resume.
        """
        self.unfinished = None
        self._abandon()


def answer_text(e: QuestionAnswered) -> str:
    """How the human's answer reads in the next prompt."""
    return f"You asked the engineer: {e.question}\nTheir answer: {e.answer}"


def fold(events: list[Event], goal: str = "") -> RunState:
    """A run's state after ``events``."""
    state = RunState(goal=goal, goals_seen={goal} if goal else set())
    for event in events:
        state.apply(event)
    return state
