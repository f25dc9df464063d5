"""Another machine's fleet through one long-lived process instead of one per look.

``fleet --via 'ssh HOST'`` used to run ``ssh HOST loopconsole fleet --json``
every two seconds: a new connection and a cold fleet (every journal read
again) per look. Now it runs ``loopconsole fleet --json --follow`` there once:
that process keeps its fleet (which re-reads only what changed) and prints
the list as one JSON line whenever it changes; here, :class:`FollowedRows`
keeps the newest list. The process there ends when its standard input
closes, so it never outlives the fleet here (or the ssh connection).
"""

from __future__ import annotations

import contextlib
import json
import select
import shlex
import subprocess
import sys
import tempfile
import threading
from typing import IO

from tui.engine.client import ConnectError
from tui.engine.fleet import Fleet, FleetRow

# Seconds between looks in ``fleet --json --follow``.
EVERY_S = 2.0
# Seconds to wait for the other side's first list.
FIRST_S = 30.0


def follow_json(fleet: Fleet, every: float = EVERY_S) -> int:
    """Print the rows as one JSON line now and whenever they change, until stdin closes."""
    last: list[FleetRow] | None = None
    while True:
        rows = fleet.rows()
        if rows != last:
            try:
                sys.stdout.write(json.dumps([row.to_json() for row in rows]) + "\n")
                sys.stdout.flush()
            except BrokenPipeError:
                return 0
            last = rows
        if _closed(sys.stdin, every):
            return 0


def _closed(stdin: IO[str], timeout: float) -> bool:
    """Wait up to ``timeout`` s; True when stdin reached its end (the other side left)."""
    try:
        ready, _, _ = select.select([stdin], [], [], timeout)
    except (OSError, ValueError):  # no usable stdin: just wait
        threading.Event().wait(timeout)
        return False
    if not ready:
        return False
    return not stdin.buffer.read1(1 << 12)  # type: ignore[attr-defined]


class FollowedRows:
    """The newest rows printed by ``CMD fleet --json --follow`` running there."""

    def __init__(self, command: list[str]) -> None:
        self.command = command
        self._errors = tempfile.TemporaryFile()  # noqa: SIM115 - kept until close()
        try:
            self.process = subprocess.Popen(  # noqa: S603 - the user's own --via command
                command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self._errors
            )
        except OSError as exc:
            raise ConnectError(f"cannot run {shlex.join(command)}: {exc}") from None
        self._rows: list[FleetRow] | None = None
        self._first = threading.Event()
        threading.Thread(target=self._read, daemon=True, name="fleet-follow").start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            with contextlib.suppress(ValueError, TypeError, AttributeError):
                self._rows = [FleetRow.from_json(row) for row in json.loads(line)]
                self._first.set()
        self._first.set()  # ended: whoever waits hears it

    def alive(self) -> bool:
        return self.process.poll() is None

    def rows(self) -> list[FleetRow]:
        """The newest list; raises ConnectError when the other side ended or never answered."""
        if not self._first.wait(FIRST_S):
            raise ConnectError(f"{shlex.join(self.command)} printed nothing in {FIRST_S:.0f} s")
        if self._rows is None or not self.alive():
            self.process.wait()
            raise ConnectError(f"{shlex.join(self.command)} failed: {self.error()}")
        return self._rows

    def error(self) -> str:
        """The last line the other side wrote to stderr."""
        self._errors.seek(0)
        tail = self._errors.read().decode(errors="replace").strip().splitlines()[-1:]
        return " ".join(tail) or f"exit status {self.process.returncode}"

    def close(self) -> None:
        """Close its stdin (it ends by itself), and make sure it did."""
        with contextlib.suppress(OSError):
            if self.process.stdin is not None:
                self.process.stdin.close()
        try:
            self.process.wait(5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self._errors.close()
