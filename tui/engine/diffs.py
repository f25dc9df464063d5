"""What changed between two checkpoints: a diffstat per file and a patch.

Used for the diffstat of every checkpoint (the journal and ``--json``) and for
the console's diff view. Trees are compared by libgit2 in the shadow
repository; renames are detected so a moved file is one line, not two.
"""

from __future__ import annotations

import pygit2
from pydantic import BaseModel, ConfigDict

from tui.events import FileStat, FileStatus

_STATUS: dict[str, FileStatus] = {
    "A": "added",
    "D": "deleted",
    "M": "modified",
    "R": "renamed",
    "C": "copied",
    "T": "typechange",
}


class DiffStat(BaseModel):
    """The files changed between two checkpoints, with totals.

    A ``baseline`` stat belongs to the first checkpoint of a run: it has no
    earlier checkpoint, so it counts the files it holds and not their lines
    (counting the lines of a whole project would read every blob).
    """

    model_config = ConfigDict(frozen=True)

    files: tuple[FileStat, ...] = ()
    baseline: bool = False
    baseline_files: int = 0

    @property
    def files_changed(self) -> int:
        return self.baseline_files if self.baseline else len(self.files)

    @property
    def insertions(self) -> int:
        return sum(f.insertions for f in self.files)

    @property
    def deletions(self) -> int:
        return sum(f.deletions for f in self.files)

    def summary(self) -> str:
        """'3 files changed, +12 -4', or 'no changes'."""
        if self.baseline:
            return f"{self.baseline_files} files (the starting point)"
        if not self.files:
            return "no changes"
        n = len(self.files)
        return f"{n} file{'s' if n != 1 else ''} changed, +{self.insertions} -{self.deletions}"


class CheckpointDiff(BaseModel):
    """The diff between two checkpoints: per-file stats and the unified patch."""

    model_config = ConfigDict(frozen=True)

    old: str | None  # commit id; None when ``new`` is the first checkpoint
    new: str
    stat: DiffStat
    patch: str


def _tree_diff(repo: pygit2.Repository, old: pygit2.Tree | None, new: pygit2.Tree) -> pygit2.Diff:
    # With no old tree, swap=True makes the diff read as additions, not deletions.
    diff = new.diff_to_tree(swap=True) if old is None else repo.diff(old, new)
    diff.find_similar()
    return diff


def _file_stat(patch: pygit2.Patch) -> FileStat:
    delta = patch.delta
    status = _STATUS.get(delta.status_char(), "modified")
    binary = bool(delta.is_binary)
    _context, added, removed = (0, 0, 0) if binary else patch.line_stats
    moved = status in ("renamed", "copied")
    return FileStat(
        path=delta.new_file.path if status != "deleted" else delta.old_file.path,
        status=status,
        insertions=added,
        deletions=removed,
        binary=binary,
        old_path=delta.old_file.path if moved else None,
    )


def diff_stat(repo: pygit2.Repository, old: pygit2.Tree | None, new: pygit2.Tree) -> DiffStat:
    """The diffstat from ``old`` to ``new``; a baseline stat when ``old`` is None."""
    if old is None:
        return DiffStat(baseline=True, baseline_files=_count_files(new))
    if old.id == new.id:
        return DiffStat()
    diff = _tree_diff(repo, old, new)
    return DiffStat(files=tuple(_file_stat(p) for p in diff if p is not None))


def tree_patch(
    repo: pygit2.Repository, old: pygit2.Tree | None, new: pygit2.Tree
) -> tuple[DiffStat, str]:
    """Per-file stats and the unified patch text from ``old`` to ``new``.

    With ``old`` None every file of ``new`` shows as added. Text that is not
    UTF-8 is shown with replacement characters rather than failing the view.
    """
    diff = _tree_diff(repo, old, new)
    files: list[FileStat] = []
    chunks: list[str] = []
    for patch in diff:
        if patch is None:
            continue
        files.append(_file_stat(patch))
        chunks.append(patch.data.decode("utf-8", errors="replace"))
    return DiffStat(files=tuple(files)), "".join(chunks)


def changed_files(
    repo: pygit2.Repository, old: pygit2.Tree | None, new: pygit2.Tree
) -> tuple[FileStat, ...]:
    """The files changed from ``old`` to ``new`` with their status, no line counts.

    Reads no file content beyond what rename detection needs, so the list of
    an iteration that changed thousands of files comes back at once; a file's
    patch is then made on demand (:func:`file_patch`).
    """
    if old is not None and old.id == new.id:
        return ()
    out = []
    for delta in _tree_diff(repo, old, new).deltas:
        status = _STATUS.get(delta.status_char(), "modified")
        moved = status in ("renamed", "copied")
        out.append(
            FileStat(
                path=delta.new_file.path if status != "deleted" else delta.old_file.path,
                status=status,
                binary=bool(delta.is_binary),
                old_path=delta.old_file.path if moved else None,
            )
        )
    return tuple(out)


def file_patch(
    repo: pygit2.Repository,
    old: pygit2.Tree | None,
    new: pygit2.Tree,
    path: str,
    old_path: str | None = None,
) -> tuple[FileStat, str]:
    """One file's stat and unified patch from ``old`` to ``new`` (``old_path``: a rename)."""
    before = _blob_at(old, old_path or path)
    after = _blob_at(new, path)
    patch = pygit2.Patch.create_from(before, after, old_as_path=old_path or path, new_as_path=path)
    stat = _file_stat(patch)
    text = patch.data.decode("utf-8", errors="replace")
    if old_path and old_path != path:
        stat = stat.model_copy(update={"status": "renamed", "old_path": old_path})
        if not text:  # a pure move: libgit2 makes no patch for identical blobs
            text = (
                f"diff --git a/{old_path} b/{path}\nsimilarity index 100%\n"
                f"rename from {old_path}\nrename to {path}\n"
            )
    return stat, text


def _blob_at(tree: pygit2.Tree | None, path: str) -> pygit2.Blob | None:
    if tree is None:
        return None
    try:
        obj = tree / path
    except KeyError:
        return None
    return obj if isinstance(obj, pygit2.Blob) else None


def _count_files(tree: pygit2.Tree) -> int:
    count = 0
    stack = [tree]
    while stack:
        for entry in stack.pop():
            if entry.type == pygit2.enums.ObjectType.TREE:
                stack.append(entry)  # iterating a Tree yields loaded objects
            else:
                count += 1
    return count
