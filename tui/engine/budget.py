"""The budget: iterations, tokens, dollars and wall time against hard limits."""

from __future__ import annotations

import time

from tui.events import BudgetState, Usage
from tui.pricing import cost_usd, price_for
from tui.spec import BudgetSpec, Price


class Budget:
    """Counts what a run has spent and says which limit, if any, it reached.

    Wall time counts only while the engine is working (not while paused), and
    carries over when a run is resumed.
    """

    def __init__(self, limits: BudgetSpec, prices: dict[str, Price] | None = None) -> None:
        self.limits = limits
        self.prices = prices or {}
        self.iterations = 0
        self.usage = Usage()
        self.cost_usd = 0.0
        self._wall_before = 0.0
        self._clock_started: float | None = None
        self._last_input: dict[str, int] = {}
        self.unpriced: set[str] = set()
        # Where the dollars came from: see BudgetState.cost_sources.
        self.cost_sources: dict[str, float] = {}

    # -- time -------------------------------------------------------------
    def start_clock(self) -> None:
        if self._clock_started is None:
            self._clock_started = time.monotonic()

    def stop_clock(self) -> None:
        if self._clock_started is not None:
            self._wall_before += time.monotonic() - self._clock_started
            self._clock_started = None

    @property
    def wall_s(self) -> float:
        running = time.monotonic() - self._clock_started if self._clock_started else 0.0
        return self._wall_before + running

    def wall_left(self) -> float | None:
        """Seconds of wall time left under max_wall_s (at least a moment), or None."""
        if self.limits.max_wall_s is None:
            return None
        return max(0.05, self.limits.max_wall_s - self.wall_s)

    # -- spending ---------------------------------------------------------
    def charge(
        self,
        model: str,
        usage: Usage,
        reported_cost: float | None = None,
        source: str = "",
    ) -> float:
        """Add one request's usage; return its cost in USD.

        ``reported_cost`` (from an agent CLI) wins over the price table.
        ``source`` says where the figure comes from (BudgetState.cost_sources);
        by default "reported" with a reported cost, else "priced".
        """
        self.usage = self.usage + usage
        self._last_input[model] = (
            usage.input_tokens + usage.cache_write_tokens + usage.cache_read_tokens
        )
        if reported_cost is not None:
            cost = reported_cost
        else:
            price = price_for(model, self.prices)
            if price is None:
                self.unpriced.add(model)
                cost = 0.0
            else:
                cost = cost_usd(usage, price)
        self.cost_usd += cost
        source = source or ("reported" if reported_cost is not None else "priced")
        self.cost_sources[source] = self.cost_sources.get(source, 0.0) + cost
        return cost

    def over_budget(self, model: str, max_output_tokens: int) -> str | None:
        """The limit a request of that size could break, or None.

        The worst case is the previous request's input again plus the full
        ``max_output_tokens``, so a run overshoots by at most one request.
        """
        reached = self.exhausted(count_iterations=False)
        if reached:
            return reached
        est_input = self._last_input.get(model, 0)
        max_tokens = self.limits.max_tokens
        if max_tokens is not None and self.usage.total + est_input + max_output_tokens > max_tokens:
            return "max_tokens"
        if self.limits.max_cost_usd is not None:
            price = price_for(model, self.prices)
            if price is not None:
                worst = cost_usd(
                    Usage(input_tokens=est_input, output_tokens=max_output_tokens), price
                )
                if self.cost_usd + worst > self.limits.max_cost_usd:
                    return "max_cost_usd"
        return None

    def exhausted(self, *, count_iterations: bool = True) -> str | None:
        """The first limit reached, or None. Iterations count when finished."""
        lim = self.limits
        if count_iterations and self.iterations >= lim.max_iterations:
            return "max_iterations"
        if lim.max_tokens is not None and self.usage.total >= lim.max_tokens:
            return "max_tokens"
        if lim.max_cost_usd is not None and self.cost_usd >= lim.max_cost_usd:
            return "max_cost_usd"
        if lim.max_wall_s is not None and self.wall_s >= lim.max_wall_s:
            return "max_wall_s"
        return None

    def describe(self, limit: str) -> str:
        """A sentence naming the limit reached and the figures."""
        lim = self.limits
        match limit:
            case "max_iterations":
                return f"iteration limit reached ({self.iterations}/{lim.max_iterations})"
            case "max_tokens":
                return f"token limit reached ({self.usage.total:,}/{lim.max_tokens:,})"
            case "max_cost_usd":
                return f"cost limit reached (${self.cost_usd:.2f}/${lim.max_cost_usd:.2f})"
            case "max_wall_s":
                return f"time limit reached ({self.wall_s:.0f} s/{lim.max_wall_s:.0f} s)"
        return f"{limit} reached"

    # -- state ------------------------------------------------------------
    def state(self) -> BudgetState:
        lim = self.limits
        return BudgetState(
            iterations=self.iterations,
            usage=self.usage,
            cost_usd=round(self.cost_usd, 6),
            wall_s=round(self.wall_s, 3),
            max_iterations=lim.max_iterations,
            max_tokens=lim.max_tokens,
            max_cost_usd=lim.max_cost_usd,
            max_wall_s=lim.max_wall_s,
            cost_sources={k: round(v, 6) for k, v in self.cost_sources.items()},
        )

    def restore(self, state: BudgetState) -> None:
        """Carry counters over from an earlier run (resume)."""
        self.iterations = state.iterations
        self.usage = state.usage
        self.cost_usd = state.cost_usd
        self.cost_sources = dict(state.cost_sources)
        self._wall_before = state.wall_s
