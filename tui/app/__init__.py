"""The Textual console: ``run_console(runner)`` on a live run, ``run_replay(dir)`` on a past one."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tui.engine.runner import Runner

# Exit code for a folder that cannot be replayed (as for a bad spec).
USAGE_ERROR = 2


def run_console(runner: Runner, *, theme: str | None = None) -> int:
    """Run the console on ``runner`` until the user quits; return the exit code.

    The exit code follows the run's outcome (``tui.events.EXIT_CODES``);
    quitting while the run is going stops it first (outcome "stopped").
    """
    from tui.app.app import ConsoleApp
    from tui.app.exit_summary import exit_summary

    app = ConsoleApp(runner, theme=theme)
    code = app.run()
    store = app.main.store
    print(exit_summary(app.outcome or store.finished, store.run_dir, store.run_id))
    if code is None:
        # The app ended without choosing a code (a crash Textual already reported).
        return app.return_code or 1
    return code


def run_replay(run_dir: Path, *, theme: str | None = None) -> int:
    """Open the run in ``run_dir`` read-only until the user quits.

    Returns 0, or 2 (with one sentence on stderr) when the folder is not a run.
    """
    from tui.app.replay import ReplayError, replay_app

    try:
        app = replay_app(Path(run_dir).resolve(), theme=theme)
    except ReplayError as exc:
        print(f"loopconsole: {exc}", file=sys.stderr)
        return USAGE_ERROR
    app.run()
    return app.return_code or 0
