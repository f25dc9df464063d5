"""HelpScreen: what each key does, with the user's keymap applied."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import DataTable, Label, Static

from tui.app.config import config_path

# Keys that belong to widgets rather than to the screen.
_NAVIGATION = [
    ("tab / shift+tab", "move the focus (panes, tool calls, prompts, signals)", ""),
    ("escape", "restore a maximised pane", ""),
    ("left / right", "on the timeline: an earlier or later iteration", ""),
    ("home / end", "on the timeline: the first iteration / follow the live one again", ""),
    ("enter", "on the timeline: the iteration's signal explained, or its diff", ""),
    ("enter", "on a signal in the State pane: why it fired, with the evidence", ""),
    ("enter", "on a tool call or a prompt: expand or collapse it", ""),
    ("ctrl+p", "command palette: controls and themes", ""),
]


class HelpScreen(ModalScreen[None]):
    """A table of keys: key, what it does, and the id to remap it."""

    CSS_PATH = "help.tcss"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q,question_mark", "close", "close", id="help.close"),
    ]

    def __init__(
        self,
        rows: list[tuple[str, Binding]],
        sections: list[tuple[str, list[tuple[str, Binding]]]] = (),  # type: ignore[assignment]
    ) -> None:
        super().__init__()
        self.rows = rows
        # Other screens' keys: (screen, [(key, binding)]).
        self.sections = list(sections)

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Label("Keys", id="dialog-title")
            yield DataTable(id="keys", cursor_type="row", zebra_stripes=True)
            yield Static(
                f"Remap a key by its id in {config_path()} under [keymap], "
                'e.g. step = "n". Escape closes this help.',
                id="dialog-explanation",
                markup=False,
            )

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        rows: list[tuple[str, str | Text, str]] = [
            (key, b.tooltip or b.description, b.id or "") for key, b in self.rows
        ]
        rows += [(key, does, id_) for key, does, id_ in _NAVIGATION]
        for title, section in self.sections:
            rows.append(("", Text(title, style="bold"), ""))
            rows += [(key, b.tooltip or b.description, b.id or "") for key, b in section]
        # What it does gets the room left, wrapped, so the table reads at 80 columns.
        key_w = max(len(r[0]) for r in rows)
        id_w = max(len(r[2]) for r in rows)
        room = min(110, self.app.size.width) - 4 - 6  # dialog border and padding, cell padding
        does_w = max(20, room - key_w - id_w)
        table.add_column("key", width=key_w)
        table.add_column("does", width=does_w)
        table.add_column("id", width=id_w)
        for key, does, id_ in rows:
            text = does if isinstance(does, Text) else Text(does)
            height = len(text.wrap(self.app.console, does_w))
            table.add_row(key, text, id_, height=height)
        table.focus()

    def action_close(self) -> None:
        self.dismiss(None)
