"""The screens whose keys the help lists after the console's own."""

from __future__ import annotations

from collections.abc import Sequence

from textual.binding import Binding


def SECTIONS() -> list[tuple[str, list[Binding]]]:  # noqa: N802 - a table, built on demand
    """(screen title, its bindings), imported late: the screens import the main screen."""
    from tui.app.screens.compare import CompareScreen
    from tui.app.screens.confirm import ConfirmScreen
    from tui.app.screens.diff import DiffScreen
    from tui.app.screens.event_log import EventLogScreen
    from tui.app.screens.file_pick import FilePickScreen
    from tui.app.screens.fork_dialog import ForkDialog
    from tui.app.screens.go_to import GoToScreen
    from tui.app.screens.main import MainScreen
    from tui.app.screens.raise_limit import RaiseLimitScreen
    from tui.app.screens.replay import ReplayScreen
    from tui.app.screens.signal import SignalScreen
    from tui.app.screens.text_edit import TextEditScreen
    from tui.app.widgets.goal_text import GoalText

    main_ids = {b.id for b in MainScreen.BINDINGS if isinstance(b, Binding)}
    screens: list[tuple[str, Sequence[object]]] = [
        (
            "Replay",
            [b for b in ReplayScreen.BINDINGS if isinstance(b, Binding) and b.id not in main_ids],
        ),
        ("Goal in the State pane", GoalText.BINDINGS),
        ("Event log", EventLogScreen.BINDINGS),
        ("Signal explanation", SignalScreen.BINDINGS),
        ("Diff", DiffScreen.BINDINGS),
        ("Fork dialog", ForkDialog.BINDINGS),
        ("Compare a fork's branches", CompareScreen.BINDINGS),
        ("Goal, hint and instruction editor", TextEditScreen.BINDINGS),
        ("Pick a file (take-over)", FilePickScreen.BINDINGS),
        ("Jump to an iteration (replay)", GoToScreen.BINDINGS),
        ("Questions", ConfirmScreen.BINDINGS),
        ("More budget (a run stopped on its budget)", RaiseLimitScreen.BINDINGS),
    ]
    return [(title, [b for b in bindings if isinstance(b, Binding)]) for title, bindings in screens]
