"""Which workspace paths changed since the last checkpoint, from the kernel (Linux inotify).

A checkpoint of a 100,000-file workspace spends most of its time comparing
the stat data of every file with the index, to find the three the agent
edited. The kernel already knows: an inotify watch on every checkpointed
folder queues an event, inside the very system call, for each file created,
written, removed, moved or re-moded there. :meth:`ChangeFeed.drain` reads that
queue without waiting, so every change made before the checkpoint is in it.

The feed answers None ("scan everything") whenever it cannot be sure: the
queue overflowed, a watched folder was removed or moved, watches could not
be added, or this is not Linux. New folders are reported whole (their files
may predate their watch) and watched from then on. Writes through a memory
map or through a hard link from outside the workspace are not seen; git's
own file-system monitor has the same blind spot.
"""

from __future__ import annotations

import ctypes
import os
import struct
import sys
from dataclasses import dataclass, field

_IN_MODIFY = 0x2
_IN_ATTRIB = 0x4
_IN_CLOSE_WRITE = 0x8
_IN_MOVED_FROM = 0x40
_IN_MOVED_TO = 0x80
_IN_CREATE = 0x100
_IN_DELETE = 0x200
_IN_DELETE_SELF = 0x400
_IN_MOVE_SELF = 0x800
_IN_Q_OVERFLOW = 0x4000
_IN_IGNORED = 0x8000
_IN_ISDIR = 0x40000000
_IN_ONLYDIR = 0x1000000
_IN_DONT_FOLLOW = 0x2000000
_IN_NONBLOCK = os.O_NONBLOCK
_IN_CLOEXEC = os.O_CLOEXEC
_MASK = (
    _IN_MODIFY
    | _IN_ATTRIB
    | _IN_CLOSE_WRITE
    | _IN_MOVED_FROM
    | _IN_MOVED_TO
    | _IN_CREATE
    | _IN_DELETE
    | _IN_DELETE_SELF
    | _IN_MOVE_SELF
    | _IN_ONLYDIR
    | _IN_DONT_FOLLOW
)
_HEADER = struct.Struct("iIII")


@dataclass
class Changes:
    """What changed since the last drain."""

    paths: set[str] = field(default_factory=set)  # files (or names) changed, workspace-relative
    folders: set[str] = field(default_factory=set)  # folders created or moved in: scan them whole


def _libc() -> ctypes.CDLL | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        # The process's own symbols: libc is loaded already (find_library would
        # run ldconfig in a subprocess).
        libc = ctypes.CDLL(None, use_errno=True)
        libc.inotify_init1  # noqa: B018 - musl and glibc both have it; check it is there
    except (OSError, AttributeError):
        return None
    return libc


class ChangeFeed:
    """Inotify watches on a set of workspace folders; :meth:`drain` says what changed."""

    def __init__(self, root: str) -> None:
        self.root = root.rstrip("/")
        self._libc = _libc()
        self._fd = -1
        self._folders: dict[int, str] = {}  # watch descriptor -> folder ("" is the root)
        self._broken = self._libc is None
        if self._libc is not None:
            self._fd = self._libc.inotify_init1(_IN_NONBLOCK | _IN_CLOEXEC)
            self._broken = self._fd < 0

    @property
    def usable(self) -> bool:
        return not self._broken

    def watch(self, folders: list[str]) -> None:
        """Watch these workspace-relative folders too ("" is the root)."""
        if self._broken or self._libc is None:
            return
        for rel in folders:
            path = os.fsencode(os.path.join(self.root, rel) if rel else self.root)
            wd = self._libc.inotify_add_watch(self._fd, path, _MASK)
            if wd < 0:
                if ctypes.get_errno() in (2, 20):  # ENOENT, ENOTDIR: gone already
                    continue
                self._broken = True  # e.g. the watch limit: fall back to full scans
                return
            self._folders[wd] = rel

    def drain(self) -> Changes | None:
        """Everything queued since the last drain; None means "scan the whole workspace"."""
        if self._broken:
            return None
        out = Changes()
        while True:
            try:
                data = os.read(self._fd, 1 << 16)
            except BlockingIOError:
                break
            except OSError:
                self._broken = True
                return None
            if not data:
                break
            if not self._parse(data, out):
                self._broken = True
                return None
        return out

    def _parse(self, data: bytes, out: Changes) -> bool:
        pos = 0
        while pos < len(data):
            wd, mask, _cookie, size = _HEADER.unpack_from(data, pos)
            name = data[pos + 16 : pos + 16 + size].rstrip(b"\0")
            pos += 16 + size
            if mask & (_IN_Q_OVERFLOW | _IN_DELETE_SELF | _IN_MOVE_SELF):
                return False  # lost events, or a watched folder went away or moved
            if mask & _IN_IGNORED:
                self._folders.pop(wd, None)
                continue
            folder = self._folders.get(wd)
            if folder is None:
                continue
            rel = os.fsdecode(name)
            rel = f"{folder}/{rel}" if folder else rel
            if mask & _IN_ISDIR:
                if mask & (_IN_CREATE | _IN_MOVED_TO):
                    out.folders.add(rel)
                elif mask & (_IN_DELETE | _IN_MOVED_FROM):
                    out.paths.add(rel)  # a removed folder: its entries go
            else:
                out.paths.add(rel)
        return True

    def close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1
        self._broken = True
