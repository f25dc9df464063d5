"""GoToScreen: jump to an iteration by its number (a long replay)."""

from __future__ import annotations

from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label


class GoToScreen(ModalScreen[int | None]):
    """Returns the iteration typed, or None."""

    CSS_PATH = "go_to.tcss"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "cancel", id="goto.cancel"),
    ]

    def __init__(self, first: int, last: int) -> None:
        super().__init__()
        self.first = first
        self.last = last

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Label(f"Go to iteration ({self.first}–{self.last})", id="dialog-title")
            yield Input(type="integer", id="number")

    def on_mount(self) -> None:
        self.query_one(Input).focus()

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        try:
            number = int(event.value)
        except ValueError:
            self.dismiss(None)
            return
        self.dismiss(max(self.first, min(self.last, number)))

    def action_cancel(self) -> None:
        self.dismiss(None)
