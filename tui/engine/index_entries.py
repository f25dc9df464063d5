"""Index entries with their stat data, read and written through pygit2's libgit2 binding.

pygit2's ``IndexEntry`` carries a path, an id and a mode only, so an entry
added through it has no stat data and its file is hashed again at the next
scan. Checkpoints at scale need the stat data: taken over from the user's own
index (the first checkpoint of a git workspace), or recorded for the files a
bulk add just hashed, or for a large file whose placeholder must not make the
next scan read gigabytes. These few functions use libgit2's own
``git_index_get_byindex`` and ``git_index_add`` (both in pygit2's declared C
interface) for that, and nothing else.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import NamedTuple

import pygit2
from pygit2.ffi import C, ffi

# libgit2's flags (git_index_entry.flags / flags_extended).
STAGE_MASK = 0x3000
INTENT_TO_ADD = 1 << 13
SKIP_WORKTREE = 1 << 14
GITLINK = 0o160000


class Entry(NamedTuple):
    """One index entry: the fields borrowing needs."""

    path: bytes
    position: int
    size: int  # the work-tree file's size when last hashed (32 bits, as git keeps it)


@dataclass
class Sorted:
    """An index's entries sorted for borrowing (see :func:`sort_entries`)."""

    kept: list[int] = field(default_factory=list)  # positions whose stat data are usable
    stale: list[int] = field(default_factory=list)  # positions of racily clean entries
    left_out: list[bytes] = field(default_factory=list)  # paths, without the prefix
    attributes: bool = False  # a .gitattributes file is tracked
    folders: set[bytes] = field(default_factory=set)  # folders of the entries, without the prefix


def sort_entries(index: pygit2.Index, prefix: bytes, stamp: int, max_file_bytes: int) -> Sorted:
    """The entries under ``prefix`` a checkpoint can take as they are, must hash, or leaves out.

    Left out: conflict stages, gitlinks (submodules), skip-worktree (sparse
    checkout) and intent-to-add entries, files over ``max_file_bytes``, and
    paths checkpoints never hold. Stale: modified in or after the second
    ``stamp`` (the index file's time), so their stat data may be racy. The
    loop reads libgit2's structs directly and keeps positions only: it runs
    once per entry of a 100,000-file index.
    """
    out = Sorted()
    kept, stale = out.kept, out.stale
    handle = index._index
    get = C.git_index_get_byindex
    string = ffi.string
    cut = len(prefix)
    unusual = SKIP_WORKTREE | INTENT_TO_ADD
    suffixes = (b".pyc", b".pyo", b".gitattributes")
    folders = out.folders
    folders.add(b"")
    last = b""
    for i in range(C.git_index_entrycount(handle)):
        e = get(handle, i)
        path = string(e.path)
        if cut and not path.startswith(prefix):
            continue
        folder = path[cut:].rpartition(b"/")[0]
        if folder != last:  # the folders watch mode and the change feed need, in the same pass
            last = folder
            while folder and folder not in folders:
                folders.add(folder)
                folder = folder.rpartition(b"/")[0]
        if path.endswith(suffixes) and path.endswith(b".gitattributes"):
            out.attributes = True
        elif (
            e.flags & STAGE_MASK
            or e.mode == GITLINK
            or e.flags_extended & unusual
            or e.file_size > max_file_bytes
            or b".loopconsole" in path
            or b"__pycache__/" in path
            or path.endswith(suffixes)
        ):
            out.left_out.append(path[cut:])
            continue
        if e.mtime.seconds >= stamp:
            stale.append(i)
        else:
            kept.append(i)
    return out


def entry_at(index: pygit2.Index, position: int) -> Entry:
    """Entry ``position`` of ``index``."""
    e = C.git_index_get_byindex(index._index, position)
    return Entry(ffi.string(e.path), position, e.file_size)


def folders_of(index: pygit2.Index) -> list[str]:
    """Every folder that holds an entry of ``index``, parents included ("" is the root)."""
    handle = index._index
    found = {b""}
    last = b""
    for i in range(C.git_index_entrycount(handle)):
        folder = ffi.string(C.git_index_get_byindex(handle, i).path).rpartition(b"/")[0]
        if folder != last:  # entries are sorted: a folder's files come together
            last = folder
            while folder and folder not in found:
                found.add(folder)
                folder = folder.rpartition(b"/")[0]
    return sorted(os.fsdecode(f) for f in found)


def oid_at(index: pygit2.Index, position: int) -> pygit2.Oid:
    """The object id of entry ``position``."""
    e = C.git_index_get_byindex(index._index, position)
    return pygit2.Oid(raw=bytes(ffi.buffer(e.id.id, 20)))


def copy_entry(
    source: pygit2.Index, position: int, target: pygit2.Index, path: bytes, *, stale: bool
) -> None:
    """Add entry ``position`` of ``source`` to ``target`` under ``path``, stat data and all.

    ``stale`` clears the entry's modification time, so the next scan hashes
    the file instead of trusting stat data that may be racy.
    """
    e = C.git_index_get_byindex(source._index, position)
    new = ffi.new("git_index_entry *")
    new[0] = e[0]
    keep = ffi.new("char[]", path)
    new.path = keep
    # Stage, assume-valid and the extended flags are the user's business; the
    # name length is set by libgit2.
    new.flags = 0
    new.flags_extended = 0
    if stale:
        new.mtime.seconds = 0
        new.mtime.nanoseconds = 0
    _check(C.git_index_add(target._index, new))


def add_with_stat(
    index: pygit2.Index, path: bytes, oid: bytes, mode: int, st: os.stat_result
) -> None:
    """Add ``path`` with blob ``oid`` and the stat data ``st`` of its work-tree file."""
    new = ffi.new("git_index_entry *")
    keep = ffi.new("char[]", path)
    new.path = keep
    ffi.memmove(new.id.id, oid, 20)
    new.mode = mode
    new.ctime.seconds = st.st_ctime_ns // 1_000_000_000
    new.ctime.nanoseconds = st.st_ctime_ns % 1_000_000_000
    new.mtime.seconds = st.st_mtime_ns // 1_000_000_000
    new.mtime.nanoseconds = st.st_mtime_ns % 1_000_000_000
    new.dev = st.st_dev & 0xFFFFFFFF
    new.ino = st.st_ino & 0xFFFFFFFF
    new.uid = st.st_uid & 0xFFFFFFFF
    new.gid = st.st_gid & 0xFFFFFFFF
    new.file_size = st.st_size & 0xFFFFFFFF
    _check(C.git_index_add(index._index, new))


def _check(err: int) -> None:
    if err < 0:
        raise pygit2.GitError(f"libgit2 could not add an index entry (error {err})")
