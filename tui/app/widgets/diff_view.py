"""DiffView: a unified diff, coloured like a diff lexer would, drawn line by line.

Only the visible lines are styled (the Line API), so a diff of 100,000
lines opens as fast as one of ten: no Pygments pass over the whole patch,
no widget per line.
"""

from __future__ import annotations

from typing import ClassVar

from rich.segment import Segment
from rich.style import Style
from textual.cache import LRUCache
from textual.geometry import Size
from textual.scroll_view import ScrollView
from textual.strip import Strip

TAB = "    "


def line_kind(line: str) -> str:
    """The component class for one patch line."""
    if line.startswith(("diff --git", "diff --cc")):
        return "diff-view--file"
    if line.startswith(("+++", "---")):
        return "diff-view--path"
    if line.startswith("@@"):
        return "diff-view--hunk"
    if line.startswith("+"):
        return "diff-view--added"
    if line.startswith("-"):
        return "diff-view--removed"
    if line.startswith(("index ", "new file", "deleted file", "similarity", "rename ", "Binary")):
        return "diff-view--meta"
    if line.startswith("\\"):
        return "diff-view--meta"
    return "diff-view--context"


class DiffView(ScrollView, can_focus=True):
    """A scrollable, coloured unified diff."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "diff-view--file",
        "diff-view--path",
        "diff-view--hunk",
        "diff-view--added",
        "diff-view--removed",
        "diff-view--meta",
        "diff-view--context",
    }

    DEFAULT_CSS = """
    DiffView {
        background: $background;
        & > .diff-view--file { color: $primary; text-style: bold; }
        & > .diff-view--path { color: $text-muted; text-style: bold; }
        & > .diff-view--hunk { color: $accent; }
        & > .diff-view--added { color: $passed; }
        & > .diff-view--removed { color: $failed; }
        & > .diff-view--meta { color: $text-muted; }
        & > .diff-view--context { color: $foreground; }
        scrollbar-size-horizontal: 1;
    }
    """

    def __init__(self, patch: str = "", **kwargs) -> None:
        super().__init__(**kwargs)
        self._cache: LRUCache[int, Strip] = LRUCache(1024)
        self.lines: list[str] = []
        self.set_patch(patch)

    def set_patch(self, patch: str) -> None:
        """Show ``patch`` (a unified diff) from the top."""
        self.lines = patch.replace("\t", TAB).splitlines()
        width = max((len(line) for line in self.lines), default=0)
        self.virtual_size = Size(width + 1, len(self.lines))
        self._cache.clear()
        self.scroll_to(0, 0, animate=False)
        self.refresh()

    def file_starts(self) -> list[int]:
        """Line numbers where each file's diff begins."""
        return [i for i, line in enumerate(self.lines) if line.startswith("diff --git")]

    def scroll_to_line(self, line: int) -> None:
        """Put ``line`` at the top of the view."""
        self.scroll_to(y=line, animate=False)

    def notify_style_update(self) -> None:
        # A new theme: the cached lines carry the old colours.
        super().notify_style_update()
        self._cache.clear()

    def _style(self, kind: str) -> Style:
        return self.get_component_rich_style(kind)

    def render_line(self, y: int) -> Strip:
        scroll_x, scroll_y = self.scroll_offset
        number = scroll_y + y
        width = self.size.width
        base = self.rich_style
        if number >= len(self.lines):
            return Strip.blank(width, base)
        strip = self._cache.get(number)
        if strip is None:
            line = self.lines[number]
            strip = Strip([Segment(line, base + self._style(line_kind(line)))])
            self._cache[number] = strip
        return strip.crop_extend(scroll_x, scroll_x + width, base).apply_offsets(scroll_x, number)
