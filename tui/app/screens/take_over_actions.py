"""The take-over controls of the main screen: t, o, e, w, i.

Mixed into :class:`tui.app.screens.main.MainScreen`. The take-over is the
engine's: ``t`` asks it to pause (after the current step) and hand the
workspace to the engineer; the panel shows while the run state says so, in
every attached console. Watch mode lists what they change, ``o`` opens
$SHELL there and ``e`` $EDITOR on a file (the console suspends meanwhile;
then the engine checkpoints the changes), ``w`` re-runs the validators on
every save. On a run on another machine (``attach --via``) the shell runs
through the same command, and the editor opens a local copy of the file
the engine reads and writes back (refusing what the agent's editor
refuses). ``t`` again hands back: the changes become a "human" checkpoint
and the next prompt tells the agent. Resuming or stepping while taking over
hands back first (the engine does it, whoever asks).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from tui.app.screens.console_base import ConsoleBase
from tui.app.screens.file_pick import FilePickScreen, workspace_files
from tui.app.screens.text_edit import TextEditScreen
from tui.app.take_over import (
    TakeOverError,
    changes_text,
    edit_copy,
    open_editor,
    open_remote_shell,
    open_shell,
)
from tui.app.widgets.take_over_panel import TakeOverPanel
from tui.engine.commands import (
    Drive,
    HandBack,
    ListFiles,
    ReadFile,
    RecordChanges,
    Reply,
    TakeOver,
    Watch,
    WriteFile,
)
from tui.events import Event, HandedBack


class TakeOverActions(ConsoleBase):
    """take_over, hand_back, shell, edit_file, watch and drive."""

    def _workspace(self) -> Path:
        started = self.store.started
        return Path(started.workspace) if started else Path.cwd()

    def action_take_over(self) -> None:
        # The engine pauses (after the current step) and hands over the workspace.
        panel = self.query_one(TakeOverPanel)
        if self.store.status != "paused":
            self.notify("Taking over after the current step…", timeout=4)
        self.send(TakeOver(revalidate=panel.revalidate))

    def take_over_events(self, events: Sequence[Event]) -> None:
        """After new events: show or hide the take-over panel as the engine says."""
        panel = self.query_one(TakeOverPanel)
        if self.taking_over and not panel.display:
            self._enter_take_over()
        elif not self.taking_over and panel.display:
            self._leave_take_over()
        for event in events:
            if isinstance(event, HandedBack):
                self.notify(changes_text(event.changes), title="Handed back", timeout=8)

    def _enter_take_over(self) -> None:
        panel = self.query_one(TakeOverPanel)
        panel.before = set(workspace_files(self._workspace(), limit=20_000))
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

    def _leave_take_over(self) -> None:
        self.query_one(TakeOverPanel).display = False
        self.remove_class("-taking-over")
        self.refresh_bindings()

    def action_hand_back(self) -> None:
        def done(reply: Reply) -> None:
            if reply.data.get("changes"):
                self.notify("space resumes the loop, s runs one iteration.", timeout=6)

        self.send(HandBack(), done)

    def _via(self) -> tuple[str, str] | None:
        """(the command, the run there) when the workspace is on another machine."""
        connection = self.connection
        return None if connection is None or connection.local else connection.via

    def action_shell(self) -> None:
        via = self._via()
        if via is not None:
            self._run_in_terminal(lambda: open_remote_shell(self.app, *via))
        else:
            self._run_in_terminal(lambda: open_shell(self.app, self._workspace()))

    def action_edit_file(self) -> None:
        if self._via() is not None:
            self._edit_remote_file()
            return

        def chosen(path: str | None) -> None:
            if path:
                self._run_in_terminal(lambda: open_editor(self.app, self._workspace(), path))

        self.app.push_screen(FilePickScreen(self._workspace()), chosen)

    def _run_in_terminal(self, run: Callable[[], int]) -> None:
        """Suspend, run the shell or editor, then have the engine checkpoint what changed."""
        if self.connection is not None and not self.connection.local and self._via() is None:
            self.notify(
                "The workspace is on another machine: edit it there, then hand back (t).",
                severity="warning",
                timeout=8,
            )
            return
        try:
            run()
        except TakeOverError as exc:
            self.notify(str(exc), severity="error", timeout=8)
            return
        self._record_changes()

    def _record_changes(self) -> None:
        def recorded(reply: Reply) -> None:
            lines = list(reply.data.get("changes", []))
            self.notify(changes_text(lines), title="Back from the workspace", timeout=8)

        self.send(RecordChanges(), recorded)

    def _edit_remote_file(self) -> None:
        """Pick a file from the engine's list, edit a local copy, send the text back."""

        def opened(reply: Reply) -> None:
            path, before = str(reply.data["path"]), str(reply.data["text"])
            try:
                after = edit_copy(self.app, path, before)
            except TakeOverError as exc:
                self.notify(str(exc), severity="error", timeout=8)
                return
            if after == before:
                self.notify(changes_text([]), title="Back from the editor", timeout=6)
                return
            write = WriteFile(path=path, text=after, expected=str(reply.data["sha"]))
            self.send(write, lambda _reply: self._record_changes())

        def chosen(path: str | None) -> None:
            if path:
                self.send(ReadFile(path=path), opened)

        def listed(reply: Reply) -> None:
            files = [str(f) for f in reply.data.get("files", [])]
            self.app.push_screen(FilePickScreen(self._workspace(), files), chosen)

        self.send(ListFiles(), listed)

    def action_watch(self) -> None:
        panel = self.query_one(TakeOverPanel)
        panel.revalidate = not panel.revalidate
        self.send(Watch(revalidate=panel.revalidate))
        panel.show()
        state = "on: every save re-runs the validators" if panel.revalidate else "off"
        self.notify(f"Watch mode {state}.", timeout=3)

    def action_drive(self) -> None:
        def apply(text: str | None) -> None:
            if text and text.strip():
                self.send(Drive(instruction=text.strip()))
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
