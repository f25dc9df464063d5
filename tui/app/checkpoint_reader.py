"""Reading a run's checkpoints for the diff and signal views, live or in replay.

The console opens the shadow repository itself, read-only
(:meth:`Checkpoints.open_readonly`), instead of borrowing the runner's: the
runner closes its handle when the run ends, a replay has no runner, and the
workspace may be gone (diffs only need the repository's objects).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

from tui.engine.checkpoints import CheckpointDiff, CheckpointError, Checkpoints
from tui.events import FileStat


class CheckpointReader:
    """Opens a run's checkpoints on first use; thread-safe; call from a worker thread."""

    def __init__(
        self,
        run_dir: Path | str | None = None,
        *,
        opener: Callable[[Path], Checkpoints] = Checkpoints.open_readonly,
    ) -> None:
        self.run_dir = Path(run_dir) if run_dir else None
        # How the checkpoints are opened (a fork's pair of branches reads both).
        self._opener = opener
        self._checkpoints: Checkpoints | None = None
        self._lock = threading.Lock()

    def _open(self) -> Checkpoints:
        with self._lock:
            if self._checkpoints is None:
                if self.run_dir is None:
                    raise CheckpointError("the run has not started yet: no checkpoints to show")
                self._checkpoints = self._opener(self.run_dir)
            return self._checkpoints

    def diff(self, old: str | None, new: str) -> CheckpointDiff:
        """The diff from ``old`` (None: ``new``'s parent) to ``new``."""
        return self._open().diff(old, new)

    def files(self, old: str | None, new: str) -> tuple[FileStat, ...]:
        """The files changed from ``old`` to ``new``, without line counts (fast)."""
        return self._open().files(old, new)

    def file_diff(
        self, old: str | None, new: str, path: str, old_path: str | None = None
    ) -> tuple[FileStat, str]:
        """One file's stat and patch from ``old`` to ``new``."""
        return self._open().file_diff(old, new, path, old_path)

    def close(self) -> None:
        with self._lock:
            if self._checkpoints is not None:
                self._checkpoints.close()
                self._checkpoints = None
