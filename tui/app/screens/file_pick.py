"""FilePickScreen: choose a workspace file to open in $EDITOR."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label, OptionList, Static
from textual.widgets.option_list import Option

from tui.engine.take_over_files import workspace_files

__all__ = ["FilePickScreen", "workspace_files"]

SHOWN = 200  # files listed at once; typing narrows the list


class FilePickScreen(ModalScreen[str | None]):
    """Type to narrow the list; enter opens the highlighted file (or the typed path)."""

    CSS_PATH = "file_pick.tcss"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "cancel", id="files.cancel"),
        Binding("down", "move(1)", "next", show=False),
        Binding("up", "move(-1)", "previous", show=False),
    ]

    def __init__(self, root: Path, files: list[str] | None = None) -> None:
        """``files``: the list to pick from when ``root`` is on another machine."""
        super().__init__()
        self.root = root
        self.files = workspace_files(root) if files is None else files

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Label("Open a file in $EDITOR", id="dialog-title")
            yield Input(placeholder="type to filter, or a new file's path", id="filter")
            yield OptionList(id="files")
            yield Static(
                f"{self.root} · enter opens · escape cancels", id="dialog-explanation", markup=False
            )

    def on_mount(self) -> None:
        self._filter("")
        self.query_one(Input).focus()

    @on(Input.Changed, "#filter")
    def _changed(self, event: Input.Changed) -> None:
        self._filter(event.value)

    def _filter(self, text: str) -> None:
        words = text.lower().split()
        matches = [f for f in self.files if all(w in f.lower() for w in words)][:SHOWN]
        options = self.query_one("#files", OptionList)
        options.set_options(Option(f, id=f) for f in matches)
        if matches:
            options.highlighted = 0

    def action_move(self, delta: int) -> None:
        options = self.query_one("#files", OptionList)
        if options.option_count:
            current = options.highlighted or 0
            options.highlighted = max(0, min(options.option_count - 1, current + delta))

    @on(Input.Submitted, "#filter")
    def _submitted(self, event: Input.Submitted) -> None:
        options = self.query_one("#files", OptionList)
        typed = event.value.strip()
        if options.highlighted is not None and options.option_count:
            chosen = options.get_option_at_index(options.highlighted).id
        else:
            chosen = typed or None
        self.dismiss(chosen)

    @on(OptionList.OptionSelected, "#files")
    def _selected(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)

    def action_cancel(self) -> None:
        self.dismiss(None)
