"""Where a run's dollars came from, in words (the Budget pane, headless output,
and each iteration's receipt in the console and the report).

A figure is one of: priced by loopconsole from API usage, reported by an agent
CLI, estimated (a CLI session cut short before it reported), or reported by a
CLI logged in to a subscription plan (what the tokens would cost through the
API, not money spent per token). See BudgetState.cost_sources.
"""

from __future__ import annotations

from tui.events import BudgetState, IterationReceipt, Usage

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


# A receipt names each source in a word or two.
_SHORT = {**_WORDS, "estimated": "estimated", "plan": "on a subscription plan"}


def tokens_by_kind(usage: Usage) -> str:
    """'1,500 input, 300 output, 20 cache read': the kinds with tokens, in the API's order."""
    kinds = (
        ("input", usage.input_tokens),
        ("output", usage.output_tokens),
        ("cache read", usage.cache_read_tokens),
        ("cache write", usage.cache_write_tokens),
    )
    return ", ".join(f"{n:,} {kind}" for kind, n in kinds if n)


def receipt_text(receipt: IterationReceipt) -> str:
    """An iteration's receipt in one line: tokens by kind, cost, retries' share, sources.

    '$0.0123 for 1,820 tokens (1,500 input, 300 output, 20 cache read) ·
    retries: 1 ($0.0010 for 80 tokens) · priced from API usage'
    """
    kinds = tokens_by_kind(receipt.usage)
    parts = [
        f"${receipt.cost_usd:.4f} for {receipt.usage.total:,} tokens"
        + (f" ({kinds})" if kinds else "")
    ]
    if receipt.retries:
        share = receipt.retried_usage.total
        said = (
            f"${receipt.retried_cost_usd:.4f} for {share:,} tokens"
            if share
            else "no tokens reported apart"
        )
        parts.append(f"retries: {receipt.retries} ({said})")
    sources = {k: v for k, v in receipt.cost_sources.items() if v > 0 or k == "plan"}
    if len(sources) == 1:
        parts.append(_SHORT.get(next(iter(sources)), next(iter(sources))))
    elif sources:
        order = list(_SHORT)
        named = sorted(sources.items(), key=lambda kv: order.index(kv[0]) if kv[0] in order else 9)
        parts.append(", ".join(f"${usd:.4f} {_SHORT.get(k, k)}" for k, usd in named))
    return " · ".join(parts)
