"""The journal: every event of a run, one JSON object per line.

Written append-only, one write and flush per event, fsynced at iteration
boundaries and at the end, so a crash loses at most the events of the
iteration in flight and leaves at worst a torn last line, which the reader
skips with a warning.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import ValidationError

from tui.events import Decided, Event, IterationStarted, RunFinished, dump_event, parse_event

_SYNC_AFTER = (Decided, RunFinished, IterationStarted)


class JournalWriter:
    """Appends events to ``journal.jsonl``; use as a runner subscriber."""

    def __init__(self, path: Path) -> None:
        self.path = path
        # Line-buffered text would flush per line too, but a binary file with
        # explicit writes makes "one write per event" literal.
        self._file = open(path, "ab")  # noqa: SIM115 - closed in close()
        self.bytes_written = 0

    def __call__(self, event: Event) -> None:
        self.write(event)

    def write(self, event: Event) -> None:
        if self._file.closed:
            return
        data = (dump_event(event) + "\n").encode()
        self._file.write(data)
        self._file.flush()
        self.bytes_written += len(data)
        if isinstance(event, _SYNC_AFTER):
            os.fsync(self._file.fileno())

    def sync(self) -> None:
        if not self._file.closed:
            self._file.flush()
            os.fsync(self._file.fileno())

    def close(self) -> None:
        if not self._file.closed:
            self.sync()
            self._file.close()


@dataclass
class JournalReadResult:
    """Events read from a journal, and what could not be read."""

    events: list[Event] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def iter_journal(path: Path, warnings: list[str] | None = None) -> Iterator[Event]:
    """Yield the events of a journal, skipping lines that cannot be read.

    A torn last line (a crash mid-write) is expected and reported as a
    warning; a bad line elsewhere is reported too and skipped.
    """
    warn = warnings if warnings is not None else []
    with open(path, "rb") as f:
        lines = f.read().split(b"\n")
    # A complete journal ends with a newline, so the last element is empty.
    last = len(lines) - 1
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            yield parse_event(line)
        except (ValidationError, ValueError):
            if number - 1 == last:
                warn.append(f"{path}: the last line is incomplete (torn write); it was skipped")
            else:
                warn.append(f"{path}: line {number} is not a valid event; it was skipped")


def read_journal(path: Path) -> JournalReadResult:
    """All readable events of a journal, with warnings for skipped lines."""
    result = JournalReadResult()
    result.events = list(iter_journal(path, result.warnings))
    return result


def repair_torn_tail(path: Path) -> bool:
    """Cut a torn last line off a journal before appending to it (resume).

    Returns True when something was cut.
    """
    with open(path, "rb+") as f:
        data = f.read()
        if not data or data.endswith(b"\n"):
            return False
        keep = data.rfind(b"\n") + 1
        f.truncate(keep)
        return True
