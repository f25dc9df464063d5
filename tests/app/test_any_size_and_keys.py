"""The console at any terminal size, the transcript as it happened, keys and settings."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import DataTable

from tests.app import sample_events as sample
from tests.app.helpers import wait_for
from tui.app.app import ConsoleApp
from tui.app.config import load_config
from tui.app.screens.help import HelpScreen
from tui.app.widgets.iteration_block import RawText
from tui.app.widgets.transcript import KEEP_BLOCKS
from tui.events import (
    AgentFinished,
    AgentText,
    Decided,
    IterationStarted,
    Paused,
    RunStarted,
)

SMALL = (80, 24)


def header(app: ConsoleApp) -> str:
    return str(app.main.query_one("#header").render())


async def test_below_100_columns_one_pane_at_a_time_and_keys_jump() -> None:
    app = ConsoleApp(events=sample.paused())
    async with app.run_test(size=SMALL) as pilot:
        await pilot.pause()
        main = app.main
        assert main.has_class("-narrow")
        shown = [p.id for p in main.query("Pane") if p.display and p.region.width]
        assert shown == ["transcript"]
        assert main.query_one("#transcript").region.width == 80
        await pilot.press("2")
        shown = [p.id for p in main.query("Pane") if p.region.width]
        assert shown == ["validators"]
        tabs = str(main.query_one("#pane-tabs").render())
        assert "2 Validators ✗" in tabs and "3 State !" in tabs
        await pilot.press("4")
        assert [p.id for p in main.query("Pane") if p.region.width] == ["budget"]
        await pilot.resize_terminal(160, 48)
        await pilot.pause()
        assert not main.has_class("-narrow")
        assert len([p for p in main.query("Pane") if p.region.width]) == 4


async def test_the_status_comes_before_the_run_id_at_60_columns() -> None:
    app = ConsoleApp(events=sample.paused())
    async with app.run_test(size=(60, 24)) as pilot:
        await pilot.pause()
        line = app.main.query_one("#header").render_line(0).text
        assert line.strip().startswith("PAUSED")


async def test_a_long_goal_is_folded_until_expanded() -> None:
    events = sample.running()
    goal = "\n".join(f"Requirement {i}: do the thing number {i}." for i in range(12))
    for event in events:
        if isinstance(event, IterationStarted | RunStarted):
            event.goal = goal
    app = ConsoleApp(events=events)
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.pause()
        goal = app.main.query_one("#state-goal")
        text = str(goal.render())
        assert "Requirement 2" in text and "Requirement 5" not in text and "more lines" in text
        goal.focus()
        await pilot.press("enter")
        assert "Requirement 11" in str(goal.render())


async def test_help_reads_at_80_columns() -> None:
    app = ConsoleApp(events=sample.running())
    async with app.run_test(size=SMALL) as pilot:
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        table = app.screen.query_one(DataTable)
        await pilot.pause()
        # The description column starts inside the screen.
        widths = [c.get_render_width(table) for c in table.columns.values()]
        assert sum(widths) <= 80 - 4  # every column inside the dialog, none cut off


async def test_a_text_agent_is_shown_verbatim() -> None:
    lines = "# running: pytest -q\n__init__ and __main__\n- a diff line\n+ another\n<html>\n"
    events = sample.running()[:4] + [
        AgentText(text=line + "\n", kind="plain", iteration=1, run_id=sample.RUN_ID)
        for line in lines.splitlines()
    ]
    events.append(
        AgentFinished(stop="exit 0", turns=0, tool_calls=0, iteration=1, run_id=sample.RUN_ID)
    )
    app = ConsoleApp(events=events)
    async with app.run_test(size=(160, 48)) as pilot:
        await wait_for(pilot, lambda: app.main.query(RawText), "the agent's output")
        await wait_for(
            pilot,
            lambda: any("agent finished" in str(n.render()) for n in app.main.query(".note")),
            "the agent's last line",
        )
        (raw,) = app.main.query(RawText)
        assert str(raw.render()) == lines.rstrip("\n")
        notes = [str(n.render()) for n in app.main.query(".note")]
        assert "agent finished (exit 0)" in notes
        assert not any("0 turns" in n or "0 tool calls" in n for n in notes)


async def test_a_budget_stop_is_not_coloured_as_success_and_hidden_iterations_are_said() -> None:
    events = sample.running()[:1]
    for n in range(1, KEEP_BLOCKS + 3):
        events += [
            IterationStarted(goal="g", prompt=f"p{n}", iteration=n, run_id=sample.RUN_ID),
            AgentText(text=f"working on {n}", iteration=n, run_id=sample.RUN_ID),
            Decided(action="continue", reason="1 failing", iteration=n, run_id=sample.RUN_ID),
        ]
    events[-1] = Decided(
        action="stop", outcome="budget", reason="cost limit", iteration=KEEP_BLOCKS + 2
    )
    app = ConsoleApp(events=events)
    async with app.run_test(size=(160, 48)) as pilot:

        def stop_note() -> list:
            return [n for n in app.main.query(".note") if "decision: stop" in str(n.render())]

        stop = await wait_for(pilot, stop_note, "the stop decision's line")
        assert stop[0].has_class("-not-met")
        older = app.main.query_one("#transcript-older")
        assert older.display and "2 older iterations are hidden" in str(older.render())


async def test_a_keymap_clash_is_reported_naming_both(config_home: Path) -> None:
    config_home.mkdir()
    (config_home / "config.toml").write_text('[keymap]\nstop = "q"\n')
    app = ConsoleApp(events=sample.running())
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.pause()
        said = " ".join(n.message for n in app._notifications)
        assert "'q' is bound to both quit and stop" in said


async def test_messages_name_the_keys_actually_bound(config_home: Path) -> None:
    config_home.mkdir()
    (config_home / "config.toml").write_text('[keymap]\nresume = "p"\nstep = "n"\n')
    events = sample.running()[:1] + [Paused(reason="started paused", by_human=True)]
    app = ConsoleApp(events=events)
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.pause()
        waiting = str(app.main.query_one("#transcript-waiting").render())
        assert "p runs the loop, n steps one iteration" in waiting


async def test_choosing_a_theme_keeps_the_rest_of_config_toml(config_home: Path) -> None:
    config_home.mkdir()
    text = '# my console\ntheme = "dark"   # the usual\n\n[keymap]\n# vim-ish\nstep = "n"\n'
    (config_home / "config.toml").write_text(text)
    app = ConsoleApp(events=sample.succeeded())
    async with app.run_test(size=(160, 48)) as pilot:
        app.theme = "light"
        await pilot.pause()
    assert (config_home / "config.toml").read_text() == text.replace('"dark"', '"light"')
    assert load_config()[0].keymap == {"step": "n"}


async def test_the_palette_reads_as_words_with_one_quit() -> None:
    app = ConsoleApp(events=sample.paused())
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.pause()
        commands = list(app.get_system_commands(app.main))
        titles = [c.title for c in commands]
        helps = " ".join(c.help for c in commands)
        assert sum(t.lower().startswith("quit") for t in titles) == 1
        assert "exclamation_mark" not in helps and "question_mark" not in helps


async def test_the_screenshot_is_saved_where_it_says(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path / "home"))  # no Downloads folder
    monkeypatch.setenv("XDG_DOWNLOAD_DIR", str(tmp_path / "home" / "Downloads"))
    monkeypatch.chdir(tmp_path)
    app = ConsoleApp(events=sample.succeeded())
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.pause()
        saved = app.deliver_screenshot()
        await pilot.pause()
        assert saved is not None and Path(saved).is_file()
        assert Path(saved).parent == tmp_path
        assert any(saved in n.message for n in app._notifications)
