"""SignalScreen: why a thrash signal fired, with its evidence side by side.

From here the human answers it with one key: recover (r: back to before the
evidence began, with the corrective note as a hint, shown first to edit),
raise this kind's threshold for the rest of the run (t), ignore this one
(d: it will not fire again on the same evidence), switch its kind off (o),
or resume the loop (space). Each is journaled. In a replay only the
explanation and what was done about it are shown.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import ClassVar, Protocol

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.screen import Screen
from textual.widgets import Footer, Static

from tui.app.checkpoint_reader import CheckpointReader
from tui.app.evidence import Column, evidence_view
from tui.app.screens.text_edit import TextEditScreen
from tui.app.widgets.diff_view import DiffView
from tui.engine.checkpoints import CheckpointError
from tui.engine.controls import ControlError
from tui.engine.signal_text import recovery_note
from tui.engine.thrash import THRESHOLDS
from tui.events import SignalRaised


class SignalControls(Protocol):
    """What the explanation screen may ask of a live run."""

    status: str

    def dismiss_signal(self, signal: SignalRaised, whole_kind: bool = False) -> None: ...
    def resume(self) -> None: ...
    def raise_threshold(self, kind: str) -> object: ...
    def recover(self, signal: SignalRaised, note: str) -> Awaitable[object]: ...


class SignalScreen(Screen[None]):
    """The explanation of one signal; ``controls`` None in a replay."""

    CSS_PATH = "signal.tcss"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q", "close", "close", id="signal.close"),
        Binding("r", "recover", "recover…", id="signal.recover"),
        Binding("t", "raise_threshold", "raise threshold", id="signal.raise_threshold"),
        Binding("d", "dismiss_signal", "ignore this one", id="signal.dismiss"),
        Binding("o", "kind_off", "kind off for this run", id="signal.kind_off"),
        Binding("space", "resume", "resume the loop", id="signal.resume"),
    ]

    def __init__(
        self,
        signal: SignalRaised,
        state: str,
        *,
        controls: SignalControls | None,
        reader: CheckpointReader,
        commit_of: Callable[[int], str | None],
        done: list[str] | None = None,
    ) -> None:
        super().__init__()
        self.done = list(done or [])  # what was done about it already, in words
        self.signal = signal
        self.state = state
        self.controls = controls
        self.reader = reader
        self.commit_of = commit_of
        self.view = evidence_view(signal)

    def compose(self) -> ComposeResult:
        yield Static(Content(f" Signal · {self.view.title}"), id="signal-title")
        # Scrolls: on a small terminal the facts must not be cut off.
        with VerticalScroll(id="signal-head"):
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
        self.call_after_refresh(self._focus_head_if_cut)

    def _focus_head_if_cut(self) -> None:
        """On a small terminal the explanation comes first: focus it so keys scroll it."""
        head = self.query_one("#signal-head", VerticalScroll)
        if head.max_scroll_y > 0:
            head.focus()

    def _show_state(self) -> None:
        live = self.controls is not None and self.controls.status != "finished"
        paused = live and self.controls is not None and self.controls.status == "paused"
        raise_ = "t raises this kind's threshold, " if self.signal.kind in THRESHOLDS else ""
        if self.state not in ("active", "quiet"):
            text = f"[$text-muted]This signal is {self.state}."
        elif paused:
            text = (
                f"[$text-muted]r recovers: back to {self._before()}, with the note as a hint "
                f"(edit it first); {raise_}d ignores this one, o switches this kind off for "
                "the run, space resumes the loop."
            )
        elif live:
            text = (
                f"[$text-muted]{raise_}d ignores this one, o switches this kind off for the "
                "run (pause the loop to recover)."
            )
        else:
            text = "[$text-muted]Read-only: this run is over."
        if self.done:
            text += "\n" + "\n".join(f"[$text-muted]✓ {line}" for line in self.done)
        if self.state == "quiet":
            text = "[$text-muted]Recorded only: its kind is ignored, so it did not interrupt. " + (
                text.removeprefix("[$text-muted]")
            )
        self.query_one("#signal-state", Static).update(Content.from_markup(text))

    def _before(self) -> str:
        start = min(self.signal.iterations, default=self.signal.iteration)
        return "the start" if start <= 1 else f"before iteration {start}"

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
        if action in ("dismiss_signal", "kind_off", "resume", "recover", "raise_threshold"):
            if self.controls is None:
                return False
            if self.controls.status == "finished":
                return None
            if action == "resume":
                return self.controls.status == "paused" or None
            if action == "kind_off":
                return self.state != "kind off" or None
            if action == "raise_threshold":
                return self.signal.kind in THRESHOLDS  # hidden for a yes/no kind
            if action == "recover":
                paused = self.controls.status == "paused"
                return (paused and self.state in ("active", "quiet")) or None
            return self.state in ("active", "quiet") or None
        return True

    def action_recover(self) -> None:
        """Show the corrective note to edit; on apply, go back and resume with it."""
        explanation = (
            f"The workspace goes back to {self._before()} and the loop resumes; this note "
            "goes into the next prompt. Edit it, then ctrl+s applies (esc cancels)."
        )
        self.app.push_screen(
            TextEditScreen("Recover from this signal", explanation, recovery_note(self.signal)),
            self._recover_with,
        )

    def _recover_with(self, note: str | None) -> None:
        if note is not None:
            self._recover(note)

    @work(group="recover", exclusive=True, exit_on_error=False)
    async def _recover(self, note: str) -> None:
        assert self.controls is not None
        try:
            await self.controls.recover(self.signal, note)
        except ControlError as exc:
            self.notify(str(exc), title="Not recovered", severity="warning", timeout=6)
            return
        self.state = "recovered"
        self.notify(f"Recovering: back to {self._before()}, the note in the next prompt.")
        self.dismiss(None)

    def action_raise_threshold(self) -> None:
        assert self.controls is not None
        try:
            raised = self.controls.raise_threshold(self.signal.kind)
        except ControlError as exc:
            self.notify(str(exc), severity="warning", timeout=6)
            return
        kind = self.signal.kind.replace("_", " ")
        previous, now = getattr(raised, "previous", "?"), getattr(raised, "threshold", "?")
        self.notify(f"{kind} threshold raised from {previous} to {now} for the rest of this run.")
        self.done.append(f"{kind} threshold raised to {now} for the rest of the run")
        self._after_change()

    def action_dismiss_signal(self) -> None:
        assert self.controls is not None
        self.controls.dismiss_signal(self.signal)
        self.state = "dismissed"
        self.notify("Ignored: it will not fire again on the same evidence.", timeout=4)
        self._after_change()

    def action_kind_off(self) -> None:
        assert self.controls is not None
        self.controls.dismiss_signal(self.signal, whole_kind=True)
        self.state = "kind off"
        kind = self.signal.kind.replace("_", " ")
        self.notify(f"{kind} signals are off for the rest of this run.", timeout=4)
        self._after_change()

    def _after_change(self) -> None:
        self._show_state()
        self.refresh_bindings()

    def action_resume(self) -> None:
        assert self.controls is not None
        self.controls.resume()
        self.dismiss(None)

    def action_close(self) -> None:
        self.dismiss(None)
