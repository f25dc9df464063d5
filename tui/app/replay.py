"""Opening a run directory for replay: the checks before the console starts."""

from __future__ import annotations

import gc
from pathlib import Path
from typing import TYPE_CHECKING

from tui.engine.journal_index import JournalIndex

if TYPE_CHECKING:
    from tui.app.app import ConsoleApp

JOURNAL = "journal.jsonl"


class ReplayError(Exception):
    """The folder cannot be replayed (one sentence)."""


def open_journal(run_dir: Path) -> JournalIndex:
    """Index the journal of the run in ``run_dir``; raise ReplayError when it is not a run."""
    if not run_dir.is_dir():
        raise ReplayError(f"{run_dir} is not a run directory (no such folder)")
    journal = run_dir / JOURNAL
    if not journal.is_file():
        raise ReplayError(f"{run_dir} is not a run: it has no {JOURNAL}")
    try:
        index = JournalIndex.build(journal)
    except OSError as exc:
        raise ReplayError(f"cannot read {journal}: {exc.strerror or exc}") from None
    if index.run_started is None:
        raise ReplayError(f"{run_dir} is not a run: its journal has no run_started event")
    return index


def replay_app(run_dir: Path, *, theme: str | None = None) -> ConsoleApp:
    """The console over the run in ``run_dir`` (raises ReplayError when it is not a run)."""
    from tui.app.app import ConsoleApp
    from tui.app.screens.replay import ReplayScreen

    index = open_journal(run_dir)
    # The index of a long run is many small objects that live as long as the
    # app. Left to the collector, its full passes walk them all and stall a
    # jump by 100 ms now and then; frozen, they are skipped, and a higher
    # first threshold makes those passes rarer while widgets come and go.
    gc.collect()
    gc.freeze()
    gc.set_threshold(20_000, 20, 20)
    return ConsoleApp(main=ReplayScreen(index, run_dir), theme=theme)
