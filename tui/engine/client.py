"""SocketConnection: a :class:`~tui.engine.connection.RunConnection` to an engine process.

Over the run's Unix socket (``attach``, ``run``), or over any pair of streams
(``attach --via``: a command's stdin and stdout running ``loopconsole bridge``).
Events arrive in order, first the journal's then live ones; replies are
matched to commands by id. A client on the run's machine may read the
journal itself, through its index (``journal``): it then hands out a short
catch-up (:mod:`tui.engine.catch_up`) and keeps the older iterations' bulk
in :attr:`SocketConnection.history`, read when a view asks for one. When
the engine goes away the connection ends at once (the socket's end of
file), so a console can say so.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import os
from collections.abc import Awaitable, Callable
from pathlib import Path

from pydantic import ValidationError

from tui.engine.catch_up import JournalHistory
from tui.engine.commands import Command, Reply
from tui.engine.connection import Subscriber
from tui.engine.protocol import MAX_LINE, Hello, Welcome, message_line
from tui.events import Event, RunFinished, parse_event


class ConnectError(Exception):
    """The run's engine cannot be reached; the message says why and what to do."""


class SocketConnection:
    """A live run in another process."""

    def __init__(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        welcome: Welcome,
        *,
        local: bool = True,
        closer: Callable[[], Awaitable[None]] | None = None,
        journal: Path | None = None,
    ) -> None:
        self.reader = reader
        self.writer = writer
        self.welcome = welcome
        self.local = local
        self.detachable = True
        self.bye: str | None = None  # why the engine closed the connection, if it said
        self._subscribers: list[Subscriber] = []
        self._replies: dict[str, asyncio.Future[Reply]] = {}
        self._ids = itertools.count(1)
        self._closer = closer
        self.journal = journal  # read by this client for the catch-up (None: sent by the engine)
        # (the command, the run there) when the run is on another machine (attach --via)
        self.via: tuple[str, str] | None = None
        # The older iterations of an indexed catch-up, read on demand.
        self.history: JournalHistory | None = None

    @classmethod
    async def open(
        cls,
        path: Path,
        client: str = "console",
        *,
        catch_up: bool = True,
        journal: Path | None = None,
    ) -> SocketConnection:
        """Connect to the socket at ``path`` and say hello.

        ``journal``: the run's journal, on this machine: the catch-up reads it
        through its index instead of receiving every event.
        """
        try:
            reader, writer = await asyncio.open_unix_connection(str(path), limit=MAX_LINE)
        except (FileNotFoundError, ConnectionRefusedError):
            raise ConnectError("the run's engine is not running (its socket is gone)") from None
        except OSError as exc:
            raise ConnectError(f"cannot reach the run's engine: {exc.strerror or exc}") from None
        if journal is not None and not os.access(journal, os.R_OK):
            journal = None  # cannot read it here: the engine sends it
        return await cls.handshake(
            reader, writer, client=client, catch_up=catch_up, journal=journal
        )

    @classmethod
    async def handshake(
        cls,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        *,
        client: str = "console",
        catch_up: bool = True,
        local: bool = True,
        closer: Callable[[], Awaitable[None]] | None = None,
        journal: Path | None = None,
    ) -> SocketConnection:
        """Say hello over an open pair of streams and read the welcome."""
        hello = Hello(client=client, catch_up=catch_up, read_journal=journal is not None)
        try:
            writer.write(message_line(hello))
            await writer.drain()
            line = await asyncio.wait_for(reader.readline(), timeout=10)
        except TimeoutError:
            raise ConnectError("the run's engine did not answer within 10 s") from None
        except (ConnectionError, OSError):
            raise ConnectError("the run's engine is gone (the connection was reset)") from None
        try:
            welcome = Welcome.model_validate_json(line)
        except ValidationError:
            reason = _bye_reason(line) or "it did not speak loopconsole's protocol"
            raise ConnectError(f"the run's engine refused the connection: {reason}") from None
        return cls(reader, writer, welcome, local=local, closer=closer, journal=journal)

    def subscribe(self, callback: Subscriber) -> None:
        self._subscribers.append(callback)

    async def send(self, command: Command) -> Reply:
        command = command.model_copy(update={"id": command.id or str(next(self._ids))})
        future: asyncio.Future[Reply] = asyncio.get_running_loop().create_future()
        self._replies[command.id] = future
        try:
            self.writer.write(command.model_dump_json().encode() + b"\n")
            await self.writer.drain()
        except (ConnectionError, OSError):
            self._replies.pop(command.id, None)
            return Reply(id=command.id, ok=False, message="the run's engine is gone")
        return await future

    async def follow(self) -> RunFinished | None:
        """Hand out events until the engine closes the connection."""
        finished: RunFinished | None = None
        try:
            finished = await self._catch_up()
            while True:
                line = await self.reader.readline()
                if not line:
                    break
                kind = _type_of(line)
                if kind == "reply":
                    self._answer(Reply.model_validate_json(line))
                elif kind == "bye":
                    self.bye = _bye_reason(line)
                elif kind:
                    event = _event_or_none(line)
                    if event is None:
                        continue  # a newer engine's event kind: skip it, keep following
                    if isinstance(event, RunFinished):
                        finished = event
                    if self.history is not None:
                        self.history.saw(event)
                    for callback in self._subscribers:
                        callback(event)
        except (ConnectionError, OSError, asyncio.IncompleteReadError):
            pass
        finally:
            for future in self._replies.values():
                if not future.done():
                    future.set_result(Reply(ok=False, message="the run's engine is gone"))
            await self.close()
        return finished

    async def _catch_up(self) -> RunFinished | None:
        """The journal before we joined, read and handed out as one batch."""
        size = self.welcome.catch_up_bytes
        if size:
            data = await self.reader.readexactly(size)
            events = [e for e in map(_event_or_none, data.splitlines()) if e is not None]
        elif self.journal is not None and self.welcome.journal_bytes:
            # In the event loop, as the stream's catch-up is parsed: nothing can be
            # shown before it, and a thread only slows both down (they share the GIL).
            self.history, events = JournalHistory.read(self.journal, self.welcome.journal_bytes)
        else:
            return None
        for event in events:
            for callback in self._subscribers:
                callback(event)
        last = events[-1] if events else None
        return last if isinstance(last, RunFinished) else None

    def _answer(self, reply: Reply) -> None:
        future = self._replies.pop(reply.id, None)
        if future is not None and not future.done():
            future.set_result(reply)

    async def close(self) -> None:
        with contextlib.suppress(Exception):
            self.writer.close()
        if self._closer is not None:
            await self._closer()


def _event_or_none(line: bytes) -> Event | None:
    if not line.strip():
        return None
    try:
        return parse_event(line)
    except ValidationError:
        return None


def _type_of(line: bytes) -> str:
    # Cheap: the type tag is in the first bytes of every line we write.
    head = line[:200]
    start = head.find(b'"type":"')
    if start >= 0:
        end = head.find(b'"', start + 8)
        if end > 0:
            return head[start + 8 : end].decode()
    try:
        value = json.loads(line).get("type", "")
    except (ValueError, AttributeError):
        return ""
    return value if isinstance(value, str) else ""


def _bye_reason(line: bytes) -> str | None:
    try:
        data = json.loads(line)
    except ValueError:
        return None
    if isinstance(data, dict) and data.get("type") == "bye":
        return str(data.get("reason", ""))
    return None
