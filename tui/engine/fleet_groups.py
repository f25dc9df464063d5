"""Fork groups in the fleet: a source run and the branches forked from it, kept together.

``loopconsole fork RUN --from K -n N`` makes N branch runs beside the source
(``<id>-fork<F>-<i>``, each with a ``fork.json``). The fleet lists each group
right under its source run, in the source's place in the "needs you" order.
A group needs a human when every branch is done and none is adopted yet:
someone has to compare them and choose. Once a branch is adopted, the source
run needs nothing more (the branch is its continuation) and says so.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tui.engine.fleet import FleetRow

_NUMBER = re.compile(r"-fork(\d+)$")


@dataclass
class ForkGroup:
    """The branches of one fork of a run, as fleet rows (by branch number)."""

    fork: str  # the group's name: "<source id>-fork<F>"
    source: str  # the source run's folder
    branches: list[FleetRow] = field(default_factory=list)

    @property
    def number(self) -> int:
        """F in ``<source id>-fork<F>``."""
        found = _NUMBER.search(self.fork)
        return int(found.group(1)) if found else 0

    @property
    def from_iteration(self) -> int:
        return self.branches[0].fork_from if self.branches else 0

    def running(self) -> int:
        """Branches still going (not finished, not crashed, started)."""
        return sum(
            1 for b in self.branches if not b.outcome and b.status not in ("crashed", "waiting")
        )

    def waiting(self) -> int:
        """Branches that have not started yet (at most ``--jobs`` run at once)."""
        return sum(1 for b in self.branches if b.status == "waiting")

    def adopted(self) -> FleetRow | None:
        return next((b for b in self.branches if b.branch_status == "adopted"), None)

    def best(self) -> FleetRow | None:
        """The best branch so far that is not discarded, ranked as ``loopconsole compare``
        ranks (tui/engine/fork.py ``rank``): goal met first, then the most passing checks,
        then the cheapest."""
        kept = [b for b in self.branches if b.branch_status != "discarded"]
        ranked = sorted(
            kept or self.branches,
            key=lambda b: (b.outcome != "goal_met", -b.passing, b.cost_usd, b.branch),
        )
        return ranked[0] if ranked else None

    def needs(self) -> str:
        """Why the group waits for a human, in words ("" when it does not)."""
        if not self.branches or self.running() or self.waiting() or self.adopted() is not None:
            return ""
        if all(b.branch_status == "discarded" for b in self.branches):
            return ""
        best = self.best()
        which = f"; best so far: {describe(best)}" if best is not None else ""
        return f"all {len(self.branches)} branches done: compare them and adopt one{which}"

    def progress(self) -> str:
        """'3 branches, 1 running; best so far: branch 2 (...)', or which one was adopted."""
        text = f"{len(self.branches)} branches, {self.running()} running"
        if self.waiting():
            text += f", {self.waiting()} waiting"
        adopted = self.adopted()
        if adopted is not None:
            return f"{text}; branch {adopted.branch} adopted, the others discarded"
        best = self.best()
        if best is not None and (best.checks or best.outcome):
            text += f"; best so far: {describe(best)}"
        return text


def describe(branch: FleetRow) -> str:
    """'branch 2 (goal met, 5/5 checks, $0.12)'."""
    parts = [branch.outcome.replace("_", " ")] if branch.outcome else []
    if branch.checks:
        parts.append(f"{branch.passing}/{branch.checks} checks")
    parts.append(f"${branch.cost_usd:.2f}")
    return f"branch {branch.branch} ({', '.join(parts)})"


def fork_groups(rows: list[FleetRow]) -> dict[str, ForkGroup]:
    """The fork groups among the rows, by group name."""
    groups: dict[str, ForkGroup] = {}
    for row in rows:
        if row.fork:
            groups.setdefault(row.fork, ForkGroup(row.fork, row.fork_of)).branches.append(row)
    for group in groups.values():
        group.branches.sort(key=lambda b: b.branch)
    return groups


def arrange(rows: list[FleetRow]) -> list[FleetRow]:
    """The rows in the fleet's order, each fork group right under its source run.

    Runs (with their groups) that need a human come first, oldest wait
    first; then live or running ones, newest first; then the rest, the most
    recently ended first. Branch rows carry their group's need
    (``fork_needs``); a source run with an adopted branch names it
    (``adopted``) and needs nothing more.
    """
    groups = fork_groups(rows)
    needs = {name: group.needs() for name, group in groups.items()}
    under: dict[str, list[ForkGroup]] = {}
    for group in sorted(groups.values(), key=lambda g: g.number):
        under.setdefault(group.source, []).append(group)
    placed: dict[str, FleetRow] = {}
    for row in rows:
        if row.fork and row.fork_needs != needs[row.fork]:
            row = replace(row, fork_needs=needs[row.fork])
        adopted = [g.adopted() for g in under.get(row.folder, [])]
        adopted_ids = ", ".join(b.run_id for b in adopted if b is not None)
        if adopted_ids and (row.adopted != adopted_ids or row.needs):
            row = replace(row, adopted=adopted_ids, needs="")
        placed[row.folder] = row

    def unit(row: FleetRow) -> list[FleetRow]:
        members = [row]
        for group in under.pop(row.folder, []):
            for branch in group.branches:
                members += unit(placed[branch.folder])
        return members

    units = [unit(row) for row in list(placed.values()) if not row.fork]
    for group in groups.values():
        if group.source not in placed:  # a group whose source is not listed: on its own
            units.append([m for b in group.branches for m in unit(placed[b.folder])])
    return [row for members in sorted(units, key=_unit_order) for row in members]


def _unit_order(members: list[FleetRow]) -> tuple[int, float]:
    return min(_order(row) for row in members)


def _order(row: FleetRow) -> tuple[int, float]:
    if row.needs or row.fork_needs:
        return (0, row.updated_ts)
    if row.live or row.status not in ("finished", "crashed"):
        return (1, -row.started_ts)
    return (2, -row.updated_ts)
