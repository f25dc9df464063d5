"""BudgetPane: iterations, tokens, cost and time against their limits."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.content import Content
from textual.widgets import Static

from tui.app.forecast import burn_rate, meters, projection
from tui.app.store import RunStore
from tui.app.widgets.budget_bar import BudgetBar
from tui.app.widgets.pane import Pane
from tui.spend import cost_sources_text


class BudgetPane(Pane, can_focus=True):
    """Four bars, the burn rate, and which limit the run will reach first."""

    TITLE = "Budget"

    def __init__(self, store: RunStore, **kwargs) -> None:
        super().__init__(**kwargs)
        self.store = store

    def compose(self) -> ComposeResult:
        for key in ("iterations", "tokens", "cost", "time"):
            yield BudgetBar(id=f"budget-{key}")
        yield Static(id="budget-sources")
        yield Static(id="budget-retries")
        yield Static(id="budget-burn")
        yield Static(id="budget-projection")

    def show(self, wall_s: float | None = None) -> None:
        """Redraw from the store; ``wall_s`` is the live clock while the run works."""
        budget = self.store.budget
        bars = meters(budget, wall_s)
        for meter in bars:
            self.query_one(f"#budget-{meter.key}", BudgetBar).meter = meter
        paused = " · paused time is free" if budget.max_wall_s else ""
        # Where the dollars came from: reported by a CLI, estimated, a plan.
        sources = self.query_one("#budget-sources", Static)
        sources.update(Content.from_markup("[$text-muted]$text", text=cost_sources_text(budget)))
        sources.display = bool(budget.cost_sources) and bool(cost_sources_text(budget))
        # Attempts that broke and were sent again: part of the cost (the receipts say which).
        count, usd = self.store.retries()
        retries = self.query_one("#budget-retries", Static)
        retries.display = count > 0
        if count:
            retries.update(
                Content.from_markup(
                    "[$text-muted]retries: $count · $usd of the cost",
                    count=str(count),
                    usd=f"${usd:.4f}",
                )
            )
        self.query_one("#budget-burn", Static).update(
            Content.from_markup("[$text-muted]$rate$paused", rate=burn_rate(budget), paused=paused)
        )
        finished = self.store.finished
        if finished is not None:
            how = finished.outcome.replace("_", " ")
            self.query_one("#budget-projection", Static).update(
                Content.from_markup("[$text-muted]run over: $how", how=how)
            )
            return
        levels = {m.level for m in bars}
        colour = "$error" if "over" in levels else "$warning" if "near" in levels else "$text"
        self.query_one("#budget-projection", Static).update(
            Content.from_markup(f"[{colour}]$text", text=projection(budget))
        )
