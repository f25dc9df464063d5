"""Watch mode: while the loop is paused, see what the human changes, live.

Mixed into Runner. The console turns it on during a take-over: every batch of
changed files becomes a WorkspaceEdited event, and with ``revalidate`` on the
validators re-run after each save (debounced), so the human sees the checks
go green as they type.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import TYPE_CHECKING

import watchfiles

from tui.events import WorkspaceEdited

if TYPE_CHECKING:
    from tui.engine.runner import Runner

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
        async for changes in watchfiles.awatch(
            workspace, stop_event=stop, debounce=debounce, step=50, recursive=True
        ):
            paths = _edited(workspace, changes)
            # The agent's own edits are not the human's: only watch while idle.
            if not paths or self.status not in ("paused", "starting"):
                continue
            self.publish(WorkspaceEdited(paths=paths))
            if revalidate and self.status == "paused":
                await self.controls.revalidate()
