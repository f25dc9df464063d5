"""The fleet lists a fork's branches as one group under their source run."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from textual.pilot import Pilot
from textual.widgets import DataTable, Static

from tests.test_fork import _loop
from tui.app.fleet_app import FleetApp
from tui.app.fleet_lines import GROUP_KEY
from tui.app.screens.compare import CompareScreen
from tui.app.screens.fork_ranking import RankingScreen
from tui.cli import main
from tui.engine.commands import Command, Reply
from tui.engine.fleet import Fleet, FleetRow


@pytest.fixture(autouse=True)
def state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("LOOPCONSOLE_STATE_DIR", str(tmp_path / "state"))
    return tmp_path / "state"


@pytest.fixture
def forked(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    """A real run kept outside the state folder (--run-dir), forked into three branches
    from iteration 1; branch 1 meets the goal, the others end on their budget."""
    spec = _loop(tmp_path / "loop")
    source = tmp_path / "runs" / "src"
    assert main(["run", str(spec), "--headless", "--run-dir", str(source)]) == 1
    hints = ["--hint", "write good", "--hint", "write bad"]
    assert main(["fork", str(source), "--from", "1", "-n", "3", *hints, "--wait"]) == 0
    capsys.readouterr()
    return source


async def _until_screen(pilot: Pilot[object], name: str) -> None:
    for _ in range(100):
        if type(pilot.app.screen).__name__ == name:
            return
        await pilot.pause(0.05)
    raise AssertionError(f"no {name}: {pilot.app.screen!r}")


def _fleet_json(capsys: pytest.CaptureFixture[str]) -> list[dict[str, object]]:
    assert main(["fleet", "--json"]) == 0
    return json.loads(capsys.readouterr().out)  # type: ignore[no-any-return]


def test_branches_are_listed_under_their_source_with_the_group(
    forked: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = _fleet_json(capsys)
    names = [Path(str(r["folder"])).name for r in rows]
    # The group comes right under its source, branch by branch.
    at = names.index("src")
    assert names[at : at + 4] == ["src", "src-fork1-1", "src-fork1-2", "src-fork1-3"]
    branches = rows[at + 1 : at + 4]
    assert [b["branch"] for b in branches] == [1, 2, 3]
    assert {b["fork"] for b in branches} == {"src-fork1"}
    assert {b["fork_of"] for b in branches} == {str(forked)}
    assert {b["fork_from"] for b in branches} == {1}
    assert {b["branch_status"] for b in branches} == {"open"}
    assert branches[0]["variant"] == "hint: write good"
    # Every branch is done and none adopted: the group needs a human, in words.
    need = str(branches[0]["fork_needs"])
    assert need.startswith("all 3 branches done: compare them and adopt one")
    assert "best so far: branch 1 (goal met" in need
    assert all(b["needs"] == "" for b in branches)  # their budgets are the group's business

    assert main(["adopt", str(forked.parent / "src-fork1-1")]) == 0
    capsys.readouterr()
    rows = _fleet_json(capsys)
    by_name = {Path(str(r["folder"])).name: r for r in rows}
    assert by_name["src"]["adopted"] == "src-fork1-1" and by_name["src"]["needs"] == ""
    assert by_name["src-fork1-1"]["branch_status"] == "adopted"
    assert by_name["src-fork1-2"]["branch_status"] == "discarded"
    assert all(by_name[f"src-fork1-{i}"]["fork_needs"] == "" for i in (1, 2, 3))


async def test_the_fleet_screen_shows_the_group_filters_it_and_compares_it(
    forked: Path,
) -> None:
    app = FleetApp(Fleet(), refresh_s=0.2)
    async with app.run_test(size=(160, 24)) as pilot:
        table = app.query_one(DataTable)
        for _ in range(100):
            if table.row_count == 5:
                break
            await pilot.pause(0.05)
        keys = [line.key for line in app.lines]
        assert keys == [
            str(forked),
            GROUP_KEY + "src-fork1",
            *(str(forked.parent / f"src-fork1-{i}") for i in (1, 2, 3)),
        ]
        header = app.lines[1].cells
        assert header[0] == "▾ fork 1 from iteration 1"
        assert header[1].strip() == "all done"
        assert header[-1].startswith("needs you: all 3 branches done: compare them")
        assert app.lines[2].cells[0].startswith("  ├ 1 · src-fork1-1")
        assert app.lines[4].cells[0].startswith("  └ 3 · src-fork1-3")
        title = str(app.query_one("#fleet-title", Static).render())
        assert "1 fork ·" in title and "need you" in title

        # A filter on one branch keeps its group's header above it.
        await pilot.press("slash", *"fork1-2")
        await pilot.pause(0.1)
        assert [line.key for line in app.lines] == [
            GROUP_KEY + "src-fork1",
            str(forked.parent / "src-fork1-2"),
        ]
        await pilot.press("escape")
        await pilot.pause(0.1)
        assert table.row_count == 5

        # Space folds the group under its line, and unfolds it.
        table.move_cursor(row=2)
        await pilot.press("space")
        assert [line.key for line in app.lines] == [str(forked), GROUP_KEY + "src-fork1"]
        assert app.lines[1].cells[0].startswith("▸ fork 1") and table.cursor_row == 1
        await pilot.press("space")
        assert table.row_count == 5 and app.lines[1].cells[0].startswith("▾ fork 1")

        # c on a branch opens the compare screen on its group; escape comes back.
        table.move_cursor(row=3)
        await pilot.press("c")
        await _until_screen(pilot, "CompareScreen")
        assert isinstance(app.screen, CompareScreen)
        assert [b.run_id for b in app.screen.branches] == [f"src-fork1-{i}" for i in (1, 2, 3)]
        await pilot.press("enter", "slash")  # the list's keys do not reach under it
        assert isinstance(app.screen, CompareScreen) and app.return_value is None
        assert "-shown" not in app.query_one("#fleet-filter").classes
        await pilot.press("escape")
        await pilot.pause(0.1)
        assert app.screen is app.screen_stack[0]

        # Adopting elsewhere shows here at the next look: the group is decided.
        assert main(["adopt", str(forked.parent / "src-fork1-1")]) == 0
        for _ in range(100):
            if "adopted" in app.lines[1].cells[1]:
                break
            await pilot.pause(0.05)
        assert app.lines[1].cells[1].strip() == "adopted 1"
        assert "branch 1 adopted" in app.lines[1].cells[-1]
        assert "discarded" in app.lines[3].cells[1]
        assert app.lines[0].cells[-1] == "continued by src-fork1-1 (adopted)"


def test_branches_waiting_for_their_turn_are_listed_and_their_group_waits(
    forked: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from tui.engine.fork import Variant, make_branches

    make_branches(forked, 1, [Variant(hint="write good"), Variant()])  # fork 2, not run
    rows = _fleet_json(capsys)
    names = [Path(str(r["folder"])).name for r in rows]
    at = names.index("src")
    assert names[at + 4 : at + 6] == ["src-fork2-1", "src-fork2-2"]
    waiting = rows[at + 4 : at + 6]
    assert {r["status"] for r in waiting} == {"waiting"}
    assert {r["fork_needs"] for r in waiting} == {""}  # nothing to choose yet
    assert {r["needs"] for r in waiting} == {""}  # not crashed: not started
    assert str(rows[at + 1]["fork_needs"]).startswith("all 3 branches done")  # fork 1 still


def test_a_decided_or_waiting_group_ranks_and_speaks_accordingly() -> None:
    from tui.engine.fleet import FleetRow
    from tui.engine.fleet_groups import arrange, fork_groups

    def row(folder: str, **fields: object) -> FleetRow:
        return FleetRow(run_id=folder, folder=f"/r/{folder}", **fields)  # type: ignore[arg-type]

    def branch(n: int, **fields: object) -> FleetRow:
        group = {"fork_of": "/r/src", "fork": "src-fork1", "fork_from": 1, "branch": n}
        return row(f"src-fork1-{n}", branch_status="open", **group, **fields)

    live = row("live", status="running", live=True, started_ts=5.0)
    source = row("src", status="finished", outcome="budget", updated_ts=1.0)
    done = [
        branch(1, status="finished", outcome="goal_met", passing=3, checks=3),
        branch(2, status="finished", outcome="budget", passing=1, checks=3),
    ]
    # Every branch done: the group needs you, so its source's unit comes before a live run.
    rows = arrange([live, *reversed(done), source])
    assert [r.run_id for r in rows] == ["src", "src-fork1-1", "src-fork1-2", "live"]
    assert rows[1].fork_needs.startswith("all 2 branches done")
    # The best so far was discarded: the best is among the others.
    done[0].branch_status = "discarded"
    assert "best so far: branch 2" in fork_groups(done)["src-fork1"].needs()
    # One waiting for its turn: the group waits, and the live run comes first.
    waiting = [*done[1:], branch(3, status="waiting")]
    rows = arrange([source, *waiting, live])
    assert [r.run_id for r in rows][0] == "live"
    group = fork_groups(rows)["src-fork1"]
    assert group.needs() == "" and group.progress().startswith("2 branches, 0 running, 1 waiting")


class Elsewhere:
    """Runs as another machine's fleet shows them: rows and the compare text, no files."""

    def __init__(self, fleet: Fleet) -> None:
        self.fleet = fleet

    def rows(self) -> list[FleetRow]:
        return self.fleet.rows()

    async def send(self, folder: Path, command: Command) -> Reply:
        return await self.fleet.send(folder, command)

    def compare(self, branch: Path) -> str:
        return self.fleet.compare(branch)


async def test_another_machines_fork_is_compared_with_the_ranking_text(forked: Path) -> None:
    app = FleetApp(Elsewhere(Fleet()), refresh_s=0.2)
    async with app.run_test(size=(160, 24)) as pilot:
        table = app.query_one(DataTable)
        for _ in range(100):
            if table.row_count == 5:
                break
            await pilot.pause(0.05)
        table.move_cursor(row=1)
        await pilot.press("enter")  # on the group's line: compare, not attach
        await _until_screen(pilot, "RankingScreen")
        assert isinstance(app.screen, RankingScreen)
        text = str(app.screen.query_one("#ranking-text", Static).render())
        first = text.splitlines()[1]
        assert "src-fork1-1" in first and "goal met" in first
        await pilot.press("escape")
        await pilot.pause(0.1)
        assert app.screen is app.screen_stack[0] and app.return_value is None
