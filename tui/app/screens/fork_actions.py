"""Exploring from the console: fork from an iteration (b), compare the branches (c).

Mixed into :class:`tui.app.screens.main.MainScreen`, so it works in a live
run, an attached one and a replay. Forking reuses :mod:`tui.engine.fork`
exactly as ``loopconsole fork`` does: the branches are made here (in a
thread) and run in a background process of their own, so the console never
waits on them and the fleet lists them. Every few seconds the screen looks
for forks of its run and for an adopted branch, which the timeline marks.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from textual import work

from tui.app.screens.compare import CompareScreen
from tui.app.screens.console_base import ConsoleBase
from tui.app.screens.fork_dialog import ForkDialog, ForkRequest
from tui.app.widgets.state import StatePane
from tui.app.widgets.timeline import Timeline
from tui.engine.fork import Branch, ForkError, launch, make_branches
from tui.engine.fork_compare import adoption_of, has_forks, next_step
from tui.engine.record import RecordError

# Seconds between looks for forks and adoptions of the run.
FORK_LOOK_S = 3.0


class ForkActions(ConsoleBase):
    """fork, compare, and the adopted branch on the timeline."""

    forked: bool = False  # the run has fork groups (compare is offered)
    adopted: Branch | None = None

    def on_mount(self) -> None:
        self.set_interval(FORK_LOOK_S, self.look_for_forks)
        self.look_for_forks()

    # -- where the run is (the replay screen overrides checkpoints_dir) -----------
    def fork_source(self) -> Path | None:
        """The run folder to fork from, when this machine has it."""
        folder = self.checkpoints_dir()
        return folder if str(folder) not in ("", ".") and folder.is_dir() else None

    def checkpoints_dir(self) -> Path:
        raise NotImplementedError

    def shown_iteration(self) -> int:
        raise NotImplementedError

    def commit_of(self, iteration: int) -> str | None:
        raise NotImplementedError

    # -- fork -------------------------------------------------------------------
    def action_fork(self) -> None:
        source = self.fork_source()
        if source is None:
            self.notify(
                "This run's folder is not on this machine; fork it where it runs "
                "(loopconsole fork RUN --from K -n N).",
                severity="warning",
                timeout=6,
            )
            return
        finished = [n for n in self.store.numbers() if self.commit_of(n) is not None]
        if not finished:
            self.notify("No iteration has finished yet: nothing to fork from.", timeout=5)
            return
        timeline = self.query_one(Timeline)
        iteration = self.shown_iteration()
        if timeline.selected is None and timeline.follows_live and iteration not in finished:
            # The live iteration has no checkpoint yet: pick one first, then b again.
            timeline.select(finished[-1])
            timeline.focus()
            self.notify(
                "Fork: pick the iteration to branch from with ← →, then press "
                f"{self.key_for('fork')} again.",
                title="Fork",
                timeout=8,
            )
            return
        if self.commit_of(iteration) is None:
            self.notify(
                f"Iteration {iteration} has no checkpoint (it never finished); "
                "pick a finished iteration to fork from.",
                severity="warning",
                timeout=6,
            )
            return

        def answer(request: ForkRequest | None) -> None:
            if request is not None:
                self.start_fork(source, iteration, request)

        model = self.store.started.model if self.store.started else ""
        self.app.push_screen(ForkDialog(iteration, source.name, model), answer)

    @work(group="fork", exit_on_error=False)
    async def start_fork(self, source: Path, iteration: int, request: ForkRequest) -> None:
        """Make the branches (a thread: workspaces are written) and start their process."""
        try:
            branches = await asyncio.to_thread(
                make_branches,
                source,
                iteration,
                request.variants,
                split_budget=request.split_budget,
            )
            log = await asyncio.to_thread(launch, branches)
        except (ForkError, RecordError, OSError) as exc:
            self.notify(str(exc), title="Fork refused", severity="error", timeout=10)
            return
        first = branches[0]
        missing = (
            f" They lack {len(first.missing)} file(s) over the checkpoint size limit."
            if first.missing
            else ""
        )
        self.notify(
            f"{len(branches)} branches of iteration {iteration} are running in the background "
            f"as {first.group}-1…{len(branches)} in {source.parent} (log: {log.name}); "
            f"{self.key_for('compare')} compares them, the fleet lists them.{missing}",
            title="Forked",
            timeout=12,
        )
        self.forked = True
        self.refresh_bindings()

    # -- compare ----------------------------------------------------------------
    def action_compare(self) -> None:
        source = self.fork_source()
        if source is None:
            return
        try:
            screen = CompareScreen(source)
        except ForkError as exc:
            self.notify(str(exc), severity="warning", timeout=6)
            return

        def closed(_result: None) -> None:
            self.look_for_forks()  # an adoption shows at once

        self.app.push_screen(screen, closed)

    # -- the adopted branch -----------------------------------------------------
    @work(group="fork-look", exclusive=True, exit_on_error=False)
    async def look_for_forks(self) -> None:
        source = self.fork_source()
        if source is None:
            return
        forked, adopted = await asyncio.to_thread(lambda: (has_forks(source), adoption_of(source)))
        if forked != self.forked:
            self.forked = forked
            self.refresh_bindings()
        if adopted != self.adopted:
            self.adopted = adopted
            step = await asyncio.to_thread(next_step, adopted) if adopted else ""
            self.show_adoption(step)

    def show_adoption(self, step: str = "") -> None:
        """The adopted branch on the timeline (a mark at its iteration) and in the State pane."""
        b = self.adopted
        timeline = self.query_one(Timeline)
        timeline.adopted = (b.iteration, f"branch {b.number}") if b else None
        timeline.refresh()
        words = (
            f"continued in branch {b.number} ({b.run_id}) from iteration {b.iteration}; {step}"
            if b
            else None
        )
        self.query_one(StatePane).show_adoption(words)
