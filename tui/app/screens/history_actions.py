"""Looking back and going back: diffs (d), signals (! or enter) and rewind (z).

Mixed into :class:`tui.app.screens.main.MainScreen` (and so into the
replay screen, which overrides where checkpoints and signals come from).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual import work

from tui.app.messages import IterationActivated, SignalChosen
from tui.app.screens.confirm import ConfirmScreen
from tui.app.screens.diff import DiffScreen, DiffTarget, diff_targets
from tui.app.screens.signal import SignalScreen
from tui.app.widgets.timeline import Timeline
from tui.engine.controls import ControlError
from tui.events import SignalRaised

if TYPE_CHECKING:
    from tui.app.screens.main import MainScreen


class HistoryActions:
    """diff, why (signal explanation) and rewind."""

    # -- where the history comes from (the replay screen overrides these) ---
    def shown_iteration(self: MainScreen) -> int:
        """The iteration the panes show: picked on the timeline, else the newest."""
        return self.selected if self.selected is not None else self.store.current

    def targets_for(self: MainScreen, iteration: int) -> list[DiffTarget]:
        return diff_targets(iteration, self.store.checkpoints_of(iteration))

    def diff_numbers(self: MainScreen) -> list[int]:
        return self.store.numbers()

    def commit_of(self: MainScreen, iteration: int) -> str | None:
        """The checkpoint an iteration ended with (0: the start of the run)."""
        checkpoints = self.store.checkpoints_of(iteration)
        if iteration == 0:
            start = [c for c in checkpoints if c.kind == "start"]
            return start[-1].commit if start else None
        agent = [c for c in checkpoints if c.kind == "agent"]
        return agent[-1].commit if agent else None

    def signals_of(self: MainScreen, iteration: int) -> list[SignalRaised]:
        rec = self.store.record(iteration)
        return list(rec.signals) if rec else []

    # -- diff -------------------------------------------------------------
    def action_diff(self: MainScreen) -> None:
        self.show_diff(self.shown_iteration())

    def show_diff(self: MainScreen, iteration: int) -> None:
        self.app.push_screen(
            DiffScreen(self.reader, iteration, self.targets_for, self.diff_numbers())
        )

    # -- signals ----------------------------------------------------------
    def action_why(self: MainScreen) -> None:
        here = self.signals_of(self.shown_iteration())
        if here:
            self.open_signal(here[-1])
            return
        active = [s for s in self.store.signals if self.store.signal_state(s) == "active"]
        chosen = active or self.store.signals
        if chosen:
            self.open_signal(chosen[-1])

    def open_signal(self: MainScreen, signal: SignalRaised) -> None:
        self.app.push_screen(
            SignalScreen(
                signal,
                self.store.signal_state(signal),
                controls=self.controls,
                reader=self.reader,
                commit_of=self.commit_of,
                done=self.store.signal_actions(signal),
            )
        )

    def on_signal_chosen(self: MainScreen, message: SignalChosen) -> None:
        if 0 <= message.index < len(self.store.signals):
            self.open_signal(self.store.signals[message.index])

    def on_iteration_activated(self: MainScreen, message: IterationActivated) -> None:
        """Enter on the timeline: the iteration's signal if it raised one, else its diff."""
        signals = self.signals_of(message.number)
        if signals:
            self.open_signal(signals[-1])
        else:
            self.show_diff(message.number)

    # -- rewind -----------------------------------------------------------
    def action_rewind(self: MainScreen) -> None:
        assert self.controls is not None
        if self.controls.status != "paused":
            self.notify("Pause the loop (space) before rewinding.", severity="warning", timeout=5)
            return
        timeline = self.query_one(Timeline)
        numbers = self.store.numbers()
        if not numbers:
            self.notify("There is no iteration to rewind to yet.", timeout=4)
            return
        if timeline.selected is None:
            # Pick first: one iteration back, on the timeline, then z again.
            timeline.select(numbers[-2] if len(numbers) > 1 else numbers[-1])
            timeline.focus()
            self.notify(
                "Rewind: pick the iteration to go back to with ← →, then press z again.",
                title="Rewind",
                timeout=8,
            )
            return
        target = timeline.selected

        def answer(yes: bool | None) -> None:
            if yes:
                self._rewind(target)

        self.app.push_screen(
            ConfirmScreen(
                f"Rewind to iteration {target}?",
                f"The workspace goes back to how iteration {target} left it: files added "
                "since are removed, deleted ones come back (ignored files stay). The current "
                "state is checkpointed first, so nothing is lost. Memory and the last "
                "failures go back too; then resume (space), step (s) or edit the goal (g).",
                f"Rewind to {target}",
            ),
            answer,
        )

    @work(group="rewind", exclusive=True)
    async def _rewind(self: MainScreen, target: int) -> None:
        assert self.controls is not None
        try:
            report = await self.controls.rewind(target)
        except ControlError as exc:
            self.notify(str(exc), severity="error", timeout=8)
            return
        self.query_one(Timeline).select(None)  # follow the loop again, from the fork
        # The engine's notice says what changed on disk; this says what to do next.
        where = "exactly" if report.exact else "as far as possible"
        self.notify(
            f"The workspace is {where} as iteration {target} left it. "
            "space resumes from here, g edits the goal first.",
            title="Rewound",
            timeout=8,
        )
