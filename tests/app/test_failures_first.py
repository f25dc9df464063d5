"""The validators pane puts failures first: capped output's tail, a failures list,
folded long lines, no loopconsole internals; re-runs update everything."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import OptionList

from tests.app import sample_events as sample
from tests.app.helpers import journal, of_type, wait_for
from tests.loops import write_loop
from tui.app.app import ConsoleApp
from tui.app.failures import parse_failures
from tui.app.widgets.output_log import OutputLog
from tui.engine.rundir import create_run
from tui.engine.runner import Runner
from tui.engine.validators import run_validator
from tui.events import Event, ValidatorFinished, ValidatorOutput, ValidatorStarted
from tui.spec import ValidatorSpec, load_spec

SMALL = (80, 24)

# 5,000 tests, three of which fail; -v prints a line per test, so the output
# is far past the validator's output cap.
SUITE = """
import pytest

@pytest.mark.parametrize("n", range(4997))
def test_many(n):
    assert n >= 0

def test_total():
    have = 3
    assert have == 33, "have %d" % have

def test_name():
    assert "slug" == "sl ug"

class TestParse:
    def test_empty(self):
        assert [] == [None]
"""


async def big_suite_events(tmp_path: Path) -> list[Event]:
    """A real pytest run of 5,000 tests with three failures, through the real validator."""
    ws = tmp_path / "suite"
    ws.mkdir()
    (ws / "test_big.py").write_text(SUITE)
    spec = ValidatorSpec(name="tests", run="python -m pytest -v -p no:cacheprovider", timeout_s=120)
    events: list[Event] = []
    await run_validator(spec, ws, events.append)
    for event in events:
        event.iteration = 2
        event.run_id = sample.RUN_ID
    return events


def log_text(app: ConsoleApp) -> str:
    return "\n".join(app.main.query_one(OutputLog).lines)


async def test_capped_output_shows_its_tail_and_lists_the_failures(tmp_path: Path) -> None:
    events = await big_suite_events(tmp_path)
    (finished,) = [e for e in events if isinstance(e, ValidatorFinished)]
    assert finished.result.output_truncated_bytes > 0  # the output was capped
    assert len(finished.result.failing_ids) == 3
    streamed = "".join(e.text for e in events if isinstance(e, ValidatorOutput))
    assert "FAILURES" not in streamed  # the stream stopped at the cap

    app = ConsoleApp(events=sample.running()[:-3] + events)
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.pause()
        text = log_text(app)
        # The tail after the cut marker: pytest's failures and its summary.
        assert "cut from the middle" in text
        assert "short test summary info" in text and "3 failed, 4997 passed" in text
        # No loopconsole internals: the injected JUnit report's path is not shown.
        assert "loopconsole-junit" not in text and "generated xml file" not in text
        failures = app.main.query_one("#validator-failures", OptionList)
        assert failures.display and failures.option_count == 3
        rows = [str(failures.get_option_at_index(i).prompt) for i in range(3)]
        assert "test_total" in rows[0] and "AssertionError: have 3" in rows[0]
        assert ">       assert have == 33" in rows[0]  # the head of its traceback
        assert "test_empty" in rows[2] and "assert [] == [None]" in rows[2]
        # Moved through with the keyboard; enter scrolls the output to the failure.
        failures.focus()
        await pilot.pause()
        await pilot.press("down", "enter")
        assert failures.highlighted == 1
        log = app.main.query_one(OutputLog)
        top = int(log.scroll_y)
        assert any("test_name" in ln for ln in log.lines[top : top + log.size.height])


async def test_long_lines_fold_instead_of_being_cut(tmp_path: Path) -> None:
    line = "E   AssertionError: " + "x" * 70 + " have 33"
    events = sample.running()[:-3] + [
        ValidatorStarted(name="tests", command="pytest", iteration=2, run_id=sample.RUN_ID),
        ValidatorOutput(name="tests", text=line + "\n", iteration=2, run_id=sample.RUN_ID),
    ]
    app = ConsoleApp(events=events)
    async with app.run_test(size=SMALL) as pilot:
        await pilot.press("2")  # the validators pane, alone at 80 columns
        await pilot.pause()
        log = app.main.query_one(OutputLog)
        width = log.scrollable_content_region.width
        shown = [ln for ln in log.lines if ln]
        assert all(len(ln) <= width for ln in shown)
        assert shown[-1].startswith("↪ ") and shown[-1].endswith("have 33")


def test_failures_are_read_from_pytest_sections_and_its_summary() -> None:
    output = (
        "=== FAILURES ===\n"
        "___ TestC.test_p[1] ___\n\n    def test_p(self, n):\n>       assert n == 2\n"
        "E       assert 1 == 2\n\nt.py:9: AssertionError\n"
        "=== short test summary info ===\nFAILED t.py::test_gone - ValueError: boom\n"
    )
    found = parse_failures(output, ["t.py::TestC::test_p[1]", "t.py::test_gone"])
    assert (found[0].assertion, found[0].location) == ("assert 1 == 2", "t.py:9")
    assert found[0].traceback[-1] == ">       assert n == 2"
    assert found[1].assertion == "ValueError: boom" and found[1].line is None


async def test_a_rerun_updates_state_chart_and_header_and_offers_to_finish(
    tmp_path: Path,
) -> None:
    spec = load_spec(
        write_loop(
            tmp_path / "loop",
            script="pace_s = 0\n[[iteration]]\n[[iteration]]\n",
            files={"state.txt": "bad\n", "more.txt": "x\n"},
            extra='[thrash]\naction = "ignore"',
            validators="""
            [[validators]]
            name = "check"
            run = "grep -q good state.txt"
            timeout_s = 10
            """,
        )
    )
    runner = Runner(spec, create_run(spec, run_dir=tmp_path / "run"), step=True)
    app = ConsoleApp(runner)
    async with app.run_test(size=(160, 48)) as pilot:
        store = app.main.store
        await wait_for(pilot, lambda: store.status == "paused", "the pause after iteration 1")
        assert store.passing_history() == [(1, 0, 1)]
        assert "f" not in {b.binding.key for b in app.main.active_bindings.values() if b.enabled}
        (runner.run_dir.workspace / "state.txt").write_text("good\n")
        await pilot.press("r")
        await wait_for(pilot, lambda: store.goal_met_now(), "the re-run to pass")
        await pilot.pause()
        # The chart, the header and the State pane show the re-run's results.
        assert store.passing_history() == [(1, 1, 1)]
        assert "1/1 checks" in str(app.main.query_one("#header").render())
        state = str(app.main.query_one("#state-decision").render())
        assert "re-run of iteration 1: 1/1 checks passing" in state
        # The row is labelled a re-run; the change is against the result it replaced.
        rows = app.main.query_one("#validator-rows", OptionList)
        assert "(re-run)" in str(rows.get_option_at_index(0).prompt)
        changes = str(app.main.query_one("#validator-changes").render())
        assert "now passing (vs before the re-run of iteration 1)" in changes
        # The console offers to finish with the goal met, on the strip and the footer.
        strip = app.main.query_one("#event-strip").strip_text()
        assert "f finishes the run with the goal met" in strip
        await pilot.press("f")
        await wait_for(pilot, lambda: runner.status == "finished", "the run to finish")
    (finished,) = of_type(journal(runner), "run_finished")
    assert finished.outcome == "goal_met" and finished.budget.iterations == 1
    assert app.return_value is None or app.exit_code_for(app.main.store) == 0


async def test_resume_with_passing_results_offers_to_finish(tmp_path: Path) -> None:
    from tui.engine.resume import load_resume_state, prepare_workspace
    from tui.engine.rundir import open_run

    spec = load_spec(
        write_loop(
            tmp_path / "loop",
            script="pace_s = 0\n[[iteration]]\n[[iteration]]\n",
            extra='[thrash]\naction = "ignore"',
        )
    )
    first = Runner(spec, create_run(spec, run_dir=tmp_path / "run"), step=True, interactive=False)
    await first.run()  # paused after iteration 1 (headless: exit 3)
    (first.run_dir.workspace / "state.txt").write_text("good\n")
    await first_revalidated(tmp_path / "run", spec)
    state = load_resume_state(tmp_path / "run")
    run = open_run(state.run_dir, state.spec)
    runner = Runner(state.spec, run, resume=state, prep=prepare_workspace(state, run.workspace))
    app = ConsoleApp(runner)
    async with app.run_test(size=(160, 48)) as pilot:
        store = app.main.store
        await wait_for(pilot, lambda: store.status == "paused", "the offer to finish")
        assert store.goal_met_now() and store.current == 0
        await pilot.press("f")
        await wait_for(pilot, lambda: runner.status == "finished", "the run to finish")
    (finished,) = of_type(journal(runner), "run_finished")[-1:]
    assert finished.outcome == "goal_met"
    assert finished.budget.iterations == 1  # no agent iteration was spent


async def first_revalidated(run_dir: Path, spec) -> None:
    """Re-run the validators into the stopped run's journal (as `r` would have)."""
    from tui.engine.resume import load_resume_state
    from tui.engine.rundir import open_run

    state = load_resume_state(run_dir)
    runner = Runner(
        state.spec, open_run(state.run_dir, state.spec), resume=state, start_paused=True
    )
    runner.state.status = "paused"  # the rule: re-run only while paused
    await runner.revalidate()


def test_unittest_failures_are_read_too() -> None:
    output = (
        "F.\n"
        + "=" * 70
        + "\nFAIL: test_no_items (test_pages.TestPages.test_no_items)\n"
        + "-" * 70
        + "\nTraceback (most recent call last):\n"
        '  File "/w/tests/test_pages.py", line 17, in test_no_items\n'
        "    self.assertEqual(page_count(0, 5), 0)\nAssertionError: 1 != 0\n\n"
        + "-" * 70
        + "\nRan 2 tests in 0.001s\n\nFAILED (failures=1)\n"
    )
    (found,) = parse_failures(output, ["test_pages.TestPages.test_no_items"])
    assert (found.assertion, found.location) == ("AssertionError: 1 != 0", "test_pages.py:17")
    assert found.traceback == ["self.assertEqual(page_count(0, 5), 0)"]
