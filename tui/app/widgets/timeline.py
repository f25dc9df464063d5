"""Timeline: one glyph per iteration; focus it and move to look back.

A human checkpoint adds ``✎`` after its iteration; a rewind adds ``↶N``
(the loop went back to iteration N) and draws the iterations it undid dim
and struck through, so the fork is visible: ``✗1 ~✗2~ ~!3~ ↶1 ▶4``. A fork
branch adopted as the run's continuation is marked after the iteration it
started from: ``✗1 ✗2 ⎇ branch 2 !3``.
"""

from __future__ import annotations

from typing import ClassVar

from textual import events
from textual.binding import Binding, BindingType
from textual.content import Content
from textual.reactive import reactive
from textual.widget import Widget

from tui.app.messages import IterationActivated, IterationSelected
from tui.app.store import RunStore
from tui.app.timeline_model import IterationStatus, TimelineItem

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
        Binding("enter", "activate", "Details", show=False),
    ]

    selected: reactive[int | None] = reactive(None)

    def __init__(self, *, hint: str = "", **kwargs) -> None:
        super().__init__(**kwargs)
        self._items: list[TimelineItem] = []
        # x offset of each rendered item, for clicks
        self._spans: list[tuple[int, int, int]] = []
        # Shown after the glyphs while the timeline has no focus (the key to focus it).
        self.hint = hint
        # A replay always shows one iteration: there is no live one to follow.
        self.follows_live = True
        # (iteration, words): the run continued in an adopted fork branch from there.
        self.adopted: tuple[int, str] | None = None

    def show(self, store: RunStore) -> None:
        """Redraw from the store."""
        self._items = store.timeline()
        self.refresh()

    @property
    def numbers(self) -> list[int]:
        return [item.number for item in self._items]

    def _cell(self, item: TimelineItem, target: int) -> tuple[int, list[tuple[str, str]]]:
        glyph, colour = GLYPHS[item.status]
        if item.number == self.selected:
            style = f"bold reverse {colour}"
        elif item.number == target and self.selected is None:
            style = f"bold underline {colour}"
        elif item.abandoned:
            style = f"dim strike {colour}"
        else:
            style = colour
        parts = [(f"{glyph}{item.number}", style)]
        if item.human:
            parts.append(("✎", "$accent"))
        if item.rewound_to is not None:
            parts.append((f" ↶{item.rewound_to}", "bold $accent"))
        if self.adopted is not None and self.adopted[0] == item.number:
            parts.append((f" ⎇ {self.adopted[1]}", "bold $passed"))
        return item.number, parts

    def render(self) -> Content:
        if not self._items:
            return Content.from_markup("[$text-muted]waiting for the first iteration…")
        target = self.selected if self.selected is not None else self._items[-1].number
        cells = []
        for item in self._items:
            number, parts = self._cell(item, target)
            cells.append((number, parts, sum(len(text) for text, _ in parts)))
        # Show a window that keeps the target visible when the run is long.
        tail = self._tail()
        width = max(10, self.size.width - 2 - len(tail))
        index = next(i for i, c in enumerate(cells) if c[0] == target)
        start, used = index, cells[index][2] + 1
        while start > 0 and used + cells[start - 1][2] + 1 <= width:
            start -= 1
            used += cells[start][2] + 1
        end = index + 1
        while end < len(cells) and used + cells[end][2] + 1 <= width:
            used += cells[end][2] + 1
            end += 1
        out: list[tuple[str, str] | str] = []
        self._spans = []
        x = 0
        if start > 0:
            out.append(("…", "$text-muted"))
            x += 1
        for number, parts, length in cells[start:end]:
            out.append(" ")
            x += 1
            out.extend(parts)
            self._spans.append((x, x + len(parts[0][0]), number))
            x += length
        if end < len(cells):
            out.append((" …", "$text-muted"))
        if tail:
            out.append((tail, "$text-muted"))
        return Content.assemble(*out)

    def _tail(self) -> str:
        """What the keys do, after the glyphs."""
        if self.selected is not None and self.follows_live:
            return "   ◂ history: end follows live"
        if not self.has_focus and self.hint:
            return f"   {self.hint}"
        return ""

    def on_focus(self) -> None:
        self.refresh()

    def on_blur(self) -> None:
        self.refresh()

    def _select(self, number: int | None) -> None:
        numbers = self.numbers
        if self.follows_live and numbers and number == numbers[-1]:
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
        if self.follows_live:
            self._select(None)
        elif self.numbers:
            self._select(self.numbers[-1])

    def select(self, number: int | None) -> None:
        """Select ``number`` (None: follow live) as if the user moved there."""
        self._select(number)

    def action_activate(self) -> None:
        numbers = self.numbers
        if numbers:
            self.post_message(IterationActivated(self.selected or numbers[-1]))

    def on_click(self, event: events.Click) -> None:
        for start, end, number in self._spans:
            if start <= event.x < end:
                self._select(number)
                return
