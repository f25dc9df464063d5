"""FilePickScreen: choose a workspace file to open in $EDITOR."""

from __future__ import annotations

import os
from pathlib import Path
from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label, OptionList, Static
from textual.widgets.option_list import Option

# Folders never offered (tools' caches, repositories, the run's own files).
SKIPPED = {".git", ".hg", ".svn", ".loopconsole", "__pycache__", "node_modules", ".venv", "venv"}
# Files listed at most; typing narrows the list.
MAX_FILES = 5_000
SHOWN = 200


def workspace_files(root: Path, limit: int = MAX_FILES) -> list[str]:
    """Relative paths of the files under ``root``, sorted, skipping tool folders."""
    out: list[str] = []
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d not in SKIPPED and not d.endswith(".egg-info"))
        rel = Path(folder).relative_to(root)
        for name in sorted(files):
            if name.endswith((".pyc", ".swp")):
                continue
            out.append((rel / name).as_posix())
            if len(out) >= limit:
                return out
    return out


class FilePickScreen(ModalScreen[str | None]):
    """Type to narrow the list; enter opens the highlighted file (or the typed path)."""

    CSS_PATH = "file_pick.tcss"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "cancel", id="files.cancel"),
        Binding("down", "move(1)", "next", show=False),
        Binding("up", "move(-1)", "previous", show=False),
    ]

    def __init__(self, root: Path) -> None:
        super().__init__()
        self.root = root
        self.files = workspace_files(root)

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
