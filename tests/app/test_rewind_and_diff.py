"""Rewind from the timeline, and the diff view of an iteration."""

from __future__ import annotations

import time

from textual.widgets import OptionList

from tests.app.helpers import journal, of_type, wait_for
from tui.app.app import ConsoleApp
from tui.app.screens.confirm import ConfirmScreen
from tui.app.screens.diff import DiffScreen
from tui.app.timeline_model import build_timeline
from tui.app.widgets.diff_view import DiffView, line_kind
from tui.app.widgets.timeline import Timeline

SIZE = (110, 32)


def timeline_text(app: ConsoleApp) -> str:
    return str(app.main.query_one(Timeline).render())


async def test_rewind_two_iterations_then_the_loop_goes_on_from_there(steps_runner) -> None:
    runner = steps_runner()
    app = ConsoleApp(runner)
    ws = runner.run_dir.workspace
    async with app.run_test(size=SIZE) as pilot:
        for n in (1, 2, 3):
            await wait_for(
                pilot, lambda n=n: runner.status == "paused" and runner.iteration == n, f"{n}"
            )
            if n < 3:
                await pilot.press("s")
        assert {"added2.txt", "added3.txt"} <= {p.name for p in ws.iterdir()}
        # z with nothing picked: one iteration back is picked, and the timeline focused.
        await pilot.press("z")
        timeline = app.main.query_one(Timeline)
        assert timeline.selected == 2 and timeline.has_focus
        await pilot.press("left", "z")
        assert isinstance(app.screen, ConfirmScreen)
        assert "Rewind to iteration 1?" in str(app.screen.query_one("#dialog-title").render())
        await pilot.press("y")
        await wait_for(pilot, lambda: not (ws / "added2.txt").exists(), "the rewind")
        assert not (ws / "added3.txt").exists() and (ws / "added1.txt").exists()
        assert (ws / "state.txt").read_text() == "bad 1"
        await wait_for(pilot, lambda: "↶1" in timeline_text(app), "the fork on the timeline")
        assert timeline.selected is None  # following the loop again
        await pilot.press("s")
        await wait_for(pilot, lambda: runner.iteration == 4 and runner.status == "paused", "go on")
        items = {i.number: i for i in app.main.store.timeline()}
        assert [n for n, i in items.items() if i.abandoned] == [2, 3]
        assert items[3].rewound_to == 1 and items[4].parent == 1
        text = timeline_text(app)
        # ✗1 ✗2 !3 ↶1 ‖4: after 3 the loop went back to 1, and 4 is paused now.
        assert text.split()[-3][1:] == "3" and text.split()[-2:] == ["↶1", "‖4"]
    assert (ws / "added4.txt").exists() and not (ws / "added2.txt").exists()
    fork = [e for e in of_type(journal(runner), "checkpointed") if e.restored_iteration]
    assert [e.restored_iteration for e in fork] == [1]


async def test_rewind_asks_for_a_pause_first(steps_runner) -> None:
    runner = steps_runner(step=False, pace=0.3)
    app = ConsoleApp(runner)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.main.store.current == 1, "iteration 1")
        await pilot.press("z")
        assert app.screen is app.main
        notes = [n.message for n in app._notifications]
        assert "Pause the loop (space) before rewinding." in notes
        await pilot.press("x", "x")
        await wait_for(pilot, lambda: runner.status == "finished", "stop")
    assert of_type(journal(runner), "checkpointed")[-1].kind != "rewind"


async def test_d_shows_the_iterations_diff_with_files_and_counts(steps_runner) -> None:
    runner = steps_runner()
    app = ConsoleApp(runner)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: runner.status == "paused", "iteration 1")
        await pilot.press("s")
        await wait_for(pilot, lambda: runner.iteration == 2 and runner.status == "paused", "2")
        await pilot.press("l", "left", "d")
        assert isinstance(app.screen, DiffScreen)
        screen = app.screen
        view = screen.query_one(DiffView)
        await wait_for(pilot, lambda: "+bad 1" in view.lines, "the diff")
        title = str(screen.query_one("#diff-title").render())
        assert title.startswith("Iteration 1 · the agent's changes · 2 files changed, +2 -1")
        files = screen.query_one("#diff-files", OptionList)
        rows = [str(files.get_option_at_index(i).prompt) for i in range(files.option_count)]
        assert rows == ["A added1.txt  +1 -0", "M state.txt  +1 -1"]
        assert "-bad" in view.lines and "diff --git a/state.txt b/state.txt" in view.lines
        # Choosing a file scrolls the diff to it.
        files.focus()
        await pilot.press("down")
        await pilot.pause()
        assert view.scroll_y == view.file_starts()[1] or view.max_scroll_y < view.file_starts()[1]
        await pilot.press("n")
        await wait_for(pilot, lambda: "+bad 2" in view.lines, "iteration 2's diff")
        assert "added2.txt" in str(
            screen.query_one("#diff-files", OptionList).get_option_at_index(0).prompt
        )
        await pilot.press("escape")
        assert app.screen is app.main


def test_diff_lines_are_coloured_by_kind() -> None:
    kinds = [
        line_kind(line)
        for line in (
            "diff --git a/x b/x",
            "index 1..2 100644",
            "--- a/x",
            "+++ b/x",
            "@@ -1 +1 @@",
            "-old",
            "+new",
            " same",
        )
    ]
    assert kinds == [
        "diff-view--file",
        "diff-view--meta",
        "diff-view--path",
        "diff-view--path",
        "diff-view--hunk",
        "diff-view--removed",
        "diff-view--added",
        "diff-view--context",
    ]


async def test_a_huge_diff_opens_fast_and_draws_only_what_shows() -> None:
    patch = "".join(
        f"diff --git a/f{i}.py b/f{i}.py\n@@ -1 +1 @@\n-old {i}\n+new {i}\n" for i in range(50_000)
    )
    app = ConsoleApp()
    async with app.run_test(size=(100, 30)) as pilot:
        view = DiffView()
        await app.screen.mount(view)
        started = time.perf_counter()
        view.set_patch(patch)
        await pilot.pause()
        assert time.perf_counter() - started < 1.0
        assert view.virtual_size.height == 200_000
        view.scroll_to_line(view.file_starts()[40_000])
        await pilot.pause()
        assert view.render_line(0).text.startswith("diff --git a/f40000.py")
        assert len(view._cache) < 200  # styled lines are the visible ones, not all


def test_the_timeline_forks_at_a_rewind() -> None:
    rows = [(1, "failed", False, None), (2, "failed", True, None), (3, "signal", False, 1)]
    rows += [(4, "failed", False, None), (5, "passed", False, None)]
    items = build_timeline(rows)  # type: ignore[arg-type]
    assert [i.abandoned for i in items] == [False, True, True, False, False]
    assert [i.parent for i in items] == [0, 1, 2, 1, 4]
    # A rewind after the newest iteration already abandons what it undid.
    assert [i.abandoned for i in build_timeline(rows[:3])] == [False, True, True]  # type: ignore[arg-type]
    # Rewinding to the start abandons everything before it.
    assert all(i.abandoned for i in build_timeline([(1, "failed", False, 0)]))  # type: ignore[list-item]
