"""Catching up with a live run through the journal index.

A console attaching to a long run used to read, validate and fold every
event of the journal (50 MB for a thousand iterations) before it could
paint. Through the index (:class:`tui.engine.journal_index.JournalIndex`)
it parses only what the panes need at once:

- every event that is not bulk, for every iteration: the run's state, the
  budget, the timeline, signals, decisions, checkpoints and validator
  results come from these alone (the bulk, :data:`BULK_KINDS`, is the
  streamed text, tool calls and results, validator output and turns, which
  only their own iteration's transcript reads);
- every event of the newest iteration and of the head (before iteration 1).

A run of budget updates with only bulk lines between them counts as its
last: budget updates overwrite each other and nothing in bulk reads them. So
the console's state after the catch-up is the one the full journal gives.

The bulk of an older iteration stays in the journal until the human asks
for that iteration (:meth:`JournalHistory.events`, read from the index as
replay does). Live events that arrive for such an iteration after the
catch-up are kept with it, so the iteration read later is complete.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import ValidationError

from tui.engine.journal_index import BULK_KINDS, JournalIndex
from tui.events import Event, parse_event

_BUDGET = b"budget_updated"


class JournalHistory:
    """The iterations a catch-up left in the journal, read on demand."""

    def __init__(self, index: JournalIndex, full: set[int]) -> None:
        self.index = index
        # Iterations whose bulk is still only in the journal (a console that
        # reads one in full takes it out).
        self.partial = {row.iteration for row in index.rows} - full
        self._late: dict[int, list[Event]] = {}

    @classmethod
    def read(cls, journal: Path, end: int) -> tuple[JournalHistory, list[Event]]:
        """Index the first ``end`` bytes of ``journal``; return the history and the
        catch-up events, in journal order (raises OSError when it cannot be read)."""
        index = JournalIndex.build(journal, end=end, keep=True)
        kept, index.kept = index.kept or [], None
        newest = index.rows[-1].iteration if index.rows else 0
        full = {0, newest}
        lines: list[tuple[int, bytes, bytes | Event]] = [
            (offset, kind, item) for offset, it, kind, item in kept if it not in full
        ]
        for number in sorted(full):
            lines += [(o, e.type.encode(), e) for o, e in index.located_events(number)]
        lines.sort(key=lambda line: line[0])
        return cls(index, full), _events(lines)

    def saw(self, event: Event) -> None:
        """A live event (after the catch-up): kept when its iteration is still partial."""
        if event.iteration in self.partial:
            self._late.setdefault(event.iteration, []).append(event)

    def events(self, iteration: int) -> list[Event]:
        """Every event of ``iteration``: the journal's up to the catch-up, then live ones."""
        return self.index.events(iteration) + self._late.get(iteration, [])


def _events(lines: list[tuple[int, bytes, bytes | Event]]) -> list[Event]:
    """Parse the lines, dropping budget updates that a later one overwrites before any
    event that is not bulk; lines that are not events are skipped."""
    events: list[Event] = []
    overwritten = False  # a later budget update comes before anything that reads it
    for _offset, kind, item in reversed(lines):
        if kind == _BUDGET:
            if overwritten:
                continue
            overwritten = True
        elif kind not in BULK_KINDS:
            overwritten = False
        if isinstance(item, bytes):
            try:
                item = parse_event(item)
            except (ValidationError, ValueError):
                continue
        events.append(item)
    events.reverse()
    return events
