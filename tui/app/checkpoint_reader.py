"""Reading a run's checkpoints for the diff and signal views, live or in replay.

The console opens the shadow repository itself, read-only, instead of
borrowing the runner's: the runner closes its handle when the run ends, a
replay has no runner, and the workspace may be gone (diffs only need the
repository's objects). Opening it this way writes nothing: no config, no
exclude file, no lock recovery (a live run may hold a lock right now).
"""

from __future__ import annotations

import threading
from pathlib import Path

import pygit2
from pygit2.enums import RepositoryOpenFlag

from tui.engine.checkpoints import CheckpointDiff, CheckpointError, Checkpoints
from tui.engine.shadow import SHADOW_DIR


def open_readonly(run_dir: Path) -> Checkpoints:
    """The checkpoints of the run in ``run_dir``, for reading only.

    Raises CheckpointError (one sentence) when the run has none.
    """
    gitdir = Path(run_dir) / SHADOW_DIR
    if not (gitdir / "HEAD").is_file():
        raise CheckpointError(f"this run has no checkpoints ({gitdir} is missing)")
    try:
        repo = pygit2.Repository(str(gitdir), RepositoryOpenFlag.NO_SEARCH)
    except pygit2.GitError as exc:
        raise CheckpointError(f"cannot open the checkpoints in {gitdir}: {exc}") from None
    # The workspace is never read through this handle: only diff/get/log are used.
    return Checkpoints(repo, Path(run_dir), [])


class CheckpointReader:
    """Opens a run's checkpoints on first use; thread-safe; call from a worker thread."""

    def __init__(self, run_dir: Path | str | None = None) -> None:
        self.run_dir = Path(run_dir) if run_dir else None
        self._checkpoints: Checkpoints | None = None
        self._lock = threading.Lock()

    def _open(self) -> Checkpoints:
        with self._lock:
            if self._checkpoints is None:
                if self.run_dir is None:
                    raise CheckpointError("the run has not started yet: no checkpoints to show")
                self._checkpoints = open_readonly(self.run_dir)
            return self._checkpoints

    def diff(self, old: str | None, new: str) -> CheckpointDiff:
        """The diff from ``old`` (None: ``new``'s parent) to ``new``."""
        return self._open().diff(old, new)

    def close(self) -> None:
        with self._lock:
            if self._checkpoints is not None:
                self._checkpoints.close()
                self._checkpoints = None
