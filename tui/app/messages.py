"""Messages between the console's parts; small dataclasses, handled with ``@on``."""

from __future__ import annotations

from dataclasses import dataclass

from textual.message import Message


@dataclass
class EventsWaiting(Message):
    """Engine events are queued in the feed; the screen drains them in one go."""


@dataclass
class IterationSelected(Message):
    """The timeline moved: show ``number``, or follow the live iteration when None."""

    number: int | None
