"""The event log: one line per thing that happened to the run, repeats folded.

Pure (no Textual): the screen feeds it every event after the store has
applied it; the event strip under the header shows the newest announced
line, and the log screen lists them all. This replaces toasts for run
events, so nothing ever covers a pane.

One action gives one line: a control and the event that completes it share a
``topic``, and the later one rewrites the earlier line instead of adding one.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Literal

from tui.app.store import RunStore
from tui.events import (
    AgentText,
    AgentTurn,
    Checkpointed,
    ControlApplied,
    Decided,
    Event,
    GoalChanged,
    HintAdded,
    InstructionSet,
    Notice,
    Paused,
    Resumed,
    RunFinished,
    RunStarted,
    SignalDismissed,
    SignalRaised,
    SpecReloaded,
    ToolInputDelta,
    ValidatorOutput,
)

# Events that stream by the thousand and never make a line.
_STREAMING = (AgentText, ToolInputDelta, ValidatorOutput, AgentTurn)

Severity = Literal["info", "success", "warning", "error", "signal"]

# How far back a line may be completed by a later event of the same topic.
TOPIC_REACH = 4
# Entries kept; a long run folds its repeats, so this is hours of events.
MAX_ENTRIES = 2_000

_FINISHED: dict[str, tuple[str, Severity]] = {
    "goal_met": ("goal met", "success"),
    "budget": ("budget exhausted", "warning"),
    "stopped": ("run stopped", "warning"),
    "paused": ("paused for a human", "warning"),
    "interrupted": ("run interrupted", "warning"),
    "error": ("run failed", "error"),
}
_NOTICE: dict[str, Severity] = {"info": "info", "warning": "warning", "error": "error"}


@dataclass
class LogEntry:
    """One line of the log (``count`` > 1: the same line, folded)."""

    text: str
    severity: Severity = "info"
    iteration: int = 0
    ts: float = 0.0
    count: int = 1
    topic: str = ""
    # Index into the store's signals: Enter on this line explains it.
    signal: int | None = None
    # False: in the log only, never on the strip (signals of an ``ignore`` kind).
    announce: bool = True
    first_iteration: int = 0  # where a folded run of repeats began

    @property
    def iterations(self) -> str:
        """``it 3``, or ``it 1–7`` for repeats folded over several iterations."""
        if not self.iteration:
            return ""
        first = self.first_iteration or self.iteration
        return f"it {first}" if first == self.iteration else f"it {first}–{self.iteration}"

    @property
    def line(self) -> str:
        """The text as shown, with the fold count."""
        return self.text + (f" ×{self.count}" if self.count > 1 else "")

    def clock(self) -> str:
        return time.strftime("%H:%M:%S", time.localtime(self.ts)) if self.ts else "--:--:--"


class EventLog:
    """The run's events as log lines; :meth:`add` returns the line that changed, if any."""

    def __init__(self) -> None:
        self.entries: list[LogEntry] = []
        self.version = 0  # bumped on every change, for the views

    def clear(self) -> None:
        """Forget every line (a replay shows another iteration's)."""
        self.entries.clear()
        self.version += 1

    @property
    def latest(self) -> LogEntry | None:
        """The newest line worth announcing."""
        return next((e for e in reversed(self.entries) if e.announce), None)

    def note(self, text: str, severity: Severity = "info", topic: str = "") -> LogEntry:
        """Log a line the console itself has to say (settings, a refused control)."""
        return self._put(LogEntry(text, severity, ts=time.time(), topic=topic))

    def add(self, event: Event, store: RunStore) -> LogEntry | None:
        """Log ``event`` (after ``store`` applied it); None when it is not worth a line."""
        if isinstance(event, _STREAMING):  # by the thousand, never a line
            return None
        entry = self._entry(event, store)
        if entry is None:
            return None
        entry.iteration = entry.iteration or event.iteration
        entry.first_iteration = entry.iteration
        entry.ts = event.ts
        return self._put(entry)

    def _put(self, entry: LogEntry) -> LogEntry:
        last = self.entries[-1] if self.entries else None
        earlier = [e for e in self.entries[-TOPIC_REACH:] if entry.topic and e.topic == entry.topic]
        if earlier:
            # The event that completes an action replaces the action's line.
            self.entries.remove(earlier[-1])
            self.entries.append(entry)
        elif last is not None and (last.text, last.severity) == (entry.text, entry.severity):
            last.count += 1
            last.ts, last.iteration, last.signal = entry.ts, entry.iteration, entry.signal
            entry = last
        else:
            self.entries.append(entry)
            del self.entries[:-MAX_ENTRIES]
        self.version += 1
        return entry

    def _entry(self, e: Event, store: RunStore) -> LogEntry | None:  # noqa: C901 - a table
        if isinstance(e, RunStarted):
            verb = "resumed" if e.resumed else "started"
            return LogEntry(f"run {verb}: {e.name}")
        if isinstance(e, SignalRaised):
            kind = e.kind.replace("_", " ")
            return LogEntry(
                f"signal {kind}: {e.explanation}",
                "signal",
                signal=len(store.signals) - 1,
                announce=e.action != "ignore",
            )
        if isinstance(e, Decided):
            return _decision(e)
        if isinstance(e, Paused):
            if e.by_human:
                return LogEntry("paused", topic="pause")
            return LogEntry(
                f"paused for a human: {e.reason}", "warning", topic=f"decided-{e.iteration}"
            )
        if isinstance(e, Resumed):
            return LogEntry(
                "stepping: one iteration, then pause" if e.stepping else "resumed", topic="resume"
            )
        if isinstance(e, ControlApplied):
            return _control(e)
        if isinstance(e, Checkpointed) and e.kind == "rewind" and e.restored_iteration:
            return LogEntry(
                f"rewound to iteration {e.restored_iteration}; the next iteration starts from it",
                topic="rewind",
            )
        if isinstance(e, GoalChanged):
            return LogEntry("goal changed; it applies from the next iteration")
        if isinstance(e, HintAdded):
            return LogEntry(f"hint queued for the next prompt: {_short(e.text)}")
        if isinstance(e, InstructionSet):
            return LogEntry(f"instruction for the next iteration: {_short(e.text)}")
        if isinstance(e, SignalDismissed):
            what = (
                f"{e.kind.replace('_', ' ')} signals switched off"
                if e.whole_kind
                else "signal dismissed"
            )
            return LogEntry(what)
        if isinstance(e, SpecReloaded):
            changed = ", ".join(e.changed) or "the spec"
            verb = "apply" if len(e.changed) > 1 else "applies"
            return LogEntry(f"loop.toml changed: {changed} {verb} from the next iteration")
        if isinstance(e, Notice):
            topic = "rewind" if e.message.startswith("rewound to iteration") else ""
            return LogEntry(e.message, _NOTICE[e.level], topic=topic)
        if isinstance(e, RunFinished):
            word, severity = _FINISHED[e.outcome]
            recent = self.entries[-TOPIC_REACH:]
            asked = any(x.topic == "stop" for x in recent)
            topic = "stop" if asked else f"decided-{e.iteration}"
            for said in recent:
                if said.text == e.reason:  # an error notice already said it
                    said.topic = topic
            # The reason often begins with the outcome's own words ("goal met: ...").
            text = e.reason if e.reason.startswith(word) else f"{word}: {e.reason}"
            return LogEntry(text, severity, topic=topic)
        return None


def _short(text: str, limit: int = 80) -> str:
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: limit - 1] + "…"


def _decision(e: Decided) -> LogEntry:
    checks = f" ({e.passing_checks}/{e.total_checks} checks)" if e.total_checks else ""
    text = f"{e.action}{checks} — {e.reason}"
    if e.action == "continue":
        return LogEntry(text)
    if e.action == "pause":
        return LogEntry(text, "warning", topic=f"decided-{e.iteration}")
    severity: Severity = "success" if e.outcome == "goal_met" else "warning"
    return LogEntry(text, severity, topic=f"decided-{e.iteration}")


_CONTROL_TEXT = {
    "pause": ("pausing after the current step", "pause"),
    "step": ("stepping: one iteration, then pause", "resume"),
    "revalidate": ("re-running the validators", "revalidate"),
}


def _control(e: ControlApplied) -> LogEntry | None:
    if e.control in _CONTROL_TEXT:
        text, topic = _CONTROL_TEXT[e.control]
        return LogEntry(text, topic=topic)
    if e.control == "stop":
        text = {
            "now": "stopping now",
            "goal met": "finishing the run: every required validator passes",
        }.get(e.detail, "stopping after the current step")
        return LogEntry(text, "warning", topic="stop")
    if e.control == "rewind":
        return LogEntry(f"rewinding {e.detail}".strip(), topic="rewind")
    if e.control == "take_over":
        return LogEntry(f"handed back: {e.detail}" if e.detail else "handed back")
    return None  # resume: the Resumed event says it
