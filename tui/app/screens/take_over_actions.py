"""The take-over controls of the main screen: t, o, e, w, i.

Mixed into :class:`tui.app.screens.main.MainScreen`. ``t`` pauses the loop
(after the current step) and hands the workspace to the engineer: watch
mode lists what they change, ``o`` opens $SHELL there and ``e`` $EDITOR on a
file (the console suspends meanwhile), ``w`` re-runs the validators on
every save. ``t`` again hands back: the changes become a "human"
checkpoint and the next prompt tells the agent. Resuming or stepping while
taking over hands back first.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from textual import work

from tui.app.screens.file_pick import FilePickScreen, workspace_files
from tui.app.screens.text_edit import TextEditScreen
from tui.app.take_over import TakeOverError, changes_text, open_editor, open_shell
from tui.app.widgets.take_over_panel import TakeOverPanel

if TYPE_CHECKING:
    from tui.app.screens.main import MainScreen


class TakeOverActions:
    """take_over, hand_back, shell, edit_file, watch and drive."""

    def _workspace(self: MainScreen) -> Path:
        started = self.store.started
        return Path(started.workspace) if started else Path.cwd()

    def action_take_over(self: MainScreen) -> None:
        assert self.controls is not None
        if self.controls.status == "paused":
            self._enter_take_over()
            return
        self.take_over_pending = True
        self.controls.pause()
        self.notify("Taking over after the current step…", timeout=4)

    def take_over_events(self: MainScreen) -> None:
        """After new events: start a pending take-over once paused; end it when the run ends."""
        if self.take_over_pending and self.store.status == "paused":
            self.take_over_pending = False
            self._enter_take_over()
        elif self.finished and (self.taking_over or self.take_over_pending):
            self.take_over_pending = False
            self._leave_take_over()

    def _enter_take_over(self: MainScreen) -> None:
        assert self.controls is not None
        self.taking_over = True
        self.take_over_changes = []
        panel = self.query_one(TakeOverPanel)
        panel.before = set(workspace_files(self._workspace(), limit=20_000))
        self.controls.start_watch(revalidate=panel.revalidate)
        panel.display = True
        self.add_class("-taking-over")
        panel.show()
        self.refresh_bindings()
        self.human_note("you took over the workspace; the agent waits")
        self.notify(
            f"You have the workspace: {self.key_for('shell')} opens a shell there, "
            f"{self.key_for('edit')} edits a file, {self.key_for('hand_back')} hands back "
            "to the agent.",
            title="Take-over",
            timeout=6,
        )

    def _leave_take_over(self: MainScreen) -> None:
        if self.controls is not None:
            self.controls.stop_watch()
        self.taking_over = False
        self.query_one(TakeOverPanel).display = False
        self.remove_class("-taking-over")
        self.refresh_bindings()

    def action_hand_back(self: MainScreen) -> None:
        self.hand_back_then(None)

    def hand_back_then(self: MainScreen, then: Callable[[], None] | None) -> None:
        """Hand back (record the changes), then run ``then`` (resume, step)."""
        self._hand_back(then)

    @work(group="take-over", exclusive=True)
    async def _hand_back(self: MainScreen, then: Callable[[], None] | None) -> None:
        assert self.controls is not None
        self._leave_take_over()
        lines = self.take_over_changes + await self.controls.record_human_changes()
        self.take_over_changes = []
        if not lines:  # with changes, the engine's event says it
            self.human_note("handed back to the agent: nothing changed")
        self.notify(changes_text(lines), title="Handed back", timeout=8)
        if then is not None:
            then()
        elif lines:
            self.notify(
                f"{self.key_for('resume')} resumes the loop, {self.key_for('step')} runs "
                "one iteration.",
                timeout=6,
            )

    def action_shell(self: MainScreen) -> None:
        self._run_in_terminal(lambda: open_shell(self.app, self._workspace()))

    def action_edit_file(self: MainScreen) -> None:
        def chosen(path: str | None) -> None:
            if path:
                self._run_in_terminal(lambda: open_editor(self.app, self._workspace(), path))

        self.app.push_screen(FilePickScreen(self._workspace()), chosen)

    @work(group="take-over", exclusive=True)
    async def _run_in_terminal(self: MainScreen, run: Callable[[], int]) -> None:
        """Suspend, run the shell or editor, then checkpoint what changed."""
        assert self.controls is not None
        try:
            run()
        except TakeOverError as exc:
            self.notify(str(exc), severity="error", timeout=8)
            return
        lines = await self.controls.record_human_changes()
        self.take_over_changes += lines
        self.notify(changes_text(lines), title="Back from the workspace", timeout=8)

    def action_watch(self: MainScreen) -> None:
        assert self.controls is not None
        panel = self.query_one(TakeOverPanel)
        panel.revalidate = not panel.revalidate
        self.controls.start_watch(revalidate=panel.revalidate)
        panel.show()
        state = "on: every save re-runs the validators" if panel.revalidate else "off"
        self.notify(f"Watch mode {state}.", timeout=3)

    def action_drive(self: MainScreen) -> None:
        def apply(text: str | None) -> None:
            if text and text.strip() and self.controls is not None:
                self.controls.drive(text.strip())
                self.notify("The next iteration gets your instruction.", timeout=4)

        self.app.push_screen(
            TextEditScreen(
                "Instruct the agent",
                "Write the agent's instruction for the next iteration; it goes into that "
                "prompt only, with the goal.",
                self.store.instruction or "",
            ),
            apply,
        )
