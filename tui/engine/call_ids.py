"""Tool call ids stay unique within a run's journal.

An iteration replayed after a crash, or an agent CLI that numbers its items
from zero on every run, would otherwise journal a second call under an id
that already has a result, and every reader that pairs calls with results
would mix them up. A repeated id is renamed (``<id>~<n>``) on its ToolCall
and on the events that follow it in the same iteration.
"""

from __future__ import annotations

from collections.abc import Iterable

from tui.events import Event, IterationStarted, ToolCall, ToolInputDelta, ToolResult


class CallIds:
    """Renames tool call ids already used in the run (seen: the journal's ids on resume)."""

    def __init__(self, seen: Iterable[str] = ()) -> None:
        self._seen = set(seen)
        self._renamed: dict[str, str] = {}

    def stamp(self, event: Event) -> None:
        """Give ``event`` a fresh call id if its call's id was used before."""
        if isinstance(event, IterationStarted):
            self._renamed.clear()
        elif isinstance(event, ToolCall):
            if event.call_id in self._seen:
                n = 2
                while f"{event.call_id}~{n}" in self._seen:
                    n += 1
                self._renamed[event.call_id] = f"{event.call_id}~{n}"
                event.call_id = self._renamed[event.call_id]
            self._seen.add(event.call_id)
        elif isinstance(event, ToolResult | ToolInputDelta):
            event.call_id = self._renamed.get(event.call_id, event.call_id)
