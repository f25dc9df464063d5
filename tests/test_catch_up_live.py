"""Attaching through the journal index to a real engine process, in the middle of a run.

The console reads the journal itself up to where the engine says live events
begin; everything after comes over the socket. Together they must be the
journal: no gap, no duplicate; older iterations are read when asked for.
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest
from textual.widgets import Markdown

from tests.app.helpers import wait_for
from tests.loops import edit, write_loop
from tests.test_catch_up import _full, _record, _summary
from tests.test_live import _attach, _cli, _lines, _until
from tui.app.app import ConsoleApp
from tui.app.store import RunStore
from tui.app.widgets.iteration_block import IterationBlock
from tui.app.widgets.timeline import Timeline
from tui.app.widgets.transcript import TranscriptPane
from tui.engine.client import SocketConnection
from tui.engine.commands import Resume, Step
from tui.engine.journal import read_journal
from tui.engine.journal_index import BULK_KINDS
from tui.engine.protocol import read_engine_info
from tui.events import Event, Paused, RunFinished

pytestmark = pytest.mark.slow
ITERATIONS = 8
STEPPED = 5


def _long_run(tmp_path: Path, env: dict[str, str]) -> Path:
    """A detached run, paused, stepped through its first iterations."""
    script = "pace_s = 0.01\n" + "".join(
        f"[[iteration]]\n[[iteration.step]]\nsay = 'attempt {i}: {'words ' * 40}'\n"
        f"{edit(f'bad {i}')}"
        for i in range(ITERATIONS)
    )
    spec = write_loop(
        tmp_path / "loop",
        script=script,
        extra='[thrash]\naction = "ignore"',
        budget=f"max_iterations = {ITERATIONS}",
    )
    run_dir = tmp_path / "run"
    done = _cli("run", str(spec), "--detach", "--paused", "--run-dir", str(run_dir), env=env)
    assert done.returncode == 0, done.stderr
    return run_dir


@pytest.fixture
def state_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    monkeypatch.setenv("LOOPCONSOLE_STATE_DIR", str(tmp_path / "state"))
    return dict(os.environ)


async def _step(driver: SocketConnection, seen: list[Event], times: int) -> None:
    await _until(lambda: any(isinstance(e, Paused) for e in seen))
    for n in range(times):
        assert (await driver.send(Step())).ok
        await _until(lambda n=n: sum(isinstance(e, Paused) for e in seen) >= n + 2)


async def test_an_indexed_attach_mid_run_then_live_is_the_journal(
    tmp_path: Path, state_env: dict[str, str]
) -> None:
    run_dir = _long_run(tmp_path, state_env)
    driver, driven, follow_driver = await _attach(run_dir)
    await _step(driver, driven, STEPPED)
    info = read_engine_info(run_dir)
    assert info is not None
    journal = run_dir / "journal.jsonl"
    conn = await SocketConnection.open(Path(info.socket), journal=journal)
    assert conn.welcome.catch_up_bytes == 0 and conn.welcome.journal_bytes > 0
    seen: list[Event] = []
    conn.subscribe(seen.append)
    follow = asyncio.ensure_future(conn.follow())
    await _until(lambda: conn.history is not None and seen)
    caught_up = len(seen)
    assert (await driver.send(Resume())).ok
    finished, _ = await asyncio.wait_for(asyncio.gather(follow, follow_driver), 60)
    assert isinstance(finished, RunFinished)

    everything = read_journal(journal).events
    # The catch-up left the older iterations' bulk in the journal ...
    assert conn.history is not None and conn.history.partial == set(range(1, STEPPED))
    old = [e for e in seen[:caught_up] if 0 < e.iteration < STEPPED]
    assert old and all(e.type.encode() not in BULK_KINDS for e in old)
    # ... and the live events are exactly the journal after the point it gave.
    head = journal.read_bytes()[: conn.welcome.journal_bytes]
    before = read_journal_prefix(journal, head)
    assert _lines(before + seen[caught_up:]) == _lines(everything)
    # A console's store from both is the one from the whole journal.
    store = RunStore()
    store.history = conn.history
    for event in seen:
        store.apply(event)
    full = _full(everything)
    assert _summary(store) == _summary(full)
    for n in sorted(full.iterations):
        store.load_history(n)
        assert _record(store.iterations[n]) == _record(full.iterations[n]), n


def read_journal_prefix(journal: Path, head: bytes) -> list[Event]:
    """The events of the journal's first bytes, as a full read has them."""
    prefix = journal.with_name("prefix.jsonl")
    prefix.write_bytes(head)
    return read_journal(prefix).events


async def test_the_console_attached_through_the_index_shows_older_iterations_on_demand(
    tmp_path: Path, state_env: dict[str, str]
) -> None:
    run_dir = _long_run(tmp_path, state_env)
    driver, driven, follow_driver = await _attach(run_dir)
    await _step(driver, driven, STEPPED)
    info = read_engine_info(run_dir)
    assert info is not None
    connection = await SocketConnection.open(Path(info.socket), journal=run_dir / "journal.jsonl")
    app = ConsoleApp(connection=connection)
    async with app.run_test(size=(110, 32)) as pilot:
        store = app.main.store
        await wait_for(pilot, lambda: store.current == STEPPED, "the catch-up")
        pane = app.main.query_one(TranscriptPane)
        await wait_for(pilot, lambda: pane.idle and pane.query(IterationBlock), "the newest")
        assert [b.number for b in pane.query(IterationBlock)] == [STEPPED]
        assert store.iterations[2].entries == []  # still in the journal
        timeline = app.main.query_one(Timeline)
        timeline.focus()
        for _ in range(STEPPED - 2):
            await pilot.press("left")
        await wait_for(pilot, lambda: app.main.selected == 2, "iteration 2 picked")
        await wait_for(pilot, lambda: pane.idle, "the transcript")
        text = "\n".join(md.source for md in pane.query(Markdown))
        assert "attempt 1:" in text and "attempt 4:" not in text
        assert store.iterations[2].entries  # read from the journal when asked for
        assert (await driver.send(Resume())).ok
        await wait_for(pilot, lambda: store.finished is not None, "the end", 30)
    await asyncio.wait_for(follow_driver, 30)
