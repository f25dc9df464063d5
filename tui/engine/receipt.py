"""An iteration's receipt: what its agent part spent, summed from its AgentTurn events.

Every charge an agent makes to the budget is published as an AgentTurn
(tokens, cost, where the cost came from, whether the attempt was retried), so
the receipt is their sum and adds up to what the budget was charged during
the iteration. The runner publishes it as an IterationReceipt when the agent
part ends; the record, the report and the console read it from there.
"""

from __future__ import annotations

from tui.events import AgentTurn, IterationReceipt, Usage


class ReceiptTally:
    """Adds up one iteration's AgentTurn events."""

    def __init__(self) -> None:
        self.turns: set[int] = set()
        self.usage = Usage()
        self.cost_usd = 0.0
        self.cost_sources: dict[str, float] = {}
        self.retries = 0
        self.retried_usage = Usage()
        self.retried_cost_usd = 0.0

    def add(self, turn: AgentTurn) -> None:
        """Count one charge."""
        self.turns.add(turn.turn)
        self.usage = self.usage + turn.usage
        self.cost_usd += turn.cost_usd
        source = turn.cost_source or "priced"
        self.cost_sources[source] = self.cost_sources.get(source, 0.0) + turn.cost_usd
        self.retries += turn.retries
        if turn.retried:
            self.retries += 1
            self.retried_usage = self.retried_usage + turn.usage
            self.retried_cost_usd += turn.cost_usd

    def receipt(self) -> IterationReceipt:
        """The receipt so far, as the event the runner publishes."""
        return IterationReceipt(
            turns=len(self.turns),
            usage=self.usage,
            cost_usd=round(self.cost_usd, 6),
            cost_sources={k: round(v, 6) for k, v in self.cost_sources.items()},
            retries=self.retries,
            retried_usage=self.retried_usage,
            retried_cost_usd=round(self.retried_cost_usd, 6),
        )
