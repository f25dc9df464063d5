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


@dataclass
class IterationActivated(Message):
    """Enter on the timeline: show iteration ``number``'s signal, or its diff."""

    number: int


@dataclass
class SignalChosen(Message):
    """Enter on a signal in the State pane: explain it."""

    index: int  # position in the store's list of signals
