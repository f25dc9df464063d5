"""ConfirmQuitScreen: quitting while the run is going stops it first."""

from __future__ import annotations

from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Label, Static


class ConfirmQuitScreen(ModalScreen[bool]):
    """Asks before stopping a live run; True means stop and quit."""

    CSS_PATH = "confirm_quit.tcss"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("y,q", "answer(True)", "stop and quit", id="quit.yes"),
        Binding("n,escape", "answer(False)", "keep running", id="quit.no"),
    ]

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Label("Quit while the run is going?", id="dialog-title")
            yield Static(
                "The run stops at once (outcome: stopped) and its journal is closed. "
                "The run directory keeps everything up to this point.",
                id="dialog-explanation",
            )
            with Horizontal(id="dialog-buttons"):
                yield Button("Stop and quit  y", id="yes", variant="error")
                yield Button("Keep running  n", id="no", variant="primary")

    def on_mount(self) -> None:
        self.query_one("#no", Button).focus()

    def action_answer(self, stop: bool) -> None:
        self.dismiss(stop)

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "yes")
