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
    recover: SignalRaised | None = None  # go back to before this signal's evidence, with its note


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


_STRENGTH = {"ignore": 0, "hint": 1, "recover": 2, "pause": 3, "stop": 4}


def policy_of(signal: SignalRaised, thrash: ThrashSpec) -> str:
    """The policy a signal met: the one it carries, else (older journals) the spec's."""
    return signal.action or thrash.action_for(signal.kind)


def recovery_start(signal: SignalRaised) -> int:
    """The first iteration of a signal's evidence (a recovery goes back to before it)."""
    return min(signal.iterations, default=signal.iteration)


def strongest_policy(
    signals: list[SignalRaised], thrash: ThrashSpec
) -> tuple[str, SignalRaised | None]:
    """The strongest action the spec asks for among ``signals``, and its signal.

    Among signals asking to recover, the one whose evidence began first: going
    back to before it goes back to before the others too.
    """
    best: tuple[str, SignalRaised | None] = ("ignore", None)
    for signal in signals:
        action = policy_of(signal, thrash)
        stronger = best[1] is None or _STRENGTH[action] > _STRENGTH[best[0]]
        earlier = (
            action == best[0] == "recover"
            and best[1] is not None
            and recovery_start(signal) < recovery_start(best[1])
        )
        if stronger or earlier:
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
    recoveries_used: int = 0,
) -> Verdict:
    """What to do after an iteration, in order of precedence.

    The goal, a stop and the budget come first; then thrash signals under the
    spec's policy ("hint" goes on, with a corrective note in the next prompt;
    "recover" goes on from before the evidence, with the note, while
    ``recoveries_used`` is below the spec's ``recoveries``, and pauses after);
    then the agent's own call for a human; then stepping and pausing.
    """
    thrash = thrash or ThrashSpec()
    recover: SignalRaised | None = None
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
    thrash_action, first = strongest_policy(signals, thrash)
    if first is not None and thrash_action != "ignore":
        more = f" (and {len(signals) - 1} more signal(s))" if len(signals) > 1 else ""
        reason = f"thrash, {first.kind.replace('_', ' ')}: {first.explanation}{more}"
        if thrash_action == "recover":
            allowed = thrash.recoveries
            if recoveries_used >= allowed:
                used = f"{recoveries_used} recover{'y' if recoveries_used == 1 else 'ies'}"
                made = f"{used} already made" if allowed else "no recovery allowed (recoveries = 0)"
                return Verdict("pause", f"{reason}; {made}, a human decides now")
            recover = first
            start = recovery_start(first)
            where = "the start" if start <= 1 else f"before iteration {start}"
            why = (
                f"{why}; {reason}; recovering ({recoveries_used + 1} of {allowed}): back to "
                f"{where}, with a corrective note in the next prompt"
            )
        elif thrash_action == "pause":
            return Verdict("pause", reason)
        elif thrash_action == "stop":
            return Verdict("stop", reason, "stopped")
        else:
            why = f"{why}; {reason}; a corrective hint goes into the next prompt"
    if result.pause_reason:
        return Verdict("pause", result.pause_reason, recover=recover)
    if stepping:
        return Verdict("pause", f"stepped one iteration; {why}", by_human=True, recover=recover)
    if pause_requested:
        return Verdict("pause", f"paused by the human; {why}", by_human=True, recover=recover)
    return Verdict("continue", why, recover=recover)
