"""Watch mode: while the loop is paused, see what the human changes, live.

Mixed into Runner. The console turns it on during a take-over: every batch of
changed files becomes a WorkspaceEdited event, and with ``revalidate`` on the
validators re-run after each save (debounced), so the human sees the checks
go green as they type.

At scale: the folders watched are those the last checkpoint holds files in
(read from the shadow index, no walk of the work tree), one non-recursive
watch each, so ignored folders (node_modules, virtual environments, build
output) are never walked nor watched, and start-up costs one watch per
folder. A folder created later is added unless ignored (the watch restarts
with it, and the files already in it are reported). A batch reports at most
MAX_PATHS paths and counts the rest, so memory stays bounded when a
``git checkout`` changes 100,000 files at once.
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import TYPE_CHECKING

import watchfiles

from tui.events import WorkspaceEdited

if TYPE_CHECKING:
    from tui.engine.checkpoints import Checkpoints
    from tui.engine.runner import Runner

MAX_PATHS = 1_000
IGNORED_PARTS = {".git", ".loopconsole", "__pycache__", ".pytest_cache", ".ruff_cache"}


def _relevant(workspace: Path, path: str) -> str | None:
    try:
        rel = Path(path).relative_to(workspace)
    except ValueError:
        return None
    if any(part in IGNORED_PARTS for part in rel.parts):
        return None
    if rel.name.startswith(".loopconsole-restore-") or rel.suffix in (".swp", ".swx"):
        return None
    return rel.as_posix()


def _edited(workspace: Path, changes: set[tuple[watchfiles.Change, str]]) -> list[str]:
    """The paths a batch really changed: an editor's temp file, created and
    removed within the batch, is not one of them."""
    kinds: dict[str, set[watchfiles.Change]] = {}
    for change, path in changes:
        rel = _relevant(workspace, path)
        if rel is not None:
            kinds.setdefault(rel, set()).add(change)
    return sorted(
        rel
        for rel, seen in kinds.items()
        if (workspace / rel).exists() or seen == {watchfiles.Change.deleted}
    )


class WorkspaceWatch:
    """start_watch / stop_watch controls."""

    _watch_task: asyncio.Task | None = None
    _watch_stop_event: asyncio.Event | None = None

    def start_watch(self: Runner, revalidate: bool = False, debounce_ms: int = 400) -> None:
        """Report the human's edits as events; optionally re-run validators on save."""
        self.stop_watch()
        stop = asyncio.Event()
        self._watch_stop_event = stop
        self._watch_task = asyncio.ensure_future(self._watch(stop, revalidate, debounce_ms))

    def stop_watch(self: Runner) -> None:
        if self._watch_stop_event is not None:
            self._watch_stop_event.set()
        if self._watch_task is not None:
            self._watch_task.cancel()
        self._watch_task = self._watch_stop_event = None

    @property
    def watching(self: Runner) -> bool:
        return self._watch_task is not None and not self._watch_task.done()

    async def _watch(self: Runner, stop: asyncio.Event, revalidate: bool, debounce: int) -> None:
        workspace = self.run_dir.workspace.resolve()
        checkpoints = self.checkpoints
        if checkpoints is None:
            folders, recursive = [workspace], True
        else:
            # Off the event loop: reading a 100,000-entry index takes a moment.
            folders = await asyncio.to_thread(
                lambda: _existing(workspace, checkpoints.folders())  # type: ignore[union-attr]
            )
            recursive = False
        while not stop.is_set():
            async for changes in watchfiles.awatch(
                *folders, stop_event=stop, debounce=debounce, step=50, recursive=recursive
            ):
                new = [] if recursive else _new_folders(workspace, changes, checkpoints)
                paths = _edited(workspace, changes)
                if new:
                    paths = sorted(set(paths) | set(_files_under(workspace, new)))
                # The agent's own edits are not the human's: only watch while idle.
                if paths and self.status in ("paused", "idle"):
                    self.publish(
                        WorkspaceEdited(paths=paths[:MAX_PATHS], more=len(paths[MAX_PATHS:]))
                    )
                    if revalidate and self.status == "paused":
                        await self.revalidate()
                if new:
                    folders = folders + [workspace / rel for rel in new]
                    break  # watch again, the new folders with the rest
            else:
                return


def _existing(workspace: Path, folders: list[str]) -> list[Path]:
    out = [workspace / f for f in folders]
    return [p for p in out if p.is_dir() and not p.is_symlink()]


def _new_folders(
    workspace: Path, changes: set[tuple[watchfiles.Change, str]], checkpoints: Checkpoints | None
) -> list[str]:
    """Folders created in this batch that are not ignored, with the folders inside them."""
    found: list[str] = []
    for change, path in changes:
        if change != watchfiles.Change.added or not os.path.isdir(path) or os.path.islink(path):
            continue
        rel = _relevant(workspace, path)
        if rel is None or (checkpoints is not None and checkpoints.is_ignored(rel + "/")):
            continue
        found.append(rel)
        for dirpath, dirnames, _files in os.walk(path):
            keep = []
            for d in dirnames:
                sub = _relevant(workspace, os.path.join(dirpath, d))
                if sub and not (checkpoints is not None and checkpoints.is_ignored(sub + "/")):
                    keep.append(d)
                    found.append(sub)
            dirnames[:] = keep
    return sorted(set(found))


def _files_under(workspace: Path, folders: list[str]) -> list[str]:
    """The files already in new folders (made before their watch was in place)."""
    out = []
    for rel in folders:
        for entry in os.scandir(workspace / rel):
            if not entry.is_dir(follow_symlinks=False):
                name = _relevant(workspace, entry.path)
                if name is not None:
                    out.append(name)
    return out
