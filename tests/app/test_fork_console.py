"""Fork from the console, compare the branches, adopt one: the timeline says so.

The source run and the branches are real runs of a shell agent that does
what its hint says ("write good" passes the validator); the branches run in
the background process ``fork`` starts, as from the command line.
"""

from __future__ import annotations

import asyncio
import fcntl
import shutil
import tempfile
import textwrap
from pathlib import Path

import pytest
from textual.widgets import Checkbox, DataTable, Input

from tests.app.helpers import wait_for
from tests.loops import write_loop
from tui.app.app import ConsoleApp
from tui.app.compare_app import CompareApp
from tui.app.replay import replay_app
from tui.app.screens.compare import CompareScreen
from tui.app.screens.diff import DiffScreen
from tui.app.screens.fork_dialog import ForkDialog
from tui.app.widgets.diff_view import DiffView
from tui.app.widgets.timeline import Timeline
from tui.cli import main
from tui.engine.fork import Branch

SIZE = (130, 40)

# Writes the word after "write" in its prompt (a hint) into state.txt, else "meh".
AGENT = textwrap.dedent(
    """\
    #!/bin/sh
    prompt=$(cat)
    word=$(printf '%s\\n' "$prompt" | sed -n 's/.*write \\([a-z]*\\).*/\\1/p' | head -n 1)
    echo "${word:-meh}" > state.txt
    echo "wrote ${word:-meh}"
    """
)


def hinted_loop(folder: Path) -> Path:
    """A loop whose agent follows hints; it never meets the goal on its own."""
    spec = write_loop(
        folder, budget="max_iterations = 2\nmax_cost_usd = 3.0", files={"state.txt": "bad\n"}
    )
    (folder / "agent.sh").write_text(AGENT)
    (folder / "agent.sh").chmod(0o755)
    spec.write_text(
        spec.read_text().replace(
            'backend = "scripted"\nscript = "agent_script.toml"',
            f'backend = "command"\ncommand = "{folder / "agent.sh"}"\nformat = "text"',
        )
    )
    return spec


@pytest.fixture
def source(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    """A finished source run of two iterations that never met the goal."""
    run = tmp_path / "runs" / "src"
    spec = hinted_loop(tmp_path / "loop")
    assert main(["run", str(spec), "--headless", "--run-dir", str(run)]) == 1
    capsys.readouterr()
    return run


def timeline_text(app) -> str:
    return str(app.main.query_one(Timeline).render())


def ranked_ids(screen: CompareScreen) -> list[str]:
    return [r.branch.run_id for r in screen.ranked]


async def test_fork_compare_diff_adopt_from_the_console(source: Path) -> None:
    app = replay_app(source)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("home")  # iteration 1 on the timeline
        assert app.main.shown_iteration() == 1
        assert app.main.check_action("compare", ()) is False  # no fork yet: no compare key
        await pilot.press("b")
        dialog = app.screen
        assert isinstance(dialog, ForkDialog)
        assert "from iteration 1" in str(dialog.query_one("#dialog-title").render())
        assert dialog.query_one("#fork-count", Input).value == "3"
        dialog.query_one("#fork-hint-1", Input).value = "write good"
        dialog.query_one("#fork-hint-2", Input).value = "write bad"
        await pilot.click("#fork-split")
        assert dialog.query_one("#fork-split", Checkbox).value
        await pilot.press("ctrl+s")
        assert app.screen is app.main
        branches = [source.parent / f"src-fork1-{i}" for i in (1, 2, 3)]
        await wait_for(pilot, lambda: all((b / "fork.json").is_file() for b in branches), "fork")
        assert "max_cost_usd = 1.0" in (branches[0] / "spec.toml").read_text()  # a third
        notes = " ".join(str(n.message) for n in app._notifications)
        assert "3 branches of iteration 1 are running in the background" in notes
        # The branches run in their own process; the console is free meanwhile.
        await wait_for(pilot, lambda: app.main.check_action("compare", ()), "compare offered")
        await pilot.press("c")
        screen = app.screen
        assert isinstance(screen, CompareScreen)
        await wait_for(
            pilot,
            lambda: screen.view and set(screen.view.statuses.values()) == {"done"},
            "every branch done",
            timeout=60,
        )
        assert ranked_ids(screen)[0] == "src-fork1-1"  # the one that met the goal
        table = screen.query_one(DataTable)
        first = table.get_row_at(0)
        assert str(first[3]) == "goal met" and first[5] == "1/1"
        assert "hint: write good" in str(first[-1])

        await pilot.press("d")  # the best branch against the fork point
        await wait_for(pilot, lambda: isinstance(app.screen, DiffScreen), "the diff")
        view = app.screen.query_one(DiffView)
        await wait_for(pilot, lambda: "+good" in view.lines, "the branch's change")
        assert "-meh" in view.lines  # iteration 1 of the source wrote "meh"
        title = str(app.screen.query_one("#diff-title").render())
        assert title.startswith("Branch 1 · against the fork point (iteration 1)")
        await pilot.press("escape")

        await pilot.press("down", "D")  # branch 2 against the best one
        await wait_for(pilot, lambda: isinstance(app.screen, DiffScreen), "the pair diff")
        view = app.screen.query_one(DiffView)
        # Branch 2 wrote "bad" (its hint), then "meh" (the hint is used up).
        await wait_for(pilot, lambda: "-good" in view.lines and "+meh" in view.lines, "pair")
        await pilot.press("escape")

        await pilot.press("up", "a", "y")  # adopt the best
        await wait_for(pilot, lambda: Branch.load(branches[0]).status == "adopted", "adopt")
        assert [Branch.load(b).status for b in branches[1:]] == ["discarded", "discarded"]
        await wait_for(pilot, lambda: screen.view.statuses["src-fork1-2"] == "discarded", "seen")
        await pilot.press("escape")
        assert app.screen is app.main
        await wait_for(pilot, lambda: "⎇ branch 1" in timeline_text(app), "the mark")
        text = timeline_text(app)
        assert text.index("1") < text.index("⎇ branch 1") < text.index("2")  # after iteration 1
        state = str(app.main.query_one("#state-adopted").render())
        assert "continued in branch 1 (src-fork1-1) from iteration 1; it met the goal" in state
        assert "land it with: loopconsole land src-fork1-1" in state


async def test_fork_refuses_an_iteration_without_a_checkpoint(source: Path) -> None:
    app = replay_app(source)
    async with app.run_test(size=SIZE) as pilot:
        app.main.commit_of = lambda _n: None  # as if iteration 2 had been cut short
        await pilot.press("b")
        assert app.screen is app.main
        notes = [str(n.message) for n in app._notifications]
        assert notes[-1] == "No iteration has finished yet: nothing to fork from."
    assert not list(source.parent.glob("src-fork*"))


async def test_fork_from_a_live_paused_run_and_adopt_marks_its_timeline(steps_runner) -> None:
    runner = steps_runner()
    app = ConsoleApp(runner)
    source = runner.run_dir.path
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: runner.status == "paused" and runner.iteration == 1, "1")
        before = (source / "journal.jsonl").read_bytes()
        await pilot.press("b")  # paused after iteration 1: it is the one forked
        dialog = app.screen
        assert isinstance(dialog, ForkDialog)
        dialog.query_one("#fork-count", Input).value = "2"
        await pilot.pause()
        assert not dialog.query_one("#fork-branch-3").display
        await pilot.press("ctrl+s")
        group = [source.parent / f"{source.name}-fork1-{i}" for i in (1, 2)]
        await wait_for(pilot, lambda: all((b / "fork.json").is_file() for b in group), "fork")
        assert not (source.parent / f"{source.name}-fork1-3").exists()
        await wait_for(pilot, lambda: app.main.check_action("compare", ()), "compare offered")
        assert runner.status == "paused"  # the live run is not touched
        assert (source / "journal.jsonl").read_bytes() == before
        await pilot.press("c")
        screen = app.screen
        assert isinstance(screen, CompareScreen)
        await wait_for(pilot, lambda: screen.view and len(screen.ranked) == 2, "the branches")
        row = ranked_ids(screen).index(group[1].name)
        screen.query_one(DataTable).move_cursor(row=row)
        await pilot.press("a", "y")
        await wait_for(pilot, lambda: Branch.load(group[1]).status == "adopted", "adopt")
        await pilot.press("escape")
        await wait_for(pilot, lambda: "⎇ branch 2" in timeline_text(app), "the mark")
        assert timeline_text(app).split()[:3] == ["‖1", "⎇", "branch"]
        await pilot.press("x", "x")
        await wait_for(pilot, lambda: runner.status == "finished", "stop")


def test_compare_on_the_command_line_says_discarded(source: Path, capsys) -> None:
    assert main(["fork", str(source), "--from", "2", "-n", "2", "--wait"]) == 1
    capsys.readouterr()
    assert main(["compare", str(source)]) == 0  # the source names its newest fork
    out = capsys.readouterr().out
    assert "src-fork1-1" in out and "[" not in out
    assert main(["adopt", str(source.parent / "src-fork1-2")]) == 0
    capsys.readouterr()
    assert main(["compare", str(source.parent / "src-fork1-1")]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[1].endswith("[discarded]") and lines[2].endswith("[adopted]")
    assert main(["compare", str(source.parent / "src-fork1-1" / "workspace")]) == 2
    assert "workspace is not a run folder" in capsys.readouterr().err


async def test_the_compare_app_discards_a_branch(source: Path) -> None:
    await asyncio.to_thread(main, ["fork", str(source), "--from", "1", "-n", "2", "--wait"])
    app = CompareApp(source.parent / "src-fork1-2")
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        assert isinstance(screen, CompareScreen)
        await wait_for(pilot, lambda: len(screen.ranked) == 2, "the branches")
        title = str(screen.query_one("#compare-title").render())
        assert "src-fork1 · forked from run src at iteration 1 · 2 branches" in title
        await pilot.press("x", "y")
        await wait_for(pilot, lambda: "discarded" in screen.view.statuses.values(), "discard")
        discarded = [b for b, s in screen.view.statuses.items() if s == "discarded"]
        assert discarded == [screen.ranked[0].branch.run_id]
        assert (source.parent / discarded[0] / "journal.jsonl").is_file()  # the record stays
        await pilot.press("q")
    assert app.return_code == 0


async def test_compare_moves_between_the_forks_of_a_run(source: Path) -> None:
    for k in (1, 2):
        await asyncio.to_thread(main, ["fork", str(source), "--from", str(k), "-n", "1", "--wait"])
    app = CompareApp(source)
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        assert isinstance(screen, CompareScreen)
        await wait_for(pilot, lambda: screen.view and screen.view.group == "src-fork2", "newest")
        title = str(screen.query_one("#compare-title").render())
        assert "at iteration 2 · 1 branch · one of 2 forks (f: the next)" in title
        await pilot.press("f")
        await wait_for(pilot, lambda: screen.view and screen.view.group == "src-fork1", "fork 1")
        assert ranked_ids(screen) == ["src-fork1-1"]


def test_compare_snapshot(snap_compare) -> None:
    """Three finished branches, one adopted (a fixed folder: the screen shows paths).

    The folder is the same for every checkout on the machine: a lock keeps two
    test runs from sharing it at once.
    """
    base = Path(tempfile.gettempdir()) / "loopconsole-compare-snapshot"
    with open(f"{base}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        shutil.rmtree(base, ignore_errors=True)
        try:
            assert snap_compare(
                _compare_app(base), run_before=_three_ranked, terminal_size=(130, 16)
            )
        finally:
            shutil.rmtree(base, ignore_errors=True)


def _compare_app(base: Path) -> CompareApp:
    source = base / "runs" / "src"
    assert (
        main(["run", str(hinted_loop(base / "loop")), "--headless", "--run-dir", str(source)]) == 1
    )
    hints = ["--hint", "write good", "--hint", "write bad"]
    assert main(["fork", str(source), "--from", "1", "-n", "3", *hints, "--wait"]) == 0
    assert main(["adopt", str(base / "runs" / "src-fork1-1")]) == 0
    return CompareApp(source)


async def _three_ranked(pilot) -> None:
    screen = pilot.app.screen
    await wait_for(pilot, lambda: len(screen.ranked) == 3, "the branches")
    await pilot.pause()


async def test_discarding_a_running_branch_stops_it(source: Path, tmp_path: Path) -> None:
    agent = tmp_path / "loop" / "agent.sh"
    agent.write_text("#!/bin/sh\ncat > /dev/null\nsleep 30\necho good > state.txt\n")
    await asyncio.to_thread(main, ["fork", str(source), "--from", "1", "-n", "1"])  # background
    branch = source.parent / "src-fork1-1"
    app = CompareApp(source)
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        assert isinstance(screen, CompareScreen)
        await wait_for(
            pilot, lambda: screen.view and screen.view.statuses[branch.name] == "running", "run"
        )
        await pilot.press("x", "y")
        await wait_for(pilot, lambda: screen.view.statuses[branch.name] == "discarded", "discard")
        await wait_for(
            pilot,
            lambda: '"run_finished"' in (branch / "journal.jsonl").read_text(),
            "the branch stopped",
        )
    assert '"outcome":"stopped"' in (branch / "journal.jsonl").read_text().replace(" ", "")
    assert not (branch / "workspace" / "state.txt").read_text().startswith("good")


async def test_fork_while_an_iteration_runs_picks_a_finished_one_first(steps_runner) -> None:
    runner = steps_runner(step=False, pace=0.5)
    app = ConsoleApp(runner)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.main.store.current == 2, "iteration 2 running")
        assert app.main.commit_of(2) is None
        await pilot.press("b")
        timeline = app.main.query_one(Timeline)
        assert app.screen is app.main and timeline.selected == 1 and timeline.has_focus
        notes = [str(n.message) for n in app._notifications]
        assert "pick the iteration to branch from with ← →, then press b again" in notes[-1]
        await pilot.press("b")
        assert isinstance(app.screen, ForkDialog) and app.screen.iteration == 1
        await pilot.press("escape")
        await pilot.press("x", "x")
        await wait_for(pilot, lambda: runner.status == "finished", "stop")
    assert not list(runner.run_dir.path.parent.glob("run-fork*"))
