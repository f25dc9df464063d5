"""OutputLog: a validator's output, as it streams, folded to the pane's width.

A ``Log`` cuts long lines at the right edge without a sign ("have 33" reads
"have 3" at 80 columns); here every line longer than the log is wide is
folded, its continuation marked with ``↪``. Only whole lines are written, so
a line split across two chunks is folded once; the unfinished last line is
written when the run finishes (:meth:`finish`).
"""

from __future__ import annotations

import time

from textual.timer import Timer
from textual.widgets import Log

from tui.app.failures import without_internals

# Lines of output kept on screen; the store keeps the rest.
LOG_LINES = 5_000
# A flood of output is written at most this often (seconds).
FLUSH_S = 0.1
CONTINUED = "↪ "


def tail_lines(text: str, lines: int) -> str:
    """The last ``lines`` lines of ``text`` (cheap for huge outputs)."""
    pos = len(text)
    for _ in range(lines + 1):
        pos = text.rfind("\n", 0, pos)
        if pos < 0:
            return text
    return text[pos + 1 :]


def fold(text: str, width: int) -> str:
    """Lines longer than ``width`` cut into pieces, each continuation marked."""
    if width <= len(CONTINUED) + 4:
        return text
    out = []
    for line in text.split("\n"):
        if len(line) <= width:
            out.append(line)
            continue
        out.append(line[:width])
        rest = line[width:]
        step = width - len(CONTINUED)
        while rest:
            out.append(CONTINUED + rest[:step])
            rest = rest[step:]
    return "\n".join(out)


class OutputLog(Log):
    """Validator output: whole lines, folded, written in batches."""

    def __init__(self, **kwargs) -> None:
        super().__init__(max_lines=LOG_LINES, highlight=False, **kwargs)
        self._pending: list[str] = []
        self._partial = ""
        self._flushed_at = 0.0
        self._timer: Timer | None = None
        self._text = ""  # what is shown, unfolded (to fold again on resize)

    @property
    def fold_width(self) -> int:
        width = self.scrollable_content_region.width or self.size.width
        return max(0, width - 1)

    def reset(self, text: str = "") -> None:
        """Show ``text`` alone (a finished run's output, or nothing)."""
        self._pending.clear()
        self._partial = ""
        self.clear()
        self._text = tail_lines(without_internals(text), LOG_LINES)
        if self._text:
            self.write(fold(self._text, self.fold_width))

    def add(self, text: str) -> None:
        """Append streamed output; written now, or after FLUSH_S since the last write."""
        self._pending.append(text)
        wait = self._flushed_at + FLUSH_S - time.monotonic()
        if wait <= 0:
            self._flush()
        elif self._timer is None:
            self._timer = self.set_timer(wait, self._flush)

    def finish(self) -> None:
        """The run ended: write what is pending, the unfinished last line too."""
        self._flush(whole_lines=False)

    def _flush(self, whole_lines: bool = True) -> None:
        self._timer = None
        self._flushed_at = time.monotonic()
        text = self._partial + "".join(self._pending)
        self._pending.clear()
        cut = text.rfind("\n") + 1 if whole_lines else len(text)
        text, self._partial = text[:cut], text[cut:]
        text = without_internals(text)
        if not text:
            return
        self._text = tail_lines(self._text + text, LOG_LINES)
        tail = tail_lines(text, LOG_LINES)
        if len(tail) < len(text):
            self.clear()  # everything on screen would be pushed out
        self.write(fold(tail, self.fold_width))

    def on_resize(self) -> None:
        # Fold again for the new width.
        if self._text:
            self.clear()
            self.write(fold(self._text, self.fold_width))

    def scroll_to_source_line(self, line: int, total: int) -> None:
        """Scroll to line ``line`` (of ``total``) of the text shown, allowing for folds."""
        lines = self._text.split("\n")
        first = max(0, total - len(lines))
        index = line - first
        if index < 0:
            return
        width = self.fold_width
        # Counted from the end: the log may have dropped folded lines at the top.
        after = sum(fold(ln, width).count("\n") + 1 for ln in lines[index:])
        self.scroll_to(y=max(0, self.line_count - after), animate=False)
