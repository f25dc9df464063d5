"""The console's picture of a run, derived from events alone.

Every pane reads from a :class:`RunStore`; the store is fed the same events
whether they come from a live runner, an engine process or, for replay, a
journal. The run's state itself (status, goal, what the next prompt carries,
take-over) is the engine's own fold, :class:`tui.engine.run_state.RunState`,
kept in ``store.run``; the store adds what only the console needs (the
transcript per iteration, the timeline). Nothing here imports Textual, so the
store is tested on plain event lists.

Attached to a long run, the store may have been caught up through the
journal index (:mod:`tui.engine.catch_up`): older iterations then hold what
the summary panes need but not their transcript, until :meth:`RunStore.load_history`
reads one in full.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal

from tui.app.records import (
    Comparison,
    Entry,
    IterationRecord,
    TextBlock,
    ToolBlock,
    ValidatorRun,
)
from tui.app.timeline_model import TimelineItem, build_timeline
from tui.engine.catch_up import JournalHistory
from tui.engine.decide import summarize_checks
from tui.engine.journal_index import IterationStatus, iteration_status
from tui.engine.run_state import RunState, RunStatus
from tui.events import (
    AgentFinished,
    AgentText,
    AgentTurn,
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
    IterationReceipt,
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
    TakeOverStarted,
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

SignalState = Literal["active", "dismissed", "kind off", "recovered", "quiet"]


class RunStore:
    """The state of one run as the console shows it; fed with :meth:`apply`."""

    def __init__(self) -> None:
        # Older iterations left in the journal by an indexed catch-up (see load_history).
        self.history: JournalHistory | None = None
        self.reset()

    def reset(self) -> None:
        """Forget everything (a replay loads another iteration into the same store)."""
        self.run = RunState()
        self.notes = ""
        self.budget_ts: float | None = None
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
        # The engine paused with every required validator passing (a resume).
        self.finish_offered = False
        # After a rewind: the iteration whose end the next iteration starts from.
        self.rewound_to: int | None = None
        # Files the engineer changed during the current pause (watch mode).
        self.edited: list[str] = []
        # Bumped on every event that changes what summary panes show, so the
        # screen can skip re-rendering them while only the transcript changes.
        self.version = 0

    # -- the run's state (the engine's fold) -------------------------------
    @property
    def started(self) -> RunStarted | None:
        return self.run.started

    @property
    def budget(self) -> BudgetState:
        """The latest budget figures (when ``budget_ts`` says)."""
        return self.run.budget_state or BudgetState()

    @property
    def finished(self) -> RunFinished | None:
        return self.run.finished

    @property
    def status(self) -> RunStatus:
        return self.run.status

    @property
    def goal(self) -> str:
        return self.run.goal

    @property
    def hints(self) -> list[str]:
        return self.run.hints

    @property
    def instruction(self) -> str | None:
        return self.run.instruction

    @property
    def pause_reason(self) -> str | None:
        return self.run.pause_reason

    @property
    def paused_by_human(self) -> bool:
        return self.run.paused_by_human

    @property
    def last_decision(self) -> Decided | None:
        return self.run.last_decision

    @property
    def taking_over(self) -> bool:
        """The workspace is the human's (the engine handed it over)."""
        return self.run.taking_over

    @property
    def take_over_pending(self) -> bool:
        """A take-over was asked for; it starts when the loop pauses."""
        return self.run.take_over_pending

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

    def load_history(self, number: int) -> None:
        """Read iteration ``number`` in full when the catch-up left its bulk in the journal.

        Its record is built again from every event of the iteration, exactly
        as a full catch-up would have built it.
        """
        history = self.history
        if history is None or number not in history.partial:
            return
        whole = RunStore()
        for event in history.events(number):
            whole.apply(event)
        record = whole.iterations.get(number)
        if record is not None:
            self.iterations[number] = record
        history.partial.discard(number)

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
        """(iteration, passing checks, total checks) for decided iterations.

        A re-checked iteration counts with its re-run's results.
        """
        return [
            (n, *self._checks_of(n, r))
            for n, r in sorted(self.iterations.items())
            if r.decision is not None
        ]

    def _checks_of(self, number: int, rec: IterationRecord) -> tuple[int, int]:
        """(passing, total) checks of a decided iteration, its re-run's when finished."""
        assert rec.decision is not None
        if rec.rechecked and all(run.result is not None for run in rec.validators.values()):
            return summarize_checks(rec.results())
        return rec.decision.passing_checks, rec.decision.total_checks

    def checks_now(self) -> tuple[int, int] | None:
        """(passing, total) checks of the newest decided iteration, re-runs included."""
        for n in sorted(self.iterations, reverse=True):
            if self.iterations[n].decision is not None:
                return self._checks_of(n, self.iterations[n])
        return None

    def goal_met_now(self) -> bool:
        """While paused: a re-run of the current iteration passes every required validator."""
        if self.finished is not None:
            return False
        if self.finish_offered:
            return True
        rec = self.iterations.get(self.current)
        if rec is None or not rec.rechecked:
            return False
        runs = list(rec.validators.values())
        if any(run.result is None for run in runs):
            return False
        required = [r for r in rec.results() if r.required]
        return bool(required) and all(r.passed for r in required)

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
        before = run.replaced if run is not None else None
        against = f"before the re-run of iteration {number}"
        if before is None:
            against = "the last iteration"
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
            against=against,
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
        self.run.apply(event)
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
        self.budget_ts = e.ts

    def _iteration_started(self, e: IterationStarted) -> None:
        rec = self._rec(e.iteration)
        rec.goal, rec.prompt, rec.notes = e.goal, e.prompt, e.notes
        self.current = max(self.current, e.iteration)
        self.edited = []
        self.rewound_to = None
        self.notes = e.notes

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

    def _receipt(self, e: IterationReceipt) -> None:
        self._rec(e.iteration).receipt = e

    def retries(self) -> tuple[int, float]:
        """Retried attempts over the run, and what they cost (from the receipts)."""
        receipts = [r.receipt for r in self.iterations.values() if r.receipt is not None]
        return sum(r.retries for r in receipts), sum(r.retried_cost_usd for r in receipts)

    def _validator_started(self, e: ValidatorStarted) -> None:
        # A re-run (revalidate) replaces the earlier run of the same validator;
        # it is compared with the result it replaces.
        validators = self._rec(e.iteration).validators
        earlier = validators.get(e.name)
        run = validators[e.name] = ValidatorRun(e.name, e.command)
        if earlier is not None and earlier.result is not None:
            run.replaced, run.rerun = earlier.result, True

    def _validator_finished(self, e: ValidatorFinished) -> None:
        rec = self._rec(e.iteration)
        run = rec.validators.setdefault(e.result.name, ValidatorRun(e.result.name))
        run.command = run.command or e.result.command
        run.result = e.result

    def _budget(self, e: BudgetUpdated) -> None:
        self.budget_ts = e.ts

    def _checkpointed(self, e: Checkpointed) -> None:
        if e.kind == "rewind" and e.restored_iteration is not None:
            self.rewound_to = e.restored_iteration
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
        self.recovered[e.key] = e  # the note is queued by the run's fold

    def _threshold_raised(self, e: ThresholdRaised) -> None:
        self.thresholds[e.kind] = e.threshold

    def _decided(self, e: Decided) -> None:
        self._rec(e.iteration).decision = e

    def _edited(self, e: WorkspaceEdited) -> None:
        for path in e.paths:
            if path in self.edited:
                self.edited.remove(path)
            self.edited.append(path)  # most recent last

    def _paused(self, e: Paused) -> None:
        # A pause the human asked for (pause, step, --paused, --step) needs no
        # alarm; one the engine chose (thrash, an agent asking) does (run.paused_by_human).
        self.finish_offered = e.goal_met
        if e.iteration in self.iterations:
            self.iterations[e.iteration].paused_reason = e.reason

    def _resumed(self, e: Resumed) -> None:
        self.finish_offered = False
        self.edited = []

    def _run_finished(self, e: RunFinished) -> None:
        self.budget_ts = e.ts


# Events no summary pane reads (see apply).
_TRANSCRIPT_ONLY = (AgentTurn, ToolCall, ToolResult, AgentFinished)


def _ignore(_store: RunStore, _event: Event) -> None:
    """Events only the run state folds (or the screen turns into notifications)."""


_HANDLERS: dict[type, Callable[[RunStore, Any], None]] = {
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
    ControlApplied: _ignore,
    GoalChanged: _ignore,
    HintAdded: _ignore,
    InstructionSet: _ignore,
    TakeOverStarted: _ignore,
    ChangesRecorded: _ignore,
    HandedBack: _ignore,
    WorkspaceEdited: RunStore._edited,
    Paused: RunStore._paused,
    Resumed: RunStore._resumed,
    RunFinished: RunStore._run_finished,
    Notice: _ignore,
    SpecReloaded: _ignore,
    IterationReceipt: RunStore._receipt,
}
