"""RaiseLimitScreen: the run stopped on its budget; raise the limit it reached and go on.

The value proposed is the limit doubled, and can be edited. It is checked as
``loopconsole resume RUN --raise LIMIT=VALUE`` checks it (one rule, in
tui.engine.raise_budget): a refusal is said in the dialog, which stays open.
Enter raises; escape declines and the run's summary stays on screen.
"""

from __future__ import annotations

from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Input, Label, Static

from tui.engine.raise_budget import (
    RaiseError,
    check_raise,
    limit_words,
    parse_raise,
    plain,
    proposed_value,
    used_of,
)
from tui.events import BudgetState

# What each limit counts, in words.
LIMIT_WORDS = {
    "max_iterations": "iterations",
    "max_tokens": "tokens",
    "max_cost_usd": "dollars",
    "max_wall_s": "seconds of work",
}


class RaiseLimitScreen(ModalScreen[str | None]):
    """Returns ``LIMIT=VALUE`` to raise (checked), or None when the human declines."""

    CSS_PATH = "raise_limit.tcss"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "decline", "keep the summary", id="raise.decline"),
    ]

    def __init__(self, budget: BudgetState, reason: str, limit: str) -> None:
        super().__init__()
        self.budget = budget
        self.reason = reason
        self.limit = limit

    def compose(self) -> ComposeResult:
        b, key = self.budget, self.limit
        limit = getattr(b, key)
        was = limit_words(key, limit) if limit is not None else "none"
        used = limit_words(key, used_of(key, b))
        value = proposed_value(key, b)
        with Vertical(id="dialog"):
            yield Label("The run stopped on its budget", id="dialog-title")
            yield Static(
                Content(
                    f"{self.reason}.\nRaise {key} (the limit on {LIMIT_WORDS[key]}: {was}, "
                    f"{used} used) and go on in this console? It is journaled as "
                    f"`loopconsole resume RUN --raise {key}=VALUE` is."
                ),
                id="dialog-explanation",
            )
            yield Label(f"New {key}:", id="raise-label")
            yield Input(plain(value), id="raise-value", select_on_focus=True)
            yield Static(id="raise-problem")
            yield Static(
                Content("enter: raise and go on · escape: keep the summary"), id="raise-keys"
            )

    def on_mount(self) -> None:
        self.query_one("#raise-problem", Static).display = False
        self.query_one(Input).focus()

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        text = f"{self.limit}={event.value.strip()}"
        try:
            key, value = parse_raise(text)
            check_raise(key, value, self.budget)
        except RaiseError as exc:
            problem = self.query_one("#raise-problem", Static)
            problem.update(Content(str(exc)))
            problem.display = True
            return
        self.dismiss(f"{key}={plain(value)}")

    def action_decline(self) -> None:
        self.dismiss(None)
