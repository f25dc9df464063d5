"""ConsoleFooter: the footer, minus the least needed keys when the terminal is narrow.

The console has more controls than an 80-column footer can hold. Rather
than cut the row off at the edge (losing quit and help), this drops whole
keys in a fixed order; every key stays in the help screen (?) and, from
100 columns, in the command palette.
"""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.widget import Widget
from textual.widgets import Footer
from textual.widgets._footer import FooterKey


def _width(widget: Widget) -> int:
    if isinstance(widget, FooterKey):
        # Compact: "key description" and one column between keys.
        return len(widget.key_display) + 1 + len(widget.description) + 1
    return len(str(getattr(widget, "content", ""))) + 1


class ConsoleFooter(Footer):
    """A compact footer that fits the terminal's width."""

    # Actions dropped first when the keys do not fit (each is also explained elsewhere).
    DROP_ORDER: ClassVar[tuple[str, ...]] = ("why", "diff", "add_hint", "edit_goal", "stop")
    _composed: tuple[object, ...] | None = None  # what the keys shown were composed from

    async def recompose(self) -> None:
        """Compose the keys again only when what they show would change.

        Focus moves, resizes and every change of the bindings ask for a
        recompose, and each mounts every key again: opening the console on a
        run asked for about ten in its first second, for the same keys.
        """
        state = self._state()
        if state == self._composed and self.children:
            return
        self._composed = state
        await super().recompose()

    def _state(self) -> tuple[object, ...]:
        """Everything :meth:`compose` reads."""
        if not self._bindings_ready:
            return ()
        bindings = tuple(
            (binding.key, binding.action, binding.description, binding.show, enabled, tooltip)
            for _node, binding, enabled, tooltip in self.screen.active_bindings.values()
        )
        first = tuple(getattr(self.screen, "footer_first", list)())
        return (bindings, first, self.app.size.width, self.show_command_palette, self.compact)

    def compose(self) -> ComposeResult:
        items = list(super().compose())
        # What the situation needs goes first and is never dropped (the screen
        # says: e.g. ! while paused on a signal).
        first: list[str] = getattr(self.screen, "footer_first", list)()
        keys = [w for w in items if isinstance(w, FooterKey)]
        if first and len(keys) == len(items):
            rank = {a: i for i, a in enumerate(first)}
            items.sort(key=lambda w: rank.get(getattr(w, "action", ""), len(rank)))
        room = self.app.size.width
        total = sum(_width(w) for w in items)
        for action in self.DROP_ORDER:
            if total <= room:
                break
            if action in first:
                continue
            for widget in [w for w in items if getattr(w, "action", None) == action]:
                items.remove(widget)
                total -= _width(widget)
        yield from items
