"""FleetApp: every run on this machine, "needs you" first; Enter attaches.

The list refreshes itself every two seconds (only what the journals gained is
read). Pause, resume, step and stop go to a live run without attaching;
``/`` filters by name or id. Enter closes the fleet with the chosen run, and
the command line opens the console on it (then comes back here).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import ClassVar, Protocol

from textual import on, work
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import DataTable, Footer, Input, Static

from tui.app.terminal_notify import terminal_notify
from tui.engine.commands import Command, Pause, Reply, Resume, Step, Stop
from tui.engine.fleet import FleetRow
from tui.figures import duration

COLUMNS = (
    "run",
    "status",
    "iter",
    "checks",
    "cost",
    "$/h",
    "signals",
    "age",
    "why / last decision",
)


class FleetSource(Protocol):
    """Where the rows come from: this machine (Fleet) or another (RemoteFleet)."""

    def rows(self) -> list[FleetRow]: ...
    async def send(self, folder: Path, command: Command) -> Reply: ...


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
        Binding("slash", "filter", "filter", id="fleet.filter"),
        Binding("escape", "clear_filter", "clear filter", show=False, id="fleet.clear"),
        Binding("q", "quit", "quit", id="fleet.quit"),
    ]

    def __init__(self, fleet: FleetSource, *, refresh_s: float = 2.0) -> None:
        super().__init__()
        self.fleet = fleet
        self.refresh_s = refresh_s
        self.rows: list[FleetRow] = []
        self.query_text = ""
        self._needing: set[str] = set()
        self._first = True
        self._drawn = 0.0

    def compose(self) -> ComposeResult:
        yield Static("", id="fleet-title")
        yield Input(placeholder="filter by name or id", id="fleet-filter")
        yield DataTable(cursor_type="row", zebra_stripes=True)
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_columns(*COLUMNS)
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
        """Put the rows in the table (keeping the cursor on the same run).

        Nothing changed: nothing is redrawn, except the ages every half minute.
        """
        now = time.monotonic()
        if not force and rows == self.rows and now - self._drawn < 30:
            return
        self._drawn = now
        self.rows = rows
        self._notify_new_needs(rows)
        table = self.query_one(DataTable)
        current = self.selected()
        shown = [r for r in rows if self._matches(r)]
        table.clear()
        for row in shown:
            table.add_row(*_cells(row), key=row.folder)
        if current is not None:
            keys = [r.folder for r in shown]
            if current.folder in keys:
                table.move_cursor(row=keys.index(current.folder))
        needing = sum(1 for r in rows if r.needs)
        live = sum(1 for r in rows if r.live)
        self.query_one("#fleet-title", Static).update(
            f"{len(rows)} runs · {live} live · {needing} need you"
            + (f" · filter: {self.query_text}" if self.query_text else "")
        )

    def _notify_new_needs(self, rows: list[FleetRow]) -> None:
        needing = {r.folder for r in rows if r.needs}
        if not self._first:
            for row in rows:
                if row.needs and row.folder not in self._needing:
                    self.notify(f"{row.name} ({row.run_id}): {row.needs}", title="Needs you")
                    terminal_notify(self, f"{row.name}: needs you", row.needs)
        self._needing, self._first = needing, False

    def _matches(self, row: FleetRow) -> bool:
        text = self.query_text.lower()
        where = f"{row.name} {row.run_id} {Path(row.folder).name}".lower()
        return not text or text in where

    def selected(self) -> FleetRow | None:
        table = self.query_one(DataTable)
        if not table.row_count:
            return None
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        return next((r for r in self.rows if r.folder == key), None)

    def action_attach(self) -> None:
        # From the filter box too: Enter attaches the highlighted match.
        self.query_one(DataTable).focus()
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


def _cells(row: FleetRow) -> tuple[str, ...]:
    limit = f"/{row.max_iterations}" if row.max_iterations else ""
    status = ("● " if row.live else "  ") + (row.outcome or row.status)
    age = duration(max(0.0, time.time() - row.started_ts)) if row.started_ts else ""
    why = ("needs you: " + row.needs) if row.needs else row.last_decision
    return (
        f"{row.name} · {row.run_id}",
        status,
        f"{row.iteration}{limit}",
        f"{row.passing}/{row.checks}" if row.checks else "",
        f"${row.cost_usd:.2f}",
        f"${row.burn_usd_per_h:.2f}" if row.burn_usd_per_h else "",
        str(row.signals or ""),
        age,
        why[:90],
    )
