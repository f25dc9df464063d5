"""The journal: every event of a run, one JSON object per line.

Written append-only, one write and flush per event, fsynced at iteration
boundaries and at the end, so a crash loses at most the events of the
iteration in flight and leaves at worst a torn last line, which the reader
skips with a warning.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import ValidationError

from tui.events import (
    AgentText,
    Decided,
    Event,
    IterationStarted,
    RunFinished,
    dump_event,
    parse_event,
)

_SYNC_AFTER = (Decided, RunFinished, IterationStarted)

# Streamed text is journaled in batches of up to this many characters, or
# after this delay: a flood of one-character deltas or of "y\n" lines then
# costs about its own size on disk, not a JSON line per delta.
TEXT_BATCH_CHARS = 64 * 1024
TEXT_BATCH_DELAY_S = 0.25

_FULL = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG}
_READ_ONLY = {errno.EROFS, errno.EPERM, errno.EACCES}


def fault_sentence(path: Path, exc: OSError) -> str:
    """One sentence on why the journal (or run folder) could not be written."""
    what = exc.strerror or str(exc)
    if exc.errno in _FULL:
        return (
            f"no room left to write {path} ({what}: the disk is full or a size limit was "
            "reached); the run stopped with its journal intact; free some space, then "
            "`loopconsole resume` the run"
        )
    if exc.errno in _READ_ONLY:
        return (
            f"{path} cannot be written ({what}: the run folder is read-only or the file "
            "was made immutable); the run stopped with its journal intact; make it writable, "
            "then `loopconsole resume` the run"
        )
    return (
        f"{path} cannot be written ({what}); the run stopped with its journal intact; "
        "fix the cause, then `loopconsole resume` the run"
    )


# AgentFinished carries the agent's last words for summaries; the whole answer
# is already in the journal as streamed text, so only its ends are repeated.
ANSWER_KEPT_CHARS = 4_000


def journaled_answer(text: str) -> str:
    """The agent's final text as AgentFinished journals it: whole, or its two ends."""
    if len(text) <= ANSWER_KEPT_CHARS:
        return text
    head, tail = text[: ANSWER_KEPT_CHARS // 2], text[-ANSWER_KEPT_CHARS // 4 :]
    cut = len(text) - len(head) - len(tail)
    return f"{head}\n[… {cut:,} characters, streamed above …]\n{tail}"


def is_environment_fault(exc: OSError) -> bool:
    """Whether an OSError means the disk or the folder, not a bug (full, read-only)."""
    return exc.errno in _FULL or exc.errno in _READ_ONLY or exc.errno == errno.EIO


def run_folder_fault(exc: OSError) -> str:
    """One sentence for a run folder that cannot be written to, for any file in it."""
    return fault_sentence(Path(exc.filename) if exc.filename else Path("the run folder"), exc)


class JournalWriter:
    """Appends events to ``journal.jsonl``; use as a runner subscriber.

    One ``write`` per event (streamed text in batches, see TEXT_BATCH_CHARS).
    When the journal cannot be written (disk full, read-only, immutable) or
    was replaced or cut short behind the writer's back, the writer cuts any
    half-written line, stops writing, keeps one sentence in ``fault`` and
    calls ``on_fault`` with it; it never raises into the publisher.
    """

    def __init__(self, path: Path, on_fault: Callable[[str], None] | None = None) -> None:
        self.path = path
        self.on_fault = on_fault
        self.fault: str | None = None
        self._fd: int | None = os.open(
            path, os.O_RDWR | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o644
        )
        st = os.fstat(self._fd)
        self._identity = (st.st_dev, st.st_ino)
        self._size = st.st_size  # every byte up to here is a complete line
        self.bytes_written = 0
        self._text: AgentText | None = None  # streamed text not written yet
        self._text_parts: list[str] = []
        self._text_chars = 0
        self._timer: asyncio.TimerHandle | None = None

    def __call__(self, event: Event) -> None:
        self.write(event)

    @property
    def closed(self) -> bool:
        return self._fd is None

    def write(self, event: Event) -> None:
        if self._fd is None:
            return
        if isinstance(event, AgentText):
            self._add_text(event)
            return
        self._write_text()
        self._append((dump_event(event) + "\n").encode(), sync=isinstance(event, _SYNC_AFTER))

    def flush(self) -> None:
        """Write the streamed text held back for batching (a console attaching reads
        the file up to here)."""
        self._write_text()

    def sync(self) -> None:
        self._write_text()
        if self._fd is not None:
            try:
                os.fsync(self._fd)
            except OSError as exc:
                self._fail(fault_sentence(self.path, exc))

    def close(self) -> None:
        if self._fd is not None:
            self.sync()
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    # -- streamed text, batched -------------------------------------------------

    def _add_text(self, event: AgentText) -> None:
        held = self._text
        if held is not None and (held.iteration, held.kind, held.run_id) != (
            event.iteration,
            event.kind,
            event.run_id,
        ):
            self._write_text()
            held = None
        if held is None:
            self._text = event
            self._arm_timer()
        self._text_parts.append(event.text)
        self._text_chars += len(event.text)
        if self._text_chars >= TEXT_BATCH_CHARS:
            self._write_text()

    def _arm_timer(self) -> None:
        with contextlib.suppress(RuntimeError):  # no running loop: the next event writes it
            loop = asyncio.get_running_loop()
            self._timer = loop.call_later(TEXT_BATCH_DELAY_S, self._write_text)

    def _write_text(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        held, parts = self._text, self._text_parts
        if held is None:
            return
        self._text, self._text_parts, self._text_chars = None, [], 0
        batch = held.model_copy(update={"text": "".join(parts)})
        self._append((dump_event(batch) + "\n").encode(), sync=False)

    # -- the file -----------------------------------------------------------------

    def _append(self, data: bytes, *, sync: bool) -> None:
        if self._fd is None:
            return
        problem = self._changed_behind_us()
        if problem:
            self._fail(problem)
            return
        try:
            view = memoryview(data)
            while view:
                n = os.write(self._fd, view)
                view = view[n:]
            if sync:
                os.fsync(self._fd)
        except OSError as exc:
            with contextlib.suppress(OSError):
                os.ftruncate(self._fd, self._size)  # no torn line left behind
            self._fail(fault_sentence(self.path, exc))
            return
        self._size += len(data)
        self.bytes_written += len(data)

    def _changed_behind_us(self) -> str | None:
        """A sentence when the journal on disk is no longer the file being written."""
        try:
            st = os.stat(self.path)
        except FileNotFoundError:
            return f"{self.path} was deleted during the run; {self._keep()}"
        except OSError:
            return None  # unreadable metadata: the write itself will say what is wrong
        if (st.st_dev, st.st_ino) != self._identity:
            return (
                f"{self.path} was replaced during the run (something rewrote it, "
                f"e.g. `sed -i`); {self._keep()}"
            )
        if st.st_size != self._size:
            return (
                f"{self.path} was cut or written to by something else during the run "
                f"({st.st_size} bytes on disk, {self._size} written); the run stopped "
                "writing to it"
            )
        return None

    def _keep(self) -> str:
        """Save the journal as written (still open here) next to it; say where."""
        kept = self.path.with_name(self.path.name + ".kept")
        assert self._fd is not None
        try:
            with open(kept, "wb") as out:
                offset = 0
                while chunk := os.pread(self._fd, 1 << 20, offset):
                    out.write(chunk)
                    offset += len(chunk)
        except OSError as exc:
            return f"the journal as written could not be saved ({exc.strerror})"
        return f"the journal as written is kept in {kept}; the run stopped writing to it"

    def _fail(self, sentence: str) -> None:
        if self.fault is not None:
            return
        self.fault = sentence
        self._text, self._text_parts, self._text_chars = None, [], 0
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self._fd is not None:
            with contextlib.suppress(OSError):
                os.close(self._fd)
            self._fd = None
        if self.on_fault is not None:
            self.on_fault(sentence)


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
