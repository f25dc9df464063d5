"""Thrash signals in the console: marked, listed, explained with evidence, dismissed."""

from __future__ import annotations

from textual.widgets import OptionList

from tests.app.helpers import journal, of_type, wait_for
from tui.app.app import ConsoleApp
from tui.app.evidence import evidence_view
from tui.app.screens.signal import SignalScreen
from tui.app.widgets.diff_view import DiffView
from tui.app.widgets.state import plateau_length, progress_chart
from tui.app.widgets.timeline import Timeline
from tui.events import SignalRaised

SIZE = (120, 36)


async def test_oscillation_is_explained_dismissed_switched_off_and_resumed(thrash_runner) -> None:
    runner = thrash_runner()
    app = ConsoleApp(runner)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: runner.status == "paused", "the oscillation pause", 30)
        store = app.main.store
        await wait_for(pilot, lambda: store.status == "paused", "the console to catch up")
        assert [s.kind for s in store.signals] == ["oscillation"]
        # No toast covers the panes: the signal and the pause are lines of the event log.
        assert not app._notifications
        lines = [e.line for e in app.main.event_log.entries]
        assert any(
            line.startswith("signal oscillation: iteration 3 put the workspace back")
            for line in lines
        )
        strip = str(app.main.query_one("#event-strip").strip_text())
        assert "paused for a human" in strip and "! why" in strip
        assert "!3" in str(app.main.query_one(Timeline).render())
        rows = app.main.query_one("#state-signals", OptionList)
        assert rows.display and "oscillation" in str(rows.get_option_at_index(0).prompt)
        # The plateau shows on the passing chart.
        assert "flat for 2 iterations" in str(app.main.query_one("#state-progress").render())
        # Enter on the timeline: the signal of that iteration, or the diff of one without.
        await pilot.press("l", "enter")
        assert isinstance(app.screen, SignalScreen) and app.screen.signal.kind == "oscillation"
        await pilot.press("escape", "left", "enter")
        assert type(app.screen).__name__ == "DiffScreen"
        await pilot.press("escape", "end")

        await pilot.press("exclamation_mark")
        assert isinstance(app.screen, SignalScreen)
        screen = app.screen
        facts = str(screen.query_one("#signal-facts").render())
        assert "iteration 3 left the workspace exactly as it was after iteration 1" in facts
        views = list(screen.query(DiffView))
        assert [v.parent.border_title for v in views] == [
            "iteration 1 → 2 · 3/5 passing",
            "iteration 2 → 3 · 3/5 passing",
        ]
        # Side by side: one fix, then its undoing, from the run's checkpoints.
        await wait_for(pilot, lambda: any(ln.startswith("index ") for ln in views[0].lines), "diff")
        assert "-    return total // per_page + 1" in views[0].lines
        assert "+    return round(total / per_page)" in views[0].lines
        assert "-    return round(total / per_page)" in views[1].lines
        assert "+    return total // per_page + 1" in views[1].lines

        await pilot.press("d")
        await wait_for(pilot, lambda: of_type(journal(runner), "signal_dismissed"), "dismissal")
        assert "dismissed" in str(screen.query_one("#signal-state").render())
        await pilot.press("o")
        await wait_for(
            pilot, lambda: len(of_type(journal(runner), "signal_dismissed")) == 2, "kind off"
        )
        assert runner.thrash.disabled == frozenset({"oscillation"})
        await pilot.press("escape")
        await pilot.pause()
        assert store.signal_state(store.signals[0]) == "kind off"
        assert "(kind off)" in str(rows.get_option_at_index(0).prompt)
        # Enter on the signal in the State pane opens the explanation again.
        rows.focus()
        await pilot.press("enter")
        assert isinstance(app.screen, SignalScreen)
        await pilot.press("space")  # resume from there
        await wait_for(pilot, lambda: runner.status == "finished", "the run to finish", 30)
    dismissed = of_type(journal(runner), "signal_dismissed")
    assert [(d.kind, d.whole_kind) for d in dismissed] == [
        ("oscillation", False),
        ("oscillation", True),
    ]
    assert dismissed[0].key.startswith("oscillation:")
    assert of_type(journal(runner), "run_finished")[0].outcome == "goal_met"


def _signal(kind: str, evidence: dict, iterations: list[int] | None = None) -> SignalRaised:
    return SignalRaised(
        kind=kind,
        iteration=(iterations or [4])[-1],
        iterations=iterations or [2, 3, 4],
        explanation=f"why {kind}",
        evidence={"key": f"{kind}:x", **evidence},
    )


def test_evidence_of_each_kind_is_laid_out_side_by_side() -> None:
    same = evidence_view(
        _signal(
            "same_failure",
            {
                "failure": "tests: test_a: AssertionError: 1 != 2",
                "failures": [
                    {
                        "validator": "tests",
                        "check_ids": ["t.py::test_a"],
                        "error_type": "AssertionError",
                        "message": "1 != 2",
                    }
                ],
                "failure_text": "[tests] FAIL: test_a\nAssertionError: 1 != 2",
                "unchanged": True,
            },
        )
    )
    assert same.title == "same failure: the same failure again · iterations 2–4"
    assert "the workspace did not change in between" in same.facts
    assert [c.title for c in same.columns] == [
        "what repeats (3 times, normalised)",
        "the failure as printed (iteration 4)",
    ]
    assert "check     t.py::test_a" in same.columns[0].text
    assert same.columns[1].text.endswith("AssertionError: 1 != 2")

    undone = evidence_view(
        _signal(
            "edit_undone",
            {
                "undone_iteration": 2,
                "paths": ["pages.py"],
                "reverted": [
                    {"change": "--- pages.py\n-a\n+b", "undone_by": "--- pages.py\n-b\n+a"}
                ],
                "failure": "tests: x",
            },
            [2, 4],
        )
    )
    assert [c.kind for c in undone.columns] == ["diff", "diff"]
    assert undone.columns[0].text == "--- pages.py\n-a\n+b"
    assert undone.columns[1].title == "iteration 4 undid it"

    plateau = evidence_view(
        _signal(
            "no_progress",
            {
                "reason": "plateau",
                "since_iteration": 1,
                "best_passing": 3,
                "passing": [{"iteration": i, "passing": 3, "total": 5} for i in (1, 2, 3, 4)],
                "failures": [{"failure": "tests: a", "iterations": [2, 4]}],
            },
        )
    )
    assert plateau.columns[0].text.splitlines()[0] == "   1  ████████████         3/5"
    assert "iterations 2 and 4:\n  tests: a" in plateau.columns[1].text

    repeated = evidence_view(
        _signal(
            "repeated_actions",
            {
                "call": {"name": "bash", "input": {"command": "pytest -q"}},
                "count": 3,
                "scope": "run",
            },
        )
    )
    assert repeated.facts == ["the same bash 3 times in the run"]
    assert '"command": "pytest -q"' in repeated.columns[0].text

    done = evidence_view(_signal("false_done", {"said": "All done!", "failure": "tests: a"}))
    assert [c.text for c in done.columns] == ["All done!", "tests: a"]

    odd = evidence_view(_signal("new_kind", {"x": 1}))
    assert odd.columns[0].text == '{\n  "x": 1\n}'


def test_the_passing_chart_marks_the_plateau() -> None:
    rising = [(1, 1, 5), (2, 3, 5), (3, 4, 5)]
    assert plateau_length(rising) == 0
    flat = [(1, 1, 5), (2, 3, 5), (3, 3, 5), (4, 2, 5), (5, 3, 5)]
    assert plateau_length(flat) == 3
    chart = progress_chart(flat)
    assert chart.plain == "▂▅▅▄▅"
    # The last three bars (no gain on the best) are in the signal colour.
    styles = [(span.start, span.end, str(span.style)) for span in chart.spans]
    assert styles == [(0, 2, "$passed"), (2, 5, "$signal")]
    assert plateau_length([(1, 5, 5), (2, 5, 5)]) == 0  # all passing: no plateau


async def test_space_on_the_signal_screen_during_a_take_over_hands_back_first(
    thrash_runner,
) -> None:
    runner = thrash_runner()
    app = ConsoleApp(runner)
    async with app.run_test(size=SIZE) as pilot:
        store = app.main.store
        await wait_for(pilot, lambda: store.status == "paused", "the oscillation pause", 30)
        await pilot.press("t")
        await wait_for(pilot, lambda: app.main.taking_over, "the take-over")
        (runner.run_dir.workspace / "human.txt").write_text("fixed by hand\n")
        await pilot.press("exclamation_mark")
        assert isinstance(app.screen, SignalScreen)
        await pilot.press("space")  # resume from the signal screen, still taking over
        await wait_for(pilot, lambda: not app.main.taking_over, "the hand-back")
        await wait_for(pilot, lambda: store.status != "paused", "the resume")
        await pilot.press("x")
        await wait_for(pilot, lambda: runner.status == "finished", "the stop", 30)
    kinds = [e.type for e in journal(runner)]
    handed = kinds.index("handed_back")
    assert kinds.index("take_over_started") < handed < kinds.index("resumed", handed)
    back = of_type(journal(runner), "handed_back")[0]
    assert back.changes == ["added human.txt (+1 -0)"]
