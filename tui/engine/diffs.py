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
    binary = delta.is_binary
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
