"""TextEditScreen: a modal text area for the goal and for hints."""

from __future__ import annotations

from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Label, Static, TextArea


class TextEditScreen(ModalScreen[str | None]):
    """Edit a text; ctrl+s applies, escape cancels. Returns the text or None."""

    CSS_PATH = "text_edit.tcss"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s", "apply", "apply", id="editor.apply"),
        Binding("escape", "cancel", "cancel", id="editor.cancel"),
    ]

    def __init__(self, title: str, explanation: str, text: str) -> None:
        super().__init__()
        self.title_text = title
        self.explanation = explanation
        self.initial = text

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Label(self.title_text, id="dialog-title")
            yield Static(self.explanation, id="dialog-explanation")
            yield TextArea(self.initial, id="editor", soft_wrap=True, show_line_numbers=False)
            with Horizontal(id="dialog-buttons"):
                yield Button("Apply  ctrl+s", id="apply", variant="primary")
                yield Button("Cancel  esc", id="cancel")

    def on_mount(self) -> None:
        editor = self.query_one(TextArea)
        editor.focus()
        editor.move_cursor(editor.document.end)

    @on(Button.Pressed, "#apply")
    def action_apply(self) -> None:
        self.dismiss(self.query_one(TextArea).text)

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)
