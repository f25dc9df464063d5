"""Take-over in the console: $SHELL and $EDITOR in the workspace, watch mode, drive."""

from __future__ import annotations

import pytest
from textual.widgets import Input, TextArea

from tests.app.helpers import journal, of_type, wait_for
from tui.app.app import ConsoleApp
from tui.app.screens.file_pick import FilePickScreen, workspace_files
from tui.app.screens.text_edit import TextEditScreen
from tui.app.widgets.take_over_panel import TakeOverPanel
from tui.app.widgets.timeline import Timeline

SIZE = (110, 32)


def shown(app: ConsoleApp) -> list[str]:
    return [f"{n.title}: {n.message}" for n in app._notifications]


def prompts(runner) -> dict[int, str]:
    return {e.iteration: e.prompt for e in of_type(journal(runner), "iteration_started")}


async def test_shell_take_over_checkpoints_the_changes_for_the_next_prompt(
    steps_runner, suspendable, script, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The "shell" a person would type into: it edits a file in its folder and exits.
    monkeypatch.setenv("SHELL", script("fake-shell", 'printf "good\\n" > state.txt\n'))
    runner = steps_runner()
    app = ConsoleApp(runner)
    suspended: list[str] = []
    async with app.run_test(size=SIZE) as pilot:
        app.app_suspend_signal.subscribe(app, lambda _: suspended.append("suspend"), True)
        app.app_resume_signal.subscribe(app, lambda _: suspended.append("resume"), True)
        await wait_for(pilot, lambda: runner.status == "paused", "the step pause")
        await pilot.press("t")
        panel = app.main.query_one(TakeOverPanel)
        assert panel.display and app.main.taking_over
        assert runner.watching  # edits are listed while the human has the workspace
        await pilot.press("o")
        await wait_for(pilot, lambda: runner.human_changes, "the human checkpoint")
        assert suspended == ["suspend", "resume"]
        assert (runner.run_dir.workspace / "state.txt").read_text() == "good\n"
        await wait_for(pilot, lambda: any("modified state.txt" in n for n in shown(app)), "toast")
        # The timeline marks the iteration the engineer changed things after.
        await wait_for(pilot, lambda: "1✎" in str(app.main.query_one(Timeline).render()), "✎")
        await pilot.press("t")  # hand back
        await wait_for(pilot, lambda: not runner.watching, "watch mode to stop")
        assert not panel.display
        await pilot.press("s")
        await wait_for(pilot, lambda: runner.iteration == 2 and runner.status == "paused", "step")
    events = journal(runner)
    human = [e for e in of_type(events, "checkpointed") if e.kind == "human"]
    assert [f.path for f in human[0].files] == ["state.txt"]
    assert [e.changes for e in of_type(events, "handed_back")] == [["modified state.txt (+1 -1)"]]
    assert "modified state.txt (+1 -1)" in prompts(runner)[2]


async def test_editor_on_a_chosen_file(
    steps_runner, suspendable, script, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("VISUAL", raising=False)
    monkeypatch.setenv("EDITOR", script("fake-editor", 'printf "edited\\n" >> "$1"\n'))
    runner = steps_runner()
    app = ConsoleApp(runner)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: runner.status == "paused", "the step pause")
        await pilot.press("t", "e")
        assert isinstance(app.screen, FilePickScreen)
        assert "added1.txt" in app.screen.files and "state.txt" in app.screen.files
        await pilot.press(*"added")
        await pilot.press("enter")
        await wait_for(pilot, lambda: runner.human_changes, "the human checkpoint")
        assert runner.human_changes == ["modified added1.txt (+1 -1)"]
        assert app.screen is app.main
    assert (runner.run_dir.workspace / "added1.txt").read_text().endswith("edited\n")


async def test_watch_mode_lists_edits_and_rechecks_on_save(steps_runner) -> None:
    runner = steps_runner()
    app = ConsoleApp(runner)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: runner.status == "paused", "the step pause")
        await pilot.press("t", "w")
        panel = app.main.query_one(TakeOverPanel)
        assert panel.revalidate
        assert "re-run validators on save: on" in str(panel.query_one("#take-over-keys").render())
        await pilot.pause(0.3)  # the watcher is up
        (runner.run_dir.workspace / "state.txt").write_text("good\n")
        (runner.run_dir.workspace / "notes.md").write_text("try ceiling division\n")
        edited = panel.query_one("#take-over-edited")
        await wait_for(pilot, lambda: "notes.md" in str(edited.render()), "the edit listed")
        assert "state.txt" in str(edited.render())
        # Saved: the validators ran again and the fix passes, in the Validators pane.
        record = app.main.store.record(1)
        await wait_for(
            pilot,
            lambda: record.validators["check"].result and record.validators["check"].result.passed,
            "the re-check",
        )
        await pilot.press("t")
        await wait_for(
            pilot, lambda: not app.main.taking_over and runner.human_changes, "hand back"
        )
    assert sorted(runner.human_changes) == ["added notes.md (+1 -0)", "modified state.txt (+1 -1)"]


async def test_drive_writes_the_next_instruction(steps_runner) -> None:
    runner = steps_runner()
    app = ConsoleApp(runner)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: runner.status == "paused", "the step pause")
        await pilot.press("i")
        assert isinstance(app.screen, TextEditScreen)
        app.screen.query_one(TextArea).text = "Write good into state.txt and nothing else."
        await pilot.press("ctrl+s")
        await pilot.pause()
        state = str(app.main.query_one("#state-hints").render())
        assert "instruction: Write good into state.txt" in state
        await pilot.press("s")
        await wait_for(pilot, lambda: runner.iteration == 2 and runner.status == "paused", "step")
        assert app.main.store.instruction is None  # used once
    assert "Write good into state.txt and nothing else." in prompts(runner)[2]
    assert [e.text for e in of_type(journal(runner), "instruction_set")] == [
        "Write good into state.txt and nothing else."
    ]


async def test_take_over_while_running_waits_for_the_pause(steps_runner) -> None:
    # Slow enough that t lands inside iteration 1 on a loaded machine.
    runner = steps_runner(step=False, pace=1.0)
    app = ConsoleApp(runner)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.main.store.current >= 1, "iteration 1 to start")
        await pilot.press("t")
        # The engine owns the take-over: asked now, it starts once the loop pauses.
        await wait_for(pilot, lambda: app.main.taking_over, "the take-over once paused")
        assert runner.status == "paused" and runner.watching
        # Resuming hands back first (the engine does it), then the loop goes on.
        await pilot.press("space")
        await wait_for(pilot, lambda: runner.status in ("running", "validating"), "resume")
        await wait_for(pilot, lambda: not app.main.taking_over, "the hand-back")
        assert not runner.watching
        await pilot.press("x")
        await wait_for(pilot, lambda: runner.status == "finished", "stop")
    kinds = [e.type for e in journal(runner)]
    asked = next(
        i for i, e in enumerate(journal(runner)) if e.type == "control" and e.control == "take_over"
    )
    paused = kinds.index("paused", asked)
    # The iteration in flight when t was pressed ran to its decision before the pause.
    assert kinds.index("decision", asked) < paused < kinds.index("take_over_started")
    assert kinds.index("take_over_started") < kinds.index("handed_back") < kinds.index("resumed")


async def test_a_terminal_that_cannot_suspend_gets_one_sentence(steps_runner) -> None:
    runner = steps_runner()
    app = ConsoleApp(runner)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: runner.status == "paused", "the step pause")
        await pilot.press("t", "o")
        await wait_for(pilot, lambda: any("cannot hand over" in n for n in shown(app)), "error")
        assert app.main.taking_over  # still yours: edit from another terminal


def test_the_file_list_skips_tool_folders(tmp_path) -> None:
    (tmp_path / ".git").mkdir()
    (tmp_path / ".git" / "HEAD").write_text("x")
    (tmp_path / "__pycache__").mkdir()
    (tmp_path / "__pycache__" / "a.pyc").write_text("x")
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "a.py").write_text("x")
    (tmp_path / "b.txt").write_text("x")
    assert workspace_files(tmp_path) == ["b.txt", "src/a.py"]


async def test_file_pick_accepts_a_new_path(tmp_path) -> None:
    (tmp_path / "a.py").write_text("x")
    app = ConsoleApp()
    chosen: list[str | None] = []
    async with app.run_test(size=SIZE) as pilot:
        app.push_screen(FilePickScreen(tmp_path), chosen.append)
        await pilot.pause()
        app.screen.query_one(Input).value = "docs/new.md"
        await pilot.pause()
        await pilot.press("enter")
        await pilot.pause()
    assert chosen == ["docs/new.md"]
