"""The fleet: every run on this machine that loopconsole knows of, "needs you" first.

Runs register in the user's state folder when they start (tui/engine/live.py);
more folders can be scanned. Each run's row comes from its journal, folded
into the same :class:`~tui.engine.run_state.RunState` the engine keeps, read
incrementally (only what was appended since the last look) and skipping the
streamed text, so a fleet of hundreds of runs refreshes in a blink.

A run needs a human when it waits for one, and the row says why in words:
paused on a thrash signal (or any pause the engine chose), budget reached,
every required validator passing while paused, paused for a human in a
headless run, or crashed (no engine, no ``run_finished``).
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from pydantic import ValidationError

from tui.engine.client import ConnectError, SocketConnection
from tui.engine.commands import Command, Reply
from tui.engine.live import registered_runs
from tui.engine.protocol import read_engine_info
from tui.engine.run_state import RunState
from tui.engine.rundir import running_pid
from tui.events import parse_event

# Streamed pieces: thousands per iteration, and nothing a fleet row needs.
_SKIP = (b'"type":"agent_text"', b'"type":"tool_input_delta"', b'"type":"validator_output"')


@dataclass
class FleetRow:
    """One run as the fleet lists it."""

    run_id: str
    folder: str
    name: str = "?"
    status: str = "starting"  # the run state's status, or "crashed"
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

    def to_json(self) -> dict[str, object]:
        return asdict(self)


@dataclass
class _Watched:
    state: RunState = field(default_factory=RunState)
    offset: int = 0
    mtime: float = 0.0


class Fleet:
    """Keeps the rows of the known runs, re-reading only what changed."""

    def __init__(self, paths: list[Path] | None = None) -> None:
        self.paths = list(paths or [])
        self._watched: dict[Path, _Watched] = {}

    def folders(self) -> list[Path]:
        """The registered runs, and the runs under the extra paths."""
        found = dict.fromkeys(registered_runs().values())
        for path in self.paths:
            found.update(dict.fromkeys(_runs_under(path)))
        return list(found)

    def rows(self, now: float | None = None) -> list[FleetRow]:
        """Every run, "needs you" first (oldest wait first), then live, then the rest."""
        now = time.time() if now is None else now
        rows = [self._row(folder, now) for folder in self.folders()]
        return sorted(rows, key=_order)

    async def send(self, folder: Path, command: Command) -> Reply:
        """One command to a live run of this machine."""
        return await send_to(folder, command)

    def _row(self, folder: Path, now: float) -> FleetRow:
        watched = self._watched.setdefault(folder, _Watched())
        _read_new(folder / "journal.jsonl", watched)
        return row_of(folder, watched.state, now)


def row_of(folder: Path, state: RunState, now: float) -> FleetRow:
    """A fleet row from a run's folded state."""
    started = state.started
    budget = state.budget_state
    row = FleetRow(run_id=folder.name, folder=str(folder))
    if started is not None:
        row.run_id = started.run_id or folder.name
        row.name, row.started_ts = started.name, started.ts
    row.live = read_engine_info(folder) is not None
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
    elif not row.live and not running_pid(folder):
        row.status = "crashed"
    row.needs = needs_you(row, state)
    return row


def needs_you(row: FleetRow, state: RunState) -> str:
    """Why this run waits for a human, in words ("" when it does not)."""
    finished = state.finished
    if row.status == "crashed":
        return "crashed: the engine is gone and the run did not finish; resume it"
    if finished is not None:
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


def _order(row: FleetRow) -> tuple[int, float]:
    if row.needs:
        return (0, row.updated_ts)
    if row.live or row.status not in ("finished", "crashed"):
        return (1, -row.started_ts)
    return (2, -row.updated_ts)


def _read_new(journal: Path, watched: _Watched) -> None:
    try:
        info = journal.stat()
    except OSError:
        return
    if info.st_size < watched.offset:  # replaced (a new run in the same folder)
        watched.state, watched.offset = RunState(), 0
    if info.st_size == watched.offset:
        return
    with open(journal, "rb") as f:
        f.seek(watched.offset)
        data = f.read(info.st_size - watched.offset)
    end = data.rfind(b"\n") + 1  # a line being written is read next time
    for line in data[:end].splitlines():
        if not line or any(skip in line[:200] for skip in _SKIP):
            continue
        try:
            watched.state.apply(parse_event(line))
        except ValidationError:
            continue
    watched.offset += end
    watched.mtime = info.st_mtime


def _runs_under(path: Path) -> list[Path]:
    path = path.expanduser().resolve()
    if (path / "journal.jsonl").is_file():
        return [path]
    candidates = [path, path / ".loopconsole" / "runs"]
    return sorted(
        d
        for root in candidates
        if root.is_dir()
        for d in root.iterdir()
        if (d / "journal.jsonl").is_file()
    )


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
