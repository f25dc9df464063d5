"""Thrash detection: evidence, after every iteration, that a loop is not converging.

The runner gives the detector one :class:`IterationRecord` per finished
iteration; :meth:`ThrashDetector.observe` returns the signals newly raised by
it, as :class:`~tui.events.SignalRaised` events with the iterations involved,
the evidence and a one-line explanation. The detector is pure: no I/O, no
clock, so the same records always give the same signals (replay recomputes
them from a journal).

Signals (``[thrash]`` in the spec sets the thresholds):

- ``same_failure``: the same failure fingerprint ``same_failure`` times in a row
  with no passing check gained;
- ``oscillation``: the workspace tree is back to an earlier iteration's tree
  (A, B, A) and still failing; ``edit_undone``: a change block of this
  iteration puts back what an earlier iteration replaced, and the failure is
  the one from before that change (both off with ``oscillation = false``);
- ``no_progress``: ``no_progress`` iterations without progress (a passing
  check gained, fewer failing checks than ever, or a failure never seen
  before while nothing regressed), or with the workspace unchanged;
- ``repeated_actions``: the same edit ``repeated_actions`` times in the run,
  or the same read or command that many times in an iteration with nothing
  changed in between (see :mod:`tui.engine.toolcalls`);
- ``false_done``: the agent said it was done while a required validator
  failed, ``false_done`` times.

Each signal has a stable key (``evidence["key"]``) naming what repeats. A
signal does not fire again for the same key until the pattern has gone on
for another full threshold (so a paused human who resumes is reminded, not
nagged every iteration), and never on evidence already reported: the same
key with no iteration it has not shown before, in the whole run (rewinds
and resumes included). Once dismissed, a key never fires again. Nothing
fires on an iteration that meets the goal.

Every signal carries the policy it met (``action``): a kind the spec
ignores, or one the human switched off, is still raised and journaled, as
``"ignore"``, so the record is honest; it just never interrupts.

How the runner uses it::

    detector = ThrashDetector(spec.thrash)
    detector.start(start_checkpoint.tree)   # again after a rewind or a take-over
    # after each iteration's checkpoint, before deciding:
    record = record_from_events(this_iterations_events, n, patch=diff_of_checkpoint)
    record.tree = checkpoint.tree
    for signal in detector.observe(record):
        publish(signal)  # then apply signal.action: see tui.engine.decide
                         # (corrective_hint for "hint"; tui.engine.recovery for "recover")

``record.observations`` (what each tool call returned) is what lets
repeated_actions tell a stuck agent from one polling something that moves.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, get_args

from tui.engine import thrash_checks as checks
from tui.engine.fingerprint import Fingerprint
from tui.engine.signal_text import corrective_hint
from tui.engine.thrash_checks import Finding, Observed, observed
from tui.engine.toolcalls import CallHistory, CallLog
from tui.events import (
    AgentFinished,
    Checkpointed,
    Decided,
    Event,
    SignalRaised,
    ToolCall,
    ToolResult,
    ValidatorFinished,
    ValidatorResult,
)
from tui.spec import SignalKind, ThrashSpec

__all__ = [
    "KINDS",
    "THRESHOLDS",
    "IterationRecord",
    "ThrashDetector",
    "corrective_hint",
    "record_from_events",
]

KINDS: tuple[str, ...] = get_args(SignalKind)
# The kinds with a count to raise (oscillation and edit_undone are yes/no).
THRESHOLDS: tuple[str, ...] = ("same_failure", "repeated_actions", "no_progress", "false_done")


@dataclass
class IterationRecord:
    """What the detector needs to know about one finished iteration."""

    iteration: int
    tree: str | None  # the workspace tree id of the iteration's checkpoint; None if unknown
    results: list[ValidatorResult]
    tool_calls: list[tuple[str, dict[str, Any]]]  # (name, input), in order
    claims_done: bool
    patch: str = ""  # unified diff of this iteration against the previous checkpoint
    final_text: str = ""  # what the agent said last (evidence for false_done)
    # What each tool call returned (tui.engine.toolcalls.observation), aligned
    # with tool_calls; None (or a short list) where unknown.
    observations: list[str | None] = field(default_factory=list)


class ThrashDetector:
    """Watches a run's iterations and raises thrash signals with their evidence."""

    def __init__(self, spec: ThrashSpec) -> None:
        self.spec = spec
        self._base = spec  # the spec's own thresholds, before the human raised any
        self._raised: dict[str, int] = {}
        self._dismissed: set[str] = set()
        self._disabled: set[str] = set()
        self._reported: dict[str, set[int]] = {}  # key -> iterations already shown, all run
        self.start(None)

    # -- controls ---------------------------------------------------------
    def start(self, tree: str | None, results: list[ValidatorResult] | None = None) -> None:
        """Set the state the next iteration starts from, and forget the history.

        Call it when the workspace changed outside an agent iteration: at the
        start of the run (the start checkpoint's tree), after a rewind or a
        human take-over (with the validator results there, when known).
        Streaks start again; dismissed keys and kinds switched off stay so.
        """
        self._history: list[Observed] = []
        self._calls = CallHistory(self.spec.repeated_actions)
        self._false_claims: list[int] = []
        self._fired: dict[str, int] = {}
        self._best_passing: int | None = None
        self._fewest_failing: int | None = None
        self._seen_failures: set[Fingerprint] = set()
        self._progress_at = 0  # index in _history of the last progress
        if tree is not None or results is not None:
            self._history.append(observed(0, tree, results or [], agent=False))
            if results is not None:
                self._progress(self._history[0])

    def update(self, spec: ThrashSpec) -> None:
        """Apply new thresholds (a hot-reloaded spec) from the next iteration on.

        A threshold the human raised during the run stays raised unless the
        new spec sets it higher still.
        """
        self._base = spec
        raised = {k: max(v, getattr(spec, k)) for k, v in self._raised.items()}
        self.spec = spec.model_copy(update=raised)
        self._calls.threshold = self.spec.repeated_actions

    def raise_threshold(self, kind: str, to: int | None = None) -> tuple[int, int] | None:
        """Raise a kind's threshold for the rest of the run (double it, or to ``to``).

        Returns (previous, new); None for a kind without a threshold.
        """
        if kind not in THRESHOLDS:
            return None
        previous = int(getattr(self.spec, kind))
        self._raised[kind] = max(previous, to if to is not None else previous * 2)
        self.update(self._base)
        return previous, int(getattr(self.spec, kind))

    def remember(self, signal: SignalRaised) -> None:
        """Count a signal raised earlier in the run (resume) as reported."""
        key = signal.evidence.get("key")
        if isinstance(key, str):
            self._reported.setdefault(key, set()).update(signal.iterations)

    def action_for(self, kind: str) -> str:
        """The policy a signal of ``kind`` meets now: "ignore" once switched off."""
        return "ignore" if kind in self._disabled else self.spec.action_for(kind)

    def dismiss(self, signal: SignalRaised) -> None:
        """Never raise this signal again on the same evidence (its ``evidence["key"]``)."""
        key = signal.evidence.get("key")
        if isinstance(key, str):
            self.dismiss_key(key)

    def dismiss_key(self, key: str) -> None:
        """Dismiss by the stable key a signal carries (resume replays dismissals)."""
        if key:
            self._dismissed.add(key)

    def disable(self, kind: str) -> None:
        """Switch a kind of signal off for the rest of the run."""
        self._disabled.add(kind)

    def enable(self, kind: str) -> None:
        """Switch a kind of signal back on."""
        self._disabled.discard(kind)

    @property
    def disabled(self) -> frozenset[str]:
        """The kinds switched off for this run."""
        return frozenset(self._disabled)

    # -- observing --------------------------------------------------------
    def observe(self, record: IterationRecord) -> list[SignalRaised]:
        """Take in one finished iteration; return the signals it newly raises."""
        state = observed(record.iteration, record.tree, record.results, record.patch)
        self._history.append(state)
        history, spec = self._history, self.spec
        found = [checks.same_failure(history, spec.same_failure)]
        # Going back to an earlier tree also undoes edits: say it once.
        oscillation = checks.oscillation(history) if spec.oscillation else None
        if oscillation is None and spec.edit_undone:
            oscillation = checks.edit_undone(history)
        found.append(oscillation)
        self._progress(state)
        found.append(
            checks.unchanged(history, spec.no_progress)
            or checks.plateau(history, self._progress_at, self._best_passing or 0, spec.no_progress)
        )
        repeats = self._calls.add(record.iteration, record.tool_calls, record.observations)
        found += [checks.repeated_call(r) for r in repeats]
        if record.claims_done and state.required_failing:
            self._false_claims.append(record.iteration)
            if len(self._false_claims) >= spec.false_done:
                found.append(checks.false_done(self._false_claims, state, record.final_text))
                self._false_claims = []
        if state.results and not state.failing:
            state.results = []
            return []  # the goal is met: whatever repeated, it converged
        fired = [f for f in found if f is not None and self._fires(f, record.iteration)]
        signals = [_signal(f, record.iteration, self.action_for(f.kind)) for f in fired]
        state.results = []  # validator output can be large; only the latest is ever shown
        return signals

    def _fires(self, finding: Finding, iteration: int) -> bool:
        if finding.key in self._dismissed:
            return False
        last = self._fired.get(finding.key)
        if last is not None and iteration - last < finding.cooldown:
            return False
        reported = self._reported.setdefault(finding.key, set())
        if reported.issuperset(finding.iterations):
            return False  # the same evidence, already shown
        reported.update(finding.iterations)
        self._fired[finding.key] = iteration
        return True

    def _progress(self, state: Observed) -> None:
        """Mark progress: a check gained, or, with none lost, fewer failing or a new failure."""
        fp, best = state.fingerprint, self._best_passing
        if best is None or state.passing > best:
            made = True
        elif state.passing < best or fp is None:
            made = False
        else:
            fewest = self._fewest_failing
            made = fewest is None or fp.failing_checks < fewest or fp not in self._seen_failures
        if fp is not None:
            self._seen_failures.add(fp)
            if self._fewest_failing is None or fp.failing_checks < self._fewest_failing:
                self._fewest_failing = fp.failing_checks
        self._best_passing = state.passing if best is None else max(best, state.passing)
        if made:
            self._progress_at = len(self._history) - 1


def _signal(finding: Finding, iteration: int, action: str) -> SignalRaised:
    return SignalRaised(
        iteration=iteration,
        kind=finding.kind,
        iterations=finding.iterations,
        explanation=finding.explanation,
        evidence={"key": finding.key, **finding.evidence()},
        action=action,
    )


def record_from_events(events: Iterable[Event], iteration: int, patch: str = "") -> IterationRecord:
    """Build an iteration's record from its events (a live run's or a journal's).

    Validator results count between the agent finishing and the decision
    (a later re-validation is not part of the iteration); the tree is that of
    the iteration's agent checkpoint.
    """
    calls = CallLog()
    results: list[ValidatorResult] = []
    claims, said, tree = False, "", None
    agent_done = decided = False
    for event in events:
        if event.iteration != iteration:
            continue
        if isinstance(event, ToolCall | ToolResult) and not agent_done:
            calls.see(event)
        elif isinstance(event, AgentFinished):
            agent_done, claims, said = True, event.claims_done, event.final_text
        elif isinstance(event, ValidatorFinished) and agent_done and not decided:
            results.append(event.result)
        elif isinstance(event, Decided):
            decided = True
        elif isinstance(event, Checkpointed) and event.kind == "agent":
            tree = event.tree
    return IterationRecord(
        iteration=iteration,
        tree=tree,
        results=results,
        tool_calls=calls.calls,
        claims_done=claims,
        patch=patch,
        final_text=said,
        observations=calls.observations(),
    )
