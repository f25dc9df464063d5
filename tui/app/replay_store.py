"""The store of a replay: the whole run in rows, one iteration in full.

A replay may open a journal of a thousand iterations. The rows (one small
record per iteration, from :class:`tui.engine.journal_index.JournalIndex`)
draw the timeline and the passing chart; the iteration being looked at (and
the one before it, for "newly failing") is loaded from the journal when it
is chosen, into this same store, so the panes need no other code path and
memory stays flat however long the run was.
"""

from __future__ import annotations

from typing import Protocol

from tui.app.store import RunStore
from tui.app.timeline_model import TimelineItem, build_timeline
from tui.engine.journal_index import IterationRow, IterationStatus, iteration_status
from tui.events import (
    Event,
    RunFinished,
    RunStarted,
    SignalDismissed,
    SignalRaised,
    SignalRecovered,
    ThresholdRaised,
)

# What happened to signals, kept for every iteration up to the one shown.
_SignalEvent = SignalRaised | SignalDismissed | SignalRecovered | ThresholdRaised


class ReplaySource(Protocol):
    """A journal read lazily (JournalIndex is one)."""

    rows: list[IterationRow]
    run_started: RunStarted | None
    run_finished: RunFinished | None
    warnings: list[str]

    def row(self, iteration: int) -> IterationRow | None: ...
    def events(self, iteration: int) -> list[Event]: ...
    def head_events(self) -> list[Event]: ...
    def refresh(self) -> bool: ...


class ReplayStore(RunStore):
    """A RunStore that shows the run as of one iteration (:meth:`load`)."""

    def __init__(self, source: ReplaySource) -> None:
        self.source = source
        self.shown = 0
        # Signals and dismissals per iteration, read once (rows name only the kinds).
        self._signal_events: dict[int, list[_SignalEvent]] = {}
        super().__init__()

    # -- the whole run, from the rows ---------------------------------------
    @property
    def last_number(self) -> int:
        rows = self.source.rows
        return rows[-1].iteration if rows else 0

    def row(self, number: int) -> IterationRow | None:
        return self.source.row(number)

    def numbers(self) -> list[int]:
        return [r.iteration for r in self.source.rows]

    def row_status(self, row: IterationRow) -> IterationStatus:
        """The row's status by the one rule, knowing where the run stands now."""
        last = row.iteration == self.last_number
        # The run is paused here: its last Decided was a pause, with nothing after.
        paused_here = last and row.action == "pause"
        status = iteration_status(
            row.action, row.outcome, bool(row.signals), paused_here=paused_here
        )
        if status == "running" and (self.source.run_finished is not None or not last):
            return "stopped"  # cut short: a stop, a crash, a resume that ran it again
        return status

    def iteration_status(self, number: int) -> IterationStatus:
        """As the timeline shows it (the header uses this too): from the rows."""
        row = self.row(number)
        return self.row_status(row) if row else super().iteration_status(number)

    def timeline(self) -> list[TimelineItem]:
        return build_timeline(
            [
                (r.iteration, self.row_status(r), r.human, r.restored_iteration)
                for r in self.source.rows
            ]
        )

    def passing_history(self) -> list[tuple[int, int, int]]:
        return [
            (r.iteration, r.passing, r.total)
            for r in self.source.rows
            if r.action and r.iteration <= self.shown
        ]

    # -- one iteration, from its events --------------------------------------
    def load(self, number: int) -> None:
        """Show the run as it stood at the end of iteration ``number``."""
        self.reset()
        for event in self.source.head_events():
            self.apply(event)
        numbers = self.numbers()
        if number in numbers:
            at = numbers.index(number)
            if at > 0:
                # The iteration before, for what changed since (its state is overwritten).
                for event in self.source.events(numbers[at - 1]):
                    self.apply(event)
            for event in self.source.events(number):
                self.apply(event)
        finished = self.source.run_finished
        if finished is not None and number == self.last_number and self.finished is None:
            self.apply(finished)
        self._history_signals(number)
        self.shown = number
        self.current = number

    def _history_signals(self, number: int) -> None:
        """Every signal up to ``number`` (and the dismissals), in order."""
        loaded = list(self.signals)
        self.signals = []
        for row in self.source.rows:
            if row.iteration > number:
                break
            if row.signals:
                for event in self._signals_of(row.iteration):
                    if isinstance(event, SignalRaised):
                        self.signals.append(event)
                    elif isinstance(event, SignalDismissed):
                        self._signal_dismissed(event)
                    elif isinstance(event, SignalRecovered):
                        self.recovered[event.key] = event
                    else:
                        self._threshold_raised(event)
        # Signals of a loaded iteration the rows did not name (none expected).
        self.signals += [s for s in loaded if s not in self.signals]

    def _signals_of(self, number: int) -> list[_SignalEvent]:
        cached = self._signal_events.get(number)
        if cached is None:
            cached = [
                e
                for e in self.source.events(number)
                if isinstance(e, SignalRaised | SignalDismissed | SignalRecovered | ThresholdRaised)
            ]
            self._signal_events[number] = cached
        return cached

    def signals_at(self, number: int) -> list[SignalRaised]:
        """The signals raised in iteration ``number``."""
        return [e for e in self._signals_of(number) if isinstance(e, SignalRaised)]
