"""EventStrip: the newest thing that happened to the run, one line under the header.

Like k9s's flash line: it never covers anything, and the log (L) keeps
every line it showed.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.content import Content
from textual.widgets import Static

from tui.app.event_log import EventLog, LogEntry
from tui.app.widgets.steady import show_line

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
    where = f"{entry.iterations} " if entry.iterations else ""
    return Content.assemble(
        (when, "$text-muted"),
        (where, "$text-muted"),
        (f"{glyph} ", f"bold {colour}"),
        (entry.line, colour if entry.severity != "info" else ""),
    )


class EventStrip(Horizontal):
    """One line: the latest announced log entry and the key that opens the log."""

    def __init__(self, log: EventLog, **kwargs) -> None:
        super().__init__(**kwargs)
        self.event_log = log
        self.key = "v"
        self.why: str | None = None
        self._shown = -1

    def compose(self) -> ComposeResult:
        yield Static(id="event-strip-line")
        yield Static(id="event-strip-keys")

    def strip_text(self) -> str:
        """The strip's text as shown (tests)."""
        line = self.query_one("#event-strip-line", Static).render()
        keys = self.query_one("#event-strip-keys", Static).render()
        return f"{line}  {keys}"

    def show(self, key: str | None = None, why: str | None = None) -> None:
        """Redraw when the log changed.

        ``key`` opens the log; ``why`` (while paused on a signal) explains it.
        """
        wanted = (key or self.key, why)
        if wanted != (self.key, self.why):
            self.key, self.why = wanted
            self._shown = -1
        if self._shown == self.event_log.version:
            return
        self._shown = self.event_log.version
        latest = self.event_log.latest
        keys = f"{self.why} why · {self.key} log" if self.why else f"{self.key} log"
        # The keys' width is their text's: a change re-lays out; the line has a fixed size.
        show_line(
            self.query_one("#event-strip-keys", Static),
            Content.styled(keys, "$text-muted"),
            layout=True,
        )
        line = self.query_one("#event-strip-line", Static)
        if latest is None:
            show_line(line, Content.styled("no events yet", "$text-muted"))
        else:
            show_line(line, entry_line(latest, clock=self.size.width >= 100))
