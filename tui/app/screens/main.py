"""MainScreen: header, timeline, the four panes, and the controls."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import ClassVar, Literal, Protocol

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.screen import Screen
from textual.widgets import Footer

from tui.app.feed import EventFeed
from tui.app.messages import EventsWaiting, IterationSelected
from tui.app.notices import Notifier
from tui.app.screens.confirm_quit import ConfirmQuitScreen
from tui.app.screens.help import HelpScreen
from tui.app.screens.text_edit import TextEditScreen
from tui.app.store import RunStore
from tui.app.widgets.budget import BudgetPane
from tui.app.widgets.pane import Pane
from tui.app.widgets.run_header import RunHeader
from tui.app.widgets.state import StatePane
from tui.app.widgets.timeline import Timeline
from tui.app.widgets.transcript import TranscriptPane
from tui.app.widgets.validators import ValidatorsPane
from tui.events import Event


class Controls(Protocol):
    """What the console may ask of a run: the runner's control methods."""

    status: Literal["idle", "running", "validating", "pausing", "paused", "stopping", "finished"]

    def pause(self) -> None: ...
    def resume(self) -> None: ...
    def step(self) -> None: ...
    def stop(self, now: bool = False) -> None: ...
    def set_goal(self, goal: str) -> None: ...
    def add_hint(self, text: str) -> None: ...
    async def revalidate(self) -> object: ...


# Controls that need a live, unfinished run.
_CONTROLS = {"pause", "resume", "step", "edit_goal", "add_hint", "revalidate", "stop"}


class MainScreen(Screen[None]):
    """The console: fed by engine events, steering the run through its controls.

    Without controls (a replay) the screen only shows; the control keys are hidden.
    """

    CSS_PATH = "main.tcss"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("space", "pause", "pause", id="pause", tooltip="Pause after the current step"),
        Binding("space", "resume", "resume", id="resume", tooltip="Resume the run"),
        Binding("s", "step", "step", id="step", tooltip="Run one iteration, then pause"),
        Binding("g", "edit_goal", "goal", id="goal", tooltip="Edit the goal (next iteration on)"),
        Binding("h", "add_hint", "hint", id="hint", tooltip="Add a hint to the next prompt only"),
        Binding("r", "revalidate", "recheck", id="revalidate", tooltip="Re-run the validators now"),
        Binding("x", "stop", "stop", id="stop", tooltip="Stop the run (twice: stop at once)"),
        Binding("q", "quit", "quit", id="quit", tooltip="Quit (asks while the run is going)"),
        Binding("question_mark", "help", "help", id="help", tooltip="Show the keys"),
        Binding("m", "maximize_pane", "max", id="maximize", tooltip="Maximise or restore a pane"),
        Binding(
            "t",
            "focus_timeline",
            "timeline",
            id="timeline",
            show=False,
            tooltip="Focus the timeline; left/right pick an iteration, end follows live",
        ),
        Binding(
            "ctrl+c",
            "quit",
            "quit",
            id="interrupt",
            show=False,
            tooltip="Quit (asks while the run is going)",
        ),
    ]

    def __init__(
        self,
        controls: Controls | None = None,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        super().__init__()
        self.controls = controls
        self.clock = clock
        self.store = RunStore()
        self.feed = EventFeed(lambda: self.post_message(EventsWaiting()))
        self.selected: int | None = None
        self.notifier = Notifier()

    def compose(self) -> ComposeResult:
        yield RunHeader(id="header")
        yield Timeline(id="timeline")
        with Horizontal(id="top-row"):
            yield TranscriptPane(self.store, id="transcript")
            yield ValidatorsPane(self.store, id="validators")
        with Horizontal(id="bottom-row"):
            yield StatePane(self.store, id="state")
            yield BudgetPane(self.store, id="budget")
        yield Footer(compact=True)

    def on_resize(self) -> None:
        # Narrow terminals need the footer's room for the controls.
        self.query_one(Footer).show_command_palette = self.size.width >= 100

    def on_mount(self) -> None:
        self._refresh_summary()
        if self.controls is not None:
            # Between budget events the time bar keeps moving.
            self.set_interval(1.0, self._tick)
        self.query_one("#transcript-scroll").focus()

    # -- events in ----------------------------------------------------------
    @on(EventsWaiting)
    def _drain(self) -> None:
        events = self.feed.drain()
        if not events:
            return
        before = self.store.version
        for event in events:
            self.store.apply(event)
        if not self.is_attached:  # the app is closing; the store is enough
            return
        self.query_one(TranscriptPane).feed(events)
        self.query_one(ValidatorsPane).feed(events)
        if self.store.version != before:
            self._refresh_summary()
        self._notify(events)

    def _refresh_summary(self) -> None:
        self.query_one(TranscriptPane).show_waiting(self._waiting_text())
        validators = self.query_one(ValidatorsPane)
        if validators.iteration is None:
            validators.refresh_rows()  # names from RunStarted, as "waiting"
        self.query_one(RunHeader).show(self.store)
        self.query_one(Timeline).show(self.store)
        self.query_one(StatePane).show()
        self.query_one(BudgetPane).show(self._live_wall())
        self.refresh_bindings()

    def _waiting_text(self) -> str | None:
        s = self.store
        if s.current > 0 or s.finished is not None:
            return None
        if s.status == "paused":
            return "Paused before iteration 1: space runs the loop, s steps one iteration."
        return "Waiting for iteration 1…" if s.started else "Starting the run…"

    def _live_wall(self) -> float | None:
        s = self.store
        if self.controls is None or s.budget_ts is None:
            return None
        if s.status in ("running", "validating", "pausing", "stopping"):
            return s.budget.wall_s + max(0.0, self.clock() - s.budget_ts)
        return None

    def _tick(self) -> None:
        wall = self._live_wall()
        if wall is not None:
            self.query_one(BudgetPane).show(wall)

    def _notify(self, events: Sequence[Event]) -> None:
        for event in events:
            note = self.notifier.for_event(event, self.store)
            if note is not None:
                self.notify(
                    note.message, title=note.title, severity=note.severity, timeout=note.timeout
                )

    @on(IterationSelected)
    def _selected(self, message: IterationSelected) -> None:
        self.selected = message.number
        self.query_one(TranscriptPane).show(message.number)
        self.query_one(ValidatorsPane).show(message.number)

    # -- controls -----------------------------------------------------------
    @property
    def finished(self) -> bool:
        return self.store.finished is not None or (
            self.controls is not None and self.controls.status == "finished"
        )

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in _CONTROLS:
            if self.controls is None:
                return False
            if self.finished:
                return None  # shown greyed out: the run is over
            paused = self.controls.status == "paused"
            if action == "pause":
                return not paused
            if action == "resume":
                return paused
        return True

    def action_pause(self) -> None:
        assert self.controls is not None
        self.controls.pause()
        self.notify("Pausing after the current step.", timeout=3)

    def action_resume(self) -> None:
        assert self.controls is not None
        self.controls.resume()

    def action_step(self) -> None:
        assert self.controls is not None
        self.controls.step()
        self.notify("Stepping: one iteration, then pause.", timeout=3)

    def action_edit_goal(self) -> None:
        def apply(text: str | None) -> None:
            if text and text.strip() != self.store.goal.strip() and self.controls is not None:
                self.controls.set_goal(text.strip())
                self.notify("Goal changed; it applies from the next iteration.", timeout=4)

        self.app.push_screen(
            TextEditScreen(
                "Edit the goal",
                "The new goal applies from the next iteration and is recorded in the journal.",
                self.store.goal,
            ),
            apply,
        )

    def action_add_hint(self) -> None:
        def apply(text: str | None) -> None:
            if text and text.strip() and self.controls is not None:
                self.controls.add_hint(text.strip())

        self.app.push_screen(
            TextEditScreen(
                "Add a hint",
                "The hint goes into the next prompt only, then it is used up.",
                "",
            ),
            apply,
        )

    def action_revalidate(self) -> None:
        assert self.controls is not None
        if self.controls.status not in ("paused", "idle"):
            self.notify(
                "Validators can be re-run while the run is paused; press space first.",
                severity="warning",
                timeout=5,
            )
            return
        self._revalidate()

    @work(group="revalidate", exclusive=True)
    async def _revalidate(self) -> None:
        assert self.controls is not None
        self.notify("Re-running the validators…", timeout=3)
        await self.controls.revalidate()

    def action_stop(self) -> None:
        assert self.controls is not None
        if self.controls.status == "stopping" or self.store.status == "stopping":
            self.controls.stop(now=True)
            self.notify("Stopping now.", timeout=3)
            return
        self.controls.stop()
        self.notify("Stopping after the current step; press x again to stop at once.", timeout=5)

    def action_quit(self) -> None:
        if self.controls is None or self.finished:
            self.app.exit(self.app.exit_code_for(self.store))
            return

        def answer(stop: bool | None) -> None:
            if stop:
                self.app.stop_and_quit()

        self.app.push_screen(ConfirmQuitScreen(), answer)

    def action_help(self) -> None:
        # The console's own bindings, with the user's keymap applied.
        ours = [b.id for b in self.BINDINGS if isinstance(b, Binding)]
        rows = [
            (self.app.get_key_display(binding), binding)
            for node, bindings in self._binding_chain
            if node is self
            for _key, binding in bindings
            if binding.id in ours
        ]
        rows.sort(key=lambda row: ours.index(row[1].id))
        self.app.push_screen(HelpScreen(rows))

    def action_maximize_pane(self) -> None:
        if self.maximized is not None:
            self.minimize()
            return
        focused = self.focused
        pane = (
            next((w for w in focused.ancestors_with_self if isinstance(w, Pane)), None)
            if (focused)
            else None
        )
        self.maximize(pane or self.query_one(TranscriptPane), container=False)

    def action_focus_timeline(self) -> None:
        self.query_one(Timeline).focus()
