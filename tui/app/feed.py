"""The event feed: where engine events wait for the console.

The runner calls subscribers synchronously for every event, often thousands
per second while text streams. Posting one Textual message per event would
flood the message queue, so the feed queues events and posts a single
wake-up when the queue goes from empty to non-empty; the screen then drains
everything that arrived in the meantime and renders it in one pass.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from tui.events import Event


class EventFeed:
    """A subscriber for the runner (or a journal reader) that batches events."""

    def __init__(self, wake: Callable[[], object]) -> None:
        self._wake = wake
        self._pending: list[Event] = []

    def __call__(self, event: Event) -> None:
        self._pending.append(event)
        if len(self._pending) == 1:
            self._wake()

    def extend(self, events: Iterable[Event]) -> None:
        """Queue many events at once (a journal, a test)."""
        for event in events:
            self(event)

    def drain(self) -> list[Event]:
        """Everything queued so far, oldest first."""
        events, self._pending = self._pending, []
        return events
