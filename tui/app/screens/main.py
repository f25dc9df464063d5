"""MainScreen: header, timeline, the four panes, and the controls."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import ClassVar, Protocol, cast

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal

from tui.app.checkpoint_reader import CheckpointReader
from tui.app.event_log import EventLog
from tui.app.feed import EventFeed
from tui.app.messages import EventsWaiting, IterationSelected
from tui.app.screens.confirm_quit import ConfirmQuitScreen
from tui.app.screens.fork_actions import ForkActions
from tui.app.screens.history_actions import HistoryActions
from tui.app.screens.log_actions import EventLogActions
from tui.app.screens.pane_actions import NARROW, PaneActions
from tui.app.screens.take_over_actions import TakeOverActions
from tui.app.screens.text_edit import TextEditScreen
from tui.app.store import RunStore
from tui.app.terminal_notify import terminal_notify
from tui.app.widgets.budget import BudgetPane
from tui.app.widgets.console_footer import ConsoleFooter
from tui.app.widgets.event_strip import EventStrip
from tui.app.widgets.pane import Pane
from tui.app.widgets.pane_tabs import PANES, PaneTabs
from tui.app.widgets.run_header import RunHeader
from tui.app.widgets.state import StatePane
from tui.app.widgets.take_over_panel import TakeOverPanel
from tui.app.widgets.timeline import Timeline
from tui.app.widgets.transcript import TranscriptPane
from tui.app.widgets.validators import ValidatorsPane
from tui.engine.commands import (
    AddHint,
    Answer,
    Command,
    Pause,
    ReloadSpec,
    Reply,
    Resume,
    Revalidate,
    SetGoal,
    Step,
    Stop,
)
from tui.engine.connection import RunConnection
from tui.engine.notify import moment
from tui.events import Event

# A batch this big is a catch-up (attaching to a long run): the panes draw only
# its newest iteration; the store has them all for the timeline and history.
# (A catch-up through the journal index is known as one whatever its size.)
CATCH_UP_EVENTS = 2_000


def _newest_only(events: Sequence[Event]) -> list[Event]:
    newest = max(e.iteration for e in events)
    return [e for e in events if e.iteration >= newest]


class _Console(Protocol):
    """What the screen asks of its app (tui.app.app.ConsoleApp)."""

    def exit_code_for(self, store: RunStore) -> int: ...
    def stop_and_quit(self) -> None: ...


# Controls that need a live, unfinished run (greyed out once it is over).
_CONTROLS = {
    "pause",
    "resume",
    "step",
    "edit_goal",
    "add_hint",
    "drive",
    "revalidate",
    "stop",
    "take_over",
    "rewind",
    "finish",
}
# Controls that only exist while the engineer has the workspace.
_TAKE_OVER = {"hand_back", "shell", "edit_file", "watch"}


class MainScreen(EventLogActions, PaneActions, TakeOverActions, HistoryActions, ForkActions):
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
        Binding("a", "answer", "answer", id="answer", tooltip="Answer the agent's question"),
        Binding(
            "t",
            "take_over",
            "take over",
            id="take_over",
            tooltip="Take over: pause, then edit the workspace yourself",
        ),
        Binding(
            "t",
            "hand_back",
            "hand back",
            id="hand_back",
            tooltip="Hand back: checkpoint your changes and tell the agent",
        ),
        Binding("o", "shell", "shell", id="shell", tooltip="Open $SHELL in the workspace"),
        Binding("e", "edit_file", "edit", id="edit", tooltip="Open a workspace file in $EDITOR"),
        Binding(
            "w", "watch", "watch", id="watch", tooltip="Re-run the validators on save (on/off)"
        ),
        Binding(
            "i",
            "drive",
            "instruct",
            id="drive",
            show=False,
            tooltip="Write the agent's instruction for the next iteration",
        ),
        Binding(
            "z", "rewind", "rewind", id="rewind", tooltip="Rewind to the iteration picked (paused)"
        ),
        Binding("d", "diff", "diff", id="diff", tooltip="Show what an iteration changed (diff)"),
        Binding(
            "b",
            "fork",
            "fork",
            id="fork",
            show=False,  # the footer is full: the help and the palette list it
            tooltip="Fork: best-of-N branches from the iteration picked",
        ),
        Binding(
            "c",
            "compare",
            "compare",
            id="compare",
            tooltip="Compare the branches of a fork of the run",
        ),
        Binding("exclamation_mark", "why", "why", id="signal", tooltip="Explain the thrash signal"),
        Binding(
            "f",
            "finish",
            "finish: goal met",
            id="finish",
            tooltip="Finish the run with the goal met (every required validator passes)",
        ),
        Binding("v", "event_log", "log", id="log", tooltip="View the event log"),
        Binding(
            "r",
            "revalidate",
            "recheck",
            id="revalidate",
            show=False,
            tooltip="Re-run the validators now",
        ),
        Binding(
            "L",
            "reload_spec",
            "reload",
            id="reload_spec",
            show=False,
            tooltip="Read loop.toml again (edits apply from the next iteration)",
        ),
        Binding("x", "stop", "stop", id="stop", tooltip="Stop the run (twice: stop at once)"),
        Binding("q", "quit", "quit", id="quit", tooltip="Quit (asks while the run is going)"),
        Binding("question_mark", "help", "help", id="help", tooltip="Show the keys"),
        Binding(
            "m",
            "maximize_pane",
            "max",
            id="maximize",
            show=False,
            tooltip="Maximise or restore a pane",
        ),
        Binding(
            "l",
            "focus_timeline",
            "timeline",
            id="timeline",
            show=False,
            tooltip="Focus the timeline; left/right pick an iteration, end follows live",
        ),
        *(
            Binding(
                str(n),
                f"show_pane('{pane}')",
                title,
                id=f"pane.{pane}",
                show=False,
                tooltip=f"Go to the {title} pane",
            )
            for n, (pane, title) in enumerate(PANES, start=1)
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
        connection: RunConnection | None = None,
        *,
        clock: Callable[[], float] = time.time,
        store: RunStore | None = None,
    ) -> None:
        super().__init__()
        self.connection = connection
        self.clock = clock
        self.store = store or RunStore()
        self.feed = EventFeed(lambda: self.post_message(EventsWaiting()))
        self.selected: int | None = None
        self.event_log = EventLog()
        self.active_pane = "transcript"  # the pane shown alone in a narrow terminal
        self.reader = CheckpointReader()
        self.lost = False  # the engine process went away
        self.attached_at = time.time()
        self._offered_finish = False
        self._bindings_shown: tuple[object, ...] | None = None

    def compose(self) -> ComposeResult:
        yield RunHeader(id="header")
        yield EventStrip(self.event_log, id="event-strip")
        yield PaneTabs(self.store, id="pane-tabs")
        yield Timeline(id="timeline", hint=self.timeline_hint())
        with Horizontal(id="top-row"):
            yield TranscriptPane(self.store, id="transcript")
            yield ValidatorsPane(self.store, id="validators")
        with Horizontal(id="bottom-row"):
            yield StatePane(self.store, id="state")
            yield BudgetPane(self.store, id="budget")
        yield TakeOverPanel(self.store, id="take-over")
        yield ConsoleFooter(compact=True)

    def timeline_hint(self) -> str:
        """What the timeline says while it has no focus."""
        return f"{self.key_for('timeline')}: pick an iteration"

    def on_resize(self) -> None:
        # Narrow terminals need the footer's room for the controls, and show
        # one pane at a time (keys 1-4, or the tabs).
        narrow = self.size.width < NARROW
        footer = self.query_one(ConsoleFooter)
        footer.show_command_palette = not narrow
        footer.refresh(recompose=True)
        self.set_class(narrow, "-narrow")
        self._show_active_pane()

    def on_mount(self) -> None:
        self.query_one(TakeOverPanel).display = False
        self._show_active_pane()
        self._refresh_summary()
        if self.connection is not None:
            # Between budget events the time bar keeps moving.
            self.set_interval(1.0, self._tick)
        self.query_one(TranscriptPane).timeline_key = self.key_for("timeline")
        self.query_one("#transcript-scroll").focus()
        self.mounted()

    def mounted(self) -> None:
        """Called at the end of on_mount (Textual runs every class's on_mount: override this)."""

    def on_unmount(self) -> None:
        self.reader.close()

    # -- events in ----------------------------------------------------------
    @on(EventsWaiting)
    def _drain(self) -> None:
        events = self.feed.drain()
        if not events:
            return
        before = self.store.version
        catch_up = len(events) > CATCH_UP_EVENTS
        if self.store.history is None and self.connection is not None:
            self.store.history = self.connection.history
            catch_up = catch_up or self.store.history is not None
        for event in events:
            self.store.apply(event)
        if self.reader.run_dir is None and self.store.run_dir:
            self.reader.run_dir = self.checkpoints_dir()
        if not self.is_attached:  # the app is closing; the store is enough
            return
        shown = _newest_only(events) if catch_up else events
        self.query_one(TranscriptPane).feed(shown)
        self.query_one(ValidatorsPane).feed(shown)
        if self.store.version != before:
            self._refresh_summary()
            self.take_over_events(events)
        self._notify(events)
        self._terminal_notify(events)

    def checkpoints_dir(self) -> Path:
        """The run directory whose checkpoints the diffs come from."""
        return Path(self.store.run_dir)

    def _refresh_summary(self) -> None:
        self.query_one(TranscriptPane).show_waiting(self._waiting_text())
        validators = self.query_one(ValidatorsPane)
        if validators.iteration is None:
            validators.refresh_rows()  # names from RunStarted, as "waiting"
        self.query_one(RunHeader).show(self.store, position=self.header_position())
        self.query_one(EventStrip).show(self.key_for("log"), self._why_key())
        self.query_one(PaneTabs).show(self.active_pane, self)
        self.query_one(Timeline).show(self.store)
        self.query_one(StatePane).show()
        self.query_one(BudgetPane).show(self._live_wall())
        panel = self.query_one(TakeOverPanel)
        if panel.display:
            panel.show()
        # The footer recomposes (a full layout) on every refresh: only when a
        # key's availability or the keys' order can have changed.
        bindings = self._bindings_state()
        if bindings != self._bindings_shown:
            self._bindings_shown = bindings
            self.refresh_bindings()

    def _bindings_state(self) -> tuple[object, ...]:
        """What check_action and the footer's order depend on."""
        s = self.store
        return (
            self.connection is not None,
            self.finished,
            self.taking_over,
            s.status,
            bool(s.signals),
            bool(s.numbers()),
            s.goal_met_now(),
            tuple(self.footer_first()),
        )

    def header_position(self) -> tuple[int, int] | None:
        """(shown, last) iteration for a replay's header; None for a live run."""
        return None

    def _waiting_text(self) -> str | None:
        s = self.store
        if s.current > 0 or s.finished is not None:
            return None
        if s.status == "paused":
            return (
                f"Paused before iteration 1: {self.key_for('resume')} runs the loop, "
                f"{self.key_for('step')} steps one iteration."
            )
        return "Waiting for iteration 1…" if s.started else "Starting the run…"

    def _live_wall(self) -> float | None:
        s = self.store
        if self.connection is None or s.budget_ts is None:
            return None
        if s.status in ("running", "validating", "pausing", "stopping"):
            return s.budget.wall_s + max(0.0, self.clock() - s.budget_ts)
        return None

    def _tick(self) -> None:
        wall = self._live_wall()
        if wall is not None:
            self.query_one(BudgetPane).show(wall)

    def _terminal_notify(self, events: Sequence[Event]) -> None:
        """Terminal notifications for what needs the human now (not the replayed past)."""
        if self.connection is None:
            return
        for event in events:
            found = moment(event)
            if found is not None and event.ts >= self.attached_at:
                title = "Needs you" if found[0] == "needs_you" else "Finished"
                terminal_notify(self.app, f"{self.store.name}: {title}", found[1])

    @on(IterationSelected)
    def _selected(self, message: IterationSelected) -> None:
        self.select_iteration(message.number)

    def select_iteration(self, number: int | None) -> None:
        """Show iteration ``number`` in the transcript and validators (None: follow live)."""
        self.selected = number
        if number is not None:
            self.store.load_history(number)
        self.query_one(TranscriptPane).show(number)
        self.query_one(ValidatorsPane).show(number)

    # -- commands -----------------------------------------------------------
    @property
    def finished(self) -> bool:
        return self.store.finished is not None or self.lost

    @property
    def take_over_pending(self) -> bool:
        return self.store.take_over_pending

    def send(self, command: Command, then: Callable[[Reply], None] | None = None) -> None:
        """Send a command to the engine; a refusal is shown, ``then`` gets a success."""
        if self.connection is None:
            return
        self.run_worker(self._send(command, then), group="commands", exit_on_error=False)

    async def _send(self, command: Command, then: Callable[[Reply], None] | None) -> None:
        assert self.connection is not None
        reply = await self.connection.send(command)
        if not reply.ok:
            self.notify(reply.message, severity="warning", timeout=6)
        elif then is not None:
            then(reply)

    def connection_lost(self) -> None:
        """The engine process is gone (crashed, killed): say so, offer resume."""
        self.lost = True
        run = self.store.run_dir or "RUN"
        self.notify(
            f"The run's engine stopped without finishing the run. "
            f"Carry on with: loopconsole resume {run}",
            title="Engine gone",
            severity="error",
            timeout=30,
        )
        self._refresh_summary()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in _CONTROLS or action in _TAKE_OVER:
            if self.connection is None:
                return False
            if self.finished:
                return None if action in _CONTROLS else False
            if action in _TAKE_OVER:
                return self.taking_over
            paused = self.store.status == "paused"
            if action == "pause":
                return not paused
            if action == "resume":
                return paused
            if action == "take_over":
                return not self.taking_over
            if action == "rewind" and self.taking_over:
                return None
        if action == "answer":
            return self.connection is not None and self.store.run.question is not None
        if action == "finish":
            return self.store.status == "paused" and self.store.goal_met_now()
        if action == "why":
            return bool(self.store.signals)
        if action == "diff":
            return bool(self.store.numbers()) or None
        if action == "fork":
            return bool(self.store.numbers()) or None
        if action == "compare":
            return self.forked
        return True

    def action_pause(self) -> None:
        self.send(Pause())

    def action_resume(self) -> None:
        # During a take-over the engine hands back first.
        self.send(Resume())

    def action_step(self) -> None:
        self.send(Step())

    def action_edit_goal(self) -> None:
        def apply(text: str | None) -> None:
            if text and text.strip() != self.store.goal.strip():
                self.send(SetGoal(goal=text.strip()))
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
            if text and text.strip():
                self.send(AddHint(text=text.strip()))

        self.app.push_screen(
            TextEditScreen(
                "Add a hint",
                "The hint goes into the next prompt only, then it is used up.",
                "",
            ),
            apply,
        )

    def action_reload_spec(self) -> None:
        """The human's reload of the spec (the only one when the agent could write it)."""
        self.send(ReloadSpec())

    def action_answer(self) -> None:
        question = self.store.run.question
        if question is None:
            return

        def apply(text: str | None) -> None:
            if text and text.strip():
                self.send(Answer(text=text.strip()))
                self.notify("Answered; the loop goes on with your answer.", timeout=4)

        self.app.push_screen(
            TextEditScreen(
                "The agent asks", question + "\n\nYour answer goes into the next prompt.", ""
            ),
            apply,
        )

    def action_revalidate(self) -> None:
        # The engine refuses unless paused, and says so.
        self.send(Revalidate())

    def action_stop(self) -> None:
        if self.store.status == "stopping":
            self.send(Stop(now=True))
            return
        self.send(Stop())
        self.notify(f"Press {self.key_for('stop')} again to stop at once.", timeout=4)

    def action_quit(self) -> None:
        if self.connection is None or self.finished:
            self.app.exit(cast(_Console, self.app).exit_code_for(self.store))
            return

        def answer(choice: bool | str | None) -> None:
            if choice == "leave":
                self.app.exit(0)  # the run goes on; `attach` comes back to it
            elif choice:
                cast(_Console, self.app).stop_and_quit()

        assert self.connection is not None
        self.app.push_screen(ConfirmQuitScreen(can_leave=self.connection.detachable), answer)

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
