"""FleetApp: every run on this machine, "needs you" first; Enter attaches.

The list looks at the runs every two seconds; a look that finds nothing new
costs a few ``stat`` calls per run (tui/engine/fleet_watch.py) and redraws
nothing; a run that changed has only its changed cells redrawn. Pause,
resume, step and stop go to a live run without attaching; ``/`` filters by
name or id. Fork branches are listed under their source run, below a line
for the group; ``c`` on any of them opens the compare screen on the group
(another machine's: the ranking ``loopconsole compare`` prints). Enter
closes the fleet with the chosen run, and the command line opens the console
on it (then comes back here).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import ClassVar, Protocol

from textual import on, work
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import DataTable, Footer, Input, Static

from tui.app.fleet_lines import COLUMNS, GROUP_KEY, Line, lines_of
from tui.app.screens.compare import CompareScreen
from tui.app.screens.fork_ranking import RankingScreen
from tui.app.terminal_notify import terminal_notify
from tui.engine.commands import Command, Pause, Reply, Resume, Step, Stop
from tui.engine.fleet import Fleet, FleetRow
from tui.engine.fleet_groups import ForkGroup, fork_groups
from tui.engine.fork import ForkError

# The list's own actions (not quit): off while another screen is on top.
_LIST_ACTIONS = {"attach", "command", "compare", "fold", "filter", "clear_filter"}
# Seconds between redraws of the age cells when nothing else changed.
AGES_S = 30.0


class FleetSource(Protocol):
    """Where the rows come from: this machine (Fleet) or another (RemoteFleet)."""

    def rows(self) -> list[FleetRow]: ...
    async def send(self, folder: Path, command: Command) -> Reply: ...
    def compare(self, branch: Path) -> str: ...


class FleetApp(App[str | None]):
    """The fleet; exits with the folder of the run to attach to, or None."""

    TITLE = "loopconsole fleet"
    CSS = """
    #fleet-title { height: 1; padding: 0 1; background: $panel; }
    #fleet-filter { display: none; }
    #fleet-filter.-shown { display: block; }
    DataTable { height: 1fr; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "attach", "attach", id="fleet.attach", priority=True),
        Binding("p", "command('pause')", "pause", id="fleet.pause"),
        Binding("r", "command('resume')", "resume", id="fleet.resume"),
        Binding("s", "command('step')", "step", id="fleet.step"),
        Binding("x", "command('stop')", "stop", id="fleet.stop"),
        Binding("c", "compare", "compare fork", id="fleet.compare"),
        Binding("space", "fold", "fold fork", id="fleet.fold", show=False),
        Binding("slash", "filter", "filter", id="fleet.filter"),
        Binding("escape", "clear_filter", "clear filter", show=False, id="fleet.clear"),
        Binding("q", "quit", "quit", id="fleet.quit"),
    ]

    def __init__(
        self,
        fleet: FleetSource,
        *,
        refresh_s: float = 2.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        super().__init__()
        self.fleet = fleet
        self.refresh_s = refresh_s
        self.clock = clock  # for the ages; tests fix it
        self.rows: list[FleetRow] = []
        self.groups: dict[str, ForkGroup] = {}
        self.query_text = ""
        self.lines: list[Line] = []  # as drawn
        self.folded: set[str] = set()  # fork groups whose branches are hidden
        self._needing: set[str] = set()
        self._first = True
        self._aged = 0.0

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """The list's keys act only while the list is shown (not under the compare screen)."""
        return not (action in _LIST_ACTIONS and len(self.screen_stack) > 1)

    def compose(self) -> ComposeResult:
        yield Static("", id="fleet-title")
        yield Input(placeholder="filter by name or id", id="fleet-filter")
        yield DataTable(cursor_type="row", zebra_stripes=True)
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        for column in COLUMNS:
            table.add_column(column, key=column)
        self.refresh_rows()
        self.set_interval(self.refresh_s, self.refresh_rows)
        table.focus()

    @work(exclusive=True, group="scan", thread=True)
    def refresh_rows(self) -> None:
        try:
            rows = self.fleet.rows()
        except Exception as exc:  # noqa: BLE001 - a remote that failed: say so, keep the list
            self.call_from_thread(self.notify, str(exc), severity="error")
            return
        self.call_from_thread(self.show, rows)

    def show(self, rows: list[FleetRow], *, force: bool = False) -> None:
        """Put the rows in the table, keeping the cursor on the same line.

        Nothing changed: nothing is redrawn (the ages are looked at every
        half minute). Otherwise only the cells that changed are written; the
        table is filled again only when lines came, went or moved.
        """
        now = time.monotonic()
        if not force and rows == self.rows and now - self._aged < AGES_S:
            return
        self._aged = now
        self.rows = rows
        self.groups = fork_groups(rows)
        self._notify_new_needs(rows)
        lines = lines_of(rows, self.query_text, now=self.clock(), folded=self.folded)
        table = self.query_one(DataTable)
        if [line.key for line in lines] == [line.key for line in self.lines]:
            for old, new in zip(self.lines, lines, strict=True):
                for column, (was, cell) in enumerate(zip(old.cells, new.cells, strict=True)):
                    if was != cell:
                        table.update_cell(new.key, COLUMNS[column], cell, update_width=True)
        else:
            current = self._selected_key()
            table.clear()
            for line in lines:
                table.add_row(*line.cells, key=line.key)
            keys = [line.key for line in lines]
            if current in keys:
                table.move_cursor(row=keys.index(current))
        self.lines = lines
        self._title()

    def _title(self) -> None:
        needing = sum(1 for r in self.rows if r.needs)
        needing += sum(1 for g in self.groups.values() if g.needs())
        live = sum(1 for r in self.rows if r.live)
        forks = len(self.groups)
        forked = f" · {forks} fork{'s' if forks > 1 else ''}" if forks else ""
        self.query_one("#fleet-title", Static).update(
            f"{len(self.rows)} runs · {live} live{forked} · {needing} need you"
            + (f" · filter: {self.query_text}" if self.query_text else "")
        )

    def _notify_new_needs(self, rows: list[FleetRow]) -> None:
        needs = {r.folder: (f"{r.name} ({r.run_id})", r.needs) for r in rows if r.needs}
        for name, group in self.groups.items():
            if group.needs():
                needs[GROUP_KEY + name] = (f"fork {name}", group.needs())
        if not self._first:
            for key, (what, why) in needs.items():
                if key not in self._needing:
                    self.notify(f"{what}: {why}", title="Needs you")
                    terminal_notify(self, f"{what}: needs you", why)
        self._needing, self._first = set(needs), False

    def _selected_key(self) -> str | None:
        table = self.query_one(DataTable)
        if not table.row_count:
            return None
        return table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value

    def selected(self) -> FleetRow | None:
        """The run on the highlighted line (None on a group's header line)."""
        key = self._selected_key()
        return next((r for r in self.rows if r.folder == key), None)

    def selected_group(self) -> ForkGroup | None:
        """The fork group of the highlighted line: its header, a branch, or a source run."""
        key = self._selected_key() or ""
        if key.startswith(GROUP_KEY):
            return self.groups.get(key[len(GROUP_KEY) :])
        row = self.selected()
        if row is None:
            return None
        if row.fork:
            return self.groups.get(row.fork)
        forked = [g for g in self.groups.values() if g.source == row.folder]
        return max(forked, key=lambda g: g.number) if forked else None  # the newest fork

    def action_attach(self) -> None:
        # From the filter box too: Enter attaches the highlighted match.
        self.query_one(DataTable).focus()
        if (self._selected_key() or "").startswith(GROUP_KEY):
            self.action_compare()
            return
        row = self.selected()
        if row is None:
            return
        if not row.live:
            self.notify(
                f"{row.run_id} is not live: `loopconsole replay {row.folder}` shows it"
                + (", `loopconsole resume` carries it on" if row.needs else ""),
                severity="warning",
            )
            return
        self.exit(row.folder)

    def action_compare(self) -> None:
        """The highlighted fork group's branches side by side: the compare screen, or for
        another machine's runs the ranking ``loopconsole compare`` prints there."""
        group = self.selected_group()
        if group is None:
            self.notify("this run has no fork: `loopconsole fork RUN --from K -n N` makes one")
            return
        if not isinstance(self.fleet, Fleet):  # another machine's: its files are not here
            self._ranking(group)
            return
        try:
            screen = CompareScreen(Path(group.branches[0].folder))  # a branch names its group
        except ForkError as exc:
            self.notify(str(exc), severity="warning")
            return
        self.push_screen(screen)

    def action_fold(self) -> None:
        """Hide or show the highlighted fork group's branches (its line stays)."""
        group = self.selected_group()
        if group is None:
            return
        self.folded ^= {group.fork}
        self.show(self.rows, force=True)
        keys = [line.key for line in self.lines]
        if GROUP_KEY + group.fork in keys and group.fork in self.folded:
            self.query_one(DataTable).move_cursor(row=keys.index(GROUP_KEY + group.fork))

    @work(group="compare", thread=True)
    def _ranking(self, group: ForkGroup) -> None:
        title = f"fork {group.number} of {Path(group.source).name}"
        try:
            text = self.fleet.compare(Path(group.branches[0].folder))
        except Exception as exc:  # noqa: BLE001 - one sentence, the list stays
            self.call_from_thread(self.notify, f"{title}: {exc}", severity="error")
            return
        self.call_from_thread(self.push_screen, RankingScreen(title, text))

    def action_command(self, name: str) -> None:
        row = self.selected()
        commands: dict[str, Command] = {
            "pause": Pause(),
            "resume": Resume(),
            "step": Step(),
            "stop": Stop(),
        }
        if row is not None:
            self._send(Path(row.folder), commands[name], row.run_id)

    @work(group="commands")
    async def _send(self, folder: Path, command: Command, run_id: str) -> None:
        reply = await self.fleet.send(folder, command)
        if reply.ok:
            self.notify(f"{run_id}: {command.type} sent", timeout=3)
        else:
            self.notify(f"{run_id}: {reply.message}", severity="warning")
        self.refresh_rows()

    def action_filter(self) -> None:
        box = self.query_one(Input)
        box.add_class("-shown")
        box.focus()

    def action_clear_filter(self) -> None:
        box = self.query_one(Input)
        box.value = ""
        box.remove_class("-shown")
        self.query_one(DataTable).focus()

    @on(Input.Changed)
    def _filtered(self, event: Input.Changed) -> None:
        self.query_text = event.value.strip()
        self.show(self.rows, force=True)
