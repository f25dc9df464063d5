"""Budget arithmetic for the Budget pane: meters, burn rate and projection.

Pure functions over :class:`tui.events.BudgetState`, so they are tested
without a screen.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

from tui.events import BudgetState

Level = Literal["ok", "near", "over"]

# A meter turns to the warning colour at this share of its limit.
NEAR = 0.8


def tokens_text(n: float) -> str:
    """40_000 -> '40k', 2_000_000 -> '2M'."""
    if n >= 1_000_000:
        return f"{n / 1_000_000:.1f}M".replace(".0M", "M")
    if n >= 1_000:
        return f"{n / 1_000:.1f}k".replace(".0k", "k")
    return f"{int(n)}"


def duration_text(seconds: float) -> str:
    """65 -> '1m05s', 3600 -> '1h00m'."""
    s = int(seconds)
    if s >= 3600:
        return f"{s // 3600}h{s % 3600 // 60:02d}m"
    if s >= 60:
        return f"{s // 60}m{s % 60:02d}s"
    return f"{s}s"


def cost_text(usd: float) -> str:
    return f"${usd:.2f}" if usd < 100 else f"${usd:,.0f}"


@dataclass(frozen=True)
class Meter:
    """One budget dimension against its limit."""

    key: str
    label: str
    value: float
    limit: float | None
    text: str

    @property
    def fraction(self) -> float:
        if not self.limit:
            return 0.0
        return min(1.0, self.value / self.limit)

    @property
    def level(self) -> Level:
        if not self.limit:
            return "ok"
        share = self.value / self.limit
        if share >= 1.0:
            return "over"
        return "near" if share >= NEAR else "ok"


def _pair(value: str, limit: str | None) -> str:
    return f"{value}/{limit}" if limit is not None else f"{value} (no limit)"


def meters(budget: BudgetState, wall_s: float | None = None) -> list[Meter]:
    """Iterations, tokens, cost and time; ``wall_s`` overrides the recorded time."""
    wall = budget.wall_s if wall_s is None else wall_s
    limit_s = budget.max_wall_s or 0.0
    tokens = budget.usage.total
    b = budget
    return [
        Meter(
            "iterations",
            "iterations",
            b.iterations,
            b.max_iterations,
            _pair(str(b.iterations), None if b.max_iterations is None else str(b.max_iterations)),
        ),
        Meter(
            "tokens",
            "tokens",
            tokens,
            b.max_tokens,
            _pair(tokens_text(tokens), None if b.max_tokens is None else tokens_text(b.max_tokens)),
        ),
        Meter(
            "cost",
            "cost",
            b.cost_usd,
            b.max_cost_usd,
            _pair(
                cost_text(b.cost_usd), None if b.max_cost_usd is None else cost_text(b.max_cost_usd)
            ),
        ),
        Meter(
            "time",
            "time",
            wall,
            b.max_wall_s,
            _pair(duration_text(wall), None if b.max_wall_s is None else duration_text(limit_s)),
        ),
    ]


def burn_rate(budget: BudgetState) -> str:
    """Average spend per finished iteration, e.g. '$0.07 · 12k tok · 40s /iter'."""
    n = budget.iterations
    if n <= 0:
        return "rate known after iteration 1"
    # Nothing spent is not a rate (a script agent has no tokens or cost).
    parts = []
    if budget.cost_usd:
        parts.append(cost_text(budget.cost_usd / n))
    if budget.usage.total:
        parts.append(f"{tokens_text(budget.usage.total / n)} tok")
    if budget.wall_s >= 1:
        parts.append(duration_text(budget.wall_s / n))
    return " · ".join(parts) + " /iter" if parts else "under 1s /iter, nothing spent"


def projection(budget: BudgetState) -> str:
    """Which limit the run reaches first at its average rate, and when."""
    n = budget.iterations
    candidates: list[tuple[int, str]] = []
    if budget.max_iterations is not None:
        candidates.append((max(0, budget.max_iterations - n), "iteration"))
    if n > 0:
        spent = (
            ("token", budget.usage.total, budget.max_tokens),
            ("cost", budget.cost_usd, budget.max_cost_usd),
            ("time", budget.wall_s, budget.max_wall_s),
        )
        for name, value, limit in spent:
            if limit is None or value <= 0:
                continue
            rate = value / n
            # The epsilon keeps 0.6 / 0.2 from flooring to 2.
            candidates.append((max(0, math.floor((limit - value) / rate + 1e-9)), name))
    if not candidates:
        return "no limits set"
    left, name = min(candidates)
    if left == 0:
        return f"{name} limit reached"
    unit = "iteration" if left == 1 else "iterations"
    if name == "iteration":
        return f"iteration limit reached after {left} more {unit}"
    return f"{name} limit reached in about {left} {unit} at this rate"
