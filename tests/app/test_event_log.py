"""Run events go to a one-line strip and an openable log, never to toasts over the panes."""

from __future__ import annotations

from tests.app import sample_events as sample
from tests.app.helpers import wait_for
from tui.app.app import ConsoleApp
from tui.app.event_log import EventLog
from tui.app.screens.event_log import EventLogScreen
from tui.app.screens.signal import SignalScreen
from tui.app.store import RunStore
from tui.events import ControlApplied, Decided, RunFinished, SignalRaised

SMALL = (80, 24)


def strip(app: ConsoleApp) -> str:
    return app.main.query_one("#event-strip").strip_text()


async def test_a_thrash_pause_at_80x24_covers_nothing(thrash_runner) -> None:
    runner = thrash_runner()
    app = ConsoleApp(runner)
    async with app.run_test(size=SMALL) as pilot:
        await wait_for(pilot, lambda: app.main.store.status == "paused", "the thrash pause", 30)
        await pilot.pause()
        assert not app._notifications  # no toast over the Budget pane or the footer
        assert "paused for a human" in strip(app)
        # The footer puts ! first when the run is paused on a signal.
        footer_keys = [k.key for k in app.main.query("FooterKey")]
        assert footer_keys[0] == "exclamation_mark"
        # The log opens; enter on the signal's line explains it.
        await pilot.press("v")
        assert isinstance(app.screen, EventLogScreen)
        entries = app.screen.event_log.entries
        index = next(i for i, e in enumerate(entries) if e.signal is not None)
        listing = app.screen.query_one("#log-entries")
        listing.highlighted = index
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, SignalScreen) and app.screen.signal.kind == "oscillation"


def test_repeats_fold_and_ignored_signals_are_logged_not_announced() -> None:
    log, store = EventLog(), RunStore()
    for n in range(1, 8):
        decided = Decided(action="continue", reason="same failure", iteration=n)
        store.apply(decided)
        log.add(decided, store)
    (folded,) = log.entries  # seven decisions, one line
    assert (folded.line, folded.iterations) == ("continue — same failure ×7", "it 1–7")
    quiet = SignalRaised(kind="no_progress", explanation="flat", action="ignore", iteration=8)
    store.apply(quiet)
    before = log.latest
    log.add(quiet, store)
    assert log.entries[-1].text.startswith("signal no progress") and log.latest is before


def test_the_same_line_folds_with_a_count() -> None:
    log, store = EventLog(), RunStore()
    for n in range(7):
        signal = SignalRaised(kind="same_failure", explanation="same failure", iteration=n + 1)
        store.apply(signal)
        log.add(signal, store)
    assert [e.line for e in log.entries] == ["signal same failure: same failure ×7"]


def test_one_stop_is_one_line() -> None:
    log, store = EventLog(), RunStore()
    for event in (
        ControlApplied(control="stop"),
        Decided(action="continue", reason="1 failing", iteration=3),
        RunFinished(outcome="stopped", reason="stopped by the human", exit_code=1, iteration=3),
    ):
        store.apply(event)
        log.add(event, store)
    lines = [e.line for e in log.entries]
    assert sum("stop" in line for line in lines) == 1, lines
    assert lines[-1] == "run stopped: stopped by the human"


async def test_one_rewind_is_one_line_and_leaves_a_transcript_line(steps_runner) -> None:
    runner = steps_runner()
    app = ConsoleApp(runner)
    async with app.run_test(size=(160, 48)) as pilot:
        store = app.main.store
        await wait_for(pilot, lambda: store.status == "paused", "the pause after iteration 1")
        await pilot.press("s")
        await wait_for(pilot, lambda: store.current == 2 and store.status == "paused", "iter 2")
        await pilot.press("z", "z", "y")  # pick one back, confirm
        await wait_for(pilot, lambda: store.rewound_to == 1, "the rewind")
        await pilot.pause(0.3)
        lines = [e.line for e in app.main.event_log.entries]
        assert sum("rewound" in line or "rewinding" in line for line in lines) == 1, lines
        # Header, State and transcript say where the next iteration starts from.
        assert "next iteration starts from iteration 1" in str(
            app.main.query_one("#header").render()
        )
        assert "rewound" in str(app.main.query_one("#state-decision").render())
        notes = [str(w.render()) for w in app.main.query(".note")]
        assert any("rewound: the workspace is back to how iteration 1 left it" in n for n in notes)
        assert len(app._notifications) <= 1  # one short acknowledgement of the key


async def test_replayed_signal_strip_names_the_keys_bound(config_home) -> None:
    config_home.mkdir()
    (config_home / "config.toml").write_text('[keymap]\nlog = "y"\nsignal = "w"\n')
    app = ConsoleApp(events=sample.paused())
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.pause()
        assert strip(app).endswith("y log")
