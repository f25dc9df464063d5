"""The Textual console: ``run_console(runner)`` opens it on a live run."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tui.engine.runner import Runner


def run_console(runner: Runner, *, theme: str | None = None) -> int:
    """Run the console on ``runner`` until the user quits; return the exit code.

    The exit code follows the run's outcome (``tui.events.EXIT_CODES``);
    quitting while the run is going stops it first (outcome "stopped").
    """
    from tui.app.app import ConsoleApp

    app = ConsoleApp(runner, theme=theme)
    code = app.run()
    if code is None:
        # The app ended without choosing a code (a crash Textual already reported).
        return app.return_code or 1
    return code
