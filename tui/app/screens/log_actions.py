"""The event log and its strip: run events in, one line each; finishing with the goal met.

Mixed into :class:`tui.app.screens.main.MainScreen`.
"""

from __future__ import annotations

from collections.abc import Sequence

from tui.app.screens.console_base import ConsoleBase
from tui.app.screens.event_log import EventLogScreen
from tui.app.widgets.event_strip import EventStrip
from tui.app.widgets.transcript import TranscriptPane
from tui.engine.commands import FinishGoalMet
from tui.events import Event


class EventLogActions(ConsoleBase):
    """The strip and the log (L), notes for what the engineer did, and finish (f)."""

    def _notify(self, events: Sequence[Event]) -> None:
        """Run events go to the event log and its strip; never to toasts."""
        offer = self.store.goal_met_now()
        changed = False
        for event in events:
            changed = self.event_log.add(event, self.store) is not None or changed
        if offer and not self._offered_finish and self.connection is not None:
            self.event_log.note(
                f"every required validator passes: {self.key_for('finish')} finishes the run "
                f"with the goal met, {self.key_for('resume')} runs another iteration",
                "success",
            )
            changed = True
        self._offered_finish = offer
        if changed and self.is_attached:
            self.query_one(EventStrip).show(self.key_for("log"), self._why_key())

    def human_note(self, text: str) -> None:
        """A line in the transcript and the log for what the engineer did (no engine event)."""
        self.log_note(text)
        self.run_worker(
            self.query_one(TranscriptPane).add_human_note(text), group="transcript-note"
        )

    def log_note(self, text: str, severity: str = "info") -> None:
        """Say something on the strip and in the log (not a run event)."""
        self.event_log.note(text, severity)  # type: ignore[arg-type]
        if self.is_attached:
            self.query_one(EventStrip).show(self.key_for("log"), self._why_key())

    def action_event_log(self) -> None:
        def chosen(index: int | None) -> None:
            if index is not None and 0 <= index < len(self.store.signals):
                self.open_signal(self.store.signals[index])

        self.app.push_screen(EventLogScreen(self.event_log), chosen)

    def action_finish(self) -> None:
        # The engine checks that every required validator passes, and says so if not.
        self.send(FinishGoalMet())
