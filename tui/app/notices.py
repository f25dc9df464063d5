"""Which events become notifications, and how loud.

Pure: the screen turns each :class:`Notification` into ``App.notify``.
Decisions that end or pause the run, thrash signals, the engine's notices
and spec reloads are worth a toast; everything else shows in the panes.
"""

from __future__ import annotations

from dataclasses import dataclass

from tui.app.store import RunStore
from tui.events import Event, Notice, Paused, RunFinished, SignalRaised, SpecReloaded

_FINISHED = {
    "goal_met": ("Goal met", "information"),
    "budget": ("Budget exhausted", "warning"),
    "stopped": ("Run stopped", "warning"),
    "paused": ("Paused for a human", "warning"),
    "interrupted": ("Run interrupted", "warning"),
    "error": ("Run failed", "error"),
}
# Notice level -> (severity, seconds shown); errors stay until read.
_NOTICE = {"info": ("information", 6.0), "warning": ("warning", 10.0), "error": ("error", 30.0)}


@dataclass(frozen=True)
class Notification:
    message: str
    title: str = ""
    severity: str = "information"
    timeout: float = 8.0


class Notifier:
    """Remembers what was said, so an error is not announced twice."""

    def __init__(self) -> None:
        self._said: set[str] = set()
        self._signals: set[str] = set()  # explanations of the signals announced

    def for_event(self, event: Event, store: RunStore) -> Notification | None:
        """The notification for ``event`` (after the store has applied it), if any."""
        if isinstance(event, RunFinished):
            if event.reason in self._said:
                return None  # an error notice already said it
            title, severity = _FINISHED[event.outcome]
            return Notification(event.reason, title, severity, 12)
        if isinstance(event, Paused) and not store.paused_by_human:
            if any(said in event.reason for said in self._signals):
                # The signal's toast already said why: say what the human can do.
                return Notification(
                    "The loop waits for you: ! explains the signal, space resumes, "
                    "t takes over, z rewinds.",
                    "Paused for a human",
                    "warning",
                    12,
                )
            return Notification(event.reason, "Paused for a human", "warning", 12)
        if isinstance(event, SpecReloaded):
            changed = ", ".join(event.changed) or "the spec"
            verb = "apply" if len(event.changed) > 1 else "applies"
            return Notification(
                f"loop.toml changed: {changed} {verb} from the next iteration", "Spec reloaded"
            )
        if isinstance(event, SignalRaised):
            if event.action == "ignore":
                return None  # quiet: on the timeline and in the journal, never a toast
            self._signals.add(event.explanation)
            return Notification(event.explanation, f"Signal: {event.kind}", "warning", 10)
        if isinstance(event, Notice):
            self._said.add(event.message)
            severity, timeout = _NOTICE[event.level]
            return Notification(event.message, "", severity, timeout)
        return None
