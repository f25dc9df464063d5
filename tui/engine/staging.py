"""Staging the workspace into the shadow index, and the diffs that staging makes cheap.

Normally every checkpoint stages the workspace with a full scan (only files
whose stat data changed are read; see :func:`tui.engine.shadow.scan_workspace`).
In a huge workspace a change feed (inotify) names the changed paths instead:
only they are staged, the next tree is rebuilt along them, and the diff of
that step is computed from them (:mod:`tui.engine.quick_scan`). A full scan
still runs when the feed cannot tell, and every so many checkpoints to check
what it said. :class:`Staging` owns that state for one
:class:`~tui.engine.checkpoints.Checkpoints`.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable
from pathlib import Path

import pygit2

from tui.engine.change_feed import ChangeFeed
from tui.engine.checkpoint_info import CheckpointError
from tui.engine.diffs import DiffStat, diff_stat, tree_patch
from tui.engine.quick_scan import quick_diff, stage_changes, touched_entries, tree_with
from tui.engine.shadow import Scan, scan_workspace


class Staging:
    """The shadow index kept in line with the workspace: by full scans or the change feed."""

    def __init__(self, repo: pygit2.Repository, index: pygit2.Index, workspace: Path) -> None:
        self._repo = repo
        self._index = index
        self.workspace = workspace
        #: The kernel's list of changed paths (huge workspaces only).
        self.feed: ChangeFeed | None = None
        #: The tree the index holds, when known (the next is built along the changed paths).
        self.tree: pygit2.Oid | None = None
        #: The last tree built along the feed's paths: (base, new, the paths).
        self.quick_pair: tuple[pygit2.Oid, pygit2.Oid, tuple[str, ...]] | None = None
        self._touched: list[str] | None = None
        # The quick path saves the index only on close: a stale index on disk
        # is safe (its stat data no longer match, so those files are hashed again).
        self._index_unsaved = False
        self._quick_scans = 0  # since the last full scan

    def stage(
        self,
        max_file_bytes: int,
        *,
        full_scan_every: int,
        feed_min_files: int,
        feed_folders: Callable[[Scan], list[str]],
    ) -> Scan:
        """Stage what changed: from the change feed when it can tell, else a full scan.

        After a full scan of ``feed_min_files`` files or more, a change feed
        starts watching ``feed_folders(scan)``; a full scan runs again every
        ``full_scan_every`` stagings at the latest.
        """
        self._touched = None
        changes = self.feed.drain() if self.feed is not None else None
        self._quick_scans += 1
        if self._quick_scans >= full_scan_every:
            changes = None
        if changes is not None and self.tree is not None:
            root = os.fsencode(str(self.workspace))
            staged = stage_changes(self._repo, self._index, root, changes, max_file_bytes)
            if staged is not None:
                touched, new_folders, large = staged
                self.feed.watch(new_folders)  # type: ignore[union-attr]
                self._touched = touched
                self._index_unsaved = True
                return Scan(large=tuple(large))
        if self.feed is not None:
            self.feed.close()
            self.feed = None
        self.tree = None
        try:
            scan = scan_workspace(self._repo, self._index, max_file_bytes)
        except pygit2.GitError as exc:
            raise CheckpointError(
                f"could not checkpoint the workspace {self.workspace}: {exc}"
            ) from None
        self._index_unsaved = False
        self._quick_scans = 0
        if len(self._index) >= feed_min_files:
            feed = ChangeFeed(str(self.workspace))
            feed.watch(feed_folders(scan))
            self.feed = feed if feed.usable else None
        return scan

    def write_tree(self) -> pygit2.Oid:
        """The tree of the index as staged: rebuilt only along the paths the feed named."""
        if self._touched is not None and self.tree is not None:
            base = self.tree
            entries = touched_entries(self._index, self._touched)
            new = tree_with(self._repo, self._repo[base], entries)  # type: ignore[arg-type]
            self.quick_pair = (base, new, tuple(self._touched))
        else:
            new = self._index.write_tree()
        self._touched = None
        self.tree = new
        return new

    def quick_diff(self, old: pygit2.Tree, new: pygit2.Tree) -> tuple[DiffStat, str] | None:
        """The diff of the last tree built along the feed's paths, when these are its trees."""
        pair = self.quick_pair
        if pair is None or pair[0] != old.id or pair[1] != new.id:
            return None
        return quick_diff(self._repo, old, new, list(pair[2]))

    def stat(self, old: pygit2.Tree | None, new: pygit2.Tree) -> DiffStat:
        """The diffstat between two trees: the quick one when it applies, else git's."""
        quick = self.quick_diff(old, new) if old is not None else None
        return quick[0] if quick is not None else diff_stat(self._repo, old, new)

    def patch(self, old: pygit2.Tree | None, new: pygit2.Tree) -> tuple[DiffStat, str]:
        """The diffstat and patch between two trees: the quick ones when they apply."""
        quick = self.quick_diff(old, new) if old is not None else None
        return quick if quick is not None else tree_patch(self._repo, old, new)

    def close(self) -> None:
        """Stop the change feed; save the index it kept current."""
        if self.feed is not None:
            self.feed.close()
            self.feed = None
        if self._index_unsaved:
            with contextlib.suppress(pygit2.GitError, OSError):
                self._index.write()
