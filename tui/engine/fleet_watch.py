"""How the fleet notices what changed without re-reading what did not.

A fleet of hundreds of runs is looked at every two seconds, and nearly
always nothing happened. So every look is a handful of ``stat`` calls:

- the folders holding runs (the state folder's runs, the registry, the
  extra paths, and the folders beside registered runs where their fork
  branches live) are listed again only when a folder's modification time
  changed (and once every :data:`RELIST_S` seconds, in case a change hid
  from it);
- a run's journal is read only when its size or time changed, and then only
  what was appended (:class:`RunWatch`);
- ``engine.json`` is parsed only when it changed; whether its engine still
  lives is one ``kill(pid, 0)``, so a dead engine is noticed on the next look;
- the run's lock is probed only when ``run.pid`` or the journal changed, or
  while another process holds it (that process may die without a trace on
  disk);
- a run that is over or crashed (no engine, no process holding it) costs one
  ``stat`` of its journal: whatever brings it back (``resume``) writes there
  (and every :data:`RELIST_S` seconds its engine and lock are looked at anyway);
- ``fork.json`` is re-read only when it changed (adopting, discarding).

A run whose files did not change keeps its row object: the fleet screen
redraws only rows that are not the same object as before.
"""

from __future__ import annotations

import contextlib
import os
import re
import time
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import ValidationError

from tui.engine.fork import FORK_FILE, Branch, ForkError
from tui.engine.live import registry_dir
from tui.engine.protocol import ENGINE_FILE, EngineInfo
from tui.engine.run_state import RunState
from tui.engine.rundir import LOCK_NAME, process_alive, running_pid, state_runs_root
from tui.events import parse_event

JOURNAL = "journal.jsonl"
# Seconds after which every folder is listed again even when no time changed.
RELIST_S = 30.0
# Streamed pieces: thousands per iteration, and nothing a fleet row needs.
_SKIP = (b'"type":"agent_text"', b'"type":"tool_input_delta"', b'"type":"validator_output"')
_BRANCH_NAME = re.compile(r"-fork\d+-\d+$")

Signature = tuple[int, int, int] | None


def signature(path: str) -> Signature:
    """What tells a file changed: inode, size and modification time (None: no file)."""
    try:
        info = os.stat(path)
    except OSError:
        return None
    return (info.st_ino, info.st_size, info.st_mtime_ns)


@dataclass
class RunWatch:
    """One run folder as last seen: its folded state and the signatures of its files."""

    folder: Path
    state: RunState = field(default_factory=RunState)
    offset: int = 0
    journal: Signature = None
    engine: Signature = None
    engine_pid: int | None = None
    live: bool = False
    pid_file: Signature = None
    running: bool = False  # another process holds the run's lock
    fork_file: Signature = None
    branch: Branch | None = None
    waiting: bool = False  # a fork branch that has not started yet (no journal)

    def __post_init__(self) -> None:
        base = str(self.folder)
        self._journal = os.path.join(base, JOURNAL)
        self._engine = os.path.join(base, ENGINE_FILE)
        self._pid = os.path.join(base, LOCK_NAME)
        self._fork = os.path.join(base, FORK_FILE)

    def look(self, *, thorough: bool = False) -> bool | None:
        """Look again; True when anything the row shows may have changed, None: no journal.

        ``thorough``: look at the engine and the lock even when the journal did
        not change (the fleet does so every :data:`RELIST_S` seconds, in case a
        process started without writing to its journal yet).
        """
        journal = signature(self._journal)
        if journal is None:
            if not _BRANCH_NAME.search(self.folder.name):
                return None
            # A fork branch waiting for its turn has no journal yet, only its fork.json.
            changed = self._look_at_fork()
            self.waiting = self.branch is not None
            return changed if self.waiting else None
        self.waiting = False
        changed = journal != self.journal
        if changed:
            if self.journal is not None and (
                journal[0] != self.journal[0] or journal[1] < self.offset
            ):
                # Replaced (another file) or cut: a new run in the folder, read from its start.
                self.state, self.offset = RunState(), 0
            read_journal(self._journal, self, journal[1])
            self.journal = journal
        if not changed and not (self.live or self.running or thorough):
            # Over, or crashed: anything that brings it back (resume) writes to the journal.
            return self._look_at_fork() if self.branch is not None else False
        engine = signature(self._engine)
        if engine != self.engine:
            self.engine, self.engine_pid = engine, _engine_pid(self._engine)
            changed = True
        live = self.engine_pid is not None and process_alive(self.engine_pid)
        changed |= live != self.live
        self.live = live
        changed |= self._look_at_lock(changed or thorough)
        if changed or self.branch is not None:
            changed |= self._look_at_fork()
        return changed

    def _look_at_lock(self, probe: bool) -> bool:
        if self.live or self.state.finished is not None:
            running = False
        else:
            pid_file = signature(self._pid)
            if not (probe or self.running or pid_file != self.pid_file):
                return False
            self.pid_file = pid_file
            running = running_pid(self.folder) is not None
        moved = running != self.running
        self.running = running
        return moved

    def _look_at_fork(self) -> bool:
        fork_file = signature(self._fork)
        if fork_file == self.fork_file:
            return False
        self.fork_file = fork_file
        self.branch = None
        if fork_file is not None:
            with contextlib.suppress(ForkError):
                self.branch = Branch.load(self.folder)
        return True


def read_journal(path: str, watch: RunWatch, size: int) -> None:
    """Fold what the journal gained since ``watch.offset`` (whole lines only)."""
    with open(path, "rb") as f:
        f.seek(watch.offset)
        data = f.read(size - watch.offset)
    end = data.rfind(b"\n") + 1  # a line being written is read next time
    for line in data[:end].splitlines():
        if not line or any(skip in line[:200] for skip in _SKIP):
            continue
        try:
            watch.state.apply(parse_event(line))
        except ValidationError:
            continue
    watch.offset += end


def _engine_pid(path: str) -> int | None:
    try:
        with open(path, "rb") as f:
            return EngineInfo.model_validate_json(f.read()).pid
    except (OSError, ValueError):
        return None


class RunFolders:
    """The folders that may hold runs, listed again only when their parent changed."""

    def __init__(self, paths: list[Path]) -> None:
        self.paths = [p.expanduser().resolve() for p in paths]
        self._listed: dict[tuple[str, Path], tuple[Signature, list[Path]]] = {}
        self._relisted = 0.0
        self._changed = True  # a listing changed since the last answer
        self._found: list[Path] = []
        self._parents: set[Path] = set()
        self._names: set[str] = set()

    def stale(self) -> bool:
        """Whether it is time to list everything again (every :data:`RELIST_S` seconds)."""
        return time.monotonic() - self._relisted > RELIST_S

    def folders(self) -> list[Path]:
        """Every candidate run folder (those without a journal are skipped by the caller)."""
        if self.stale():
            self._listed.clear()
            self._relisted = time.monotonic()
        kept = state_runs_root().resolve()  # registered folders are resolved too
        found = dict.fromkeys(self._list("children", kept))
        found.update(dict.fromkeys(self._list("registry", registry_dir())))
        for path in self.paths:
            found.update(dict.fromkeys(self._list("path", path)))
            found.update(dict.fromkeys(self._list("children", path / ".loopconsole" / "runs")))
        # Fork branches live beside their source run, which may be kept anywhere.
        if self._changed:
            self._parents = {f.parent for f in found} - {kept, *self.paths}
            self._names = {f.name for f in found}
        for parent in self._parents:
            for branch in self._list("children", parent):
                if (
                    _BRANCH_NAME.search(branch.name)
                    and _BRANCH_NAME.sub("", branch.name) in self._names
                ):
                    found[branch] = None
        if self._changed:
            self._found, self._changed = list(found), False
        return self._found

    def _list(self, kind: str, folder: Path) -> list[Path]:
        now = signature(str(folder))
        seen = self._listed.get((kind, folder))
        if seen is not None and seen[0] == now:
            return seen[1]
        if now is None:
            listed = []
        elif kind == "registry":
            listed = _registered(folder)
        elif kind == "path":  # a folder given on the command line: a run, or runs under it
            is_run = os.path.isfile(os.path.join(folder, JOURNAL))
            listed = [folder] if is_run else _children(folder)
        else:
            listed = _children(folder)
        self._listed[(kind, folder)] = (now, listed)
        self._changed = True
        return listed


def _children(folder: Path) -> list[Path]:
    try:
        return sorted(Path(e.path) for e in os.scandir(folder) if e.is_dir())
    except OSError:
        return []


def _registered(folder: Path) -> list[Path]:
    found = []
    for entry in _files(folder):
        with contextlib.suppress(OSError):
            found.append(Path(Path(entry).read_text().strip()))
    return found


def _files(folder: Path) -> list[str]:
    try:
        return [e.path for e in os.scandir(folder) if e.is_file()]
    except OSError:
        return []
