"""The decision after an iteration: stop, pause or continue, and why."""

from __future__ import annotations

from dataclasses import dataclass

from tui.agents.base import AgentResult
from tui.engine.budget import Budget
from tui.events import Action, Outcome, SignalRaised, ValidatorResult
from tui.spec import ThrashSpec


@dataclass(frozen=True)
class Verdict:
    action: Action
    reason: str
    outcome: Outcome | None = None
    by_human: bool = False  # a pause the human asked for (step, pause), not an escalation


def summarize_checks(results: list[ValidatorResult]) -> tuple[int, int]:
    """(passing, total) checks: test counts where known, else one per validator."""
    passing = total = 0
    for r in results:
        if r.tests_passed is not None:
            p = r.tests_passed
            t = p + (r.tests_failed or 0) + (r.tests_errors or 0)
            if r.timed_out or (not r.passed and t == p):
                t += 1  # the run itself failed although no test did
        else:
            p, t = int(r.passed), 1
        passing += p
        total += t
    return passing, total


def goal_met(result: AgentResult, results: list[ValidatorResult]) -> tuple[bool, str]:
    """Whether the goal is met: every required validator passed.

    With no required validators the agent's own word is all there is.
    """
    required = [r for r in results if r.required]
    if not required:
        if result.claims_done:
            return True, "the agent says it is done (no required validators to check)"
        return False, "no required validators, and the agent has not said it is done"
    failing = [r for r in required if not r.passed]
    if not failing:
        names = ", ".join(r.name for r in required)
        return True, f"every required validator passed ({names})"
    detail = "; ".join(f"{r.name}: {r.reason or 'failed'}" for r in failing)
    return False, f"{len(failing)} of {len(required)} required validators failing ({detail})"


_STRENGTH = {"ignore": 0, "hint": 1, "pause": 2, "stop": 3}


def strongest_policy(
    signals: list[SignalRaised], thrash: ThrashSpec
) -> tuple[str, SignalRaised | None]:
    """The strongest action the spec asks for among ``signals``, and its signal."""
    best: tuple[str, SignalRaised | None] = ("ignore", None)
    for signal in signals:
        action = thrash.action_for(signal.kind)
        if best[1] is None or _STRENGTH[action] > _STRENGTH[best[0]]:
            best = (action, signal)
    return best


def decide(
    result: AgentResult,
    results: list[ValidatorResult],
    budget: Budget,
    *,
    stop_requested: bool,
    interrupted: bool,
    stepping: bool,
    pause_requested: bool,
    signals: list[SignalRaised] = (),  # type: ignore[assignment]
    thrash: ThrashSpec | None = None,
) -> Verdict:
    """What to do after an iteration, in order of precedence.

    The goal, a stop and the budget come first; then thrash signals under the
    spec's policy ("hint" goes on, with a corrective note in the next prompt);
    then the agent's own call for a human; then stepping and pausing.
    """
    if interrupted:
        return Verdict("stop", "interrupted (Ctrl-C)", "interrupted")
    if result.stop == "interrupted":
        return Verdict("stop", "stopped by the human during the iteration", "stopped")
    met, why = goal_met(result, results)
    if met:
        return Verdict("stop", f"goal met: {why}", "goal_met")
    if stop_requested:
        return Verdict("stop", "stopped by the human", "stopped")
    limit = budget.exhausted()
    if limit:
        return Verdict("stop", budget.describe(limit), "budget")
    if result.stop == "budget":
        spent = f"${budget.cost_usd:.2f} spent, {budget.usage.total:,} tokens"
        return Verdict(
            "stop", f"the next model request could break a budget limit ({spent})", "budget"
        )
    thrash_action, first = strongest_policy(signals, thrash or ThrashSpec())
    if first is not None and thrash_action != "ignore":
        more = f" (and {len(signals) - 1} more signal(s))" if len(signals) > 1 else ""
        reason = f"thrash, {first.kind.replace('_', ' ')}: {first.explanation}{more}"
        if thrash_action == "pause":
            return Verdict("pause", reason)
        if thrash_action == "stop":
            return Verdict("stop", reason, "stopped")
        why = f"{why}; {reason}; a corrective hint goes into the next prompt"
    if result.pause_reason:
        return Verdict("pause", result.pause_reason)
    if stepping:
        return Verdict("pause", f"stepped one iteration; {why}", by_human=True)
    if pause_requested:
        return Verdict("pause", f"paused by the human; {why}", by_human=True)
    return Verdict("continue", why)
