"""What one checkpoint is, as a value: :class:`CheckpointInfo`, and the one error.

A :class:`CheckpointInfo` is read back from a commit of the shadow repository
(see :mod:`tui.engine.checkpoint_commits`) and becomes the journal's
``Checkpointed`` event. :class:`CheckpointError` is what every checkpoint
operation raises for a cause outside the program (one sentence).
"""

from __future__ import annotations

from dataclasses import dataclass

from tui.engine import large_files
from tui.engine.diffs import DiffStat
from tui.engine.large_files import DEFAULT_MAX_FILE_BYTES
from tui.engine.shadow import ShadowError
from tui.events import Checkpointed

KINDS: tuple[str, ...] = ("agent", "human", "rewind", "start")


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
