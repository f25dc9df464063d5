"""Pane: a titled, bordered box that can be maximised to fill the screen."""

from __future__ import annotations

from typing import ClassVar

from textual.containers import Vertical


class Pane(Vertical):
    """Base of the four panes; the screen maximises the pane holding the focus."""

    ALLOW_MAXIMIZE: ClassVar[bool | None] = True
    # The pane's title on its border; subclasses set it.
    TITLE: ClassVar[str] = ""

    def on_mount(self) -> None:
        self.border_title = self.TITLE
