"""Checkpoints: the workspace after every iteration, as commits in a shadow repository.

The shadow repository is ``<run dir>/checkpoints.git``. It is created bare and
given the workspace as its work tree in memory only, so nothing, not even a
``.git`` file, is written into the workspace, and the user's own repository
(when the workspace is, or lies inside, one) is never opened: its ``.git``,
index, HEAD, branches, stash and hooks stay as they were.

The history is one line on ``refs/heads/checkpoints``: every checkpoint's
parent is the checkpoint before it, in the order they were made, and its tree
is exactly what the workspace held at that moment. A rewind appends a commit
too (its tree is the restored one), so nothing the agent or a human did is
ever unreachable. Every iteration gets a commit, even when nothing changed
(its tree id is then the previous one's), so the timeline has no holes.

What is checkpointed: what ``git add -A`` would take, with the workspace's
``.gitignore``; never ``.git``, ``.loopconsole/``, the run directory when it
lies inside the workspace, or nested repositories (they are found as they
appear and excluded, because libgit2 refuses to add them). Files are stored
byte for byte: no end-of-line conversion or filters. libgit2 runs no hooks.
The index is kept in the shadow repository, so a checkpoint only reads the
files whose size or time changed.

The methods are synchronous and thread-safe; the runner calls them through
``asyncio.to_thread``.

The parts live beside this module: :mod:`~tui.engine.checkpoint_info` (the
values and the error), :mod:`~tui.engine.checkpoint_commits` (commits,
trailers and the branch), :mod:`~tui.engine.staging` (full scans and the
change feed) and :mod:`~tui.engine.restore_report` (what a restore did);
the names other modules use are importable from here.
"""

from __future__ import annotations

import threading
from dataclasses import replace
from pathlib import Path

import pygit2
from pygit2.enums import SortMode

from tui.engine import large_files
from tui.engine.checkpoint_commits import (
    BRANCH,
    IDENTITY,
    branch_head,
    compose_message,
    find_commit,
    parse_trailers,
    read_info,
    write_checkpoint,
)
from tui.engine.checkpoint_info import KINDS, CheckpointError, CheckpointInfo
from tui.engine.diffs import (
    CheckpointDiff,
    DiffStat,
    FileStat,
    changed_files,
    diff_stat,
    file_patch,
    tree_patch,
)
from tui.engine.index_entries import folders_of
from tui.engine.large_files import DEFAULT_MAX_FILE_BYTES
from tui.engine.previous_run import Reused, previous_shadow, reuse
from tui.engine.restore import write_tree
from tui.engine.restore_report import RestoreReport, restore_report
from tui.engine.shadow import (
    LIMIT_KEY,
    Scan,
    ShadowError,
    open_shadow,
    open_shadow_readonly,
    size_limit,
)
from tui.engine.staging import Staging
from tui.engine.user_repo import Borrowed, borrow, find_user_repository


class Checkpoints:
    """The shadow repository of one run. Use :meth:`open`."""

    #: From this many files on, a change feed (inotify) replaces the full scan.
    FEED_MIN_FILES = 20_000
    #: Even so, every this many checkpoints a full scan checks what the feed said.
    FULL_SCAN_EVERY = 20

    def __init__(
        self,
        repo: pygit2.Repository,
        workspace: Path,
        recovered: list[str],
        max_file_bytes: int = DEFAULT_MAX_FILE_BYTES,
    ) -> None:
        self._repo = repo
        #: Files bigger than this are recorded by size and hash only.
        self.max_file_bytes = max_file_bytes
        #: What the first checkpoint took from the user's git repository, if anything.
        self.borrowed: Borrowed | None = None
        #: What it took from the previous run of the same workspace, if anything.
        self.reused: Reused | None = None
        self.workspace = workspace
        self.path = Path(repo.path)
        #: Stale lock files removed when the repository was opened (a crash left them).
        self.recovered = recovered
        self._index = repo.index
        self._lock = threading.Lock()
        self._infos: dict[str, CheckpointInfo] = {}  # commit id -> parsed checkpoint
        self._snapshot: tuple[str, Scan] | None = None  # (tree, what its scan found)
        self._staging = Staging(repo, self._index, workspace)

    @classmethod
    def open(
        cls, run_dir: Path, workspace: Path, *, max_file_bytes: int | None = None
    ) -> Checkpoints:
        """Create the shadow repository of a run, or reopen it (resume, replay).

        ``max_file_bytes``: files bigger than this are recorded by size and
        hash only (default: what the run was opened with before, else 5 MB).
        A new shadow repository of a workspace inside a git repository borrows
        that repository's index and objects, read only (see
        :mod:`tui.engine.user_repo`).
        """
        repo, workspace, recovered = open_shadow(run_dir, workspace, BRANCH)
        limit = size_limit(repo, max_file_bytes)
        cps = cls(repo, workspace, recovered, limit)
        if cps._head() is None and len(cps._index) == 0:
            user = find_user_repository(workspace)
            if user is not None:
                try:
                    cps.borrowed = borrow(user, repo, cps._index, workspace, limit)
                except (OSError, pygit2.GitError):
                    cps._index.clear()  # hash the workspace as for a plain folder
                finally:
                    user.free()
            elif (old := previous_shadow(run_dir, workspace, LIMIT_KEY, limit)) is not None:
                cps.reused = reuse(old, Path(repo.path), cps._index)
        return cps

    @classmethod
    def open_readonly(cls, run_dir: Path) -> Checkpoints:
        """A run's checkpoints for reading only (diffs, history), live or in replay.

        Writes nothing to the repository and needs no workspace (it may be
        gone): only reading methods may be used. Raises CheckpointError (one
        sentence) when the run has no checkpoints.
        """
        try:
            repo = open_shadow_readonly(run_dir)
        except ShadowError as exc:
            raise CheckpointError(str(exc)) from None
        # The workspace is never read through this handle.
        return cls(repo, Path(run_dir), [])

    def close(self) -> None:
        """Release the repository's files (saving the index the change feed kept current)."""
        self._staging.close()
        self._repo.free()

    def __enter__(self) -> Checkpoints:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- making checkpoints ------------------------------------------------
    def commit(
        self,
        iteration: int,
        kind: str,
        decision: str = "",
        message: str = "",
        *,
        tree: str | None = None,
    ) -> CheckpointInfo:
        """Commit the workspace as it is now; return the checkpoint with its diffstat.

        ``kind`` is agent, human, rewind or start; ``decision`` and ``message``
        are optional (the message becomes the commit body). ``tree`` is the id
        :meth:`snapshot` returned when nothing has touched the workspace since,
        so it is not scanned a second time.
        """
        if kind not in KINDS:
            raise ValueError(f"unknown checkpoint kind {kind!r}")
        with self._lock:
            if tree is not None and self._snapshot is not None and self._snapshot[0] == tree:
                oid, scan = self._snapshot
                tree_id = pygit2.Oid(hex=oid)
            else:
                scan = self._stage()
                tree_id = self._staging.write_tree()
            self._snapshot = None
            try:
                return self._append(iteration, kind, tree_id, decision, message, scan=scan)
            except (KeyError, OSError, pygit2.GitError) as exc:
                # The commit could not be written or read back: the run folder, not a bug.
                raise CheckpointError(
                    f"could not write checkpoint {iteration} into {self.path} "
                    f"({type(exc).__name__}: {exc}); is the run folder writable?"
                ) from None

    def snapshot(self) -> tuple[str, str]:
        """Stage the workspace; return its tree id and the patch since the last checkpoint.

        The runner calls this before deciding (thrash detection needs the tree)
        and then commits that tree with the decision (``commit(..., tree=...)``).
        """
        with self._lock:
            scan = self._stage()
            tree = self._repo[self._staging.write_tree()]
            self._snapshot = (str(tree.id), scan)
            head = self._head()
            _stat, patch = self._staging.patch(head.tree if head else None, tree)  # type: ignore[arg-type]
            return str(tree.id), patch

    def pending(self) -> DiffStat:
        """What changed in the workspace since the last checkpoint (not committed)."""
        with self._lock:
            self._stage()
            tree = self._repo[self._staging.write_tree()]
            head = self._head()
            return self._staging.stat(head.tree if head else None, tree)  # type: ignore[arg-type]

    # -- reading them ------------------------------------------------------
    def head(self) -> CheckpointInfo | None:
        """The latest checkpoint, or None before the first."""
        with self._lock:
            head = self._head()
            return self._info(head) if head is not None else None

    def log(self, stats: bool = False) -> list[CheckpointInfo]:
        """Every checkpoint, oldest first; with ``stats`` each carries its diffstat."""
        with self._lock:
            head = self._head()
            if head is None:
                return []
            walker = self._repo.walk(head.id, SortMode.TOPOLOGICAL | SortMode.REVERSE)
            walker.simplify_first_parent()
            return [self._info(c, stats=stats) for c in walker]

    def find(self, iteration: int, kind: str | None = None) -> CheckpointInfo | None:
        """The latest checkpoint of ``iteration`` (and ``kind``), or None."""
        for info in reversed(self.log()):
            if info.iteration == iteration and (kind is None or info.kind == kind):
                return info
        return None

    def get(self, commit: str) -> CheckpointInfo:
        """The checkpoint with this commit id (a unique prefix will do), with its diffstat."""
        with self._lock:
            return self._info(self._commit(commit), stats=True)

    def diff(self, old: str | None, new: str) -> CheckpointDiff:
        """The diff between two checkpoints; ``old`` None means ``new``'s parent."""
        with self._lock:
            base, new_commit = self._pair(old, new)
            stat, patch = tree_patch(
                self._repo, base.tree if base is not None else None, new_commit.tree
            )
            return CheckpointDiff(
                old=str(base.id) if base is not None else None,
                new=str(new_commit.id),
                stat=stat,
                patch=patch,
            )

    def files(self, old: str | None, new: str) -> tuple[FileStat, ...]:
        """The files changed between two checkpoints, without line counts (fast at any size).

        ``old`` None means ``new``'s parent. Pair with :meth:`file_diff`.
        """
        with self._lock:
            base, new_commit = self._pair(old, new)
            return changed_files(self._repo, base.tree if base else None, new_commit.tree)

    def file_diff(
        self, old: str | None, new: str, path: str, old_path: str | None = None
    ) -> tuple[FileStat, str]:
        """One file's stat and patch between two checkpoints (``old`` None: the parent)."""
        with self._lock:
            base, new_commit = self._pair(old, new)
            return file_patch(
                self._repo, base.tree if base else None, new_commit.tree, path, old_path
            )

    def _pair(self, old: str | None, new: str) -> tuple[pygit2.Commit | None, pygit2.Commit]:
        new_commit = self._commit(new)
        if old is None:
            return (new_commit.parents[0] if new_commit.parents else None), new_commit
        return self._commit(old), new_commit

    def folders(self) -> list[str]:
        """The workspace folders the latest scan found files in ("" is the root).

        Read from the shadow index, so ignored folders are not among them and
        nothing is walked (watch mode starts from this).
        """
        with self._lock:
            return folders_of(self._index)

    def is_ignored(self, rel: str) -> bool:
        """Whether the workspace path ``rel`` is excluded from checkpoints (a folder ends in /)."""
        with self._lock:
            return bool(self._repo.path_is_ignored(rel))

    # -- restoring ---------------------------------------------------------
    def restore(
        self, commit: str, *, iteration: int | None = None, reason: str = ""
    ) -> RestoreReport:
        """Make the workspace hold exactly ``commit``'s tree, losing nothing.

        The workspace as it is now is committed first (kind "rewind") unless
        the latest checkpoint already holds it. Then files added since are
        removed, deleted ones come back and changed ones are reverted; ignored
        files are left alone. Symlinks and hard links on the way of a file to
        restore are removed first, so a restore never writes outside the
        workspace. Last, a "rewind" checkpoint records the restored tree.
        ``iteration`` goes into the trailers (default: the latest
        checkpoint's); ``reason`` into the commit bodies.
        """
        with self._lock:
            target = self._commit(commit)
            target_info = self._info(target)
            head = self._head()
            it = iteration if iteration is not None else (self._info(head).iteration if head else 0)
            scan = self._stage()
            current = self._repo[self._staging.write_tree()]
            saved = None
            if head is None or current.id != head.tree_id:
                saved = self._append(
                    it,
                    "rewind",
                    current.id,
                    subject=f"Iteration {it}: the workspace before rewinding "
                    f"to iteration {target_info.iteration}",
                    message=reason,
                    scan=scan,
                )
                head = self._head()
            if head is not None and head.id == target.id:
                return RestoreReport(target=target_info, saved=saved)
            changes = diff_stat(self._repo, current, target.tree)  # type: ignore[arg-type]
            try:
                written = write_tree(
                    self._repo,
                    self._index,
                    current,  # type: ignore[arg-type]
                    target.tree,
                    str(self.workspace),
                )
            except (OSError, pygit2.GitError, ShadowError) as exc:
                where = (saved or self._info(head)).commit[:12] if head else "none"
                raise CheckpointError(
                    f"could not restore the workspace ({exc}); its state before the "
                    f"restore is checkpoint {where}"
                ) from None
            tree = self._index.write_tree()
            self._staging.tree = tree
            checkpoint = self._append(
                it,
                "rewind",
                tree,
                subject=f"Iteration {it}: rewind to iteration {target_info.iteration}",
                message=reason,
                restored=str(target.id),
            )
            return restore_report(
                target_info, saved, checkpoint, changes, written, exact=tree == target.tree_id
            )

    # -- internals ---------------------------------------------------------
    def _stage(self) -> Scan:
        return self._staging.stage(
            self.max_file_bytes,
            full_scan_every=self.FULL_SCAN_EVERY,
            feed_min_files=self.FEED_MIN_FILES,
            feed_folders=self._feed_folders,
        )

    def _feed_folders(self, scan: Scan) -> list[str]:
        """The folders a new change feed watches: the index's, or those found while borrowing."""
        borrowed = self.borrowed
        if borrowed is not None and not scan.changed and self._head() is None:
            return list(borrowed.folders)  # found while borrowing: no second pass
        return folders_of(self._index)

    @property
    def _quick_pair(self) -> tuple[pygit2.Oid, pygit2.Oid, tuple[str, ...]] | None:
        # Tests read it to tell which way a checkpoint was staged.
        return self._staging.quick_pair

    def _head(self) -> pygit2.Commit | None:
        return branch_head(self._repo)

    def _commit(self, rev: str) -> pygit2.Commit:
        return find_commit(self._repo, rev)

    def _append(
        self,
        iteration: int,
        kind: str,
        tree: pygit2.Oid,
        decision: str = "",
        message: str = "",
        *,
        subject: str = "",
        restored: str | None = None,
        scan: Scan | None = None,
    ) -> CheckpointInfo:
        head = self._head()
        notes = [message]
        if scan is not None and scan.large:
            notes.append(large_files.note(list(scan.large), self.max_file_bytes))
        if head is None and self.borrowed is not None:
            notes.append(self.borrowed.note())
        if head is None and self.reused is not None:
            notes.append(self.reused.note())
        commit = write_checkpoint(
            self._repo,
            head,
            iteration,
            kind,
            tree,
            notes,
            subject=subject,
            decision=decision,
            restored=restored,
        )
        if head is None and self._staging.tree == tree:
            # The files of a first checkpoint are the index's entries: no tree walk.
            info = replace(
                self._info(commit), stat=DiffStat(baseline=True, baseline_files=len(self._index))
            )
            self._infos[str(commit.id)] = info
        info = self._info(commit, stats=True)
        if scan is None or not (scan.skipped or scan.large):
            return info
        return replace(info, skipped=scan.skipped, large=scan.large, limit=self.max_file_bytes)

    def _info(self, commit: pygit2.Commit, stats: bool = False) -> CheckpointInfo:
        key = str(commit.id)
        info = self._infos.get(key)
        if info is None or (stats and info.stat is None):
            stat = None
            if stats:
                parent = commit.parents[0] if commit.parents else None
                stat = self._staging.stat(parent.tree if parent else None, commit.tree)
            info = read_info(commit, stat)
            self._infos[key] = info
        return info


__all__ = [
    "IDENTITY",
    "CheckpointDiff",
    "CheckpointError",
    "CheckpointInfo",
    "Checkpoints",
    "DiffStat",
    "FileStat",
    "RestoreReport",
    "compose_message",
    "parse_trailers",
]
