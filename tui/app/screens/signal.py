"""SignalScreen: why a thrash signal fired, with its evidence side by side.

From here the human dismisses the signal (it will not fire again on the
same evidence), switches its kind off for the run, or resumes the loop.
In a replay only the explanation is shown.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import ClassVar

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.screen import Screen
from textual.widgets import Footer, Static

from tui.app.checkpoint_reader import CheckpointReader
from tui.app.evidence import Column, evidence_view
from tui.app.widgets.diff_view import DiffView
from tui.engine.checkpoints import CheckpointError
from tui.engine.commands import Command, DismissSignal, Resume
from tui.events import SignalRaised

Send = Callable[[Command], None]


class SignalScreen(Screen[None]):
    """The explanation of one signal; ``send`` (commands to the run) None in a replay."""

    CSS_PATH = "signal.tcss"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q", "close", "close", id="signal.close"),
        Binding("d", "dismiss_signal", "dismiss", id="signal.dismiss"),
        Binding("o", "kind_off", "kind off for this run", id="signal.kind_off"),
        Binding("space", "resume", "resume the loop", id="signal.resume"),
    ]

    def __init__(
        self,
        signal: SignalRaised,
        state: str,
        *,
        send: Send | None,
        status: Callable[[], str] = lambda: "finished",
        reader: CheckpointReader,
        commit_of: Callable[[int], str | None],
    ) -> None:
        super().__init__()
        self.signal = signal
        self.state = state
        self.send = send
        self.status = status  # the run's status, from the console's store
        self.reader = reader
        self.commit_of = commit_of
        self.view = evidence_view(signal)

    def compose(self) -> ComposeResult:
        yield Static(Content(f" Signal · {self.view.title}"), id="signal-title")
        with Vertical(id="signal-head"):
            yield Static(Content(self.view.explanation), id="signal-explanation")
            yield Static(self._facts(), id="signal-facts")
            yield Static(id="signal-state")
        with Horizontal(id="signal-columns"):
            for n, column in enumerate(self.view.columns):
                with Vertical(classes="evidence-column") as box:
                    box.border_title = column.title
                    if column.kind == "diff":
                        yield DiffView(column.text or "(no diff kept)", id=f"evidence-{n}")
                    else:
                        with VerticalScroll():
                            yield Static(Content(column.text or "—"), id=f"evidence-{n}")
        yield Footer(compact=True)

    def _facts(self) -> Content:
        return Content("\n".join(f"• {fact}" for fact in self.view.facts))

    def on_mount(self) -> None:
        self._show_state()
        for n, column in enumerate(self.view.columns):
            if column.kind == "diff" and column.between is not None:
                self._fetch(n, column)
        first = self.query(DiffView)
        if first:
            first.first().focus()

    def _show_state(self) -> None:
        live = self.send is not None and self.status() != "finished"
        if self.state != "active":
            text = f"[$text-muted]This signal is {self.state}."
        elif live and self.status() == "paused":
            text = (
                "[$text-muted]d dismisses it (it will not fire again on this evidence), "
                "o switches this kind of signal off for the run, space resumes the loop."
            )
        elif live:
            text = "[$text-muted]d dismisses it, o switches this kind off for the run."
        else:
            text = "[$text-muted]Read-only: this run is over."
        self.query_one("#signal-state", Static).update(Content.from_markup(text))

    @work(group="evidence")
    async def _fetch(self, n: int, column: Column) -> None:
        """Replace the kept patch with the full diff between the two checkpoints."""
        assert column.between is not None
        old, new = (self.commit_of(i) for i in column.between)
        if not old or not new:
            return
        try:
            diff = await asyncio.to_thread(self.reader.diff, old, new)
        except CheckpointError:
            return  # the kept patch stays
        if diff.patch:
            self.query_one(f"#evidence-{n}", DiffView).set_patch(diff.patch)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("dismiss_signal", "kind_off", "resume"):
            if self.send is None:
                return False
            if self.status() == "finished":
                return None
            if action == "resume":
                return self.status() == "paused" or None
            if action == "kind_off":
                return self.state != "kind off" or None
            return self.state == "active" or None
        return True

    def _dismiss_command(self, whole_kind: bool) -> DismissSignal:
        key = str(self.signal.evidence.get("key", ""))
        return DismissSignal(kind=self.signal.kind, key=key, whole_kind=whole_kind)

    def action_dismiss_signal(self) -> None:
        assert self.send is not None
        self.send(self._dismiss_command(whole_kind=False))
        self.state = "dismissed"
        self.notify("Dismissed: it will not fire again on the same evidence.", timeout=4)
        self._after_change()

    def action_kind_off(self) -> None:
        assert self.send is not None
        self.send(self._dismiss_command(whole_kind=True))
        self.state = "kind off"
        kind = self.signal.kind.replace("_", " ")
        self.notify(f"{kind} signals are off for the rest of this run.", timeout=4)
        self._after_change()

    def _after_change(self) -> None:
        self._show_state()
        self.refresh_bindings()

    def action_resume(self) -> None:
        # During a take-over the engine hands back before it resumes.
        assert self.send is not None
        self.send(Resume())
        self.dismiss(None)

    def action_close(self) -> None:
        self.dismiss(None)
