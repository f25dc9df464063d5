"""The console's own behaviour: panes, timeline, help, keymap, themes, notifications."""

from __future__ import annotations

from pathlib import Path

from textual.command import CommandPalette
from textual.widgets import DataTable, Log, Markdown, OptionList

from tests.app import sample_events as sample
from tests.app.helpers import wait_for
from tui.app.app import ConsoleApp
from tui.app.config import load_config
from tui.app.screens.confirm import ConfirmScreen
from tui.app.screens.help import HelpScreen
from tui.app.widgets.iteration_block import IterationBlock
from tui.app.widgets.timeline import Timeline
from tui.app.widgets.tool_entry import ToolEntry
from tui.app.widgets.transcript import TranscriptPane
from tui.app.widgets.validators import ValidatorsPane
from tui.events import (
    AgentText,
    Notice,
    Paused,
    RunFinished,
    SpecReloaded,
    ToolCall,
    ToolInputDelta,
    ValidatorOutput,
    ValidatorStarted,
)

SIZE = (100, 30)


def transcript_text(app: ConsoleApp) -> str:
    pane = app.main.query_one(TranscriptPane)
    return "\n".join(md.source for md in pane.query(Markdown))


def notifications(app: ConsoleApp) -> list[str]:
    return [f"{n.title}: {n.message}" for n in app._notifications]


async def test_timeline_shows_an_earlier_iteration_then_follows_live_again(make_runner) -> None:
    runner = make_runner()
    app = ConsoleApp(runner)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: runner.status == "finished", "the run to finish", 30)
        await pilot.pause()
        pane = app.main.query_one(TranscriptPane)
        assert "Reordered the checks" in transcript_text(app)
        await pilot.press("l", "left")
        await pilot.pause()
        assert app.main.query_one(Timeline).selected == 1
        assert [b.number for b in pane.query(IterationBlock)] == [1]
        text = transcript_text(app)
        assert "I'll start by reading fizzbuzz.py" in text
        assert "Reordered the checks" not in text
        validators = app.main.query_one(ValidatorsPane)
        assert validators.iteration == 1
        log = "\n".join(str(line) for line in app.main.query_one(Log).lines)
        assert "FAILED" in log or "FAIL:" in log
        assert "failing:" in str(app.main.query_one("#validator-changes").render())
        await pilot.press("end")
        await pilot.pause()
        assert app.main.query_one(Timeline).selected is None
        assert [b.number for b in pane.query(IterationBlock)] == [2]
        assert "Reordered the checks" in transcript_text(app)
        assert validators.iteration == 2


async def test_timeline_click_and_glyphs() -> None:
    app = ConsoleApp(events=sample.over_budget())
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        timeline = app.main.query_one(Timeline)
        # Iteration 3 ended with the budget: a stop ("■"), by the one status rule.
        assert str(timeline.render()).split()[:3] == ["✗1", "✗2", "■3"]
        assert "l: pick an iteration" in str(timeline.render())  # the key to focus it
        await pilot.click(Timeline, offset=(2, 0))  # on "✗1"
        await pilot.pause()
        assert timeline.selected == 1
        assert app.main.query_one(ValidatorsPane).iteration == 1


async def test_validator_rows_choose_the_output_shown() -> None:
    app = ConsoleApp(events=sample.succeeded())
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        rows = app.main.query_one("#validator-rows", OptionList)
        assert rows.option_count == 2
        log = app.main.query_one(Log)
        assert any("6 passed" in str(line) for line in log.lines)
        rows.focus()
        await pilot.press("down")
        await pilot.pause()
        assert app.main.query_one(ValidatorsPane).chosen == "lint"
        assert [str(line) for line in log.lines][:1] == ["All checks passed!"]


async def test_a_pane_can_be_maximised_and_restored() -> None:
    app = ConsoleApp(events=sample.running())
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        app.main.query_one("#validator-rows").focus()
        await pilot.press("m")
        assert app.main.maximized is app.main.query_one(ValidatorsPane)
        assert app.main.query_one(ValidatorsPane).region.height == 24 - 1
        await pilot.press("m")
        assert app.main.maximized is None
        await pilot.press("tab")  # focus moves on; m maximises that pane instead
        await pilot.press("m")
        assert app.main.maximized is not None


async def test_help_lists_every_control_with_the_users_keys(config_home: Path) -> None:
    config_home.mkdir()
    (config_home / "config.toml").write_text('[keymap]\nstep = "n"\n')
    app = ConsoleApp(events=sample.running())
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        table = app.screen.query_one(DataTable)
        rows = {table.get_row_at(i)[2]: table.get_row_at(i)[0] for i in range(table.row_count)}
        for binding_id in ("pause", "resume", "step", "goal", "hint", "revalidate", "stop"):
            assert binding_id in rows
        assert rows["step"] == "n" and rows["goal"] == "g"
        # Every other screen's keys are listed too.
        for binding_id in ("log.close", "replay.next", "confirm.yes", "goal.toggle"):
            assert binding_id in rows
        await pilot.press("escape")
        assert app.screen is app.main


async def test_keymap_remaps_a_control(make_runner, config_home: Path) -> None:
    config_home.mkdir()
    (config_home / "config.toml").write_text('[keymap]\nstep = "n"\nbogus = "z"\n')
    runner = make_runner(start_paused=True)
    app = ConsoleApp(runner)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: runner.status == "paused", "the initial pause")
        await pilot.press("s")  # no longer bound
        await pilot.pause(0.3)
        assert runner.iteration == 0
        await pilot.press("n")
        await wait_for(pilot, lambda: runner.iteration == 1 and runner.status == "paused", "step")
        assert any("unknown binding id bogus" in n for n in notifications(app))


async def test_controls_are_in_the_command_palette(make_runner) -> None:
    runner = make_runner(start_paused=True)
    app = ConsoleApp(runner)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.main.store.status == "paused", "the initial pause")
        titles = [c.title for c in app.get_system_commands(app.main)]
        assert "Run one iteration, then pause" in titles
        assert "Edit the goal" in titles and "Resume the run" in titles
        assert "Pause after the current step" not in titles  # already paused
        await pilot.press("ctrl+p")
        assert isinstance(app.screen, CommandPalette)
        await pilot.press(*"run one iteration")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await wait_for(pilot, lambda: runner.iteration == 1 and runner.status == "paused", "step")


async def test_theme_from_the_palette_is_remembered(config_home: Path) -> None:
    app = ConsoleApp(events=sample.succeeded())
    async with app.run_test(size=SIZE) as pilot:
        assert app.theme == "dark"
        app.action_change_theme()
        await pilot.pause()
        await pilot.press(*"high-contrast")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await pilot.pause()
        assert app.theme == "high-contrast"
    assert load_config()[0].theme == "high-contrast"
    again = ConsoleApp(events=sample.succeeded())
    async with again.run_test(size=SIZE):
        assert again.theme == "high-contrast"
    # --theme wins over the remembered one for this run only.
    chosen = ConsoleApp(events=sample.succeeded(), theme="light")
    async with chosen.run_test(size=SIZE):
        assert chosen.theme == "light"
    assert load_config()[0].theme == "high-contrast"


async def test_a_bad_theme_file_gives_one_notification_and_a_fallback(config_home: Path) -> None:
    (config_home / "themes").mkdir(parents=True)
    (config_home / "themes" / "neon.toml").write_text('name = "neon"\nprimary = "glow"\n')
    (config_home / "config.toml").write_text('theme = "neon"\n')
    app = ConsoleApp(events=sample.succeeded())
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert app.theme == "dark"
        shown = notifications(app)
        assert len(shown) == 1  # the settings problem; the outcome is on the event strip
        assert "neon.toml" in shown[0] and "'neon' is not available" in shown[0]
        strip = str(app.main.query_one("#event-strip").strip_text())
        assert "goal met: every required validator passed" in strip
        assert "goal met: goal met" not in strip  # the outcome's words, said once


async def test_status_colours_come_from_the_theme() -> None:
    app = ConsoleApp(events=sample.succeeded(), theme="colorblind")
    async with app.run_test(size=SIZE):
        assert app.theme_variables["passed"] == "#56b4e9"
        assert app.theme_variables["failed"] == "#e69f00"
    builtin = ConsoleApp(events=sample.succeeded(), theme="nord")
    async with builtin.run_test(size=SIZE):
        assert builtin.theme_variables["passed"]  # defaults fill in for Textual's themes


async def test_run_events_go_to_the_event_log_not_toasts() -> None:
    app = ConsoleApp(events=sample.paused())
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert notifications(app) == []  # nothing covers the panes
        lines = [e.line for e in app.main.event_log.entries]
        assert any(line.startswith("signal same failure") for line in lines)
        # The decision to pause and the pause itself are one line.
        assert sum("thrash" in line and "pause" in line for line in lines) == 1
        assert "paused for a human" in str(app.main.query_one("#event-strip").strip_text())
    done = ConsoleApp(events=sample.over_budget())
    async with done.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert notifications(done) == []
        strip = str(done.main.query_one("#event-strip").strip_text())
        assert "budget exhausted: cost $0.21 reached the limit of $0.20" in strip


async def test_replay_without_controls_hides_them() -> None:
    app = ConsoleApp(events=sample.running())
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        ids = {b.binding.id for b in app.main.active_bindings.values()}
        assert "step" not in ids and "quit" in ids
        await pilot.press("q")
    assert app.return_value == 130  # no outcome yet: the run was interrupted


async def test_transcript_follows_the_tail_unless_the_user_scrolls_up() -> None:
    events = sample.running()
    app = ConsoleApp(events=events[:-3])
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        scroller = app.main.query_one("#transcript-scroll")

        def more(n: int) -> None:
            app.main.feed.extend(
                AgentText(text=f"\n\nparagraph {i}", iteration=2, run_id=sample.RUN_ID)
                for i in range(n)
            )

        more(30)
        await wait_for(pilot, lambda: scroller.max_scroll_y > 0, "the text to overflow")
        await wait_for(
            pilot, lambda: scroller.scroll_y == scroller.max_scroll_y, "the pane to follow the tail"
        )
        scroller.scroll_home(animate=False)
        await pilot.pause()
        more(5)
        await pilot.pause(0.2)
        assert scroller.scroll_y == 0  # the user is reading; leave them there
        scroller.scroll_end(animate=False)
        await pilot.pause()
        more(5)
        await wait_for(pilot, lambda: "paragraph 4" in transcript_text(app), "the new text")
        await wait_for(
            pilot, lambda: scroller.scroll_y == scroller.max_scroll_y, "the pane to follow again"
        )


async def test_before_the_first_iteration_the_panes_say_what_they_wait_for() -> None:
    app = ConsoleApp(events=sample.running()[:1] + [Paused(reason="started paused", by_human=True)])
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        waiting = str(app.main.query_one("#transcript-waiting").render())
        assert waiting.startswith("Paused before iteration 1")
        rows = app.main.query_one("#validator-rows", OptionList)
        assert [str(rows.get_option_at_index(i).prompt) for i in range(2)] == [
            "· tests  waiting",
            "· lint  waiting",
        ]
        assert notifications(app) == []  # --paused is the human's own choice


async def test_an_agent_error_is_one_line_not_a_traceback() -> None:
    events = sample.running()[:-4]
    message = "the API rejected the key (401): check ANTHROPIC_API_KEY"
    events += [
        Notice(level="error", message=message, iteration=2),
        RunFinished(outcome="error", reason=message, exit_code=1, iteration=2),
    ]
    app = ConsoleApp(events=events)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert notifications(app) == []
        assert [e.line for e in app.main.event_log.entries][-1] == f"run failed: {message}"
        assert sum(message in e.line for e in app.main.event_log.entries) == 1
        assert app.main.store.finished is not None
        await pilot.press("q")
    assert app.return_value == 1


async def test_a_flood_of_text_keeps_the_screen_small_and_the_store_whole() -> None:
    from tui.app.widgets.hidden_note import HiddenNote
    from tui.app.widgets.transcript import KEEP_TEXT_CHUNKS

    app = ConsoleApp(events=sample.running()[:-3])
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        paragraphs = [f"paragraph {i} " + "word " * 60 + "\n\n" for i in range(600)]
        app.main.feed.extend(
            AgentText(text=p, iteration=2, run_id=sample.RUN_ID) for p in paragraphs
        )
        pane = app.main.query_one(TranscriptPane)
        await wait_for(pilot, lambda: pane.idle and "paragraph 599" in transcript_text(app), "text")
        assert len(pane.query(Markdown)) <= KEEP_TEXT_CHUNKS + 1
        assert "earlier entries are not shown" in str(pane.query_one(HiddenNote).render())
        block = app.main.store.record(2).entries[0]
        assert block.text.count("paragraph ") == 600  # nothing lost
        assert "paragraph 0 " in block.text


async def test_a_flood_of_validator_output_keeps_the_tail() -> None:
    from tui.app.widgets.output_log import LOG_LINES

    app = ConsoleApp(events=sample.running())
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        feed = app.main.feed
        feed(ValidatorStarted(name="tests", command="pytest", iteration=2))
        for base in range(0, 20_000, 500):
            text = "".join(f"line {n}\n" for n in range(base, base + 500))
            feed(ValidatorOutput(name="tests", text=text, iteration=2))
        log = app.main.query_one(Log)
        await wait_for(pilot, lambda: any("line 19999" in str(x) for x in log.lines[-3:]), "tail")
        assert log.line_count <= LOG_LINES + 1
        assert app.main.store.record(2).validators["tests"].output.count("\n") == 20_000


async def test_tool_input_streams_into_the_pending_entry() -> None:
    app = ConsoleApp(events=sample.running())
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        pane = app.main.query_one(TranscriptPane)
        name = "str_replace_based_edit_tool"
        for part in ('{"command": "create", ', '"path": "fizzbuzz.py", ', '"file_text": "def'):
            app.main.feed(ToolInputDelta(call_id="t9", name=name, text=part, iteration=2))

        def entries() -> list[ToolEntry]:
            return [e for e in pane.query(ToolEntry) if e.call.call_id == "t9"]

        await wait_for(pilot, lambda: pane.idle and entries(), "the pending entry")
        (entry,) = entries()
        assert str(entry.title) == f"{name}: writing its input… 62 chars"
        assert entry.has_class("-pending")
        call = ToolCall(
            call_id="t9",
            name=name,
            input={"command": "create", "path": "fizzbuzz.py", "file_text": "def f(): ..."},
            iteration=2,
        )
        app.main.feed(call)
        await wait_for(pilot, lambda: str(entry.title) == "create fizzbuzz.py", "the full call")
        assert entries() == [entry]  # completed in place, not a second entry
        # Expanded, it shows the input (written in only now: most entries stay closed).
        assert str(entry.query_one(".tool-input").render()) == ""
        entry.collapsed = False
        await pilot.pause()
        assert str(entry.query_one(".tool-input").render()) == "file_text: def f(): ..."
        bash = next(e for e in pane.query(ToolEntry) if e.call.name == "bash" and e.result)
        bash.collapsed = False
        await pilot.pause()
        assert str(bash.query_one(".tool-input").render()) == "$ pytest -q"
        assert "1 failed, 5 passed" in str(bash.query_one(".tool-output").render())


async def test_a_spec_reload_is_announced() -> None:
    app = ConsoleApp(events=sample.running())
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        app.main.feed(SpecReloaded(changed=["goal", "budget"], iteration=2))
        await pilot.pause()
        strip = str(app.main.query_one("#event-strip").strip_text())
        assert "loop.toml changed: goal, budget apply from the next iteration" in strip


async def test_a_dialog_keeps_its_own_size_after_another_was_shown() -> None:
    # Each dialog's stylesheet styles #dialog; a screen's CSS is the whole app's, so
    # unscoped rules of one dialog (the confirm dialog's 60 columns) narrowed the next.
    app = ConsoleApp(events=sample.running())
    async with app.run_test(size=(140, 40)) as pilot:
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        wide = app.screen.query_one("#dialog").outer_size.width
        await pilot.press("escape")
        app.push_screen(ConfirmScreen("Sure?", "A question.", "Yes"))
        await pilot.pause()
        assert app.screen.query_one("#dialog").outer_size.width == 60
        await pilot.press("escape")
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        assert app.screen.query_one("#dialog").outer_size.width == wide == 110
