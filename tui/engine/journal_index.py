"""An index over a journal: open a huge run fast, load an iteration's events on demand.

Replay needs two things from a journal: a one-line picture of every
iteration (the timeline, the run summary) at once, and the full events of
the one iteration the human looks at. :meth:`JournalIndex.build` reads the
file once, in binary, and fully parses only the few small events a row
needs (``decision``, ``signal``, ``checkpointed``, ``paused``,
``run_started``, ``run_finished``, and one ``budget_updated`` per
iteration). For the bulk (assistant text, tool calls and results, validator
output, prompts) it notes only where each iteration's lines are.

Every line the writer produces starts with the base fields, in order
(``{"ts":...,"run_id":"...","iteration":N,"type":"..."``), so a regular
expression reads the iteration and type without parsing the line; a line
that does not start that way is parsed in full instead.

An iteration's events are not always one contiguous stretch of the file: a
resumed run appends the interrupted tool results of an older iteration, and
a re-run iteration comes back after the resume. The index keeps a list of
byte ranges per iteration, and :meth:`JournalIndex.events` reads them in
file order, so it returns exactly the events a full read
(:func:`tui.engine.journal.read_journal`) has for that iteration.
"""

from __future__ import annotations

import os
import re
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO, Literal

from pydantic import ValidationError

from tui.events import (
    BudgetUpdated,
    Checkpointed,
    Decided,
    Event,
    Paused,
    RunFinished,
    RunStarted,
    SignalRaised,
    parse_event,
)

IterationStatus = Literal["running", "passed", "failed", "paused", "signal", "stopped"]

# The base fields as pydantic dumps them, then the rest of the line.
_LINE = re.compile(
    rb'^\{"ts":[-+.0-9eE]+,"run_id":"[^"\\\n]*","iteration":(\d+),"type":"([a-z_]+)".*\n',
    re.MULTILINE,
)
# Events a row needs, parsed as they are met (all small).
_ROW_EVENTS = frozenset(
    {b"decision", b"signal", b"checkpointed", b"paused", b"run_started", b"run_finished"}
)
# Events the index notes without parsing: a re-run starts, where spending stood.
_MARKERS = frozenset({b"iteration_started", b"budget_updated"})
# Events that stream by the thousand; only their own iteration's transcript reads
# them (a catch-up skips them for every iteration but the newest: tui.engine.catch_up).
BULK_KINDS = frozenset(
    {b"agent_text", b"tool_input_delta", b"tool_call", b"tool_result", b"validator_output",
     b"agent_turn"}
)  # fmt: skip
_CHUNK = 8 * 1024 * 1024
_CACHED_ITERATIONS = 8

# A line kept for a catch-up: (file offset, iteration, type, the line or its parsed event).
KeptLine = tuple[int, int, bytes, "bytes | Event"]


@dataclass
class IterationRow:
    """What the timeline and the run summary need about one iteration.

    ``status``: :func:`iteration_status` of the iteration's decision and
    signals. It is never "paused": whether the run is paused at this
    iteration right now depends on what comes after it (see the replay store).
    """

    iteration: int
    status: IterationStatus = "running"
    passing: int = 0  # Decided.passing_checks
    total: int = 0
    action: str = ""  # Decided.action
    reason: str = ""  # Decided.reason
    signals: list[str] = field(default_factory=list)  # kinds of SignalRaised
    cost_usd: float = 0.0  # cumulative, as of the decision
    tokens: int = 0  # cumulative usage.total
    commit: str | None = None  # the iteration's "agent" checkpoint
    restored_iteration: int | None = None  # a rewind made in this iteration
    paused_reason: str | None = None  # a Paused event in this iteration
    attempts: int = 0  # IterationStarted events: 2+ when a resume ran it again
    outcome: str | None = None  # Decided.outcome
    human: bool = False  # the engineer changed the workspace after this iteration

    def _reset(self) -> None:
        """A resume runs an unfinished iteration again: forget the cut-short attempt."""
        attempts = self.attempts
        self.__dict__.update(IterationRow(self.iteration).__dict__)
        self.attempts = attempts


def _ts(data: bytes, start: int) -> float:
    """The timestamp of the line at ``start`` (it begins with ``{"ts":``)."""
    return float(data[start + 6 : data.index(b",", start)])


def iteration_status(
    action: str | None, outcome: str | None, signalled: bool, *, paused_here: bool = False
) -> IterationStatus:
    """The one rule for how an iteration ended, used live and in replay.

    ``action``/``outcome`` are the iteration's Decided fields (``action``
    empty or None: no decision yet); ``signalled``: a SignalRaised in the
    iteration; ``paused_here``: the run is paused at this iteration right now
    (the caller knows: the live store, or a replay's last iteration decided
    as a pause). No decision is "running" (callers may call one cut short
    "stopped"); the goal met is "passed"; a signal is "signal"; a stop is
    "stopped"; anything else "failed". Validators alone never make an
    iteration pass: optional ones may fail while the goal is met, and a
    goal may need more than every check passing.
    """
    if not action:
        return "paused" if paused_here else "running"
    if outcome == "goal_met":
        return "passed"
    if signalled:
        return "signal"
    if paused_here:
        return "paused"
    if action == "stop":
        return "stopped"
    return "failed"


class JournalIndex:
    """Rows for every iteration, and each iteration's events loaded lazily.

    Safe to use from two threads (a worker loading events while the UI
    thread refreshes): the methods that touch the index hold a lock.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self.run_started: RunStarted | None = None
        self.run_finished: RunFinished | None = None  # None for a crashed or live run
        self.warnings: list[str] = []
        self.rows: list[IterationRow] = []
        self.first_ts: float | None = None
        self.last_ts: float | None = None
        self.size = 0  # bytes indexed so far
        self._rows: dict[int, IterationRow] = {}
        # iteration -> [start, end, first line number] of each run of its lines
        self._ranges: dict[int, list[list[int]]] = {}
        self._cur_it = -1
        self._cur: list[int] | None = None
        self._lines = 0  # lines consumed, for the warnings' line numbers
        self._open_line = False  # the last line indexed had no newline yet
        self._torn: str | None = None
        self._budget: dict[int, bytes] = {}  # last budget_updated line of an undecided iteration
        self._touched: set[int] = set()
        self._cache: OrderedDict[int, list[Event]] = OrderedDict()
        self._lock = threading.RLock()
        # Every line that is not bulk, when asked for (build(keep=True)).
        self.kept: list[KeptLine] | None = None

    # -- building -----------------------------------------------------------
    @classmethod
    def build(cls, path: Path, *, end: int | None = None, keep: bool = False) -> JournalIndex:
        """Index a journal in one pass (raises OSError when it cannot be read).

        ``end``: index only the first ``end`` bytes (a live run's journal as it
        stood when a client joined; more lines come to it live). ``keep``: also
        keep every line that is not bulk (:data:`BULK_KINDS`) in ``kept``.
        """
        index = cls(path)
        if keep:
            index.kept = []
        with open(path, "rb") as f:
            index._scan(f, end)
        return index

    def refresh(self) -> bool:
        """Index lines appended since the last build or refresh; True if any were.

        Rows already handed out are updated in place (``rows`` is a new list
        when iterations were added). A journal that shrank below what was
        indexed is indexed again from the start, with new row objects.
        """
        with self._lock:
            try:
                size = os.stat(self.path).st_size
            except OSError:
                return False
            if size < self.size:
                fresh = JournalIndex.build(self.path)
                self.__dict__.update({k: v for k, v in fresh.__dict__.items() if k != "_lock"})
                return True
            if size == self.size and self._torn is None:
                return False
            before = (self.size, self._lines, len(self.warnings))
            with open(self.path, "rb") as f:
                self._scan(f)
            return (self.size, self._lines, len(self.warnings)) != before

    def _scan(self, f: BinaryIO, limit: int | None = None) -> None:
        """Index from ``self.size`` to the end of the file as it is now (or ``limit``)."""
        if self._torn is not None:
            self.warnings.remove(self._torn)
            self._torn = None
        end = os.fstat(f.fileno()).st_size
        if limit is not None:
            end = min(end, limit)
        pos, want = self.size, _CHUNK
        self._cur = None  # new lines start a new range, so their iteration's cache drops
        while pos < end:
            f.seek(pos)
            data = f.read(min(want, end - pos))
            cut = data.rfind(b"\n") + 1
            if cut == 0 and pos + len(data) < end:
                want *= 2  # one line longer than a chunk
                continue
            if self._open_line and data.startswith(b"\n"):
                # The newline that ends a line indexed without one last time.
                data, cut, pos = data[1:], cut - 1, pos + 1
            self._open_line = False
            self._lines_of(data, pos, cut)
            pos += cut
            self.size = pos
            if pos + len(data) - cut == end and cut < len(data):
                self._tail(data[cut:], pos)
                break
        self._settle()

    def _lines_of(self, data: bytes, base: int, end: int) -> None:
        """Index the complete lines ``data[:end]`` found at file offset ``base``."""
        pos = 0
        last = None
        for m in _LINE.finditer(data, 0, end):
            start = m.start()
            if start != pos:
                self._odd_lines(data, pos, start, base)
            pos = m.end()
            last = m
            self._lines += 1
            it, kind = int(m[1]), m[2]
            if kind in _ROW_EVENTS:
                try:
                    event = parse_event(data[start:pos])
                except (ValidationError, ValueError):
                    self._bad_line(self._lines)
                    continue
                self._add(it, base + start, base + pos)
                self._row_event(event)
                if self.kept is not None:
                    self.kept.append((base + start, it, kind, event))
            else:
                cur = self._cur
                if it == self._cur_it and cur is not None and cur[1] == base + start:
                    cur[1] = base + pos
                else:
                    self._add(it, base + start, base + pos)
                if kind in _MARKERS:
                    self._marker(it, kind, data, start, pos)
                if self.kept is not None and kind not in BULK_KINDS:
                    self.kept.append((base + start, it, kind, data[start:pos]))
        if last is not None:
            if self.first_ts is None:
                self.first_ts = _ts(data, _LINE.search(data, 0, end).start())  # type: ignore[union-attr]
            self.last_ts = _ts(data, last.start())
        if pos != end:
            self._odd_lines(data, pos, end, base)

    def _odd_lines(self, data: bytes, start: int, end: int, base: int) -> None:
        """Lines that do not start with the usual prefix: parse them in full."""
        for line in data[start:end].split(b"\n")[:-1]:
            self._lines += 1
            offset = base + start
            start += len(line) + 1
            if not line.strip():
                continue
            try:
                event = parse_event(line)
            except (ValidationError, ValueError):
                self._bad_line(self._lines)
                continue
            self._one(event, line, offset, offset + len(line) + 1)

    def _tail(self, tail: bytes, offset: int) -> None:
        """The last line, with no newline: complete (then index it) or torn."""
        if not tail.strip():
            return
        try:
            event = parse_event(tail)
        except (ValidationError, ValueError):
            # Left unindexed: a live run may still be writing it (see refresh).
            self._torn = f"{self.path}: the last line is incomplete (torn write); it was skipped"
            self.warnings.append(self._torn)
            return
        self._lines += 1
        self._one(event, tail, offset, offset + len(tail))
        self.size = offset + len(tail)
        self._open_line = True

    def _one(self, event: Event, line: bytes, start: int, end: int) -> None:
        """Index one line already parsed."""
        self._add(event.iteration, start, end)
        kind = event.type.encode()
        if self.kept is not None and kind not in BULK_KINDS:
            self.kept.append((start, event.iteration, kind, event))
        if kind in _ROW_EVENTS:
            self._row_event(event)
        elif kind in _MARKERS:
            self._marker(event.iteration, kind, line, 0, len(line))
        self.first_ts = event.ts if self.first_ts is None else self.first_ts
        self.last_ts = event.ts

    def _bad_line(self, number: int) -> None:
        self.warnings.append(f"{self.path}: line {number} is not a valid event; it was skipped")

    def _add(self, it: int, start: int, end: int) -> None:
        """Note a line of iteration ``it`` at [start, end)."""
        cur = self._cur
        if it == self._cur_it and cur is not None and cur[1] == start:
            cur[1] = end
        else:
            self._cur = [start, end, self._lines]
            self._cur_it = it
            self._ranges.setdefault(it, []).append(self._cur)
        self._touched.add(it)
        if it > 0 and it not in self._rows:
            self._rows[it] = IterationRow(it)

    # -- rows ---------------------------------------------------------------
    def _marker(self, it: int, kind: bytes, data: bytes, start: int, end: int) -> None:
        row = self._rows.get(it)
        if row is None:
            return
        if kind == b"iteration_started":
            if row.attempts:
                row._reset()
            row.attempts += 1
        elif row.action == "":  # spending counts up to the decision
            self._budget[it] = data[start:end]

    def _row_event(self, e: Event) -> None:
        if isinstance(e, RunStarted):
            self.run_started = self.run_started or e
            self.run_finished = None  # a later session: the earlier end was not the end
            return
        if isinstance(e, RunFinished):
            self.run_finished = e
            return
        row = self._rows.get(e.iteration)
        if row is None:
            return  # iteration 0: the head
        if isinstance(e, SignalRaised):
            row.signals.append(e.kind)
            if row.action:  # a signal after the decision still marks the iteration
                row.status = iteration_status(row.action, row.outcome, True)
        elif isinstance(e, Checkpointed):
            if e.kind == "agent":
                row.commit = e.commit
            elif e.kind == "human":
                row.human = True
            if e.restored_iteration is not None:
                row.restored_iteration = e.restored_iteration
        elif isinstance(e, Paused):
            row.paused_reason = e.reason
        elif isinstance(e, Decided):
            self._spent(row)
            row.action, row.reason, row.outcome = e.action, e.reason, e.outcome
            row.passing, row.total = e.passing_checks, e.total_checks
            row.status = iteration_status(e.action, e.outcome, bool(row.signals))

    def _spent(self, row: IterationRow) -> None:
        """Fill cost and tokens from the iteration's last budget_updated line."""
        line = self._budget.pop(row.iteration, None)
        if line is None:
            return
        try:
            event = parse_event(line)
        except (ValidationError, ValueError):
            return  # events() reports the bad line when it is read
        if isinstance(event, BudgetUpdated):
            row.cost_usd = event.budget.cost_usd
            row.tokens = event.budget.usage.total

    def _settle(self) -> None:
        """After a scan: spending of undecided iterations, rows in order, stale cache out."""
        for it in list(self._budget):
            row = self._rows[it]
            line = self._budget[it]
            self._spent(row)
            self._budget[it] = line  # a decision may still come (refresh)
        self.rows = [self._rows[n] for n in sorted(self._rows)]
        for it in self._touched:
            self._cache.pop(it, None)
        self._touched.clear()

    # -- reading --------------------------------------------------------------
    def row(self, iteration: int) -> IterationRow | None:
        """The row of ``iteration``, or None when the journal has none."""
        return self._rows.get(iteration)

    def events(self, iteration: int) -> list[Event]:
        """Every event of ``iteration``, in journal order (parsed on demand, cached)."""
        with self._lock:
            cached = self._cache.get(iteration)
            if cached is not None:
                self._cache.move_to_end(iteration)
                return list(cached)
            events = self._read(iteration)
            self._cache[iteration] = events
            while len(self._cache) > _CACHED_ITERATIONS:
                self._cache.popitem(last=False)
            return list(events)

    def head_events(self) -> list[Event]:
        """Events before iteration 1: run_started, the start checkpoint, early notices.

        A resumed session's events carry the iteration it resumed after (its
        run_started too), so they are among that iteration's events.
        """
        return self.events(0)

    def _read(self, iteration: int) -> list[Event]:
        return [event for _offset, event in self.located_events(iteration)]

    def located_events(self, iteration: int) -> list[tuple[int, Event]]:
        """Every event of ``iteration`` with the file offset of its line, in journal order.

        Read from the file each time (not cached); lines that are not events
        are skipped with a warning, as :meth:`events` does.
        """
        events: list[tuple[int, Event]] = []
        ranges = self._ranges.get(iteration)
        if not ranges:
            return events
        with open(self.path, "rb") as f:
            for start, end, first in ranges:
                f.seek(start)
                offset = start
                lines = f.read(end - start).split(b"\n")
                if lines and not lines[-1]:
                    lines.pop()
                for number, line in enumerate(lines, start=first):
                    at, offset = offset, offset + len(line) + 1
                    if not line.strip():
                        continue
                    try:
                        events.append((at, parse_event(line)))
                    except (ValidationError, ValueError):
                        warning = f"{self.path}: line {number} is not a valid event; it was skipped"
                        if warning not in self.warnings:
                            self.warnings.append(warning)
        return events
