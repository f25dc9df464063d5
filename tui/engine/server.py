"""The live run's socket: events out to every client, commands in (see protocol.py).

One :class:`RunServer` per engine. A client catches up from the journal (the
bytes written before it joined, sent to it or read by itself) and then follows
the live events queued for it since that moment: the journal writer and this
server are subscribers of the same synchronous publish, so the split point is
exact (no gap, no duplicate). Each client's queue is bounded; a client that stops reading is
dropped with a ``bye`` and can attach again. Commands from every client go
through one queue, in arrival order, to the engine's controls (a stop does
not wait behind a slow revalidation); bad input gets an error reply and
never takes the engine down.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import socket
from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

from pydantic import ValidationError

from tui.engine.commands import Command, Interrupt, Reply, Stop, parse_command
from tui.engine.protocol import (
    MAX_LINE,
    PROTOCOL,
    Bye,
    EngineInfo,
    Hello,
    Welcome,
    clear_engine_info,
    message_line,
    prepare_socket_folder,
    write_engine_info,
)
from tui.events import Event, RunFinished, dump_event

log = logging.getLogger("loopconsole.server")

QUEUE_LINES = 20_000  # live events a client may fall behind by before it is dropped
CATCH_UP_CHUNK = 1 << 20


class ServedRun(Protocol):
    """What the server needs of the runner."""

    run_id: str

    def subscribe(self, callback: Callable[[Event], None]) -> None: ...
    async def handle(self, command: Command) -> Reply: ...
    def journal_offset(self) -> int: ...


class RunServer:
    """Serves one run over a Unix socket."""

    def __init__(
        self,
        runner: ServedRun,
        run_dir: Path,
        journal: Path,
        path: Path,
        *,
        queue_lines: int = QUEUE_LINES,
    ) -> None:
        self.runner = runner
        self.run_dir = run_dir
        self.journal = journal
        self.path = path
        self.queue_lines = queue_lines
        self.clients: set[_Client] = set()
        self._server: asyncio.AbstractServer | None = None
        self._commands: asyncio.Queue[tuple[Command, _Client]] = asyncio.Queue()
        self._worker: asyncio.Task[None] | None = None
        self.finished = False

    async def start(self) -> None:
        """Listen (owner-only), announce the socket in the run folder, follow the run."""
        prepare_socket_folder(self.path)
        _remove_stale(self.path)
        self._server = await asyncio.start_unix_server(
            self._serve, path=str(self.path), limit=MAX_LINE
        )
        os.chmod(self.path, 0o600)
        self.runner.subscribe(self._event)
        self._worker = asyncio.ensure_future(self._apply_commands())
        write_engine_info(self.run_dir, EngineInfo(pid=os.getpid(), socket=str(self.path)))

    async def close(self) -> None:
        """Stop listening; clients read to the end of what they were sent, then EOF."""
        clear_engine_info(self.run_dir)
        if self._server is not None:
            self._server.close()
        with contextlib.suppress(OSError):
            self.path.unlink()
        if self._worker is not None:
            self._worker.cancel()
        for client in list(self.clients):
            client.finish()
        await asyncio.gather(*(c.done for c in list(self.clients)), return_exceptions=True)

    # -- events out ------------------------------------------------------------
    def _event(self, event: Event) -> None:
        line = dump_event(event).encode() + b"\n"
        for client in list(self.clients):
            client.put(line)
        if isinstance(event, RunFinished):
            self.finished = True
            for client in list(self.clients):
                client.finish()

    # -- one client --------------------------------------------------------------
    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            first = await asyncio.wait_for(reader.readline(), timeout=10)
            hello = Hello.model_validate_json(first)
        except (TimeoutError, ValueError, ValidationError, asyncio.LimitOverrunError):
            await _refuse(writer, "the first line must be a hello message")
            return
        if hello.protocol > PROTOCOL:
            await _refuse(
                writer,
                f"this engine speaks protocol {PROTOCOL}, the client {hello.protocol}; "
                "use the same loopconsole version on both sides",
            )
            return
        # No await from here to the registration: the journal's end and the
        # client's first live event meet exactly.
        journal = self.runner.journal_offset() if hello.catch_up else 0
        offset = 0 if hello.read_journal else journal
        client = _Client(self, writer, offset)
        self.clients.add(client)
        if self.finished:
            client.finish()
        welcome = Welcome(
            run_id=self.runner.run_id,
            run_dir=str(self.run_dir),
            pid=os.getpid(),
            catch_up_bytes=offset,
            journal_bytes=journal,
        )
        client.start(message_line(welcome))
        try:
            await self._read_commands(reader, client)
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        except Exception:  # noqa: BLE001 - a client's trouble never reaches the run
            log.exception("client reader failed")
        finally:
            client.reader_done = True
        await client.done

    async def _read_commands(self, reader: asyncio.StreamReader, client: _Client) -> None:
        while not client.closed:
            try:
                line = await reader.readline()
            except (asyncio.LimitOverrunError, ValueError):
                client.put(message_line(_error("", "a line longer than 4 MiB was refused")))
                return
            if not line:
                return  # the client closed its side
            if not line.endswith(b"\n"):
                return  # half a line, then EOF: nothing to apply
            if not line.strip():
                continue
            try:
                command = parse_command(line)
            except ValidationError as exc:
                client.put(message_line(_error(_id_of(line), _describe(exc))))
                continue
            if isinstance(command, Stop | Interrupt):
                asyncio.ensure_future(self._apply(command, client))  # never waits in line
            else:
                await self._commands.put((command, client))

    async def _apply_commands(self) -> None:
        while True:
            command, client = await self._commands.get()
            await self._apply(command, client)

    async def _apply(self, command: Command, client: _Client) -> None:
        try:
            reply = await self.runner.handle(command)
        except Exception as exc:  # noqa: BLE001 - a bug in a control answers, not crashes
            log.exception("command %s failed", command.type)
            reply = Reply(id=command.id, ok=False, message=f"the engine failed: {exc!r}")
        client.put(message_line(reply))


class _Client:
    """One connected client: the journal up to ``offset``, then its queue of live lines."""

    def __init__(self, server: RunServer, writer: asyncio.StreamWriter, offset: int) -> None:
        self.server = server
        self.writer = writer
        self.offset = offset
        self.lines: deque[bytes] = deque()
        self.wake = asyncio.Event()
        self.closed = False
        self.ending = False  # the run is over: send what is queued, then close
        self.reader_done = False
        self.done: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    def start(self, welcome: bytes) -> None:
        task = asyncio.ensure_future(self._write(welcome))
        task.add_done_callback(lambda _t: self._closed())

    def put(self, line: bytes) -> None:
        if self.closed:
            return
        if len(self.lines) >= self.server.queue_lines:
            self.drop()
            return
        self.lines.append(line)
        self.wake.set()

    def drop(self) -> None:
        """Too slow: drop it rather than hold the engine or grow without end.

        The bye goes after what the socket already holds; closing flushes it
        without waiting for the client.
        """
        self.lines.clear()
        self.closed = True
        reason = "this client fell too far behind and was dropped; attach again to catch up"
        with contextlib.suppress(Exception):
            self.writer.write(message_line(Bye(reason=reason)))
            self.writer.close()
        self.wake.set()

    def finish(self) -> None:
        self.ending = True
        self.wake.set()

    async def _write(self, welcome: bytes) -> None:
        writer = self.writer
        try:
            writer.write(welcome)
            await self._catch_up()
            while not self.closed:
                while self.lines:
                    writer.write(self.lines.popleft())
                    if writer.transport.get_write_buffer_size() > CATCH_UP_CHUNK:
                        await writer.drain()
                await writer.drain()
                if self.ending:
                    break
                self.wake.clear()
                if not self.lines:
                    await self.wake.wait()
        except (ConnectionError, OSError):
            pass
        finally:
            with contextlib.suppress(Exception):
                writer.close()

    async def _catch_up(self) -> None:
        """The journal as written before this client joined (``offset`` bytes exactly)."""
        sent = 0
        with open(self.server.journal, "rb") as journal:
            while sent < self.offset:
                chunk = await asyncio.to_thread(
                    journal.read, min(CATCH_UP_CHUNK, self.offset - sent)
                )
                if not chunk:
                    # Cannot happen (the journal only grows); keep the promised length.
                    chunk = b"\n" * (self.offset - sent)
                sent += len(chunk)
                self.writer.write(chunk)
                await self.writer.drain()

    def _closed(self) -> None:
        self.closed = True
        self.server.clients.discard(self)
        if not self.done.done():
            self.done.set_result(None)


def _error(command_id: str, message: str) -> Reply:
    return Reply(id=command_id, ok=False, message=message)


def _id_of(line: bytes) -> str:
    with contextlib.suppress(ValueError, AttributeError, TypeError):
        value = json.loads(line).get("id", "")
        return value if isinstance(value, str) else ""
    return ""


def _describe(exc: ValidationError) -> str:
    first = exc.errors()[0]
    where = ".".join(str(p) for p in first["loc"])
    if first["type"] == "json_invalid":
        return "not a command: the line is not valid JSON"
    if first["type"] == "union_tag_invalid":
        return f"unknown command: {first.get('input', {}).get('type')!r}"
    return f"not a command: {where}: {first['msg']}"


async def _refuse(writer: asyncio.StreamWriter, reason: str) -> None:
    with contextlib.suppress(ConnectionError, OSError):
        writer.write(message_line(Bye(reason=reason)))
        await writer.drain()
        writer.close()


def _remove_stale(path: Path) -> None:
    """A socket left by a crash is removed; one somebody listens on is not ours to take."""
    if not path.exists():
        return
    probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        probe.connect(str(path))
    except (ConnectionRefusedError, FileNotFoundError):
        path.unlink(missing_ok=True)
        return
    except OSError:
        path.unlink(missing_ok=True)
        return
    finally:
        probe.close()
    raise OSError(f"another engine is serving {path}; is this run already live?")
