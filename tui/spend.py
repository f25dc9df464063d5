"""Where a run's dollars came from, in words (the Budget pane and headless output).

A figure is one of: priced by loopconsole from API usage, reported by an agent
CLI, estimated (a CLI session cut short before it reported), or reported by a
CLI logged in to a subscription plan (what the tokens would cost through the
API, not money spent per token). See BudgetState.cost_sources.
"""

from __future__ import annotations

from tui.events import BudgetState

_WORDS = {
    "priced": "priced from API usage",
    "reported": "reported by the CLI",
    "estimated": "estimated (session cut short)",
    "plan": "on a subscription plan, not billed per token",
}


def cost_sources_text(budget: BudgetState) -> str:
    """'$0.17 reported by the CLI · $0.02 estimated (session cut short)', or ''.

    Empty when every dollar came from one ordinary source ("priced" by
    loopconsole, or "reported" by the CLI) and nothing needs saying.
    """
    sources = {k: v for k, v in budget.cost_sources.items() if v > 0 or k == "plan"}
    if not sources or set(sources) == {"priced"}:
        return ""
    order = list(_WORDS)
    named = sorted(sources.items(), key=lambda kv: order.index(kv[0]) if kv[0] in order else 9)
    parts = [f"${usd:.2f} {_WORDS.get(name, name)}" for name, usd in named]
    return " · ".join(parts)


def estimate_note(budget: BudgetState) -> str:
    """' (of which $0.02 estimated)' when part of the cost is an estimate, else ''."""
    parts = []
    estimated = budget.cost_sources.get("estimated", 0.0)
    if estimated > 0:
        parts.append(f"${estimated:.2f} estimated")
    plan = budget.cost_sources.get("plan", 0.0)
    if plan > 0:
        parts.append(f"${plan:.2f} on a subscription plan")
    return f" (of which {', '.join(parts)})" if parts else ""
