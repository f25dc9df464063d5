"""EventStrip: the newest thing that happened to the run, one line under the header.

Like k9s's flash line: it never covers anything, and the log (L) keeps
every line it showed.
"""

from __future__ import annotations

from textual.content import Content
from textual.widgets import Static

from tui.app.event_log import EventLog, LogEntry

# Severity -> (glyph, theme variable).
STYLE = {
    "info": ("·", "$text-muted"),
    "success": ("✓", "$passed"),
    "warning": ("▲", "$paused"),
    "error": ("✗", "$failed"),
    "signal": ("!", "$signal"),
}


def entry_line(entry: LogEntry, clock: bool = True) -> Content:
    """``12:03:04 ! signal oscillation: … ×2``, coloured by severity."""
    glyph, colour = STYLE[entry.severity]
    when = f"{entry.clock()} " if clock else ""
    return Content.assemble(
        (when, "$text-muted"),
        (f"{glyph} ", f"bold {colour}"),
        (entry.line, colour if entry.severity != "info" else ""),
    )


class EventStrip(Static):
    """One line: the latest announced log entry and the key that opens the log."""

    def __init__(self, log: EventLog, **kwargs) -> None:
        super().__init__(**kwargs)
        self.event_log = log
        self.key = "L"
        self._shown = -1

    def show(self, key: str | None = None) -> None:
        """Redraw when the log changed (``key``: the key that opens the log)."""
        if key is not None and key != self.key:
            self.key, self._shown = key, -1
        if self._shown == self.event_log.version:
            return
        self._shown = self.event_log.version
        latest = self.event_log.latest
        hint = Content.styled(f"  {self.key} log", "$text-muted")
        if latest is None:
            self.update(Content.styled("no events yet", "$text-muted") + hint)
            return
        self.update(entry_line(latest) + hint)
