"""BudgetBar: one budget dimension as a bar with its value and limit."""

from __future__ import annotations

from typing import ClassVar

from textual.content import Content
from textual.reactive import reactive
from textual.widget import Widget

from tui.app.forecast import Meter

LABEL_WIDTH = 11


class BudgetBar(Widget):
    """``iterations ███░░░ 3/10``; turns warning near its limit and error over it."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {"budget-bar--fill", "budget-bar--empty"}

    DEFAULT_CSS = """
    BudgetBar {
        height: 1;
        & > .budget-bar--fill { color: $primary; }
        & > .budget-bar--empty { color: $foreground 20%; }
        &.-near > .budget-bar--fill { color: $warning; }
        &.-near { color: $warning; }
        &.-over > .budget-bar--fill { color: $error; }
        &.-over { color: $error; text-style: bold; }
    }
    """

    meter: reactive[Meter | None] = reactive(None, layout=False)

    def watch_meter(self, meter: Meter | None) -> None:
        level = meter.level if meter else "ok"
        self.set_class(level == "near", "-near")
        self.set_class(level == "over", "-over")

    def render(self) -> Content:
        m = self.meter
        if m is None:
            return Content("")
        value = f" {m.text}"
        bar_width = max(0, self.size.width - LABEL_WIDTH - len(value))
        if m.limit is None:
            return Content.assemble(m.label.ljust(LABEL_WIDTH), ("·" * bar_width, "dim"), value)
        filled = round(m.fraction * bar_width)
        fill = self.get_visual_style("budget-bar--fill")
        empty = self.get_visual_style("budget-bar--empty")
        return Content.assemble(
            m.label.ljust(LABEL_WIDTH),
            ("█" * filled, fill),
            ("░" * (bar_width - filled), empty),
            value,
        )
