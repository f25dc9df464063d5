"""The first checkpoint of a git workspace, from what the user's repository already knows.

When the workspace is (inside) a git repository, the user's index already
holds the object id and the stat data of every tracked file, and the
repository holds the objects. So the shadow repository borrows both, read
only:

- the user's ``objects`` folder becomes an alternate of the shadow repository
  (``objects/info/alternates``): the shadow reads the user's blobs and trees
  and writes its own objects to its own folder, never to the user's;
- the user's index entries are copied, with their stat data, into the shadow
  index, so the scan that follows hashes only the files that differ from it.

Nothing is written into the user's repository: it is opened, its index file
read and its attributes consulted, no more. Entries are left out (and their
files, if present, hashed like untracked ones) when the user's entry cannot
stand for the bytes on disk:

- racily clean entries (modified in the second the index was written):
  their stat data cannot be trusted, so they are hashed again;
- skip-worktree entries (sparse checkout), intent-to-add and conflict stages;
- gitlinks (submodules): nested repositories are never checkpointed;
- entries whose content goes through a filter (git LFS) or a conversion
  (``text``/``eol``/``ident``/``working-tree-encoding``, ``core.autocrlf``)
  when the stored blob's size differs from the file's: the user's blob is the
  cleaned content, a checkpoint the bytes on disk;
- entries of files over the size limit (they get a placeholder instead).

An index libgit2 cannot read (split index, sparse index) means no borrowing:
the first checkpoint then hashes the workspace as for a plain folder.

The shadow repository then depends on the user's objects for what it
borrowed. Objects reachable from the user's commits or index stay; one that
only a since-discarded index entry named could be pruned by the user's
``git gc`` after its grace period (two weeks by default), and that
checkpoint's copy of the file with it.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import pygit2
from pygit2.enums import RepositoryOpenFlag
from pygit2.ffi import C

from tui.engine.index_entries import Entry, copy_entry, entry_at, oid_at, sort_entries

_CONVERSION_ATTRS = ("filter", "text", "eol", "crlf", "ident", "working-tree-encoding")


@dataclass(frozen=True)
class Borrowed:
    """What the first checkpoint took from the user's repository."""

    repository: str  # the user's git folder
    objects: str  # the objects folder used as an alternate
    entries: int  # index entries taken with their stat data
    rehash: int  # entries taken whose files are hashed again (racy, converted)
    left_out: int  # entries not taken (sparse, submodules, conflicts, large files)
    folders: tuple[str, ...] = ()  # the workspace folders its entries are in ("" is the root)

    def note(self) -> str:
        """One sentence for the start checkpoint's message."""
        return (
            f"Borrowed from the git repository {self.repository}: {self.entries} files "
            f"from its index ({self.rehash} hashed again) and its objects, read only "
            f"({self.objects}); {self.left_out} entries left out."
        )


def find_user_repository(workspace: Path) -> pygit2.Repository | None:
    """The git repository the workspace is (inside), opened for reading; None if none."""
    try:
        found = pygit2.discover_repository(str(workspace))
        if found is None:
            return None
        repo = pygit2.Repository(found, RepositoryOpenFlag.NO_SEARCH)
    except (pygit2.GitError, KeyError, OSError):
        return None
    if repo.is_bare or not repo.workdir:
        return None
    return repo


def objects_dir(repo: pygit2.Repository) -> Path:
    """The user's objects folder (a worktree's lives in the main repository)."""
    gitdir = Path(repo.path)
    common = gitdir / "commondir"
    if common.is_file():
        gitdir = (gitdir / common.read_text().strip()).resolve()
    return gitdir / "objects"


def borrow(
    user: pygit2.Repository,
    shadow: pygit2.Repository,
    index: pygit2.Index,
    workspace: Path,
    max_file_bytes: int,
) -> Borrowed | None:
    """Fill the empty shadow ``index`` from the user's; None when it cannot be used.

    When the workspace is the repository's root, the user's index file is
    copied whole (its cached trees make the first tree free) and the entries
    that cannot be taken are then removed or marked for hashing; for a
    subfolder the entries under it are copied one by one, renamed.
    """
    root = Path(user.workdir).resolve()
    try:
        prefix = workspace.relative_to(root).as_posix()
    except ValueError:
        return None
    index_file = Path(user.path) / "index"
    objects = objects_dir(user)
    if not objects.is_dir() or not index_file.is_file():
        return None
    stamp = int(index_file.stat().st_mtime)
    try:
        if prefix == ".":
            # The copy keeps the file's time: libgit2 compares entries with it (racy git).
            shutil.copy2(index_file, Path(shadow.path) / "index")
            index.read(True)
            source, prefix_b = index, b""
        else:
            source, prefix_b = pygit2.Index(str(index_file)), os.fsencode(prefix) + b"/"
    except pygit2.GitError:
        return _give_up(shadow, index)  # an index libgit2 cannot read (split, sparse)
    found = sort_entries(source, prefix_b, stamp, max_file_bytes)
    if not found.kept and not found.stale:
        return _give_up(shadow, index)  # nothing of the workspace is tracked
    _add_alternate(shadow, objects)
    stale = set(found.stale)
    if _may_convert(user) or found.attributes:
        stale |= {i for i in found.kept if _converted(user, source, entry_at(source, i))}
    if source is index:
        for i in sorted(stale):
            copy_entry(index, i, index, entry_at(index, i).path, stale=True)
        for rel in found.left_out:
            _remove_all_stages(index, rel)
        if stale or found.left_out:
            index.write()  # else the file on disk is already what the index holds
    else:
        cut = len(prefix_b)
        for i in sorted(found.kept + found.stale):
            rel = entry_at(source, i).path[cut:]
            copy_entry(source, i, index, rel, stale=i in stale)
        index.write()
    taken = len(found.kept) + len(found.stale)
    folders = tuple(sorted(os.fsdecode(f) for f in found.folders))
    return Borrowed(
        str(Path(user.path)), str(objects), taken, len(stale), len(found.left_out), folders
    )


def _give_up(shadow: pygit2.Repository, index: pygit2.Index) -> None:
    """Leave the shadow index empty: the workspace is hashed as a plain folder."""
    (Path(shadow.path) / "index").unlink(missing_ok=True)
    index.clear()
    return None


def _remove_all_stages(index: pygit2.Index, rel: bytes) -> None:
    for stage in range(4):
        C.git_index_remove(index._index, rel, stage)  # a missing entry is not an error here


def _add_alternate(shadow: pygit2.Repository, objects: Path) -> None:
    info = Path(shadow.path) / "objects" / "info"
    info.mkdir(parents=True, exist_ok=True)
    alternates = info / "alternates"
    line = f"{objects}\n"
    existing = alternates.read_text() if alternates.is_file() else ""
    if line not in existing:
        alternates.write_text(existing + line)
    shadow.odb.add_disk_alternate(str(objects))


def _autocrlf(user: pygit2.Repository) -> bool:
    try:
        value = user.config["core.autocrlf"]
    except KeyError:
        return False
    return str(value).lower() not in ("false", "0", "no", "off")


def _may_convert(user: pygit2.Repository) -> bool:
    """Whether any content conversion could apply (attributes files or settings)."""
    if _autocrlf(user) or (Path(user.path) / "info" / "attributes").is_file():
        return True
    try:
        user.config["core.attributesFile"]
    except KeyError:
        return False
    return True


def _converted(user: pygit2.Repository, source: pygit2.Index, entry: Entry) -> bool:
    """Whether the user's blob may differ from the bytes on disk for this entry."""
    path = os.fsdecode(entry.path)
    try:
        if user.get_attr(path, "filter") not in (None, False):
            return True  # a filter (git LFS) may keep the size and change the bytes
        if not _autocrlf(user) and all(
            user.get_attr(path, name) in (None, False) for name in _CONVERSION_ATTRS
        ):
            return False
        _kind, size = user.odb.read_header(oid_at(source, entry.position))
    except (KeyError, ValueError, pygit2.GitError):
        return True
    # text/eol/ident/encoding conversions change the size whenever they change the bytes.
    return size != entry.size
