"""RankingScreen: a fork group's branches ranked, as ``loopconsole compare`` prints them.

The fleet shows it on ``c`` when the console has no compare screen of its
own, or when the runs are on another machine (``fleet --via``).
"""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Label, Static


class RankingScreen(ModalScreen[None]):
    """The ranking text of one fork group; escape closes it."""

    CSS_PATH = "fork_ranking.tcss"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q,c", "close", "close", id="ranking.close"),
    ]

    def __init__(self, title: str, ranking: str) -> None:
        super().__init__()
        self.title_text = title
        self.ranking = ranking

    def compose(self) -> ComposeResult:
        with Vertical(id="ranking"):
            yield Label(Content(self.title_text), id="ranking-title")
            with VerticalScroll():
                yield Static(Content(self.ranking.rstrip()), id="ranking-text")
            yield Label(
                Content("adopt one with: loopconsole adopt BRANCH · escape closes"),
                id="ranking-hint",
            )

    def action_close(self) -> None:
        self.dismiss(None)
