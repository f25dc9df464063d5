"""The fleet's table lines: one per run, and a header line above each fork group.

Pure text (no widgets), so the fleet screen can compare a look's lines with
the lines it drew last and touch only the cells that changed.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from tui.engine.fleet import FleetRow
from tui.engine.fleet_groups import ForkGroup, fork_groups

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
GROUP_KEY = "fork:"  # a group header's key: GROUP_KEY + the group's name


@dataclass(frozen=True)
class Line:
    """One line of the table: its key (a run's folder, or GROUP_KEY + group) and its cells."""

    key: str
    cells: tuple[str, ...]


def lines_of(
    rows: list[FleetRow],
    query: str = "",
    now: float | None = None,
    folded: frozenset[str] | set[str] = frozenset(),
) -> list[Line]:
    """The table's lines for the rows (already in the fleet's order), filtered by ``query``.

    A group's header is shown when any of its branches is; a branch is shown
    when it matches, or when its group or source run does. The branches of a
    group named in ``folded`` are left out (its header stays).
    """
    now = time.time() if now is None else now
    groups = fork_groups(rows)
    by_folder = {r.folder: r for r in rows}
    text = query.lower()

    def matches(row: FleetRow) -> bool:
        where = f"{row.name} {row.run_id} {Path(row.folder).name} {row.fork}".lower()
        return not text or text in where

    lines: list[Line] = []
    headed: set[str] = set()
    hidden: set[str] = set()  # folders under a folded group (nested forks included)
    for row in rows:
        group = groups.get(row.fork)
        source = by_folder.get(row.fork_of)
        if not (matches(row) or (source is not None and matches(source))):
            continue
        if group is not None and row.fork not in headed:
            headed.add(row.fork)
            lines.append(Line(GROUP_KEY + row.fork, group_cells(group, row.fork in folded)))
        if row.fork in folded or row.fork_of in hidden:
            hidden.add(row.folder)
            continue
        last = group is not None and row is group.branches[-1]
        lines.append(Line(row.folder, row_cells(row, now, branch_mark="└" if last else "├")))
    return lines


def row_cells(row: FleetRow, now: float, *, branch_mark: str = "├") -> tuple[str, ...]:
    """A run's cells; a branch is indented under its group's header."""
    limit = f"/{row.max_iterations}" if row.max_iterations else ""
    status = ("● " if row.live else "  ") + (row.outcome or row.status)
    if row.fork and row.branch_status != "open":
        status += f" · {row.branch_status}"
    why = ("needs you: " + row.needs) if row.needs else row.last_decision
    if row.adopted:
        why = f"continued by {row.adopted} (adopted)"
    if row.fork:
        run = f"  {branch_mark} {row.branch} · {row.run_id}"
        why = f"{row.variant} · {why}" if why else row.variant
    else:
        run = f"{row.name} · {row.run_id}"
    return (
        run,
        status,
        "" if row.status == "waiting" else f"{row.iteration}{limit}",
        f"{row.passing}/{row.checks}" if row.checks else "",
        f"${row.cost_usd:.2f}",
        f"${row.burn_usd_per_h:.2f}" if row.burn_usd_per_h else "",
        str(row.signals or ""),
        age(now - row.started_ts) if row.started_ts else "",
        why[:90],
    )


def group_cells(group: ForkGroup, folded: bool = False) -> tuple[str, ...]:
    """A fork group's header: how many branches run, the best so far, what it waits for."""
    needs = group.needs()
    running = group.running()
    adopted = group.adopted()
    if adopted is not None:
        status = f"  adopted {adopted.branch}"
    else:
        waiting = group.waiting()
        status = f"  {running} running" if running else "  waiting" if waiting else "  all done"
    return (
        f"{'▸' if folded else '▾'} fork {group.number} from iteration {group.from_iteration}",
        status,
        "",
        "",
        f"${sum(b.cost_usd for b in group.branches):.2f}",
        "",
        "",
        "",
        (f"needs you: {needs} (c compares)" if needs else group.progress())[:90],
    )


def age(seconds: float) -> str:
    """How long ago, to the minute: a run's age cell changes at most once a minute."""
    minutes = int(max(0.0, seconds)) // 60
    if minutes < 1:
        return "<1 min"
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours} h {minutes:02d} min"
    days, hours = divmod(hours, 24)
    return f"{days} d {hours:02d} h"
