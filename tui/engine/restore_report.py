"""What a restore did to the workspace: :class:`RestoreReport`, built from the diff.

A restore (a rewind) turns the workspace back into an earlier checkpoint's
tree (see :meth:`tui.engine.checkpoints.Checkpoints.restore`). Its report
names the files it removed, brought back and reverted, read from the diff
between the workspace as it was and the target, less the files over the size
limit it left as they are, and the commits it made, to publish.
"""

from __future__ import annotations

from dataclasses import dataclass

from tui.engine.checkpoint_info import CheckpointInfo
from tui.engine.diffs import DiffStat
from tui.engine.restore import TreeWrite


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


def restore_report(
    target: CheckpointInfo,
    saved: CheckpointInfo | None,
    checkpoint: CheckpointInfo,
    changes: DiffStat,
    written: TreeWrite,
    exact: bool,
) -> RestoreReport:
    """The report of a restore that wrote ``changes`` (workspace → target) as ``written``."""
    kept = set(written.kept_large)
    return RestoreReport(
        target=target,
        saved=saved,
        checkpoint=checkpoint,
        removed=_paths(changes, "deleted", kept),
        brought_back=_paths(changes, "added", kept),
        reverted=_paths(changes, "modified", kept),
        unlinked=tuple(written.unlinked),
        kept_large=tuple(sorted(kept)),
        exact=exact,
    )


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
