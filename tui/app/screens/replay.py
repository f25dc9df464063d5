"""ReplayScreen: the console over a finished or crashed run, read-only.

The same panes as a live run, showing the run as it stood at the end of
the iteration picked on the timeline (←/→, n/p, j to jump). Diffs come from
the run's checkpoints, signals from its journal; the controls that would
change a run are absent. A journal still growing (a run going on
elsewhere) is read again every few seconds.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import ClassVar

from textual import work
from textual.binding import Binding, BindingType

from tui.app.replay_store import ReplaySource, ReplayStore
from tui.app.screens.diff import DiffTarget, diff_targets
from tui.app.screens.go_to import GoToScreen
from tui.app.screens.main import MainScreen
from tui.app.widgets.timeline import Timeline
from tui.app.widgets.transcript import TranscriptPane
from tui.app.widgets.validators import ValidatorsPane
from tui.events import Checkpointed, SignalRaised

# Seconds between looks at the journal for lines a live run appended.
REFRESH_S = 3.0


class ReplayScreen(MainScreen):
    """A recorded run, one iteration at a time."""

    BINDINGS: ClassVar[list[BindingType]] = [
        *MainScreen.BINDINGS,
        Binding("n", "move(1)", "next", id="replay.next", tooltip="Show the next iteration"),
        Binding(
            "p", "move(-1)", "previous", id="replay.previous", tooltip="Show the previous iteration"
        ),
        Binding("j", "go_to", "jump", id="replay.goto", tooltip="Jump to an iteration by number"),
    ]

    def __init__(self, source: ReplaySource, run_dir: Path) -> None:
        super().__init__(None, store=ReplayStore(source))
        self.source = source
        self.run_path = run_dir
        self.reader.run_dir = run_dir

    @property
    def replay(self) -> ReplayStore:
        assert isinstance(self.store, ReplayStore)
        return self.store

    def timeline_hint(self) -> str:
        keys = self.key_for
        return (
            f"{keys('timeline')}: pick an iteration · {keys('replay.next')}/"
            f"{keys('replay.previous')}: next/previous · {keys('replay.goto')}: jump"
        )

    def checkpoints_dir(self) -> Path:
        return self.run_path

    def mounted(self) -> None:
        timeline = self.query_one(Timeline)
        timeline.follows_live = False
        self.query_one(TranscriptPane).history_mark = ""
        self.query_one(ValidatorsPane).history_mark = ""
        self.show_iteration(self.replay.last_number)
        timeline.focus()
        for warning in self.source.warnings[:3]:
            self.notify(warning, severity="warning", timeout=10)
        if self.source.run_finished is None:
            self.notify(
                "The journal has no end: the run crashed, was killed, or is still going. "
                "It shows everything recorded so far.",
                title="Replay",
                severity="warning",
                timeout=10,
            )
        self.set_interval(REFRESH_S, self._look_for_more)

    # -- moving through the run -------------------------------------------------
    def show_iteration(self, number: int) -> None:
        """Load ``number`` and redraw every pane as of the end of that iteration."""
        self.replay.load(number)
        self.selected = number
        timeline = self.query_one(Timeline)
        timeline.selected = number or None
        self.query_one(TranscriptPane).show(number or None)
        self.query_one(ValidatorsPane).show(number or None)
        self._log_iteration(number)
        self._refresh_summary()

    def _log_iteration(self, number: int) -> None:
        """The event log and its strip: what happened in the iteration shown."""
        self.event_log.clear()
        events = list(self.source.events(number)) if number else list(self.source.head_events())
        finished = self.source.run_finished
        if number == self.replay.last_number and finished is not None and finished not in events:
            events.append(finished)
        for event in events:
            self.event_log.add(event, self.store)

    def select_iteration(self, number: int | None) -> None:
        if number is not None and number != self.replay.shown:
            self.show_iteration(number)

    def action_move(self, delta: int) -> None:
        numbers = self.replay.numbers()
        if not numbers:
            return
        here = numbers.index(self.replay.shown) if self.replay.shown in numbers else 0
        self.show_iteration(numbers[max(0, min(len(numbers) - 1, here + delta))])

    def action_go_to(self) -> None:
        numbers = self.replay.numbers()
        if not numbers:
            return

        def go(number: int | None) -> None:
            if number is not None:
                # The nearest iteration the journal has.
                self.show_iteration(min(numbers, key=lambda n: abs(n - number)))

        self.app.push_screen(GoToScreen(numbers[0], numbers[-1]), go)

    @work(group="refresh", exclusive=True)
    async def _look_for_more(self) -> None:
        if self.source.run_finished is not None:
            return
        if await asyncio.to_thread(self.source.refresh):
            self._refresh_summary()

    def header_position(self) -> tuple[int, int] | None:
        return self.replay.shown, self.replay.last_number

    def _waiting_text(self) -> str | None:
        if not self.replay.numbers():
            return "The journal has no iteration yet."
        return None

    # -- where the history comes from ------------------------------------------
    def shown_iteration(self) -> int:
        return self.replay.shown

    def diff_numbers(self) -> list[int]:
        return self.replay.numbers()

    def targets_for(self, iteration: int) -> list[DiffTarget]:
        events = self.source.events(iteration) if iteration else self.source.head_events()
        return diff_targets(iteration, [e for e in events if isinstance(e, Checkpointed)])

    def commit_of(self, iteration: int) -> str | None:
        if iteration == 0:
            return super().commit_of(0)  # the head's start checkpoint, loaded with every iteration
        row = self.replay.row(iteration)
        return row.commit if row else None

    def signals_of(self, iteration: int) -> list[SignalRaised]:
        return self.replay.signals_at(iteration)

    def action_quit(self) -> None:
        self.app.exit(0)  # nothing to stop: a replay only reads

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "move":
            return bool(self.replay.numbers())
        return super().check_action(action, parameters)
