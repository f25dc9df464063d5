"""Budget arithmetic: prices, limits, the worst-case check before a request."""

from __future__ import annotations

from tui.engine.budget import Budget
from tui.events import Usage
from tui.pricing import price_for
from tui.spec import BudgetSpec, Price


def test_cost_from_price_table_and_dated_model_ids() -> None:
    b = Budget(BudgetSpec())
    usage = Usage(
        input_tokens=1_000_000,
        output_tokens=100_000,
        cache_write_tokens=1_000_000,
        cache_read_tokens=1_000_000,
    )
    cost = b.charge("claude-sonnet-4-5-20250929", usage)
    assert abs(cost - (3.0 + 1.5 + 3.75 + 0.30)) < 1e-9
    assert b.usage.total == 3_100_000


def test_spec_prices_override_and_unknown_models_are_reported() -> None:
    b = Budget(BudgetSpec(), {"my-model": Price(input=1.0, output=2.0)})
    assert b.charge("my-model", Usage(input_tokens=1_000_000, cache_read_tokens=1_000_000)) == 1.1
    assert b.charge("who-knows", Usage(input_tokens=10)) == 0.0
    assert b.unpriced == {"who-knows"}
    assert price_for("claude-opus-4-1-20250805") is not None


def test_reported_cost_wins() -> None:
    b = Budget(BudgetSpec())
    assert b.charge("claude-sonnet-5-5", Usage(input_tokens=10), 0.42) == 0.42


def test_over_budget_uses_worst_case_of_next_request() -> None:
    b = Budget(BudgetSpec(max_cost_usd=1.0))
    b.charge("claude-sonnet-4-5", Usage(input_tokens=100_000, output_tokens=10_000))  # $0.45
    # Worst case next: 100k input again ($0.30) + 16k output ($0.24): $0.99 < $1
    assert b.over_budget("claude-sonnet-4-5", 16_000) is None
    # ... but 20k output ($0.30) would make $1.05.
    assert b.over_budget("claude-sonnet-4-5", 20_000) == "max_cost_usd"


def test_each_limit_is_named() -> None:
    b = Budget(BudgetSpec(max_iterations=2, max_tokens=100))
    assert b.exhausted() is None
    b.iterations = 2
    assert b.exhausted() == "max_iterations"
    assert b.describe("max_iterations") == "iteration limit reached (2/2)"
    b.iterations = 0
    b.charge("x", Usage(output_tokens=100))
    assert b.exhausted() == "max_tokens"


def test_wall_clock_stops_while_paused() -> None:
    import time

    b = Budget(BudgetSpec())
    b.start_clock()
    time.sleep(0.05)
    b.stop_clock()
    frozen = b.wall_s
    time.sleep(0.05)
    assert b.wall_s == frozen and frozen >= 0.05
