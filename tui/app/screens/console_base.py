"""ConsoleBase: what the main screen's groups of actions share.

The main screen's actions come in groups (take-over, history) kept in their
own files. Each group is a :class:`ConsoleBase`, so it is typed as the
screen it runs on: the run's store, the connection to the engine and the
command path, declared here and provided by :class:`MainScreen`.
"""

from __future__ import annotations

from collections.abc import Callable

from textual.screen import Screen

from tui.app.checkpoint_reader import CheckpointReader
from tui.app.event_log import EventLog
from tui.app.store import RunStore
from tui.engine.commands import Command, Reply
from tui.engine.connection import RunConnection
from tui.events import SignalRaised


class ConsoleBase(Screen[None]):
    """The store, the connection and the command path of the console's main screen."""

    store: RunStore
    connection: RunConnection | None
    reader: CheckpointReader
    selected: int | None
    event_log: EventLog
    _offered_finish: bool

    def send(self, command: Command, then: Callable[[Reply], None] | None = None) -> None:
        """Send a command to the engine (see MainScreen.send)."""
        raise NotImplementedError

    # Provided by the action groups (pane_actions, log_actions, history_actions).
    def key_for(self, binding_id: str) -> str:
        """The key the user's keymap gives a binding."""
        raise NotImplementedError

    def human_note(self, text: str) -> None:
        """A line in the transcript and the log for what the engineer did."""
        raise NotImplementedError

    def open_signal(self, signal: SignalRaised) -> None:
        """The explanation screen of one signal."""
        raise NotImplementedError

    def _why_key(self) -> str | None:
        raise NotImplementedError

    @property
    def taking_over(self) -> bool:
        """The engine handed the workspace to the human."""
        return self.store.taking_over
