"""EventLogScreen: every line the event strip showed, newest last, repeats folded.

Enter on a signal's line explains it (the signal screen); escape closes.
"""

from __future__ import annotations

from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Label, OptionList, Static
from textual.widgets.option_list import Option

from tui.app.event_log import EventLog
from tui.app.widgets.event_strip import entry_line


class EventLogScreen(ModalScreen[int | None]):
    """The run's event log; dismissed with the index of a signal to explain, or None."""

    CSS_PATH = "event_log.tcss"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q", "close", "close", id="log.close"),
    ]

    def __init__(self, log: EventLog) -> None:
        super().__init__()
        self.event_log = log
        self._shown = -1

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Label("Event log", id="dialog-title")
            yield OptionList(id="log-entries")
            yield Static(
                "↑ ↓ move · enter on a signal: why it fired · escape closes",
                id="dialog-explanation",
            )

    def on_mount(self) -> None:
        self._refresh()
        self.set_interval(0.5, self._refresh)
        self.query_one(OptionList).focus()

    def _refresh(self) -> None:
        if self._shown == self.event_log.version:
            return
        self._shown = self.event_log.version
        listing = self.query_one(OptionList)
        at_end = listing.highlighted is None or listing.highlighted >= listing.option_count - 1
        listing.set_options(
            Option(entry_line(e), id=str(i)) for i, e in enumerate(self.event_log.entries)
        )
        if at_end and listing.option_count:
            listing.highlighted = listing.option_count - 1

    @on(OptionList.OptionSelected)
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        entry = self.event_log.entries[int(event.option.id or 0)]
        if entry.signal is not None:
            self.dismiss(entry.signal)

    def action_close(self) -> None:
        self.dismiss(None)
