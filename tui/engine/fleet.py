"""The fleet: every run on this machine that loopconsole knows of, "needs you" first.

Runs register in the user's state folder when they start (tui/engine/live.py);
more folders can be scanned. Each run's row comes from its journal, folded
into the same :class:`~tui.engine.run_state.RunState` the engine keeps, read
incrementally (only what was appended since the last look) and skipping the
streamed text; a run whose files did not change is not read at all
(tui/engine/fleet_watch.py), so a fleet of hundreds of runs costs a handful
of ``stat`` calls per look.

A run needs a human when it waits for one, and the row says why in words:
paused on a thrash signal (or any pause the engine chose), budget reached,
every required validator passing while paused, paused for a human in a
headless run, or crashed (no engine, no ``run_finished``). Fork branches are
listed under their source run as a group (tui/engine/fleet_groups.py); the
group needs a human when all its branches are done and none is adopted.
"""

from __future__ import annotations

import asyncio
from dataclasses import asdict, dataclass, fields
from pathlib import Path

from tui.engine.client import ConnectError, SocketConnection
from tui.engine.commands import Command, Reply
from tui.engine.fleet_groups import arrange
from tui.engine.fleet_watch import RunFolders, RunWatch
from tui.engine.fork import Branch
from tui.engine.protocol import read_engine_info
from tui.engine.run_state import RunState


@dataclass
class FleetRow:
    """One run as the fleet lists it."""

    run_id: str
    folder: str
    name: str = "?"
    status: str = "starting"  # the run state's status, "crashed", or "waiting" (a branch)
    live: bool = False  # an engine serves it: consoles can attach, controls work
    iteration: int = 0
    max_iterations: int | None = None
    passing: int = 0
    checks: int = 0
    cost_usd: float = 0.0
    burn_usd_per_h: float = 0.0
    last_decision: str = ""
    signals: int = 0
    started_ts: float = 0.0
    updated_ts: float = 0.0
    outcome: str = ""
    needs: str = ""  # why it needs a human, in words; "" when it does not
    # A fork branch: the source run's folder, the group, where it started, its number.
    fork_of: str = ""
    fork: str = ""
    fork_from: int = 0
    branch: int = 0
    branch_status: str = ""  # open | adopted | discarded
    variant: str = ""
    fork_needs: str = ""  # the group's need (every branch done, none adopted), in words
    adopted: str = ""  # a source run: the branch adopted as its continuation

    def to_json(self) -> dict[str, object]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, object]) -> FleetRow:
        """A row from ``fleet --json`` (of this version or another: unknown keys are left)."""
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})  # type: ignore[arg-type]


class Fleet:
    """Keeps the rows of the known runs, re-reading only what changed."""

    def __init__(self, paths: list[Path] | None = None) -> None:
        self.paths = list(paths or [])
        self._folders = RunFolders(self.paths)
        self._watched: dict[Path, RunWatch] = {}
        self._rows: dict[Path, FleetRow] = {}
        self._looked: list[FleetRow] = []  # the rows of the last look, before arranging
        self._arranged: list[FleetRow] = []

    def folders(self) -> list[Path]:
        """The registered runs, the runs under the extra paths, and their fork branches."""
        return [Path(row.folder) for row in self.rows()]

    def rows(self) -> list[FleetRow]:
        """Every run, "needs you" first (oldest wait first), then live, then the rest;
        fork branches under their source run."""
        rows = []
        thorough = self._folders.stale()  # every half minute, everything is looked at
        for folder in self._folders.folders():
            row = self._row(folder, thorough)
            if row is not None:
                rows.append(row)
        same = len(rows) == len(self._looked) and all(
            a is b for a, b in zip(rows, self._looked, strict=True)
        )
        if not same:
            self._looked, self._arranged = rows, arrange(rows)
        return list(self._arranged)

    async def send(self, folder: Path, command: Command) -> Reply:
        """One command to a live run of this machine."""
        return await send_to(folder, command)

    def compare(self, branch: Path) -> str:
        """The ranking of a branch's fork group, as ``loopconsole compare`` prints it."""
        from tui.engine.fork import branches_of, group_results, ranking_table

        return ranking_table(group_results(branches_of(branch)))

    def _row(self, folder: Path, thorough: bool) -> FleetRow | None:
        watch = self._watched.get(folder)
        if watch is None:
            watch = self._watched[folder] = RunWatch(folder)
        changed = watch.look(thorough=thorough)
        if changed is None:  # no journal (yet, or any more)
            self._rows.pop(folder, None)
            return None
        row = self._rows.get(folder)
        if changed or row is None:
            row = self._rows[folder] = row_of(
                folder,
                watch.state,
                live=watch.live,
                running=watch.running,
                branch=watch.branch,
                waiting=watch.waiting,
            )
        return row


def row_of(
    folder: Path,
    state: RunState,
    *,
    live: bool,
    running: bool = False,
    branch: Branch | None = None,
    waiting: bool = False,
) -> FleetRow:
    """A fleet row from a run's folded state; ``running``: another process holds its lock;
    ``waiting``: a fork branch that has not started (no journal yet)."""
    started = state.started
    budget = state.budget_state
    row = FleetRow(run_id=folder.name, folder=str(folder))
    if started is not None:
        row.run_id = started.run_id or folder.name
        row.name, row.started_ts = started.name, started.ts
    row.live = live
    row.status = state.status
    row.iteration = state.iteration
    row.signals = len(state.signals)
    if budget is not None:
        row.max_iterations = budget.max_iterations
        row.cost_usd = budget.cost_usd
        if budget.wall_s > 60:
            row.burn_usd_per_h = budget.cost_usd / budget.wall_s * 3600
    decision = state.last_decision
    if decision is not None:
        row.passing, row.checks = decision.passing_checks, decision.total_checks
        row.last_decision = f"{decision.action}: {decision.reason}"
        row.updated_ts = decision.ts
    if state.finished is not None:
        row.outcome = state.finished.outcome
        row.updated_ts = state.finished.ts
    elif waiting:
        row.status = "waiting"
    elif not live and not running:
        row.status = "crashed"
    if branch is not None:
        row.fork_of = str(Path(branch.source).resolve())
        row.fork, row.fork_from = branch.group, branch.iteration
        row.branch, row.branch_status = branch.number, branch.status
        row.variant = branch.variant.label()
    row.needs = needs_you(row, state)
    return row


def needs_you(row: FleetRow, state: RunState) -> str:
    """Why this run waits for a human, in words ("" when it does not).

    A branch of a fork that is still to be chosen (or was discarded) that
    ended on its budget or a pause does not need a human by itself: its
    group does, once every branch is done (tui/engine/fleet_groups.py).
    """
    finished = state.finished
    if row.status == "crashed":
        return "crashed: the engine is gone and the run did not finish; resume it"
    if finished is not None:
        if row.fork and row.branch_status != "adopted":
            return ""
        if finished.outcome == "budget":
            return f"budget reached: {finished.reason}"
        if finished.outcome == "paused":
            return f"paused for a human: {finished.reason}"
        return ""
    if state.status != "paused":
        return ""
    if state.goal_met_now():
        return "every required validator passes while paused: finish it or resume"
    if not state.paused_by_human:
        return state.pause_reason or "paused by the engine"
    return ""


async def send_to(folder: Path, command: Command) -> Reply:
    """One command to a live run, without following it (pause, resume, step, stop)."""
    info = read_engine_info(folder)
    if info is None:
        return Reply(ok=False, message=f"run {folder.name} is not live; resume it to steer it")
    try:
        connection = await SocketConnection.open(Path(info.socket), "fleet", catch_up=False)
    except ConnectError as exc:
        return Reply(ok=False, message=str(exc))
    return await send_once(connection, command)


async def send_once(connection: SocketConnection, command: Command) -> Reply:
    """Send one command on a fresh connection, wait for its reply (30 s at most), close."""
    follow = asyncio.ensure_future(connection.follow())
    try:
        return await asyncio.wait_for(connection.send(command), timeout=30)
    except TimeoutError:
        return Reply(ok=False, message="the run's engine did not answer within 30 s")
    finally:
        await connection.close()
        follow.cancel()
