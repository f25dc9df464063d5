"""PaneTabs: in a narrow terminal, one tab per pane; keys 1-4 switch.

Each tab carries the pane's headline (failing validators, active signals,
the budget's iterations), so the panes not shown are still read at a glance.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.content import Content
from textual.widgets import Static

from tui.app.store import RunStore
from tui.app.widgets.steady import show_line

if TYPE_CHECKING:
    from tui.app.screens.console_base import ConsoleBase

PANES = (
    ("transcript", "Transcript"),
    ("validators", "Validators"),
    ("state", "State"),
    ("budget", "Budget"),
)


def _headline(store: RunStore, pane: str) -> Content:
    if pane == "validators":
        rec = store.record(store.latest_with_validators() or 0)
        results = rec.results() if rec else []
        failing = sum(not r.passed for r in results)
        if failing:
            return Content.styled(f" ✗{failing}", "$failed")
        return Content.styled(" ✓", "$passed") if results else Content("")
    if pane == "state":
        active = sum(store.signal_state(s) == "active" for s in store.signals)
        return Content.styled(f" !{active}", "$signal") if active else Content("")
    if pane == "budget":
        b = store.budget
        limit = f"/{b.max_iterations}" if b.max_iterations else ""
        return Content.styled(f" {b.iterations}{limit}", "$text-muted")
    return Content("")


class PaneTabs(Static):
    """``1 Transcript  2 Validators ✗2  3 State !1  4 Budget 3/10``."""

    def __init__(self, store: RunStore, **kwargs) -> None:
        super().__init__(**kwargs)
        self.store = store

    def show(self, active: str, screen: ConsoleBase) -> None:
        """Redraw with ``active`` highlighted, naming the keys actually bound."""
        tabs = []
        for pane, title in PANES:
            key = screen.key_for(f"pane.{pane}")
            style = "bold reverse $primary" if pane == active else ""
            tab = Content.styled(f" {key} {title}", style) + _headline(self.store, pane)
            tabs.append(tab + Content.styled(" ", style))
        show_line(self, Content(" ").join(tabs))
