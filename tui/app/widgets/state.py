"""StatePane: goal, status, last decision, queued hints, notes, progress chart."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.content import Content
from textual.widgets import Static

from tui.app.store import RunStore
from tui.app.widgets.pane import Pane

_BARS = "▁▂▃▄▅▆▇█"


def progress_chart(history: list[tuple[int, int, int]], width: int = 30) -> str:
    """Passing checks per iteration as block characters, newest last."""
    rows = history[-width:]
    if not rows:
        return ""
    top = max((total for _, _, total in rows), default=0) or max(p for _, p, _ in rows) or 1
    return "".join(_BARS[min(7, round(7 * passing / top))] for _, passing, _ in rows)


class StatePane(Pane):
    """Where the loop stands: what it is for and what it decided."""

    TITLE = "State"

    def __init__(self, store: RunStore, **kwargs) -> None:
        super().__init__(**kwargs)
        self.store = store

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="state-scroll"):
            yield Static(id="state-goal")
            yield Static(id="state-decision")
            yield Static(id="state-progress")
            yield Static(id="state-hints")
            yield Static(id="state-notes")

    def _set(self, id_: str, content: Content | None) -> None:
        widget = self.query_one(f"#{id_}", Static)
        widget.display = content is not None
        if content is not None:
            widget.update(content)

    def show(self, store: RunStore | None = None) -> None:
        """Redraw from the store."""
        s = store or self.store
        self._set(
            "state-goal",
            Content.from_markup("[b $primary]goal[/] $goal", goal=s.goal.strip() or "—"),
        )
        status = s.finished.outcome.replace("_", " ") if s.finished else s.status
        status_line = Content.from_markup(
            "[b $primary]status[/] $status · iteration $n\n", status=status, n=s.current
        )
        d = s.last_decision
        if d is not None:
            colour = {"continue": "$running", "stop": "$passed", "pause": "$paused"}[d.action]
            if d.action == "stop" and d.outcome != "goal_met":
                colour = "$failed"
            decision = Content.from_markup(
                f"[b $primary]last[/] [{colour}]$action[/] after iteration $n: $reason",
                action=d.action,
                n=d.iteration,
                reason=d.reason,
            )
        else:
            decision = Content.from_markup("[b $primary]last[/] [$text-muted]no decision yet")
        if s.status == "paused" and s.pause_reason and (d is None or d.reason != s.pause_reason):
            decision = decision.append(
                Content.from_markup("\n[b $paused]paused[/] $why", why=s.pause_reason)
            )
        self._set("state-decision", status_line + decision)
        history = s.passing_history()
        if history:
            _, passing, total = history[-1]
            self._set(
                "state-progress",
                Content.from_markup(
                    "[b $primary]passing[/] [$passed]$chart[/] $p/$t",
                    chart=progress_chart(history),
                    p=passing,
                    t=total,
                ),
            )
        else:
            self._set("state-progress", None)
        if s.hints:
            lines = "\n".join(f"• {h}" for h in s.hints)
            self._set(
                "state-hints",
                Content.from_markup("[b $primary]hints queued[/]\n$lines", lines=lines),
            )
        else:
            self._set("state-hints", None)
        if s.notes:
            self._set(
                "state-notes", Content.from_markup("[b $primary]notes[/]\n$notes", notes=s.notes)
            )
        else:
            self._set("state-notes", None)
