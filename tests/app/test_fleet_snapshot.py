"""An SVG snapshot of the fleet: runs needing you first, a fork group under its source.

Rows are made by hand (fixed folders, times and a fixed clock), so the
picture only changes when the fleet's look does. Update with
--snapshot-update after looking at the report.
"""

from __future__ import annotations

from pathlib import Path

from textual.pilot import Pilot

from tui.app.fleet_app import FleetApp
from tui.engine.commands import Command, Reply
from tui.engine.fleet import FleetRow
from tui.engine.fleet_groups import arrange

NOW = 1_763_720_100.0


def _row(run_id: str, **fields: object) -> FleetRow:
    base: dict[str, object] = {
        "run_id": run_id,
        "folder": f"/runs/{run_id}",
        "name": run_id.split("-")[0],
        "status": "finished",
        "iteration": 2,
        "max_iterations": 4,
        "checks": 5,
        "started_ts": NOW - 3600,
        "updated_ts": NOW - 600,
    }
    return FleetRow(**{**base, **fields})  # type: ignore[arg-type]


def _branch(number: int, **fields: object) -> FleetRow:
    return _row(
        f"fix-fork1-{number}",
        name="fix",
        fork_of="/runs/fix",
        fork="fix-fork1",
        fork_from=2,
        branch=number,
        branch_status="open",
        started_ts=NOW - 900,
        **fields,
    )


class StillFleet:
    """A fleet that never changes."""

    def __init__(self) -> None:
        self.listed = arrange(
            [
                _row("docs", outcome="goal_met", passing=5, cost_usd=0.42),
                _row(
                    "fix",
                    status="paused",
                    passing=3,
                    cost_usd=1.10,
                    signals=1,
                    needs="oscillation: the workspace went back to iteration 1's tree",
                ),
                _branch(1, outcome="goal_met", passing=5, cost_usd=0.31, variant="hint: guard"),
                _branch(2, outcome="budget", passing=4, cost_usd=0.50, variant="hint: retry"),
                _branch(3, outcome="budget", passing=3, cost_usd=0.50, variant="as the source"),
                _row(
                    "api",
                    status="running",
                    live=True,
                    iteration=3,
                    passing=2,
                    cost_usd=0.80,
                    burn_usd_per_h=1.6,
                    last_decision="continue: 3 of 5 checks failing",
                    started_ts=NOW - 1800,
                ),
            ]
        )

    def rows(self) -> list[FleetRow]:
        return self.listed

    async def send(self, folder: Path, command: Command) -> Reply:
        return Reply(ok=False, message="still")

    def compare(self, branch: Path) -> str:
        return ""


async def settle(pilot: Pilot) -> None:
    await pilot.app.workers.wait_for_complete()
    for _ in range(3):
        await pilot.pause()


def test_the_fleet_with_a_fork_group(snap_compare) -> None:
    app = FleetApp(StillFleet(), refresh_s=60, clock=lambda: NOW)
    assert snap_compare(app, run_before=settle, terminal_size=(150, 14))
