"""The decision after an iteration: precedence and per-kind thrash policy."""

from __future__ import annotations

from tui.agents.base import AgentResult
from tui.engine.budget import Budget
from tui.engine.decide import decide
from tui.events import SignalRaised, ValidatorResult
from tui.spec import BudgetSpec, ThrashSpec

FAILING = [ValidatorResult(name="t", command="x", passed=False, reason="exit 1")]
PASSING = [ValidatorResult(name="t", command="x", passed=True)]


def _signal(kind: str) -> SignalRaised:
    return SignalRaised(kind=kind, explanation=f"{kind} seen", iterations=[1, 2, 3])


def _decide(results, signals=(), thrash=None, budget=None, **kw):
    flags = dict(stop_requested=False, interrupted=False, stepping=False, pause_requested=False)
    flags.update(kw)
    return decide(
        AgentResult(),
        results,
        budget or Budget(BudgetSpec()),
        signals=list(signals),
        thrash=thrash or ThrashSpec(),
        **flags,
    )


def test_goal_met_outranks_everything_but_an_interrupt() -> None:
    assert _decide(PASSING, [_signal("oscillation")]).outcome == "goal_met"
    assert _decide(PASSING, stop_requested=True).outcome == "goal_met"
    assert _decide(PASSING, interrupted=True).outcome == "interrupted"


def test_per_kind_actions_and_the_strongest_wins() -> None:
    spec = ThrashSpec(action="pause", actions={"no_progress": "hint", "oscillation": "stop"})
    assert _decide(FAILING, [_signal("no_progress")], spec).action == "continue"
    assert _decide(FAILING, [_signal("same_failure")], spec).action == "pause"
    both = _decide(FAILING, [_signal("no_progress"), _signal("oscillation")], spec)
    assert both.action == "stop" and both.outcome == "stopped"
    assert "oscillation" in both.reason
    ignored = ThrashSpec(action="ignore")
    assert _decide(FAILING, [_signal("same_failure")], ignored).action == "continue"


def test_budget_before_thrash_and_human_pauses_are_marked() -> None:
    budget = Budget(BudgetSpec(max_iterations=1))
    budget.iterations = 1
    assert _decide(FAILING, [_signal("oscillation")], budget=budget).outcome == "budget"
    stepped = _decide(FAILING, stepping=True)
    assert stepped.action == "pause" and stepped.by_human
    escalated = _decide(FAILING, [_signal("oscillation")])
    assert escalated.action == "pause" and not escalated.by_human
