"""The checkpoint of a few changed files in a huge workspace, without looking at the rest.

With a :class:`~tui.engine.change_feed.ChangeFeed` saying which paths changed,
staging reads only those (and walks only new folders), the new tree is the
previous one with those paths replaced (a tree builder per changed folder,
instead of rebuilding every tree of the index), and the diffstat compares
only those paths. Anything unusual (a folder removed, a file turned into a
folder, an addition next to a deletion that may be a rename) answers None
and the caller does the full scan or the full diff, which stay the reference.
"""

from __future__ import annotations

import os
import stat

import pygit2
from pygit2.enums import FileMode

from tui.engine.change_feed import Changes
from tui.engine.diffs import DiffStat, FileStat, file_patch
from tui.engine.shadow import add_files

Touched = dict[str, tuple[pygit2.Oid, int] | None]  # path -> (blob, mode), None: removed


def stage_changes(
    repo: pygit2.Repository,
    index: pygit2.Index,
    root: bytes,
    changes: Changes,
    limit: int,
) -> tuple[list[str], list[str], list[tuple[str, int]]] | None:
    """Stage the changed paths; return (paths touched, new folders, large files) or None."""
    paths = set(changes.paths)
    new_folders: list[str] = []
    for folder in sorted(changes.folders):
        found = _walk_new(repo, root, folder)
        if found is None:
            return None
        files, folders = found
        paths |= files
        new_folders += folders
    touched: list[str] = []
    adds: list[str] = []
    for path in sorted(paths):
        rel = os.fsencode(path)
        try:
            st = os.lstat(os.path.join(root, rel))
        except FileNotFoundError:
            st = None
        except OSError:
            return None
        tracked = path in index
        if st is None:
            if tracked:
                index.remove(path)
                touched.append(path)
            continue
        if stat.S_ISDIR(st.st_mode):
            return None  # a file became a folder: let the full scan sort it out
        if not (stat.S_ISREG(st.st_mode) or stat.S_ISLNK(st.st_mode)):
            continue
        if not tracked and repo.path_is_ignored(path):
            continue
        adds.append(path)
    skipped, large = add_files(repo, index, root, adds, limit)
    if skipped:
        return None  # unreadable files: the full scan reports them
    return touched + adds, new_folders, large


def _walk_new(
    repo: pygit2.Repository, root: bytes, folder: str
) -> tuple[set[str], list[str]] | None:
    """The files and folders under a new folder, ignored ones left out; None: a nested repo."""
    if repo.path_is_ignored(folder + "/"):
        return set(), []
    files: set[str] = set()
    folders = [folder]
    for dirpath, dirnames, filenames in os.walk(os.path.join(root, os.fsencode(folder))):
        rel_dir = os.fsdecode(os.path.relpath(dirpath, root))
        if b".git" in dirnames or b".git" in filenames:
            return None  # a nested repository: the full scan excludes it
        keep = []
        for d in dirnames:
            rel = f"{rel_dir}/{os.fsdecode(d)}"
            if not os.path.islink(os.path.join(dirpath, d)) and not repo.path_is_ignored(rel + "/"):
                keep.append(d)
                folders.append(rel)
        dirnames[:] = keep
        files |= {f"{rel_dir}/{os.fsdecode(f)}" for f in filenames}
    return files, folders


def touched_entries(index: pygit2.Index, paths: list[str]) -> Touched:
    """The index's blob and mode for each path (None where it has none)."""
    out: Touched = {}
    for path in paths:
        try:
            entry = index[path]
        except KeyError:
            out[path] = None
            continue
        out[path] = (entry.id, entry.mode)
    return out


def tree_with(repo: pygit2.Repository, base: pygit2.Tree, changes: Touched) -> pygit2.Oid:
    """``base`` with ``changes`` applied: only the folders on their way are rewritten."""
    oid = _build(repo, base, changes)
    return oid if oid is not None else repo.TreeBuilder().write()


def _build(
    repo: pygit2.Repository, tree: pygit2.Tree | None, changes: Touched
) -> pygit2.Oid | None:
    builder = repo.TreeBuilder(tree) if tree is not None else repo.TreeBuilder()
    below: dict[str, Touched] = {}
    for path, value in changes.items():
        name, sep, rest = path.partition("/")
        if sep:
            below.setdefault(name, {})[rest] = value
        elif value is None:
            if builder.get(name) is not None:
                builder.remove(name)
        else:
            builder.insert(name, value[0], value[1])
    for name, inner in below.items():
        current = builder.get(name)
        subtree = repo[current.id] if current is not None and current.type_str == "tree" else None
        oid = _build(repo, subtree, inner)  # type: ignore[arg-type]
        if oid is None:
            if current is not None:
                builder.remove(name)
        else:
            builder.insert(name, oid, FileMode.TREE)
    if len(builder) == 0:
        return None
    return builder.write()


def quick_diff(
    repo: pygit2.Repository, old: pygit2.Tree, new: pygit2.Tree, paths: list[str]
) -> tuple[DiffStat, str] | None:
    """Stat and patch of ``paths`` from ``old`` to ``new``; None when a rename is possible."""
    files: list[FileStat] = []
    chunks: list[str] = []
    added = deleted = False
    for path in sorted(set(paths)):
        before, after = _entry(old, path), _entry(new, path)
        if before == after:
            continue
        added |= before is None
        deleted |= after is None
        if added and deleted:
            return None  # libgit2's rename detection decides those
        stat, text = file_patch(repo, old, new, path)
        modes = {before[1], after[1]} if before is not None and after is not None else set()
        if len(modes) == 2 and FileMode.LINK in modes:
            stat = stat.model_copy(update={"status": "typechange"})
        files.append(stat)
        chunks.append(text)
    return DiffStat(files=tuple(files)), "".join(chunks)


def _entry(tree: pygit2.Tree, path: str) -> tuple[pygit2.Oid, int] | None:
    try:
        obj = tree[path]
    except KeyError:
        return None
    return (obj.id, obj.filemode)
