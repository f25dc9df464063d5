"""The console's picture of a run, derived from events alone.

Every pane reads from a :class:`RunStore`; the store is fed the same events
whether they come from a live runner or, for replay, from a journal. Nothing
here imports Textual, so the store is tested on plain event lists.
"""

from __future__ import annotations

from typing import Literal

from tui.app.records import (
    Comparison,
    Entry,
    IterationRecord,
    TextBlock,
    ToolBlock,
    ValidatorRun,
)
from tui.app.timeline_model import TimelineItem, build_timeline
from tui.engine.journal_index import IterationStatus, iteration_status
from tui.events import (
    AgentFinished,
    AgentText,
    AgentTurn,
    BudgetState,
    BudgetUpdated,
    Checkpointed,
    ControlApplied,
    Decided,
    Event,
    GoalChanged,
    HintAdded,
    InstructionSet,
    IterationStarted,
    Notice,
    Paused,
    Resumed,
    RunFinished,
    RunStarted,
    SignalDismissed,
    SignalRaised,
    SignalRecovered,
    SpecReloaded,
    ThresholdRaised,
    ToolCall,
    ToolInputDelta,
    ToolResult,
    ValidatorFinished,
    ValidatorOutput,
    ValidatorStarted,
    WorkspaceEdited,
)

__all__ = [
    "Comparison",
    "Entry",
    "IterationRecord",
    "IterationStatus",
    "RunStatus",
    "RunStore",
    "TextBlock",
    "ToolBlock",
    "ValidatorRun",
]

RunStatus = Literal[
    "starting", "running", "validating", "pausing", "paused", "stopping", "finished"
]
SignalState = Literal["active", "dismissed", "kind off", "recovered", "quiet"]


class RunStore:
    """The state of one run as the console shows it; fed with :meth:`apply`."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        """Forget everything (a replay loads another iteration into the same store)."""
        self.started: RunStarted | None = None
        self.finished: RunFinished | None = None
        self.status: RunStatus = "starting"
        self.goal = ""
        self.hints: list[str] = []
        self.instruction: str | None = None
        self.notes = ""
        self.budget = BudgetState()
        self.budget_ts: float | None = None
        self.last_decision: Decided | None = None
        self.pause_reason: str | None = None
        self.paused_by_human = False
        self.iterations: dict[int, IterationRecord] = {}
        self.current = 0
        # Checkpoints made before iteration 1 (the start, a take-over while
        # paused before the first iteration).
        self.early_checkpoints: list[Checkpointed] = []
        self.signals: list[SignalRaised] = []
        self.dismissed_keys: set[str] = set()
        self.kinds_off: set[str] = set()
        # Recoveries from signals (by key), and thresholds the human raised (by kind).
        self.recovered: dict[str, SignalRecovered] = {}
        self.thresholds: dict[str, int] = {}
        # Files the engineer changed during the current pause (watch mode).
        self.edited: list[str] = []
        # Bumped on every event that changes what summary panes show, so the
        # screen can skip re-rendering them while only the transcript changes.
        self.version = 0

    # -- reading ----------------------------------------------------------
    @property
    def run_id(self) -> str:
        return self.started.run_id if self.started else ""

    @property
    def name(self) -> str:
        return self.started.name if self.started else ""

    @property
    def run_dir(self) -> str:
        return self.started.run_dir if self.started else ""

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
        """The timeline glyph's meaning for one iteration (see :func:`iteration_status`)."""
        rec = self.iterations[number]
        here = number == self.current
        decision = rec.decision
        status = iteration_status(
            decision.action if decision else None,
            decision.outcome if decision else None,
            bool(rec.signals),
            paused_here=here and self.status == "paused",
        )
        if status == "running" and not (here and self.status != "finished"):
            return "stopped"  # cut short: an older iteration, or the run ended
        return status

    def timeline(self) -> list[TimelineItem]:
        """The iterations as the timeline draws them, with rewinds as forks."""
        rows = [
            (n, self.iteration_status(n), bool(r.human_checkpoints), r.rewound_to)
            for n, r in sorted(self.iterations.items())
        ]
        return build_timeline(rows)

    def passing_history(self) -> list[tuple[int, int, int]]:
        """(iteration, passing checks, total checks) for decided iterations."""
        return [
            (n, r.decision.passing_checks, r.decision.total_checks)
            for n, r in sorted(self.iterations.items())
            if r.decision is not None
        ]

    def checkpoints_of(self, number: int) -> list[Checkpointed]:
        """The checkpoints made in iteration ``number`` (0: before the first)."""
        if number == 0:
            return list(self.early_checkpoints)
        rec = self.iterations.get(number)
        return list(rec.checkpoints) if rec else []

    def signal_state(self, signal: SignalRaised) -> SignalState:
        """Whether the human dismissed this signal or switched its kind off."""
        if signal.kind in self.kinds_off:
            return "kind off"
        key = str(signal.evidence.get("key", ""))
        if key in self.dismissed_keys:
            return "dismissed"
        if key in self.recovered:
            return "recovered"
        if signal.action == "ignore":
            return "quiet"
        return "active"

    def signal_actions(self, signal: SignalRaised) -> list[str]:
        """What was done about a signal (recovered, its kind's threshold raised), in words."""
        done = []
        recovered = self.recovered.get(str(signal.evidence.get("key", "")))
        if recovered is not None:
            where = (
                "the start"
                if recovered.to_iteration == 0
                else (f"the end of iteration {recovered.to_iteration}")
            )
            who = (
                "by the human"
                if recovered.by_human
                else f"by the recover policy ({recovered.number} of {recovered.limit})"
            )
            done.append(f"recovered {who}: back to {where}, with a corrective note")
        raised = self.thresholds.get(signal.kind)
        if raised is not None:
            kind = signal.kind.replace("_", " ")
            done.append(f"{kind} threshold raised to {raised} for the rest of the run")
        return done

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
        # The streaming events come by the thousand: no summary pane changes.
        if isinstance(event, AgentText):
            self._text(event)
            return
        if isinstance(event, ValidatorOutput):
            rec = self._rec(event.iteration)
            run = rec.validators.setdefault(event.name, ValidatorRun(event.name))
            run.add(event.text)
            return
        if isinstance(event, ToolInputDelta):
            self._tool_input(event)
            return
        handler = _HANDLERS.get(type(event))
        if handler is not None:
            handler(self, event)
        # Tool calls and results and the agent's summary line only change the
        # transcript (fed the events itself); a turn's spending reaches the
        # budget pane through BudgetUpdated.
        if not isinstance(event, _TRANSCRIPT_ONLY):
            self.version += 1

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

    def _tool_input(self, e: ToolInputDelta) -> None:
        rec = self._rec(e.iteration)
        block = rec.tool_block(e.call_id)
        if block is None:
            block = ToolBlock(ToolCall(call_id=e.call_id, name=e.name, iteration=e.iteration))
            block.streaming = True
            rec.entries.append(block)
        block.add_partial(e.text)

    def _run_started(self, e: RunStarted) -> None:
        self.started = e
        self.goal = e.goal
        self.budget = e.budget
        self.budget_ts = e.ts
        self.status = "running"

    def _iteration_started(self, e: IterationStarted) -> None:
        rec = self._rec(e.iteration)
        rec.goal, rec.prompt, rec.notes = e.goal, e.prompt, e.notes
        self.current = max(self.current, e.iteration)
        self.goal = e.goal
        # Hints and the instruction are one-shot: the prompt just carried them.
        self.hints = []
        self.instruction = None
        self.edited = []
        self.notes = e.notes
        if self.status not in ("pausing", "stopping"):
            self.status = "running"

    def _tool_call(self, e: ToolCall) -> None:
        rec = self._rec(e.iteration)
        block = rec.tool_block(e.call_id)
        if block is not None and block.streaming:
            block.call, block.streaming = e, False  # the input is complete now
        else:
            rec.entries.append(ToolBlock(e))

    def _tool_result(self, e: ToolResult) -> None:
        rec = self._rec(e.iteration)
        block = rec.tool_block(e.call_id)
        if block is None:  # a result without its call: still show it
            block = ToolBlock(ToolCall(call_id=e.call_id, name=e.name, iteration=e.iteration))
            rec.entries.append(block)
        block.result = e
        block.streaming = False

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

    def _checkpointed(self, e: Checkpointed) -> None:
        if e.iteration == 0:
            self.early_checkpoints.append(e)
        else:
            self._rec(e.iteration).checkpoints.append(e)

    def _signal(self, e: SignalRaised) -> None:
        self._rec(e.iteration).signals.append(e)
        self.signals.append(e)

    def _signal_dismissed(self, e: SignalDismissed) -> None:
        if e.whole_kind:
            self.kinds_off.add(e.kind)
        elif e.key:
            self.dismissed_keys.add(e.key)

    def _signal_recovered(self, e: SignalRecovered) -> None:
        self.recovered[e.key] = e
        if e.note:
            self.hints.append(e.note)

    def _threshold_raised(self, e: ThresholdRaised) -> None:
        self.thresholds[e.kind] = e.threshold

    def _decided(self, e: Decided) -> None:
        self._rec(e.iteration).decision = e
        self.last_decision = e
        if self.status == "validating":
            self.status = "running"

    def _control(self, e: ControlApplied) -> None:
        if e.control == "pause" and self.status != "paused":
            self.status = "pausing"
        elif e.control == "stop":
            self.status = "stopping"

    def _goal(self, e: GoalChanged) -> None:
        self.goal = e.goal

    def _hint(self, e: HintAdded) -> None:
        self.hints.append(e.text)

    def _instruction(self, e: InstructionSet) -> None:
        self.instruction = e.text

    def _edited(self, e: WorkspaceEdited) -> None:
        for path in e.paths:
            if path in self.edited:
                self.edited.remove(path)
            self.edited.append(path)  # most recent last

    def _paused(self, e: Paused) -> None:
        self.status = "paused"
        self.pause_reason = e.reason
        # A pause the human asked for (pause, step, --paused, --step) needs no
        # alarm; one the engine chose (thrash, an agent asking) does.
        self.paused_by_human = e.by_human
        if e.iteration in self.iterations:
            self.iterations[e.iteration].paused_reason = e.reason

    def _resumed(self, e: Resumed) -> None:
        self.status = "running"
        self.pause_reason = None
        self.edited = []

    def _run_finished(self, e: RunFinished) -> None:
        self.finished = e
        self.status = "finished"
        self.budget = e.budget
        self.budget_ts = e.ts


# Events no summary pane reads (see apply).
_TRANSCRIPT_ONLY = (AgentTurn, ToolCall, ToolResult, AgentFinished)


def _ignore(_store: RunStore, _event: Notice | SpecReloaded) -> None:
    """Events that change nothing in the store; the screen turns them into notifications."""


_HANDLERS = {
    RunStarted: RunStore._run_started,
    IterationStarted: RunStore._iteration_started,
    ToolCall: RunStore._tool_call,
    ToolResult: RunStore._tool_result,
    AgentFinished: RunStore._agent_finished,
    ValidatorStarted: RunStore._validator_started,
    ValidatorFinished: RunStore._validator_finished,
    BudgetUpdated: RunStore._budget,
    Checkpointed: RunStore._checkpointed,
    SignalRaised: RunStore._signal,
    SignalDismissed: RunStore._signal_dismissed,
    SignalRecovered: RunStore._signal_recovered,
    ThresholdRaised: RunStore._threshold_raised,
    Decided: RunStore._decided,
    ControlApplied: RunStore._control,
    GoalChanged: RunStore._goal,
    HintAdded: RunStore._hint,
    InstructionSet: RunStore._instruction,
    WorkspaceEdited: RunStore._edited,
    Paused: RunStore._paused,
    Resumed: RunStore._resumed,
    RunFinished: RunStore._run_finished,
    Notice: _ignore,
    SpecReloaded: _ignore,
}
