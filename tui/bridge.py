"""Other machines through tools people already have: ``--via 'ssh HOST'``.

``loopconsole bridge RUN`` (run on the machine where the run lives) speaks
the run's protocol over its own stdin and stdout, passing bytes to and from
the run's Unix socket. ``attach --via CMD`` runs ``CMD loopconsole bridge RUN``
(``ssh HOST``, ``docker exec -i NAME``, ``kubectl exec -i POD --``) and talks
to its stdin and stdout; ``fleet --via CMD`` runs ``CMD loopconsole fleet --json``.
No network listener of our own.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shlex
import sys
from pathlib import Path

from tui.engine.client import ConnectError, SocketConnection
from tui.engine.commands import Command, Reply
from tui.engine.fleet import FleetRow, send_once
from tui.engine.protocol import MAX_LINE, read_engine_info
from tui.fleet_follow import FollowedRows

# The remote side's command; a test (or an odd install) may name another.
REMOTE = os.environ.get("LOOPCONSOLE_REMOTE", "loopconsole")


async def bridge(run_dir: Path) -> int:
    """Pass stdin to the run's socket and the socket to stdout until either ends."""
    info = read_engine_info(run_dir)
    if info is None:
        print(f"loopconsole: run {run_dir.name} is not live", file=sys.stderr)
        return 2
    try:
        reader, writer = await asyncio.open_unix_connection(info.socket, limit=MAX_LINE)
    except OSError as exc:
        print(f"loopconsole: cannot reach the run's engine: {exc}", file=sys.stderr)
        return 2
    loop = asyncio.get_running_loop()
    stdin = asyncio.StreamReader(limit=MAX_LINE)
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(stdin), sys.stdin.buffer)
    out = sys.stdout.buffer

    async def upstream() -> None:
        while chunk := await stdin.read(1 << 16):
            writer.write(chunk)
            await writer.drain()
        with contextlib.suppress(OSError):
            writer.write_eof()

    async def downstream() -> None:
        while chunk := await reader.read(1 << 16):
            await asyncio.to_thread(_write, out, chunk)

    up = asyncio.ensure_future(upstream())
    await downstream()  # the engine closed: the run is over or the engine is gone
    up.cancel()
    return 0


def _write(out: object, chunk: bytes) -> None:
    out.write(chunk)  # type: ignore[attr-defined]
    out.flush()  # type: ignore[attr-defined]


def via_command(via: str, *args: str) -> list[str]:
    """``ssh HOST`` + ``loopconsole bridge RUN`` as one argument list."""
    return [*shlex.split(via), REMOTE, *args]


async def open_via(via: str, run: str) -> SocketConnection:
    """A connection to run ``run`` on another machine, through ``via``."""
    command = via_command(via, "bridge", run)
    try:
        process = await asyncio.create_subprocess_exec(
            *command,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            limit=MAX_LINE,
        )
    except OSError as exc:
        raise ConnectError(f"cannot run {shlex.join(command)}: {exc.strerror or exc}") from None
    assert process.stdin is not None and process.stdout is not None

    async def close() -> None:
        if process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                process.terminate()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(process.wait(), 5)

    try:
        connection = await SocketConnection.handshake(
            process.stdout, process.stdin, local=False, closer=close
        )
    except ConnectError:
        await close()
        raise
    connection.via = (via, run)
    return connection


class RemoteFleet:
    """Another machine's fleet, read through ``CMD loopconsole fleet --json --follow``
    (one process for as long as the fleet is open: tui/fleet_follow.py), or through
    ``CMD loopconsole fleet --json`` per look when the other side's loopconsole
    does not know ``--follow``."""

    def __init__(self, via: str, paths: list[Path] | None = None) -> None:
        self.via = via
        self.paths = [str(p) for p in paths or []]
        self._followed: FollowedRows | None = None
        self._follows = True  # the other side's loopconsole knows --follow

    def rows(self) -> list[FleetRow]:
        if not self._follows:
            return self._rows_once()
        if self._followed is None or not self._followed.alive():
            if self._followed is not None:
                self._followed.close()
            command = via_command(self.via, "fleet", *self.paths, "--json", "--follow")
            self._followed = FollowedRows(command)
        try:
            return self._followed.rows()
        except ConnectError:
            if "--follow" not in self._followed.error():
                raise
            self._follows = False  # an older loopconsole there
            return self._rows_once()

    def close(self) -> None:
        """End the process following the other side's fleet."""
        if self._followed is not None:
            self._followed.close()
            self._followed = None

    def _rows_once(self) -> list[FleetRow]:
        import json

        out = self._run_there(30, "fleet", *self.paths, "--json")
        return [FleetRow.from_json(row) for row in json.loads(out)]

    def compare(self, branch: Path) -> str:
        """The ranking of a fork group there, as ``loopconsole compare`` prints it."""
        return self._run_there(60, "compare", str(branch)).decode(errors="replace")

    def _run_there(self, timeout: float, *args: str) -> bytes:
        """``loopconsole ARGS`` on the other side; its output, or ConnectError saying why not."""
        import subprocess

        command = via_command(self.via, *args)
        try:
            done = subprocess.run(command, capture_output=True, timeout=timeout, check=False)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise ConnectError(f"cannot run {shlex.join(command)}: {exc}") from None
        if done.returncode != 0:
            tail = done.stderr.decode(errors="replace").strip().splitlines()[-1:]
            raise ConnectError(f"{shlex.join(command)} failed: {' '.join(tail)}")
        return done.stdout

    async def send(self, folder: Path, command: Command) -> Reply:
        try:
            connection = await open_via(self.via, str(folder))
        except ConnectError as exc:
            return Reply(ok=False, message=str(exc))
        return await send_once(connection, command)
