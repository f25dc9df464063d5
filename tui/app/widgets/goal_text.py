"""GoalText: the goal in the State pane, a few lines until the engineer expands it."""

from __future__ import annotations

from typing import ClassVar

from textual.binding import Binding, BindingType
from textual.content import Content
from textual.widgets import Static

# Lines of the goal shown while collapsed.
GOAL_LINES = 3


class GoalText(Static, can_focus=True):
    """A long goal collapsed to GOAL_LINES lines; enter (or a click) expands or folds it."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "expand", "expand", show=False, id="goal.toggle"),
    ]

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.goal = ""
        self.expanded = False

    def set_goal(self, goal: str) -> None:
        if goal != self.goal:
            self.goal = goal
            self._draw()

    def on_resize(self) -> None:
        self._draw()

    def _lines(self) -> list[str]:
        """The goal wrapped to the widget's width."""
        width = max(10, (self.size.width or 80) - 5)
        out: list[str] = []
        for line in (self.goal.strip() or "—").splitlines() or [""]:
            while len(line) > width:
                cut = line.rfind(" ", 0, width)
                cut = cut if cut > 0 else width
                out.append(line[:cut])
                line = line[cut:].lstrip()
            out.append(line)
        return out

    @property
    def long(self) -> bool:
        return len(self._lines()) > GOAL_LINES

    def _draw(self) -> None:
        head = Content.from_markup("[b $primary]goal[/] ")
        lines = self._lines()
        if self.expanded or len(lines) <= GOAL_LINES:
            text = "\n".join(lines)
            more = "  [$text-muted](enter: fold)[/]" if len(lines) > GOAL_LINES else ""
        else:
            text = "\n".join(lines[:GOAL_LINES])
            hidden = len(lines) - GOAL_LINES
            plural = "s" if hidden > 1 else ""
            more = f"\n[$text-muted]… {hidden} more line{plural} (enter or click: show all)[/]"
        self.update(head + Content(text) + Content.from_markup(more))

    def action_expand(self) -> None:
        self.expanded = not self.expanded
        self._draw()

    def on_click(self) -> None:
        self.action_expand()
