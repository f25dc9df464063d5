"""ForkDialog: how many branches to fork from an iteration, and what makes each differ.

Returns a :class:`ForkRequest` (or None): the number of branches, a hint
and a model per branch (both optional), and whether the budget is split
among them. The console hands it to :mod:`tui.engine.fork`, as
``loopconsole fork`` would.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Button, Checkbox, Input, Label, Static

from tui.engine.fork import Variant

#: The most branches the dialog offers (the command line takes any number).
MAX_BRANCHES = 8
DEFAULT_BRANCHES = 3


@dataclass
class ForkRequest:
    """What the engineer asked for in the dialog."""

    variants: list[Variant] = field(default_factory=list)
    split_budget: bool = False


class ForkDialog(ModalScreen[ForkRequest | None]):
    """Fork from iteration ``iteration``; ctrl+s forks, escape cancels."""

    CSS_PATH = "fork_dialog.tcss"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s", "fork", "fork", id="fork.start"),
        Binding("escape", "cancel", "cancel", id="fork.cancel"),
    ]

    def __init__(self, iteration: int, run_name: str, model: str = "") -> None:
        super().__init__()
        self.iteration = iteration
        self.run_name = run_name
        self.model = model

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Label(
                Content(f"Fork run {self.run_name} from iteration {self.iteration}"),
                id="dialog-title",
            )
            yield Static(
                "Each branch is a run of its own, starting from this iteration's checkpoint "
                "with its own workspace and budget; the run itself is not touched. A hint goes "
                "into a branch's first prompt; a model replaces the spec's.",
                id="dialog-explanation",
            )
            with Horizontal(id="fork-count-row"):
                yield Label("branches (1-8)", classes="fork-label")
                yield Input(str(DEFAULT_BRANCHES), type="integer", max_length=1, id="fork-count")
                yield Checkbox("split the budget among them", id="fork-split")
            with VerticalScroll(id="fork-branches"):
                for n in range(1, MAX_BRANCHES + 1):
                    with Horizontal(classes="fork-branch", id=f"fork-branch-{n}"):
                        yield Label(f"branch {n}", classes="fork-label")
                        yield Input(placeholder="hint (optional)", id=f"fork-hint-{n}")
                        yield Input(
                            placeholder=self.model or "model", id=f"fork-model-{n}", classes="model"
                        )
            yield Static(id="fork-problem")
            with Horizontal(id="dialog-buttons"):
                yield Button("Fork  ctrl+s", id="fork", variant="primary")
                yield Button("Cancel  esc", id="cancel")

    def on_mount(self) -> None:
        self._show_rows()
        self.query_one("#fork-hint-1", Input).focus()

    def count(self) -> int | None:
        """The number of branches typed, or None when it is not 1-8."""
        try:
            n = int(self.query_one("#fork-count", Input).value)
        except ValueError:
            return None
        return n if 1 <= n <= MAX_BRANCHES else None

    @on(Input.Changed, "#fork-count")
    def _show_rows(self) -> None:
        n = self.count() or 0
        for i in range(1, MAX_BRANCHES + 1):
            self.query_one(f"#fork-branch-{i}").display = i <= n
        self._problem("" if n else f"Type a number of branches from 1 to {MAX_BRANCHES}.")

    def _problem(self, text: str) -> None:
        problem = self.query_one("#fork-problem", Static)
        problem.update(Content(text))
        problem.display = bool(text)

    def request(self) -> ForkRequest | None:
        """The request as the dialog stands (None when the count is not valid)."""
        n = self.count()
        if n is None:
            return None
        variants = [
            Variant(
                hint=self.query_one(f"#fork-hint-{i}", Input).value.strip(),
                model=self.query_one(f"#fork-model-{i}", Input).value.strip(),
            )
            for i in range(1, n + 1)
        ]
        return ForkRequest(variants, self.query_one("#fork-split", Checkbox).value)

    @on(Button.Pressed, "#fork")
    @on(Input.Submitted)
    def action_fork(self) -> None:
        request = self.request()
        if request is None:
            self._problem(f"Type a number of branches from 1 to {MAX_BRANCHES}.")
            self.query_one("#fork-count", Input).focus()
            return
        self.dismiss(request)

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)
