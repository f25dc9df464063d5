"""TakeOverPanel: shown while the engineer has the workspace; lists what they change."""

from __future__ import annotations

from pathlib import Path

from textual.app import ComposeResult
from textual.content import Content
from textual.widgets import Static

from tui.app.store import RunStore
from tui.app.widgets.pane import Pane

# Edited files named in the panel (the newest); the rest are counted.
SHOWN_FILES = 12


class TakeOverPanel(Pane):
    """``Take-over · workspace … · edited: pages.py, tests/x.py``."""

    TITLE = "Take-over"

    def __init__(self, store: RunStore, **kwargs) -> None:
        super().__init__(**kwargs)
        self.store = store
        self.revalidate = False
        # The workspace's files when the take-over began: a path gone now that
        # was there is a deletion; one that was not is an editor's temp file.
        self.before: set[str] = set()

    def compose(self) -> ComposeResult:
        yield Static(id="take-over-keys")
        yield Static(id="take-over-edited")

    def show(self) -> None:
        """Redraw from the store (the files edited so far in this pause)."""
        workspace = self.store.started.workspace if self.store.started else ""
        watch = "[b $passed]on[/]" if self.revalidate else "[$text-muted]off[/]"
        self.border_subtitle = workspace
        self.query_one("#take-over-keys", Static).update(
            Content.from_markup(
                "[b]o[/] shell · [b]e[/] edit a file · [b]w[/] re-run validators on save: "
                f"{watch} · [b]i[/] instruct the agent · [b]t[/] hand back"
            )
        )
        edited = self.edited(Path(workspace)) if workspace else []
        if edited:
            names = ", ".join(reversed(edited[-SHOWN_FILES:]))
            more = f" (+{len(edited) - SHOWN_FILES} more)" if len(edited) > SHOWN_FILES else ""
            text = Content.from_markup("[b $accent]edited[/] $names$more", names=names, more=more)
        else:
            text = Content.from_markup(
                "[$text-muted]No edits yet: files you change in the workspace appear here."
            )
        self.query_one("#take-over-edited", Static).update(text)

    def edited(self, workspace: Path) -> list[str]:
        """The files changed so far, oldest first; deletions marked, temp files left out."""
        out = []
        for path in self.store.edited:
            if (workspace / path).exists():
                out.append(path)
            elif path in self.before:
                out.append(f"{path} (deleted)")
        return out
