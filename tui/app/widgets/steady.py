"""Redraw a Static only when what it shows changed (one-line bars: without a layout).

``Static.update`` re-lays out the whole screen by default. The console's
one-line bars (header, event strip, pane tabs) are redrawn on every event
that changes the run's summary, and a full layout costs time in proportion
to the transcript's length, so while text streams they would make every key
press slow. Their size never depends on their text, so they skip the layout,
and an unchanged line is not redrawn at all.
"""

from __future__ import annotations

from textual.content import Content
from textual.widgets import Static


def show_line(widget: Static, content: Content, *, layout: bool = False) -> None:
    """``widget.update(content)`` unless it already shows exactly that.

    ``layout`` False (the default) is for widgets whose size does not depend on
    their text; a pane whose height follows its text passes True.
    """
    key = content.markup
    if getattr(widget, "_steady_key", None) == key:
        return
    widget._steady_key = key  # type: ignore[attr-defined]
    widget.update(content, layout=layout)
