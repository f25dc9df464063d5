"""Timeline: one glyph per iteration; focus it and move to look back."""

from __future__ import annotations

from typing import ClassVar

from textual import events
from textual.binding import Binding, BindingType
from textual.content import Content
from textual.reactive import reactive
from textual.widget import Widget

from tui.app.messages import IterationSelected
from tui.app.store import IterationStatus, RunStore

GLYPHS: dict[IterationStatus, tuple[str, str]] = {
    "running": ("▶", "$running"),
    "passed": ("✓", "$passed"),
    "failed": ("✗", "$failed"),
    "paused": ("‖", "$paused"),
    "signal": ("!", "$signal"),
    "stopped": ("■", "$text-muted"),
}


class Timeline(Widget, can_focus=True):
    """The iterations of the run; ``selected`` None means "follow the live one"."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("left", "move(-1)", "Earlier", show=False),
        Binding("right", "move(1)", "Later", show=False),
        Binding("home", "first", "First", show=False),
        Binding("end,escape", "live", "Follow live", show=False),
    ]

    selected: reactive[int | None] = reactive(None)

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self._items: list[tuple[int, IterationStatus]] = []
        # x offset of each rendered item, for clicks
        self._spans: list[tuple[int, int, int]] = []

    def show(self, store: RunStore) -> None:
        """Redraw from the store."""
        self._items = [(n, store.iteration_status(n)) for n in store.numbers()]
        self.refresh()

    @property
    def numbers(self) -> list[int]:
        return [n for n, _ in self._items]

    def render(self) -> Content:
        if not self._items:
            return Content.from_markup("[$text-muted]waiting for the first iteration…")
        target = self.selected if self.selected is not None else self._items[-1][0]
        cells = []
        for number, status in self._items:
            glyph, colour = GLYPHS[status]
            label = f"{glyph}{number}"
            if number == self.selected:
                style = f"bold reverse {colour}"
            elif number == target and self.selected is None:
                style = f"bold underline {colour}"
            else:
                style = colour
            cells.append((number, label, style))
        # Show a window that keeps the target visible when the run is long.
        width = max(10, self.size.width - 2)
        index = next(i for i, c in enumerate(cells) if c[0] == target)
        start, used = index, len(cells[index][1]) + 1
        while start > 0 and used + len(cells[start - 1][1]) + 1 <= width:
            start -= 1
            used += len(cells[start][1]) + 1
        end = index + 1
        while end < len(cells) and used + len(cells[end][1]) + 1 <= width:
            used += len(cells[end][1]) + 1
            end += 1
        parts: list[tuple[str, str] | str] = []
        self._spans = []
        x = 0
        if start > 0:
            parts.append(("…", "$text-muted"))
            x += 1
        for number, label, style in cells[start:end]:
            parts.append(" ")
            x += 1
            parts.append((label, style))
            self._spans.append((x, x + len(label), number))
            x += len(label)
        if end < len(cells):
            parts.append((" …", "$text-muted"))
        if self.selected is not None:
            parts.append(("   ◂ history: end follows live", "$text-muted"))
        return Content.assemble(*parts)

    def _select(self, number: int | None) -> None:
        if number is not None and self.numbers and number == self.numbers[-1]:
            number = None  # the newest iteration is the live one
        if number != self.selected:
            self.selected = number
            self.post_message(IterationSelected(number))

    def action_move(self, delta: int) -> None:
        numbers = self.numbers
        if not numbers:
            return
        current = self.selected if self.selected is not None else numbers[-1]
        index = max(0, min(len(numbers) - 1, numbers.index(current) + delta))
        self._select(numbers[index])

    def action_first(self) -> None:
        if self.numbers:
            self._select(self.numbers[0])

    def action_live(self) -> None:
        self._select(None)

    def on_click(self, event: events.Click) -> None:
        for start, end, number in self._spans:
            if start <= event.x < end:
                self._select(number)
                return
