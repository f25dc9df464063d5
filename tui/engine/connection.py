"""RunConnection: how a console (or the fleet, or a bridge) reaches a run.

A connection hands out the run's events, in order, and carries commands to
the engine, answering each with the engine's :class:`~tui.engine.commands.Reply`.
That is all a view may do with a run: it never reads the engine's fields.

- :class:`InProcessConnection`: the engine runs in this process (tests, and
  ``run`` when it cannot start an engine process).
- ``tui.engine.client.SocketConnection``: the engine is its own process,
  reached over its Unix socket (``run``, ``attach``), or over a command's
  stdin/stdout (``attach --via``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from tui.engine.catch_up import JournalHistory
from tui.engine.commands import Command, Reply
from tui.events import Event, RunFinished

Subscriber = Callable[[Event], None]


class RunConnection(Protocol):
    """A live run, as a view sees it."""

    # The workspace is on this machine: the console may open a shell or an editor there.
    local: bool
    # The run goes on without this console (an engine process): quitting may leave it running.
    detachable: bool
    # Iterations the catch-up handed out without their bulk, read when asked for
    # (tui.engine.catch_up); None: every event was handed out.
    history: JournalHistory | None
    # The run is on another machine, reached through (the command, the run there):
    # a shell there runs through the same command (attach --via); None: local.
    via: tuple[str, str] | None

    def subscribe(self, callback: Subscriber) -> None:
        """Call ``callback`` with every event of the run, from the first on, in order."""

    async def send(self, command: Command) -> Reply:
        """Hand a command to the engine and wait for its reply."""

    async def follow(self) -> RunFinished | None:
        """Follow the run until it ends (its RunFinished) or the connection is lost (None)."""


class InProcessConnection:
    """The engine in this process: the runner runs inside :meth:`follow`."""

    local = True
    detachable = False
    history: JournalHistory | None = None
    via: tuple[str, str] | None = None

    def __init__(self, runner: _Runner) -> None:
        self.runner = runner

    def subscribe(self, callback: Subscriber) -> None:
        self.runner.subscribe(callback)

    async def send(self, command: Command) -> Reply:
        return await self.runner.handle(command)

    async def follow(self) -> RunFinished | None:
        return await self.runner.run()


class _Runner(Protocol):
    def subscribe(self, callback: Subscriber) -> None: ...
    async def handle(self, command: Command) -> Reply: ...
    async def run(self) -> RunFinished: ...
