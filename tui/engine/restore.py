"""Writing a checkpoint's tree back into the workspace, never outside it.

libgit2's checkout is not used for this: it follows a symlink standing where
the tree has a folder or a file, writes into a hard-linked file in place,
and fails or skips files when the work tree holds a symlink its baseline
does not expect (all seen with libgit2 1.9). So the restore is done here,
driven by the diff between the workspace as just committed and the target:

- every folder on the way to a file is made a real folder inside the
  workspace: a symlink or file standing there is unlinked (never followed);
- every file is written to a new temporary file in its folder and renamed
  over the old name, which replaces a symlink or hard link instead of
  writing through it;
- files the target does not have are unlinked, and folders left empty go.

Ignored files are left alone, except one standing exactly where the target
needs a file or folder (git, too, treats ignored files as expendable). A
nested repository in the way stops the restore before anything is written.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import stat
from dataclasses import dataclass, field

import pygit2
from pygit2.enums import FileMode

from tui.engine.large_files import is_placeholder
from tui.engine.shadow import ShadowError

_ZERO = pygit2.Oid(hex="0" * 40)
_TMP_PREFIX = ".loopconsole-restore-"  # excluded from checkpoints (see shadow.py)


@dataclass
class TreeWrite:
    """What writing a tree into the workspace changed."""

    removed: list[str] = field(default_factory=list)
    written: list[str] = field(default_factory=list)
    unlinked: list[str] = field(default_factory=list)  # links/files in the way, not followed
    kept_large: list[str] = field(default_factory=list)  # over the size limit: left as they are


def write_tree(
    repo: pygit2.Repository,
    index: pygit2.Index,
    current: pygit2.Tree,
    target: pygit2.Tree,
    workspace: str,
) -> TreeWrite:
    """Turn the workspace (which holds ``current``) into ``target``; update ``index``.

    ``current`` must be what the workspace holds now (minus ignored files),
    which is the case right after a checkpoint.
    """
    root = os.fsencode(workspace)
    diff = repo.diff(current, target)
    remove: list[bytes] = []
    write: list[tuple[bytes, pygit2.Oid, int]] = []
    out = TreeWrite()
    for delta in diff.deltas:
        if _touches_large(repo, delta):
            # Its content was never stored: overwriting or removing it would
            # lose it, and a placeholder cannot be written back.
            out.kept_large.append(delta.new_file.path or delta.old_file.path)
            continue
        if delta.status_char() in ("D", "T"):
            remove.append(os.fsencode(delta.old_file.path))
        if delta.status_char() != "D":
            new = delta.new_file
            if new.mode != FileMode.COMMIT:
                write.append((os.fsencode(new.path), new.id, new.mode))
    _refuse_nested_in_the_way(root, [w[0] for w in write])
    for rel in remove:
        if _unlink_inside(root, rel):
            out.removed.append(os.fsdecode(rel))
            _prune_empty(root, rel)
        index.remove(os.fsdecode(rel))
    for rel, oid, mode in write:
        _make_folders(root, rel, out.unlinked)
        _write_file(os.path.join(root, rel), repo[oid].data, mode, out.unlinked, rel)
        out.written.append(os.fsdecode(rel))
        # add_bypath hashes the file and records its stat data, so the next
        # checkpoint does not read it again; it also works for files the
        # restored .gitignore would ignore.
        index.add(os.fsdecode(rel))
    index.write()
    return out


def _touches_large(repo: pygit2.Repository, delta: pygit2.DiffDelta) -> bool:
    """Whether either side of ``delta`` is a large file's placeholder."""
    return any(
        f.mode in (FileMode.BLOB, FileMode.BLOB_EXECUTABLE)
        and f.id != _ZERO
        and is_placeholder(repo, f.id)
        for f in (delta.old_file, delta.new_file)
    )


def _is_real_dir(path: bytes) -> bool:
    try:
        return stat.S_ISDIR(os.lstat(path).st_mode)
    except FileNotFoundError:
        return False


def _inside(root: bytes, rel: bytes) -> bool:
    """Whether every folder on the way to ``rel`` is a real folder (no symlink)."""
    path = root
    for part in rel.split(b"/")[:-1]:
        path = os.path.join(path, part)
        if not _is_real_dir(path):
            return False
    return True


def _unlink_inside(root: bytes, rel: bytes) -> bool:
    if not _inside(root, rel):
        return False
    try:
        os.unlink(os.path.join(root, rel))
    except FileNotFoundError:
        return False
    except IsADirectoryError:
        return False
    return True


def _prune_empty(root: bytes, rel: bytes) -> None:
    parts = rel.split(b"/")[:-1]
    while parts:
        try:
            os.rmdir(os.path.join(root, *parts))
        except OSError:
            return
        parts.pop()


def _refuse_nested_in_the_way(root: bytes, paths: list[bytes]) -> None:
    for rel in paths:
        path = os.path.join(root, rel)
        if _is_real_dir(path) and _holds_repository(path):
            raise ShadowError(
                f"cannot restore {os.fsdecode(rel)}: a nested git repository is in the way; "
                "move it out of the workspace and try again"
            )


def _holds_repository(folder: bytes) -> bool:
    for dirpath, dirnames, filenames in os.walk(folder):
        if b".git" in dirnames or b".git" in filenames:
            return True
        del dirpath
    return False


def _clear(path: bytes, rel: bytes, unlinked: list[str]) -> None:
    """Remove what stands at ``path`` without following it."""
    if _is_real_dir(path):
        shutil.rmtree(path)  # ignored files only; rmtree never follows symlinks
    else:
        os.unlink(path)
    unlinked.append(os.fsdecode(rel))


def _make_folders(root: bytes, rel: bytes, unlinked: list[str]) -> None:
    path = root
    done = b""
    for part in rel.split(b"/")[:-1]:
        path = os.path.join(path, part)
        done = os.path.join(done, part)
        try:
            st = os.lstat(path)
        except FileNotFoundError:
            os.mkdir(path)
            continue
        if not stat.S_ISDIR(st.st_mode):
            _clear(path, done, unlinked)
            os.mkdir(path)


def _write_file(path: bytes, data: bytes, mode: int, unlinked: list[str], rel: bytes) -> None:
    folder, name = os.path.split(path)
    tmp = os.path.join(folder, os.fsencode(_TMP_PREFIX) + name)
    with contextlib.suppress(FileNotFoundError):
        os.unlink(tmp)  # a leftover from a restore that was killed
    if mode == FileMode.LINK:
        os.symlink(data, tmp)
    else:
        perms = 0o777 if mode == FileMode.BLOB_EXECUTABLE else 0o666  # the umask applies
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, perms)
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
        finally:
            os.close(fd)
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        st = None
    if st is not None and stat.S_ISDIR(st.st_mode):
        _clear(path, rel, unlinked)  # an ignored folder where the file goes
    elif st is not None and (stat.S_ISLNK(st.st_mode) or st.st_nlink > 1):
        unlinked.append(os.fsdecode(rel))  # replaced by the rename, not written through
    os.replace(tmp, path)
