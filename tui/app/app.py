"""ConsoleApp: themes, settings, the engine worker; the screen does the rest."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import platformdirs
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.screen import Screen
from textual.theme import Theme

from tui.app.config import config_dir, load_config, save_theme
from tui.app.keymap_check import keymap_conflicts
from tui.app.screens.compare import CompareScreen
from tui.app.screens.confirm import ConfirmScreen
from tui.app.screens.confirm_quit import ConfirmQuitScreen
from tui.app.screens.diff import DiffScreen
from tui.app.screens.event_log import EventLogScreen
from tui.app.screens.file_pick import FilePickScreen
from tui.app.screens.fork_dialog import ForkDialog
from tui.app.screens.go_to import GoToScreen
from tui.app.screens.help import HelpScreen
from tui.app.screens.main import MainScreen
from tui.app.screens.raise_limit import RaiseLimitScreen
from tui.app.screens.replay import ReplayScreen
from tui.app.screens.signal import SignalScreen
from tui.app.screens.text_edit import TextEditScreen
from tui.app.store import RunStore
from tui.app.themes import DEFAULT_THEME, STATUS_VARIABLES, load_themes
from tui.app.widgets.goal_text import GoalText
from tui.engine.commands import Stop
from tui.engine.connection import InProcessConnection, RunConnection
from tui.engine.raise_budget import RaiseError, limit_to_raise
from tui.events import EXIT_CODES, Event, RunFinished

if TYPE_CHECKING:
    from tui.engine.runner import Runner

# Bindings the palette does not list: quit is there already, pane keys are navigation.
_NOT_IN_PALETTE = {
    "quit",
    "interrupt",
    "pane.transcript",
    "pane.validators",
    "pane.state",
    "pane.budget",
}


def screenshot_folder() -> Path:
    """Where screenshots go: the user's downloads folder if it exists, else here."""
    downloads = Path(platformdirs.user_downloads_dir())
    return downloads if downloads.is_dir() else Path.cwd()


# Exit code when the console closes before the run produced an outcome.
INTERRUPTED = EXIT_CODES["interrupted"]

# Resumes the run with ``--raise`` values in a new engine process and connects to it
# (tui.live_cli.resume_raised); RaiseError in one sentence when it cannot.
ResumeRun = Callable[[list[str]], Awaitable[RunConnection]]


def _screen_bindings() -> Iterator[Binding]:
    """Every binding a keymap may name."""
    screens = (
        ReplayScreen,  # the main screen's bindings and the replay's own
        TextEditScreen,
        ConfirmQuitScreen,
        ConfirmScreen,
        HelpScreen,
        DiffScreen,
        SignalScreen,
        FilePickScreen,
        GoToScreen,
        EventLogScreen,
        GoalText,
        RaiseLimitScreen,
        ForkDialog,
        CompareScreen,
    )
    for screen in screens:
        for binding in screen.BINDINGS:
            if isinstance(binding, Binding):
                yield binding


class ConsoleApp(App[int]):
    """The loopconsole console for one run.

    Live: the screen follows ``connection`` (an engine process, or ``runner``
    in this process) and sends it the human's commands. Otherwise the screen
    shows ``events``. A replay passes its own ``main`` screen. ``follow`` False:
    the connection only takes commands (snapshots, benchmarks of the screen).
    With ``resume_run``, a run that stops on its budget is offered a raise of the
    limit it reached, and goes on in this console.
    """

    TITLE = "loopconsole"

    def __init__(
        self,
        runner: Runner | None = None,
        *,
        events: Iterable[Event] = (),
        connection: RunConnection | None = None,
        theme: str | None = None,
        clock: Callable[[], float] = time.time,
        main: MainScreen | None = None,
        follow: bool = True,
        resume_run: ResumeRun | None = None,
    ) -> None:
        super().__init__()
        if runner is not None:
            connection = InProcessConnection(runner)
        self.connection = connection
        self.outcome: RunFinished | None = None
        self._events = list(events)
        self._quitting = False
        self._follows = follow  # False: a picture (snapshots) of a run nobody follows
        self._clock = clock
        self.resume_run = resume_run
        self._going_on = False  # a raise is resuming the run
        self.main = main or MainScreen(connection, clock=clock)
        self.config, problem = load_config()
        self._problems = [problem] if problem else []
        self._setup_themes(theme)
        self.set_keymap(self.config.keymap)

    # -- themes and settings ------------------------------------------------
    def get_theme_variable_defaults(self) -> dict[str, str]:
        # Textual's own themes lack the status colours; these stand in.
        return dict(STATUS_VARIABLES)

    def _setup_themes(self, requested: str | None) -> None:
        loaded = load_themes(config_dir() / "themes")
        for theme in loaded.themes:
            self.register_theme(theme)
        self._problems += loaded.problems
        wanted = requested or self.config.theme or DEFAULT_THEME
        if wanted not in self.available_themes:
            self._problems.append(f"theme {wanted!r} is not available; using {DEFAULT_THEME!r}")
            wanted = DEFAULT_THEME
        self.theme = wanted

    def _remember_theme(self, theme: Theme) -> None:
        if theme.name == self.config.theme:
            return
        self.config = self.config.model_copy(update={"theme": theme.name})
        problem = save_theme(theme.name)
        if problem:
            self.notify(problem, severity="warning")

    def deliver_screenshot(
        self,
        filename: str | None = None,
        path: str | None = None,
        time_format: str | None = None,
    ) -> str | None:
        """Save an SVG of the screen and say exactly where it went.

        The downloads folder when it exists, else the current folder (Textual's
        default fails when there is no downloads folder).
        """
        folder = Path(path) if path else screenshot_folder()
        try:
            saved = self.save_screenshot(filename, str(folder), time_format)
        except OSError as exc:
            self.notify(
                f"cannot save the screenshot in {folder} ({exc.strerror})", severity="error"
            )
            return None
        self.notify(f"Screenshot saved to {saved}", timeout=8)
        return saved

    async def on_mount(self) -> None:
        # Pushed rather than returned from get_default_screen: Textual loads a
        # screen's CSS_PATH only for pushed screens.
        await self.push_screen(self.main)
        if self._problems:
            self.notify("\n".join(self._problems), title="Settings", severity="warning", timeout=10)
        self.theme_changed_signal.subscribe(self, self._remember_theme)
        known = {b.id for b in _screen_bindings() if b.id}
        unknown = sorted(set(self.config.keymap) - known)
        if unknown:
            self.notify(
                f"keymap: unknown binding id {', '.join(unknown)}; see the help screen (?)",
                severity="warning",
            )
        conflicts = keymap_conflicts(
            (b for b in self.main.BINDINGS if isinstance(b, Binding)), self.config.keymap
        )
        if conflicts:
            self.notify("\n".join(conflicts), title="Settings", severity="warning", timeout=15)
        if self._events:
            self.main.feed.extend(self._events)
        if self.connection is not None:
            self.connection.subscribe(self.main.feed)
        if self.connection is not None and self._follows:
            self.run_worker(self._follow(), name="engine", group="engine", exit_on_error=True)

    # -- the run --------------------------------------------------------------
    async def _follow(self) -> None:
        """The run, start to end (in this event loop when the engine is in-process)."""
        assert self.connection is not None
        self.outcome = await self.connection.follow()
        if self.outcome is None:
            self.main.connection_lost()
        if self._quitting:
            self.exit(self.exit_code_for(self.main.store))
        elif self.outcome is not None and self.outcome.outcome == "budget":
            self.offer_raise(self.outcome)

    # -- more budget ----------------------------------------------------------
    def offer_raise(self, finished: RunFinished) -> None:
        """Offer to raise the limit the run stopped on and go on (escape declines)."""
        limit = limit_to_raise(finished.budget)
        if self.resume_run is None or limit is None or self._going_on:
            return

        def answer(raised: str | None) -> None:
            if raised:
                self.run_worker(self._go_on(raised), group="engine", exit_on_error=False)

        self.push_screen(RaiseLimitScreen(finished.budget, finished.reason, limit), answer)

    async def _go_on(self, raised: str) -> None:
        """Resume the run with the raise in a new engine process, and follow it here."""
        assert self.resume_run is not None
        self.notify(f"Raising {raised.replace('=', ' to ')} and resuming the run…", timeout=5)
        self._going_on = True
        try:
            connection = await self.resume_run([raised])
        except RaiseError as exc:
            self.notify(str(exc), title="Not resumed", severity="error", timeout=15)
            return
        finally:
            self._going_on = False
        old = self.connection
        self.connection, self.outcome = connection, None
        # A fresh screen catches up from the journal: the whole run, raise included.
        self.main = MainScreen(connection, clock=self._clock)
        await self.switch_screen(self.main)
        connection.subscribe(self.main.feed)
        self.run_worker(self._follow(), name="engine", group="engine", exit_on_error=True)
        close = getattr(old, "close", None)
        if close is not None:
            await close()

    def exit_code_for(self, store: RunStore) -> int:
        """The process exit code for how the run ended."""
        finished = self.outcome or store.finished
        if finished is None:
            return INTERRUPTED
        return EXIT_CODES.get(finished.outcome, 1)

    def stop_and_quit(self) -> None:
        """Stop the run at once, then exit when the engine has closed its journal."""
        if self.connection is None or self.outcome is not None:
            self.exit(self.exit_code_for(self.main.store))
            return
        self._quitting = True
        self.main.send(Stop(now=True))
        self.notify("Stopping the run…", timeout=5)

    async def action_quit(self) -> None:
        # ctrl+q goes through the same question as q.
        self.main.action_quit()

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        if screen is not self.main:
            return
        for binding in screen.BINDINGS:
            # Hidden from the footer (no room) is not hidden from the palette;
            # quit is Textual's own entry (it asks the same question).
            if isinstance(binding, tuple) or not binding.id or binding.id in _NOT_IN_PALETTE:
                continue
            if screen.check_action(binding.action, ()) is False:
                continue
            title = (binding.tooltip or binding.description).split(" (")[0]
            yield SystemCommand(
                title, f"key: {self.main.key_for(binding.id)}", self._runner_for(binding.action)
            )

        finished = self.outcome
        if finished is not None and finished.outcome == "budget" and self.resume_run is not None:
            # The offer again, after escape declined it.
            yield SystemCommand(
                "More budget",
                "raise the limit the run stopped on and go on",
                lambda: self.offer_raise(finished),
            )

    def _runner_for(self, action: str) -> Callable[[], object]:
        async def run() -> None:
            await self.main.run_action(action)

        return run
