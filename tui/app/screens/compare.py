"""CompareScreen: the branches of one fork side by side, best first, refreshed while they run.

Per branch: where it stands (waiting, running, done, adopted, discarded),
its outcome, iterations, passing checks per iteration (a small bar chart),
cost, tokens and signals, in the order :func:`tui.engine.fork.rank` gives
(goal met, then passing checks, then cost). From here: the diff of a branch
against the fork point or against a marked branch, adopt a branch (as
``loopconsole adopt``) or discard one (stopped if it runs; its records stay).

Pushed from any app: ``CompareScreen(run_dir, fork)`` with the source run's
folder and the fork's number (None: its newest), or a branch's folder. The
constructor raises :class:`~tui.engine.fork.ForkError` (one sentence to
show) when there is no such fork. ``f`` moves to the source's other forks.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.content import Content
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Static

from tui.app.checkpoint_reader import CheckpointReader
from tui.app.keymap_check import shown_key
from tui.app.screens.confirm import ConfirmScreen
from tui.app.screens.diff import DiffScreen, DiffTarget
from tui.engine.fork import Branch, BranchResult, ForkError, choose, discard, rank
from tui.engine.fork_compare import (
    GroupView,
    RecordCache,
    find_group,
    fork_point,
    forks_of,
    look,
    newest,
    next_step,
    open_pair,
)

# Seconds between looks at the branches' journals.
REFRESH_S = 2.0
_BARS = "▁▂▃▄▅▆▇█"
_STATUS_COLOURS = {
    "running": "running",
    "waiting": "text-muted",
    "done": "foreground",
    "stopped": "paused",
    "failed": "failed",
    "adopted": "passed",
    "discarded": "text-muted",
}
COLUMNS = (
    "#",
    "branch",
    "status",
    "outcome",
    "checks per it",
    "passing",
    "it",
    "cost",
    "tokens",
    "signals",
    "variant",
)


def sparkline(result: BranchResult) -> str:
    """Passing checks per iteration as block characters (the newest 12)."""
    rows = result.record.iterations[-12:] if result.record else []
    top = max((it.total for it in rows), default=0) or 1
    return "".join(_BARS[min(7, round(7 * it.passing / top))] for it in rows)


def _outcome(result: BranchResult, status: str) -> str:
    """The outcome column: empty while the status says it all."""
    if status == "waiting":
        return ""
    if result.record is None:
        return result.error
    if result.record.finished is None and status == "running":
        return ""
    return result.record.outcome.replace("_", " ")


class CompareScreen(Screen[None]):
    """One fork group, ranked; the highlighted row is the branch the keys act on."""

    CSS_PATH = "compare.tcss"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q", "close", "close", id="compare.close"),
        Binding("d", "diff", "diff vs fork point", id="compare.diff"),
        Binding("m", "mark", "mark", id="compare.mark", tooltip="Mark a branch to diff against"),
        Binding(
            "D",
            "diff_pair",
            "diff vs marked",
            id="compare.diff_pair",
            tooltip="Diff the highlighted branch against the marked one (else the best)",
        ),
        Binding("a", "adopt", "adopt", id="compare.adopt", tooltip="Adopt the branch"),
        Binding(
            "x", "discard", "discard", id="compare.discard", tooltip="Discard (and stop) the branch"
        ),
        Binding(
            "f",
            "other_fork",
            "other fork",
            id="compare.other_fork",
            tooltip="Show the source run's next fork (when it has several)",
        ),
    ]

    def __init__(self, run_dir: Path, fork: int | None = None) -> None:
        super().__init__()
        # Raises ForkError (one sentence) when the run has no such fork.
        self.branches: list[Branch] = find_group(Path(run_dir), fork)
        self.view: GroupView | None = None
        self.ranked: list[BranchResult] = []
        self.marked: str | None = None  # a run id
        self._records: RecordCache = {}  # journals not read again while unchanged
        self.fork_count = len(forks_of(Path(self.branches[0].source)))

    def compose(self) -> ComposeResult:
        yield Static(id="compare-title")
        yield DataTable(id="compare-table", cursor_type="row", zebra_stripes=True)
        yield Static(id="compare-detail")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        self.refresh_view()
        self.set_interval(REFRESH_S, self.refresh_view)
        table.focus()

    # -- reading the branches -------------------------------------------------
    @work(group="compare", exclusive=True, exit_on_error=False)
    async def refresh_view(self) -> None:
        """Read the branches again and redraw (in a thread: journals can be long)."""
        source = Path(self.branches[0].source)
        view, forks = await asyncio.to_thread(
            lambda: (look(self.branches, self._records), forks_of(source))
        )
        if forks and view.group not in {g[0].group for g in forks}:
            return  # another fork was chosen meanwhile
        self.fork_count = len(forks)
        self.view = view
        self.ranked = rank(view.results)
        self._draw()

    def _draw(self) -> None:
        view = self.view
        if view is None:
            return
        table = self.query_one(DataTable)
        keep = self.highlighted()
        colours = self.app.get_css_variables()
        table.clear(columns=True)  # the columns fit what they show now, not before
        table.add_columns(*COLUMNS)
        for place, r in enumerate(self.ranked, 1):
            status = view.statuses.get(r.branch.run_id, "?")
            style = colours.get(_STATUS_COLOURS.get(status, "foreground"), "")
            passing, total = r.passing
            record = r.record
            mark = "◆" if r.branch.run_id == self.marked else ""
            table.add_row(
                f"{mark}{place}",
                f"{r.branch.number} {r.branch.run_id}",
                Text(status, style=style),
                Text(
                    _outcome(r, status),
                    style=colours.get("passed", "") if r.goal_met else "",
                ),
                Text(sparkline(r), style=colours.get("passed", "")),
                f"{passing}/{total}",
                str(len(record.iterations) if record else 0),
                f"${r.cost_usd:.4f}",
                f"{record.tokens:,}" if record else "0",
                str(len(record.signals())) if record else "0",
                r.branch.variant.label(),
                key=r.branch.run_id,
            )
        if keep is not None:
            index = next((i for i, r in enumerate(self.ranked) if r.branch.run_id == keep), 0)
            table.move_cursor(row=index, animate=False)
        running = sum(1 for s in view.statuses.values() if s in ("running", "waiting"))
        self.query_one("#compare-title", Static).update(
            Content.assemble(
                (view.group, "bold $primary"),
                " · forked from run ",
                (view.source.name, "bold"),
                f" at iteration {view.iteration} · {len(view.results)} "
                + ("branch" if len(view.results) == 1 else "branches"),
                (self._other_forks(), "$text-muted"),
                (f" · {running} running" if running else "", "$running"),
                (" · best first: goal met, then passing checks, then cost", "$text-muted"),
            )
        )
        self._detail()

    def _other_forks(self) -> str:
        if self.fork_count < 2:
            return ""
        return f" · one of {self.fork_count} forks ({self.key('compare.other_fork')}: the next)"

    @on(DataTable.RowHighlighted)
    def _detail(self) -> None:
        chosen = self.chosen()
        detail = self.query_one("#compare-detail", Static)
        if chosen is None:
            detail.update("")
            return
        b = chosen.branch
        lines = [f"{b.path}", f"variant: {b.variant.label()}"]
        if chosen.record is not None and chosen.record.iterations:
            last = chosen.record.iterations[-1]
            lines.append(f"last iteration {last.iteration}: {last.validators_line()}")
        status = self.view.statuses.get(b.run_id) if self.view else None
        if status == "waiting":
            lines.append("waiting to start: a fork runs a bounded number of branches at once")
        elif chosen.error:
            lines.append(chosen.error)
        detail.update(Content("\n".join(lines)))

    def highlighted(self) -> str | None:
        """The run id of the highlighted row."""
        table = self.query_one(DataTable)
        if not self.ranked or table.cursor_row < 0 or table.cursor_row >= len(self.ranked):
            return None
        return self.ranked[table.cursor_row].branch.run_id

    def chosen(self) -> BranchResult | None:
        """The highlighted branch's result."""
        run_id = self.highlighted()
        return next((r for r in self.ranked if r.branch.run_id == run_id), None)

    # -- diffs ----------------------------------------------------------------
    def action_diff(self) -> None:
        chosen = self.chosen()
        if chosen is not None:
            self._diff_to_fork_point(chosen.branch)

    @work(group="diff", exclusive=True, exit_on_error=False)
    async def _diff_to_fork_point(self, branch: Branch) -> None:
        base, tip = await asyncio.to_thread(lambda: (fork_point(branch), newest(branch)))
        if base is None or tip is None:
            self.notify(f"Branch {branch.number} has no checkpoint yet.", timeout=5)
            return
        target = DiffTarget(
            branch.iteration,
            tip,
            f"against the fork point (iteration {branch.iteration})",
            base=base,
            title=f"Branch {branch.number}",
        )
        self._open_diff(CheckpointReader(branch.path), target)

    def action_mark(self) -> None:
        run_id = self.highlighted()
        self.marked = None if run_id == self.marked else run_id
        self._draw()

    def action_diff_pair(self) -> None:
        chosen = self.chosen()
        if chosen is None or not self.ranked:
            return
        other_id = self.marked or self.ranked[0].branch.run_id
        other = next((r.branch for r in self.ranked if r.branch.run_id == other_id), None)
        if other is None or other.run_id == chosen.branch.run_id:
            self.notify(
                f"Mark another branch first ({self.key('compare.mark')}), then "
                f"{self.key('compare.diff_pair')} on this one.",
                timeout=5,
            )
            return
        self._diff_pair(other, chosen.branch)

    @work(group="diff", exclusive=True, exit_on_error=False)
    async def _diff_pair(self, old: Branch, new: Branch) -> None:
        base, tip = await asyncio.to_thread(lambda: (newest(old), newest(new)))
        if base is None or tip is None:
            self.notify("Both branches need a checkpoint before they can be compared.", timeout=5)
            return
        reader = CheckpointReader(new.path, opener=lambda path: open_pair(path, old.path))
        target = DiffTarget(
            new.iteration,
            tip,
            f"against branch {old.number} (each as it stands now)",
            base=base,
            title=f"Branch {new.number}",
        )
        self._open_diff(reader, target)

    def _open_diff(self, reader: CheckpointReader, target: DiffTarget) -> None:
        screen = DiffScreen(reader, target.iteration, lambda _n: [target], [])
        self.app.push_screen(screen, lambda _result: reader.close())

    # -- choosing -------------------------------------------------------------
    def action_adopt(self) -> None:
        chosen = self.chosen()
        if chosen is None:
            return
        b = chosen.branch
        source = Path(b.source).name

        def answer(yes: bool | None) -> None:
            if yes:
                self._choose(b, adopt=True)

        self.app.push_screen(
            ConfirmScreen(
                f"Adopt branch {b.number}?",
                f"Run {source} continues in {b.run_id} from iteration {b.iteration}: its "
                "timeline says so, and `loopconsole resume` on the branch goes on. The other "
                "branches are discarded (stopped if they run; their records stay).",
                "Adopt",
            ),
            answer,
        )

    def action_discard(self) -> None:
        chosen = self.chosen()
        if chosen is None:
            return
        b = chosen.branch
        if b.status == "discarded":
            self.notify(f"Branch {b.number} is discarded already.", timeout=4)
            return

        def answer(yes: bool | None) -> None:
            if yes:
                self._choose(b, adopt=False)

        self.app.push_screen(
            ConfirmScreen(
                f"Discard branch {b.number}?",
                f"{b.run_id} is marked discarded and stopped if it runs; its journal, "
                "checkpoints and workspace stay.",
                "Discard",
            ),
            answer,
        )

    @work(group="choose", exit_on_error=False)
    async def _choose(self, branch: Branch, *, adopt: bool) -> None:
        try:
            if adopt:
                await asyncio.to_thread(choose, branch)
                step = await asyncio.to_thread(next_step, branch)
                said = f"Adopted {branch.run_id}; the others are discarded: {step}."
            else:
                said = await asyncio.to_thread(discard, branch)
        except (ForkError, OSError) as exc:
            self.notify(str(exc), severity="error", timeout=8)
            return
        self.notify(said, timeout=8)
        self.refresh_view()

    def key(self, binding_id: str) -> str:
        """The key a binding has after the user's keymap."""
        return shown_key(self, binding_id)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "other_fork":
            return self.fork_count > 1
        return True

    def action_other_fork(self) -> None:
        forks = forks_of(Path(self.branches[0].source))
        if len(forks) < 2:
            return
        names = [g[0].group for g in forks]
        here = names.index(self.branches[0].group) if self.branches[0].group in names else -1
        self.branches = forks[(here + 1) % len(forks)]
        self.marked = None
        self.view = None
        self.ranked = []
        self.refresh_view()

    def action_close(self) -> None:
        self.dismiss(None)
