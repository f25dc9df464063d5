"""ConfirmQuitScreen: quitting while the run is going: stop it, or leave it running.

Leaving it running is offered when the run has its own engine process (a
console attached to it); a run inside the console's own process must stop.
"""

from __future__ import annotations

from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Label, Static


class ConfirmQuitScreen(ModalScreen[bool | str]):
    """Asks before quitting a live run: True stop and quit, "leave" quit and
    leave the run going, False stay."""

    CSS_PATH = "confirm_quit.tcss"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("y,q", "answer(True)", "stop and quit", id="quit.yes"),
        Binding("n,escape", "answer(False)", "keep running", id="quit.no"),
        Binding("l", "leave", "leave it running", id="quit.leave"),
    ]

    def __init__(self, can_leave: bool = False) -> None:
        super().__init__()
        self.can_leave = can_leave

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Label("Quit while the run is going?", id="dialog-title")
            text = (
                "Stop: the run stops at once (outcome: stopped) and its journal is closed. "
                "The run directory keeps everything up to this point."
            )
            if self.can_leave:
                text += (
                    " Leave: the console closes and the run goes on; "
                    "`loopconsole attach` comes back to it."
                )
            yield Static(text, id="dialog-explanation")
            with Horizontal(id="dialog-buttons"):
                yield Button("Stop and quit  y", id="yes", variant="error")
                if self.can_leave:
                    yield Button("Leave it running  l", id="leave", variant="warning")
                yield Button("Keep watching  n", id="no", variant="primary")

    def on_mount(self) -> None:
        self.query_one("#no", Button).focus()

    def action_answer(self, stop: bool) -> None:
        self.dismiss(stop)

    def action_leave(self) -> None:
        if self.can_leave:
            self.dismiss("leave")

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        self.dismiss("leave" if event.button.id == "leave" else event.button.id == "yes")
