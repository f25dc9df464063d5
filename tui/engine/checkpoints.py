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
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Literal

import pygit2
from pygit2.enums import SortMode

from tui.engine import large_files
from tui.engine.change_feed import ChangeFeed
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
from tui.engine.quick_scan import quick_diff, stage_changes, touched_entries, tree_with
from tui.engine.restore import write_tree
from tui.engine.shadow import (
    Scan,
    ShadowError,
    open_shadow,
    open_shadow_readonly,
    scan_workspace,
)
from tui.engine.user_repo import Borrowed, borrow, find_user_repository
from tui.events import Checkpointed

Kind = Literal["agent", "human", "rewind", "start"]
KINDS: tuple[str, ...] = ("agent", "human", "rewind", "start")
IDENTITY = ("loopconsole", "loopconsole@localhost")
BRANCH = "refs/heads/checkpoints"
_LIMIT_KEY = "loopconsole.maxFileBytes"

_SUBJECTS = {
    "start": "the workspace before the first iteration",
    "agent": "the agent's changes",
    "human": "the engineer's changes",
    "rewind": "rewind",
}


class CheckpointError(ShadowError):
    """A checkpoint could not be made, read or restored (one sentence)."""


@dataclass(frozen=True)
class CheckpointInfo:
    """One checkpoint: a commit in the shadow repository and what it records."""

    commit: str
    tree: str
    parent: str | None
    iteration: int
    kind: str
    decision: str = ""
    subject: str = ""
    time: int = 0
    restored: str | None = None  # a rewind: the commit whose tree it brought back
    stat: DiffStat | None = None  # against the parent; None when not computed
    skipped: tuple[str, ...] = ()  # files that could not be read (commit() only)
    # Files over the size limit this checkpoint recorded by size and hash only (commit() only).
    large: tuple[tuple[str, int], ...] = ()
    limit: int = DEFAULT_MAX_FILE_BYTES  # the size limit it was made with

    def event(self) -> Checkpointed:
        """The journal event for this checkpoint (the runner sets iteration and run id)."""
        stat = self.stat or DiffStat()
        return Checkpointed(
            kind=self.kind if self.kind in KINDS else "agent",  # type: ignore[arg-type]
            commit=self.commit,
            tree=self.tree,
            files_changed=stat.files_changed,
            insertions=stat.insertions,
            deletions=stat.deletions,
            files=list(stat.files),
            restored=self.restored or "",
            notes=self.notes(),
        )

    def notes(self) -> list[str]:
        """What this checkpoint did not store as usual, one sentence each."""
        out = []
        if self.large:
            out.append(large_files.note(list(self.large), self.limit))
        if self.skipped:
            out.append(
                f"{len(self.skipped)} file(s) could not be read and keep their earlier content: "
                + ", ".join(self.skipped[:10])
            )
        return out


@dataclass(frozen=True)
class RestoreReport:
    """What a restore did to the workspace."""

    target: CheckpointInfo
    saved: CheckpointInfo | None = None  # the workspace before the restore, when not yet saved
    checkpoint: CheckpointInfo | None = None  # the rewind commit; None when nothing changed
    removed: tuple[str, ...] = ()  # files added since the target, now gone
    brought_back: tuple[str, ...] = ()  # files deleted since the target, back again
    reverted: tuple[str, ...] = ()  # files changed since the target, back as they were
    unlinked: tuple[str, ...] = ()  # links or ignored files in the way, removed unfollowed
    # Files over the size limit left as they are: their content was never stored.
    kept_large: tuple[str, ...] = ()
    exact: bool = True  # the workspace now holds exactly the target's tree

    def large_note(self) -> str:
        """What happened to the files over the size limit (empty when none were in the way)."""
        if not self.kept_large:
            return ""
        names = ", ".join(self.kept_large[:10]) + (" …" if len(self.kept_large) > 10 else "")
        return (
            f"{len(self.kept_large)} file(s) over the checkpoint size limit left as they are "
            f"(only their size and hash were recorded, so they cannot be brought back): {names}"
        )

    @property
    def checkpoints(self) -> list[CheckpointInfo]:
        """The commits the restore made, oldest first (publish one event each)."""
        return [c for c in (self.saved, self.checkpoint) if c is not None]


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
        # Huge workspaces: the kernel's list of changed paths, and the tree the
        # index holds (so the next tree is built along the changed paths only).
        self._feed: ChangeFeed | None = None
        self._tree: pygit2.Oid | None = None
        self._touched: list[str] | None = None
        self._quick_pair: tuple[pygit2.Oid, pygit2.Oid, tuple[str, ...]] | None = None
        # The quick path saves the index only on close: a stale index on disk
        # is safe (its stat data no longer match, so those files are hashed again).
        self._index_unsaved = False
        self._quick_scans = 0  # since the last full scan

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
        limit = _size_limit(repo, max_file_bytes)
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
            elif (old := previous_shadow(run_dir, workspace, _LIMIT_KEY, limit)) is not None:
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
        if self._feed is not None:
            self._feed.close()
            self._feed = None
        if self._index_unsaved:
            with contextlib.suppress(pygit2.GitError, OSError):
                self._index.write()
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
                tree_id = self._write_tree()
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
            tree = self._repo[self._write_tree()]
            self._snapshot = (str(tree.id), scan)
            head = self._head()
            _stat, patch = self._tree_patch(head.tree if head else None, tree)  # type: ignore[arg-type]
            return str(tree.id), patch

    def pending(self) -> DiffStat:
        """What changed in the workspace since the last checkpoint (not committed)."""
        with self._lock:
            self._stage()
            tree = self._repo[self._write_tree()]
            head = self._head()
            if head is None:
                return diff_stat(self._repo, None, tree)  # type: ignore[arg-type]
            quick = self._quick_diff(head.tree, tree)  # type: ignore[arg-type]
            return quick[0] if quick is not None else diff_stat(self._repo, head.tree, tree)  # type: ignore[arg-type]

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
            new_commit = self._commit(new)
            if old is None:
                base = new_commit.parents[0] if new_commit.parents else None
            else:
                base = self._commit(old)
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
            current = self._repo[self._write_tree()]
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
            self._tree = tree
            checkpoint = self._append(
                it,
                "rewind",
                tree,
                subject=f"Iteration {it}: rewind to iteration {target_info.iteration}",
                message=reason,
                restored=str(target.id),
            )
            kept = set(written.kept_large)
            return RestoreReport(
                target=target_info,
                saved=saved,
                checkpoint=checkpoint,
                removed=_paths(changes, "deleted", kept),
                brought_back=_paths(changes, "added", kept),
                reverted=_paths(changes, "modified", kept),
                unlinked=tuple(written.unlinked),
                kept_large=tuple(sorted(kept)),
                exact=tree == target.tree_id,
            )

    # -- internals ---------------------------------------------------------
    def _stage(self) -> Scan:
        """Stage what changed: from the change feed when it can tell, else a full scan."""
        self._touched = None
        changes = self._feed.drain() if self._feed is not None else None
        self._quick_scans += 1
        if self._quick_scans >= self.FULL_SCAN_EVERY:
            changes = None
        if changes is not None and self._tree is not None:
            root = os.fsencode(str(self.workspace))
            staged = stage_changes(self._repo, self._index, root, changes, self.max_file_bytes)
            if staged is not None:
                touched, new_folders, large = staged
                self._feed.watch(new_folders)  # type: ignore[union-attr]
                self._touched = touched
                self._index_unsaved = True
                return Scan(large=tuple(large))
        if self._feed is not None:
            self._feed.close()
            self._feed = None
        self._tree = None
        try:
            scan = scan_workspace(self._repo, self._index, self.max_file_bytes)
        except pygit2.GitError as exc:
            raise CheckpointError(
                f"could not checkpoint the workspace {self.workspace}: {exc}"
            ) from None
        self._index_unsaved = False
        self._quick_scans = 0
        if len(self._index) >= self.FEED_MIN_FILES:
            feed = ChangeFeed(str(self.workspace))
            borrowed = self.borrowed
            if borrowed is not None and not scan.changed and self._head() is None:
                feed.watch(list(borrowed.folders))  # found while borrowing: no second pass
            else:
                feed.watch(folders_of(self._index))
            self._feed = feed if feed.usable else None
        return scan

    def _write_tree(self) -> pygit2.Oid:
        """The tree of the index as staged: rebuilt only along the paths the feed named."""
        if self._touched is not None and self._tree is not None:
            base = self._tree
            entries = touched_entries(self._index, self._touched)
            new = tree_with(self._repo, self._repo[base], entries)  # type: ignore[arg-type]
            self._quick_pair = (base, new, tuple(self._touched))
        else:
            new = self._index.write_tree()
        self._touched = None
        self._tree = new
        return new

    def _quick_diff(self, old: pygit2.Tree, new: pygit2.Tree) -> tuple[DiffStat, str] | None:
        pair = self._quick_pair
        if pair is None or pair[0] != old.id or pair[1] != new.id:
            return None
        return quick_diff(self._repo, old, new, list(pair[2]))

    def _tree_patch(self, old: pygit2.Tree | None, new: pygit2.Tree) -> tuple[DiffStat, str]:
        quick = self._quick_diff(old, new) if old is not None else None
        return quick if quick is not None else tree_patch(self._repo, old, new)

    def _head(self) -> pygit2.Commit | None:
        try:
            ref = self._repo.lookup_reference(BRANCH)
            return self._repo[ref.target]  # type: ignore[return-value]
        except KeyError:
            return None
        except (ValueError, pygit2.GitError) as exc:
            raise CheckpointError(
                f"the checkpoint repository {self.path} is damaged ({exc}); "
                "its branch does not name a checkpoint"
            ) from None

    def _commit(self, rev: str) -> pygit2.Commit:
        try:
            obj = self._repo.revparse_single(rev)
            commit = obj.peel(pygit2.Commit)
        except (KeyError, ValueError, pygit2.GitError):
            raise CheckpointError(f"no checkpoint {rev!r} in {self.path}") from None
        return commit

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
        message = "\n\n".join(n.strip() for n in notes if n.strip())
        trailers = [("Loopconsole-Iteration", str(iteration)), ("Loopconsole-Kind", kind)]
        if decision:
            trailers.append(("Loopconsole-Decision", decision))
        if restored:
            trailers.append(("Loopconsole-Restored", restored))
        text = compose_message(
            subject or f"Iteration {iteration}: {_SUBJECTS[kind]}", message, trailers
        )
        sig = pygit2.Signature(*IDENTITY, int(time.time()), 0)
        parents = [head.id] if head is not None else []
        oid = self._repo.create_commit(BRANCH, sig, sig, text, tree, parents)
        commit: pygit2.Commit = self._repo[oid]  # type: ignore[assignment]
        if not parents and self._tree == tree:
            # The files of a first checkpoint are the index's entries: no tree walk.
            info = replace(
                self._info(commit), stat=DiffStat(baseline=True, baseline_files=len(self._index))
            )
            self._infos[str(oid)] = info
        info = self._info(commit, stats=True)
        if scan is None or not (scan.skipped or scan.large):
            return info
        return replace(info, skipped=scan.skipped, large=scan.large, limit=self.max_file_bytes)

    def _info(self, commit: pygit2.Commit, stats: bool = False) -> CheckpointInfo:
        key = str(commit.id)
        info = self._infos.get(key)
        if info is None or (stats and info.stat is None):
            trailers = parse_trailers(commit.message)
            parent = commit.parents[0] if commit.parents else None
            stat = None
            if stats:
                quick = self._quick_diff(parent.tree, commit.tree) if parent else None
                stat = (
                    quick[0]
                    if quick is not None
                    else diff_stat(self._repo, parent.tree if parent else None, commit.tree)
                )
            info = CheckpointInfo(
                commit=key,
                tree=str(commit.tree_id),
                parent=str(parent.id) if parent else None,
                iteration=int(trailers.get("Loopconsole-Iteration", "0") or 0),
                kind=trailers.get("Loopconsole-Kind", ""),
                decision=trailers.get("Loopconsole-Decision", ""),
                subject=commit.message.split("\n", 1)[0],
                time=commit.commit_time,
                restored=trailers.get("Loopconsole-Restored"),
                stat=stat,
            )
            self._infos[key] = info
        return info


def _size_limit(repo: pygit2.Repository, wanted: int | None) -> int:
    """The run's size limit: ``wanted`` (remembered in the shadow config), else the stored one."""
    config = repo.config
    if wanted is not None:
        if _config_value(config, _LIMIT_KEY) != str(wanted):
            config[_LIMIT_KEY] = str(wanted)
        return wanted
    try:
        return int(str(config[_LIMIT_KEY]))
    except (KeyError, ValueError):
        return DEFAULT_MAX_FILE_BYTES


def _config_value(config: pygit2.Config, key: str) -> str | None:
    try:
        return config[key]
    except KeyError:
        return None


def compose_message(subject: str, body: str, trailers: list[tuple[str, str]]) -> str:
    """A commit message: subject, optional body, then the trailers paragraph."""
    parts = [subject.strip().splitlines()[0] if subject.strip() else "checkpoint"]
    if body.strip():
        parts.append(body.strip())
    parts.append("\n".join(f"{k}: {' '.join(v.split())}" for k, v in trailers))
    return "\n\n".join(parts) + "\n"


def parse_trailers(message: str) -> dict[str, str]:
    """The ``Key: value`` lines of a message's last paragraph."""
    last = message.strip().rsplit("\n\n", 1)[-1]
    out: dict[str, str] = {}
    for line in last.splitlines():
        key, sep, value = line.partition(": ")
        if sep and key and " " not in key:
            out[key] = value.strip()
    return out


def _paths(stat: DiffStat, status: str, kept: set[str]) -> tuple[str, ...]:
    """Paths of one kind of change; a rename counts as a removal and an addition."""
    out = [f.path for f in stat.files if f.status == status]
    if status == "deleted":
        out += [f.old_path for f in stat.files if f.status == "renamed" and f.old_path]
    elif status == "added":
        out += [f.path for f in stat.files if f.status in ("renamed", "copied")]
    elif status == "modified":
        out += [f.path for f in stat.files if f.status == "typechange"]
    return tuple(sorted(p for p in out if p not in kept))


__all__ = [
    "CheckpointDiff",
    "CheckpointError",
    "CheckpointInfo",
    "Checkpoints",
    "DiffStat",
    "FileStat",
    "RestoreReport",
]
