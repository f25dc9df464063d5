"""StatePane: goal, status, last decision, signals, queued hints, notes, progress chart."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.content import Content
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from tui.app.messages import SignalChosen
from tui.app.store import RunStore, SignalState
from tui.app.widgets.goal_text import GoalText
from tui.app.widgets.pane import Pane
from tui.app.widgets.steady import show_line
from tui.events import SignalRaised

_BARS = "▁▂▃▄▅▆▇█"
# Iterations drawn in the chart (the newest).
CHART_WIDTH = 30
# A flat stretch this long (no passing check gained) is marked as a plateau.
PLATEAU = 2


def plateau_length(history: list[tuple[int, int, int]]) -> int:
    """Iterations since the passing count last reached a new best (0 when all pass)."""
    if not history:
        return 0
    _, passing, total = history[-1]
    if total and passing >= total:
        return 0
    best, best_at = -1, 0
    for i, (_, p, _) in enumerate(history):
        if p > best:
            best, best_at = p, i
    return len(history) - 1 - best_at


def progress_chart(history: list[tuple[int, int, int]], width: int = CHART_WIDTH) -> Content:
    """Passing checks per iteration as block characters, newest last.

    The plateau (iterations that gained nothing on the best so far) is drawn
    in the signal colour, so a loop that stopped improving shows at a glance.
    """
    rows = history[-width:]
    if not rows:
        return Content("")
    top = max((total for _, _, total in rows), default=0) or max(p for _, p, _ in rows) or 1
    flat = plateau_length(history)
    bars = "".join(_BARS[min(7, round(7 * passing / top))] for _, passing, _ in rows)
    if flat < PLATEAU:
        return Content.styled(bars, "$passed")
    cut = max(0, len(bars) - flat)
    return Content.assemble((bars[:cut], "$passed"), (bars[cut:], "$signal"))


def signal_line(signal: SignalRaised, state: str) -> Content:
    """``! oscillation · it 3: iteration 3 put the workspace back …``."""
    kind = signal.kind.replace("_", " ")
    tail = "" if state == "active" else f" ({state})"
    colour = "$signal" if state == "active" else "$text-muted"
    return Content.from_markup(
        f"[{colour}]![/] [b]$kind[/b] [$text-muted]it $n$tail:[/] $why",
        kind=kind,
        n=signal.iteration,
        tail=tail,
        why=signal.explanation,
    )


class StatePane(Pane):
    """Where the loop stands: what it is for and what it decided."""

    TITLE = "State"

    def __init__(self, store: RunStore, **kwargs) -> None:
        super().__init__(**kwargs)
        self.store = store
        self._signals_shown: list[tuple[int, SignalState]] = []

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="state-scroll"):
            yield GoalText(id="state-goal")
            yield Static(id="state-decision")
            adopted = Static(id="state-adopted")
            adopted.display = False
            yield adopted
            # Signals before the chart: when one paused the loop, it is what matters.
            yield Static("signals  [dim]! or enter: why[/]", id="state-signals-title")
            yield OptionList(id="state-signals")
            yield Static(id="state-progress")
            yield Static(id="state-hints")
            yield Static(id="state-notes")

    def _set(self, id_: str, content: Content | None) -> None:
        widget = self.query_one(f"#{id_}", Static)
        widget.display = content is not None
        if content is not None:
            show_line(widget, content, layout=True)  # its height may change: a layout then

    def show(self, store: RunStore | None = None) -> None:
        """Redraw from the store."""
        s = store or self.store
        self.query_one(GoalText).set_goal(s.goal)
        self._set("state-decision", self._decision(s))
        history = s.passing_history()
        if history:
            _, passing, total = history[-1]
            flat = plateau_length(history)
            note = f" · flat for {flat} iterations" if flat >= PLATEAU else ""
            self._set(
                "state-progress",
                Content.from_markup("[b $primary]passing[/] ")
                + progress_chart(history)
                + Content.from_markup(" $p/$t[$signal]$note", p=passing, t=total, note=note),
            )
        else:
            self._set("state-progress", None)
        self._show_signals(s)
        queued = [f"• {h}" for h in s.hints]
        if s.instruction:
            queued.append(f"• instruction: {s.instruction}")
        if queued:
            self._set(
                "state-hints",
                Content.from_markup(
                    "[b $primary]next prompt gets[/]\n$lines", lines="\n".join(queued)
                ),
            )
        else:
            self._set("state-hints", None)
        if s.notes:
            self._set(
                "state-notes", Content.from_markup("[b $primary]notes[/]\n$notes", notes=s.notes)
            )
        else:
            self._set("state-notes", None)

    def show_adoption(self, words: str | None) -> None:
        """Which fork branch the run continued in (None: it did not)."""
        self._set(
            "state-adopted",
            Content.from_markup("[b $passed]⎇[/] $words", words=words) if words else None,
        )

    def _decision(self, s: RunStore) -> Content:
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
        if s.rewound_to is not None and s.finished is None:
            decision = decision.append(
                Content.from_markup(
                    "\n[b $accent]rewound[/] the next iteration starts from iteration $n",
                    n=s.rewound_to,
                )
            )
        rec = s.record(s.current)
        if rec is not None and rec.rechecked and s.finished is None:
            checks = s.checks_now()
            now = f"{checks[0]}/{checks[1]} checks passing" if checks and checks[1] else ""
            decision = decision.append(
                Content.from_markup(
                    "\n[b $accent]re-run[/] of iteration $n: $now", n=s.current, now=now
                )
            )
        if s.status == "paused" and s.pause_reason and (d is None or d.reason != s.pause_reason):
            decision = decision.append(
                Content.from_markup("\n[b $paused]paused[/] $why", why=s.pause_reason)
            )
        return status_line + decision

    def _show_signals(self, s: RunStore) -> None:
        rows = self.query_one("#state-signals", OptionList)
        shown = [(id(sig), s.signal_state(sig)) for sig in s.signals]
        title = self.query_one("#state-signals-title", Static)
        title.display = bool(shown)
        key_for = getattr(self.screen, "key_for", None)
        why = key_for("signal") if key_for else "!"
        title.update(Content.from_markup("signals  [dim]$why or enter: why[/]", why=why))
        rows.display = bool(shown)
        if shown == self._signals_shown:
            return
        self._signals_shown = shown
        highlighted = rows.highlighted
        rows.set_options(
            Option(signal_line(sig, state), id=str(i))
            for i, (sig, (_, state)) in enumerate(zip(s.signals, shown, strict=True))
        )
        if shown:
            keep = highlighted if highlighted is not None and highlighted < len(shown) else None
            rows.highlighted = keep if keep is not None else len(shown) - 1

    @on(OptionList.OptionSelected, "#state-signals")
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        if event.option.id is not None:
            self.post_message(SignalChosen(int(event.option.id)))
