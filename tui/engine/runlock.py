"""One process per run: an exclusive lock on the run folder.

``run.pid`` says which process runs a run, but a pid outlives nothing: after
a crash the number may name an unrelated live process, and two ``resume``s
started together could both read "not running" and both go on. The lock is
``flock`` on ``<run dir>/run.lock``, taken before anything else in the folder
is read; the kernel releases it when its process dies, however it dies.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from pathlib import Path

LOCK_FILE = "run.lock"

# Run folders this process holds, and the descriptor holding each lock.
_held: dict[Path, int] = {}


class RunLocked(Exception):
    """Another live process holds the run (or the lock cannot be taken)."""


def hold(run_dir: Path) -> None:
    """Take the run's lock for this process; taking it again is a no-op.

    Raises :class:`RunLocked` when another process holds it.
    """
    run_dir = run_dir.resolve()
    if run_dir in _held:
        return
    try:
        fd = os.open(run_dir / LOCK_FILE, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    except OSError as exc:
        raise RunLocked(
            f"cannot lock run {run_dir.name} ({exc.strerror}); is the run folder writable?"
        ) from None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        os.close(fd)
        raise RunLocked(f"run {run_dir.name} is held by another process") from None
    _held[run_dir] = fd


def release(run_dir: Path) -> None:
    """Let go of the run's lock (when this process holds it)."""
    fd = _held.pop(run_dir.resolve(), None)
    if fd is not None:
        with contextlib.suppress(OSError):
            fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


def held_elsewhere(run_dir: Path) -> bool | None:
    """Whether another live process holds the run now; None when it has no lock file.

    Runs from before the lock existed have no ``run.lock``; the caller falls
    back to ``run.pid`` for those.
    """
    run_dir = run_dir.resolve()
    if run_dir in _held:
        return False
    try:
        fd = os.open(run_dir / LOCK_FILE, os.O_RDONLY | os.O_CLOEXEC)
    except FileNotFoundError:
        return None
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except OSError:
        return True
    finally:
        os.close(fd)  # closing drops the probe's shared lock
    return False
