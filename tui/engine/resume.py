"""Resume: carry on a run that was stopped, killed or crashed.

The journal says where the run stood; the shadow repository holds the
workspace of every checkpoint. An iteration counts as finished when its
Decided event is in the journal; one that was in flight when the run died is
run again from the workspace of the last finished iteration, after its
half-done work is saved as a "rewind" checkpoint (nothing is lost).

What the runner does with a :class:`ResumeState` (``Runner(..., resume=state)``):

1. The command line calls ``state = load_resume_state(run_dir)`` (it cuts a
   torn last line off the journal, so appending is safe), then
   ``run = open_run(run_dir, state.spec)`` and
   ``prep = prepare_workspace(state, run.workspace)``.
2. ``Runner.__init__`` goes on folding into ``state.fold`` (the journal's
   :class:`~tui.engine.run_state.RunState`: goal, queued hints, instruction
   and human changes, last results, summaries) and restores the budget;
   ``resumed = True``; the journal writer appends to the same
   ``journal.jsonl``.
3. Right after ``RunStarted(resumed=True)``, the runner publishes, in order:
   for each call in ``state.interrupted_calls`` a ``ToolResult(call_id=...,
   name=..., output=INTERRUPTED_OUTPUT, is_error=True, interrupted=True)``
   with ``iteration`` = the call's (never running the call again); one
   ``Checkpointed`` per ``prep.checkpoints`` (``info.event()``); one
   ``Notice`` per line of ``state.warnings + prep.notes``; and, when
   ``state.spec_edits`` is set, feeds it through the hot-reload path
   (``runner.reload.edited``) so edits made to loop.toml while the run was stopped
   (a raised budget, say) apply from the next iteration.
   ``prep.human_changes`` are published as ``ChangesRecorded``, so they go
   into the next prompt's "the engineer changed" (and survive another stop).
4. The loop goes on as usual: the next iteration is ``last_iteration + 1``.
"""

from __future__ import annotations

import contextlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from tui.engine.checkpoints import CheckpointError, CheckpointInfo, Checkpoints, RestoreReport
from tui.engine.journal import iter_journal, repair_torn_tail
from tui.engine.prompt import IterationSummary
from tui.engine.recovery import RecoveryLog
from tui.engine.reload import RELOADABLE
from tui.engine.run_state import RunState
from tui.engine.shadow import ShadowError
from tui.errors import UserError
from tui.events import (
    BudgetState,
    Event,
    RunFinished,
    RunStarted,
    SignalDismissed,
    SignalRaised,
    ThresholdRaised,
    ToolCall,
    ValidatorResult,
)
from tui.spec import LoopSpec, SpecError, load_spec, read_spec_text, spec_from_text

INTERRUPTED_OUTPUT = "interrupted: the run stopped before this call finished; it was not run again"


class ResumeError(UserError):
    """A run that cannot be resumed; the message is one sentence for the user."""


@dataclass
class ResumeState:
    """Where a stopped run stood, read from its journal and spec copy."""

    run_dir: Path
    run_id: str
    spec: LoopSpec
    last_iteration: int = 0  # the last iteration whose Decided event is in the journal
    unfinished_iteration: int | None = None  # in flight when the run stopped
    budget: BudgetState = field(default_factory=BudgetState)
    goal: str = ""
    hints: list[str] = field(default_factory=list)  # queued, not yet in a finished prompt
    instruction: str | None = None  # the drive instruction, not yet in a finished prompt
    human_changes: list[str] = field(default_factory=list)  # likewise
    last_results: list[ValidatorResult] = field(default_factory=list)
    summaries: list[IterationSummary] = field(default_factory=list)
    checkpoint: str | None = None  # commit holding the last finished iteration's workspace
    checkpoint_tree: str | None = None
    finished: RunFinished | None = None  # how the last session ended, if it did
    interrupted_calls: list[ToolCall] = field(default_factory=list)
    spec_edits: LoopSpec | None = None  # loop.toml as edited since, when it differs
    dismissed: list[SignalDismissed] = field(default_factory=list)  # thrash signals set aside
    warnings: list[str] = field(default_factory=list)
    # The journal's fold, which the resumed runner goes on folding into.
    fold: RunState = field(default_factory=RunState)
    notes: list[str] = field(default_factory=list)  # said at resume, not warnings (a raise)
    call_ids: set[str] = field(default_factory=set)  # every tool call id already journaled
    # Thrash: signals already raised (never raised again on the same evidence),
    # thresholds the human raised, the recoveries made and where they go back to.
    signals: list[SignalRaised] = field(default_factory=list)
    thresholds: list[ThresholdRaised] = field(default_factory=list)
    recovery: RecoveryLog = field(default_factory=RecoveryLog)
    results_by_iteration: dict[int, list[ValidatorResult]] = field(default_factory=dict)


@dataclass
class WorkspacePrep:
    """What :func:`prepare_workspace` did, for the runner to publish."""

    checkpoints: list[CheckpointInfo] = field(default_factory=list)
    restore: RestoreReport | None = None
    human_changes: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def load_resume_state(run_dir: Path) -> ResumeState:
    """Read a run directory and say where to carry on from.

    Cuts a torn last line off the journal (a crash mid-write) so the runner
    can append. Raises :class:`ResumeError` when the run cannot be resumed
    (not a run directory, no events, goal already met) and
    :class:`~tui.spec.SpecError` when its spec no longer validates.
    """
    run_dir = run_dir.resolve()
    journal = run_dir / "journal.jsonl"
    if not journal.is_file():
        raise ResumeError(f"{run_dir} is not a loopconsole run directory (no journal.jsonl)")
    warnings: list[str] = []
    if repair_torn_tail(journal):
        warnings.append(
            f"{journal}: the last line was incomplete (the run died mid-write); it was cut"
        )
    events = list(iter_journal(journal, warnings))
    started = next((e for e in events if isinstance(e, RunStarted)), None)
    if started is None:
        started = _recover_start(journal, run_dir, events, warnings)
    spec = _spec_of(run_dir, started)
    fold = RunState(goal=spec.goal, goals_seen={spec.goal, started.goal})
    for event in events:
        fold.apply(event)
    fold.end()
    if fold.finished is not None and fold.finished.outcome == "goal_met":
        raise ResumeError(
            f"run {run_dir.name} already met its goal after iteration {fold.last_iteration}; "
            "there is nothing to resume (start a new run with `loopconsole run`)"
        )
    state = ResumeState(
        run_dir=run_dir,
        run_id=started.run_id or run_dir.name,
        spec=spec,
        last_iteration=fold.last_iteration,
        unfinished_iteration=fold.unfinished,
        budget=fold.budget(),
        goal=fold.goal,
        hints=list(fold.hints),
        last_results=fold.last_results,
        summaries=fold.summaries,
        instruction=fold.instruction,
        human_changes=list(fold.human_changes),
        checkpoint=fold.checkpoint.commit if fold.checkpoint else None,
        checkpoint_tree=fold.checkpoint.tree if fold.checkpoint else None,
        finished=fold.finished,
        interrupted_calls=list(fold.calls.values()),
        call_ids=fold.call_ids,
        dismissed=fold.dismissed,
        warnings=warnings,
        fold=fold,
        signals=fold.signals,
        thresholds=fold.thresholds,
        recovery=fold.recovery,
        results_by_iteration=fold.results_by_iteration,
    )
    state.spec_edits = _spec_edits(state, fold.goals_seen)
    return state


_SPEC_PATH = re.compile(rb'"spec_path":("(?:[^"\\]|\\.)*")')


def _recover_start(
    journal: Path, run_dir: Path, events: list[Event], warnings: list[str]
) -> RunStarted:
    """A run_started event for a journal whose first line is damaged.

    The spec copy in the run folder says what ran; the original spec's path
    (which relative paths in it resolve against) is taken from what is left
    of the damaged line when it can be read there.
    """
    if not events or not (run_dir / "spec.toml").is_file():
        raise ResumeError(f"{journal} has no run_started event; there is nothing to resume")
    with open(journal, "rb") as f:
        first = f.readline(1 << 20)
    spec_path = ""
    if match := _SPEC_PATH.search(first):
        with contextlib.suppress(ValueError):
            spec_path = json.loads(match.group(1))
    copy = run_dir / "spec.toml"
    try:
        spec = spec_from_text(read_spec_text(copy), Path(spec_path) if spec_path else copy)
    except SpecError as exc:
        raise ResumeError(
            f"{journal}: the first line (run_started) is damaged and the spec copy cannot "
            f"stand in for it ({exc}); the run cannot resume"
        ) from None
    warnings.append(
        f"{journal}: the first line (run_started) is damaged; the run's spec copy stands in for it"
    )
    return RunStarted(
        run_id=run_dir.name,
        name=spec.name,
        goal=spec.goal,
        spec_path=spec_path,
        run_dir=str(run_dir),
        workspace=str(spec.workspace),
        backend=spec.agent.backend,
        model=spec.agent.model,
        validators=[v.name for v in spec.validators],
    )


def _spec_of(run_dir: Path, started: RunStarted) -> LoopSpec:
    copy = run_dir / "spec.toml"
    try:
        text = read_spec_text(copy)
    except SpecError as exc:
        raise ResumeError(f"{exc.messages[0]}; the run cannot resume") from None
    # Validate as the original file, so relative paths (workspace, script) resolve as before.
    return spec_from_text(text, Path(started.spec_path) if started.spec_path else copy)


def _spec_edits(state: ResumeState, goals_seen: set[str]) -> LoopSpec | None:
    """loop.toml as it is now, when its reloadable sections differ from the run's spec."""
    path = state.spec.path
    if path is None or path == state.run_dir / "spec.toml" or not path.is_file():
        return None
    try:
        current = load_spec(path)
    except SpecError as exc:
        state.warnings.append(f"{exc.messages[0]} (loop.toml not applied; the run's spec is kept)")
        return None
    if current.goal in goals_seen:
        current.goal = state.goal  # not a new edit: the goal in force stays
    changed = [name for name in RELOADABLE if getattr(current, name) != getattr(state.spec, name)]
    return current if changed else None


def prepare_workspace(state: ResumeState, workspace: Path) -> WorkspacePrep:
    """Put the workspace where the run carries on from; checkpoint what that takes.

    - An iteration was in flight: its half-done work is committed (kind
      "rewind"), then the workspace goes back to the last finished
      iteration's checkpoint.
    - Otherwise the workspace is kept as it is (a person may have fixed
      something while the run was stopped); changes since the last
      checkpoint become a "human" checkpoint and are listed for the prompt.
    """
    prep = WorkspacePrep()
    if not workspace.is_dir():
        where = (
            f" (its last state is checkpoint {state.checkpoint[:12]})" if state.checkpoint else ""
        )
        raise ResumeError(
            f"the run's workspace {workspace} no longer exists{where}; "
            "the run cannot resume without it"
        )
    try:
        cps = Checkpoints.open(state.run_dir, workspace)
    except ShadowError as exc:
        raise ResumeError(f"cannot open the run's checkpoints: {exc}") from None
    with cps:
        if cps.recovered:
            prep.notes.append(
                "recovered the checkpoint repository from a crash "
                f"(removed stale {', '.join(cps.recovered)})"
            )
        try:
            _prepare(state, cps, prep)
        except CheckpointError as exc:
            raise ResumeError(f"cannot prepare the workspace to resume: {exc}") from None
    return prep


def _prepare(state: ResumeState, cps: Checkpoints, prep: WorkspacePrep) -> None:
    it = state.last_iteration
    if state.unfinished_iteration is not None and state.checkpoint is not None:
        unfinished = state.unfinished_iteration
        report = cps.restore(
            state.checkpoint,
            iteration=unfinished,
            reason=f"Resuming: iteration {unfinished} did not finish; its work is saved in "
            f"the checkpoint before this one, and the loop carries on from iteration {it}.",
        )
        prep.restore = report
        prep.checkpoints += report.checkpoints
        note = (
            f"iteration {unfinished} did not finish; it runs again from the end of iteration {it}"
        )
        if report.checkpoint is not None:
            saved = report.saved or cps.get(report.checkpoint.parent or "")
            note += f" (its work is saved in checkpoint {saved.commit[:12]})"
        prep.notes.append(note)
        return
    if state.unfinished_iteration is not None:
        prep.notes.append(
            f"iteration {state.unfinished_iteration} did not finish and there is no earlier "
            "checkpoint to go back to; the loop carries on with the workspace as it is"
        )
    if cps.head() is None:
        prep.checkpoints.append(cps.commit(it, "start"))
        return
    pending = cps.pending()
    if pending.files:
        info = cps.commit(it, "human", message="The workspace changed while the run was stopped.")
        prep.checkpoints.append(info)
        prep.human_changes = [f.describe() for f in pending.files]
        prep.notes.append(
            f"the workspace changed while the run was stopped ({pending.summary()}); "
            "the changes were checkpointed and the agent will be told"
        )
