"""The fleet: rows folded from journals, "needs you" first with the reason in words."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from textual.widgets import DataTable

from tests.app import sample_events as sample
from tests.loops import REPO
from tui.app.fleet_app import FleetApp
from tui.engine.commands import Stop
from tui.engine.fleet import Fleet
from tui.engine.live import register
from tui.engine.protocol import EngineInfo, write_engine_info
from tui.events import BudgetUpdated, Event, dump_event


@pytest.fixture(autouse=True)
def state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("LOOPCONSOLE_STATE_DIR", str(tmp_path / "state"))
    return tmp_path / "state"


def _run(tmp_path: Path, name: str, events: list[Event], *, live: bool = False) -> Path:
    folder = tmp_path / "runs" / name
    folder.mkdir(parents=True)
    (folder / "journal.jsonl").write_text("".join(dump_event(e) + "\n" for e in events))
    if live:  # this test process stands in for the engine
        write_engine_info(folder, EngineInfo(pid=os.getpid(), socket=str(folder / "s.sock")))
    register(name, folder)
    return folder


def test_runs_needing_a_human_come_first_with_their_reason(tmp_path: Path) -> None:
    _run(tmp_path, "done", sample.succeeded())
    _run(tmp_path, "thrash", sample.oscillating(), live=True)
    _run(tmp_path, "crashed", sample.running())
    _run(tmp_path, "broke", sample.over_budget())
    _run(tmp_path, "going", sample.running(), live=True)
    rows = Fleet().rows()
    needs = {Path(r.folder).name: r.needs for r in rows}
    order = [Path(r.folder).name for r in rows]
    assert set(order[:3]) == {"thrash", "crashed", "broke"}
    assert order[3] == "going" and order[4] == "done"
    assert needs["crashed"].startswith("crashed: the engine is gone")
    assert needs["broke"].startswith("budget reached")
    assert "oscillation" in needs["thrash"]
    assert needs["going"] == needs["done"] == ""


def test_reading_only_what_the_journal_gained(tmp_path: Path) -> None:
    events = sample.paused()
    folder = _run(tmp_path, "grows", events[:3], live=True)
    fleet = Fleet()
    assert fleet.rows()[0].status == "running"
    with open(folder / "journal.jsonl", "a") as journal:
        journal.write("".join(dump_event(e) + "\n" for e in events[3:]))
        journal.write('{"type": "paused", "reason"')  # being written: read next time
    row = fleet.rows()[0]
    assert row.status == "paused" and row.iteration == sample.paused()[-1].iteration


def test_fleet_json_for_scripts(tmp_path: Path, state: Path) -> None:
    _run(tmp_path, "thrash", sample.oscillating())
    extra = tmp_path / "elsewhere" / ".loopconsole" / "runs" / "old"
    extra.mkdir(parents=True)
    (extra / "journal.jsonl").write_text("".join(dump_event(e) + "\n" for e in sample.succeeded()))
    env = dict(os.environ, LOOPCONSOLE_STATE_DIR=str(state))
    done = subprocess.run(
        [sys.executable, "-m", "tui.cli", "fleet", str(tmp_path / "elsewhere"), "--json"],
        capture_output=True,
        text=True,
        cwd=REPO,
        env=env,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    rows = json.loads(done.stdout)
    assert [Path(r["folder"]).name for r in rows] == ["thrash", "old"]
    assert rows[0]["needs"] and rows[1]["outcome"] == "goal_met"


async def test_the_fleet_screen_filters_and_enter_attaches(tmp_path: Path) -> None:
    _run(tmp_path, "alpha", sample.oscillating(), live=True)
    _run(tmp_path, "beta", sample.succeeded())
    app = FleetApp(Fleet(), refresh_s=0.2)
    async with app.run_test(size=(140, 20)) as pilot:
        table = app.query_one(DataTable)
        for _ in range(50):
            if table.row_count == 2:
                break
            await pilot.pause(0.05)
        assert table.row_count == 2
        await pilot.press("slash", *"beta")
        await pilot.pause(0.1)
        assert table.row_count == 1
        await pilot.press("escape")
        await pilot.pause(0.3)
        assert table.row_count == 2
        # The cursor stayed on beta, which is over: nothing to attach to.
        await pilot.press("enter")
        assert any("is not live" in n.message for n in app._notifications)
        await pilot.press("up", "enter")  # alpha: needing you, and live
    assert app.return_value == str(tmp_path / "runs" / "alpha")


def test_terminal_notifications_cannot_be_bent_by_their_text() -> None:
    from tui.app.terminal_notify import sequences

    seq = sequences("fizz;buzz", "reason\x07\x1b]52;c;evil\x07 done")
    assert seq.startswith("\x1b]9;fizz buzz: reason")
    assert "\x1b]52" not in seq and seq.count("\x07") == 2  # only our own terminators
    assert "\x1b]777;notify;fizz buzz;reason" in seq and "\x1b]99;;" in seq


class _Opens:
    """Counts the files opened under one folder (every way Python opens a file)."""

    def __init__(self, under: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        import builtins
        import io

        self.under, self.paths = str(under), []  # type: ignore[var-annotated]
        real_open, real_os_open = builtins.open, os.open

        def counted(file, *args, **kwargs):  # type: ignore[no-untyped-def]
            self._saw(file)
            return real_open(file, *args, **kwargs)

        def os_counted(path, *args, **kwargs):  # type: ignore[no-untyped-def]
            self._saw(path)
            return real_os_open(path, *args, **kwargs)

        monkeypatch.setattr(builtins, "open", counted)
        monkeypatch.setattr(io, "open", counted)
        monkeypatch.setattr(os, "open", os_counted)

    def _saw(self, path: object) -> None:
        if str(path).startswith(self.under):
            self.paths.append(Path(str(path)).name)

    def take(self) -> list[str]:
        seen, self.paths = self.paths, []
        return seen


def test_a_look_at_an_unchanged_fleet_opens_no_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        kinds = [sample.succeeded, sample.oscillating, sample.over_budget, sample.running]
        for n in range(12):
            folder = _run(tmp_path, f"run-{n:02}", kinds[n % 4]())
            if n < 3:  # live: their engine is a real process
                write_engine_info(folder, EngineInfo(pid=engine.pid, socket=str(folder / "s")))
        fleet = Fleet()
        opens = _Opens(tmp_path, monkeypatch)
        first = fleet.rows()
        assert len(first) == 12 and sum(r.live for r in first) == 3
        assert opens.take().count("journal.jsonl") == 12
        for _ in range(3):  # nothing happened: no journal, engine.json or lock is read
            assert fleet.rows() == first
            assert opens.take() == []
        grows = tmp_path / "runs" / "run-03" / "journal.jsonl"  # one run moves on
        with open(grows, "a") as journal:
            journal.write(dump_event(sample.succeeded()[-1]) + "\n")
        assert opens.take() == ["journal.jsonl"]  # (this test's own write)
        rows = fleet.rows()
        assert opens.take().count("journal.jsonl") == 1
        assert next(r for r in rows if r.folder.endswith("run-03")).outcome == "goal_met"
    finally:
        engine.kill()
        engine.wait()
    # The engine died: its runs are no longer live, and the unfinished ones crashed.
    rows = {Path(r.folder).name: r for r in fleet.rows()}
    assert not any(r.live for r in rows.values())
    assert rows["run-01"].status == "crashed" and rows["run-01"].needs.startswith("crashed")


async def test_the_fleet_screen_redraws_only_the_run_that_changed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for n in range(6):
        _run(tmp_path, f"run-{n}", sample.succeeded() if n % 2 else sample.paused(), live=True)
    drawn: list[str] = []
    real_update, real_clear = DataTable.update_cell, DataTable.clear

    def update_cell(table, row_key, column_key, value, **kwargs):  # type: ignore[no-untyped-def]
        drawn.append(f"{Path(str(row_key)).name} {column_key}")
        return real_update(table, row_key, column_key, value, **kwargs)

    def clear(table, *args, **kwargs):  # type: ignore[no-untyped-def]
        drawn.append("clear")
        return real_clear(table, *args, **kwargs)

    monkeypatch.setattr(DataTable, "update_cell", update_cell)
    monkeypatch.setattr(DataTable, "clear", clear)
    app = FleetApp(Fleet(), refresh_s=0.1)
    async with app.run_test(size=(140, 20)) as pilot:
        table = app.query_one(DataTable)
        for _ in range(50):
            if table.row_count == 6:
                break
            await pilot.pause(0.05)
        await pilot.pause(0.5)  # several looks: nothing changed, nothing drawn
        assert drawn == ["clear"]  # the first fill only
        drawn.clear()
        spent = next(e for e in reversed(sample.paused()) if isinstance(e, BudgetUpdated))
        spent.budget.cost_usd += 1.0  # run-2 spends a dollar more, and stays where it was
        with open(tmp_path / "runs" / "run-2" / "journal.jsonl", "a") as journal:
            journal.write(dump_event(spent) + "\n")
        for _ in range(50):
            if drawn:
                break
            await pilot.pause(0.05)
        await pilot.pause(0.3)
        assert drawn and all(d.startswith("run-2 ") for d in drawn)  # its cells only
        assert "run-2 cost" in drawn


async def test_a_killed_engine_process_shows_as_crashed_at_the_next_look(tmp_path: Path) -> None:
    import signal

    from tests.test_live import _cli, _detach, _until
    from tui.engine.protocol import read_engine_info

    run_dir = _detach(tmp_path, dict(os.environ), "--paused")  # a real engine process
    fleet = Fleet()
    await _until(lambda: [r.live and r.status == "paused" for r in fleet.rows()] == [True])
    for _ in range(3):  # idle looks keep it live
        assert fleet.rows()[0].live
    info = read_engine_info(run_dir)
    assert info is not None
    os.kill(info.pid, signal.SIGKILL)
    await _until(lambda: fleet.rows()[0].status == "crashed", timeout=5)
    row = fleet.rows()[0]
    assert not row.live and row.needs.startswith("crashed")
    done = _cli("resume", str(run_dir), "--detach", env=dict(os.environ))  # back again
    assert done.returncode == 0, done.stderr
    await _until(lambda: fleet.rows()[0].live and fleet.rows()[0].status != "crashed")
    assert (await fleet.send(run_dir, Stop())).ok  # steered from the fleet, without attaching
    await _until(lambda: fleet.rows()[0].outcome == "stopped" and not fleet.rows()[0].live)


def test_another_machines_fleet_is_followed_by_one_process(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import time

    from tui.bridge import RemoteFleet

    # `env` stands in for ssh: it runs `loopconsole fleet --json --follow` "there" (here).
    monkeypatch.setenv("PATH", f"{Path(sys.executable).parent}:{os.environ['PATH']}")
    _run(tmp_path, "thrash", sample.oscillating())
    remote = RemoteFleet("env")
    try:
        rows = remote.rows()
        assert [Path(r.folder).name for r in rows] == ["thrash"] and rows[0].needs
        followed = remote._followed
        assert followed is not None
        _run(tmp_path, "done", sample.succeeded())  # a new run there
        deadline = time.monotonic() + 20
        while len(remote.rows()) < 2:
            assert time.monotonic() < deadline, "the new run never came"
            time.sleep(0.1)
        assert remote._followed is followed and followed.alive()  # the same process
    finally:
        remote.close()
    assert followed.process.returncode == 0  # it ended when its stdin closed


def test_an_older_loopconsole_there_is_asked_once_per_look(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tui import bridge

    older = tmp_path / "older-loopconsole"
    older.write_text(
        "#!/bin/sh\n"
        'for a in "$@"; do [ "$a" = --follow ] && '
        '{ echo "loopconsole: error: unrecognized arguments: --follow" >&2; exit 2; }; done\n'
        'echo \'[{"run_id": "r", "folder": "/there/r", "a_field_from_elsewhere": 1}]\'\n'
    )
    older.chmod(0o755)
    monkeypatch.setattr(bridge, "REMOTE", str(older))
    remote = bridge.RemoteFleet("env")
    assert [r.run_id for r in remote.rows()] == ["r"]  # fields it does not know are left
    assert [r.folder for r in remote.rows()] == ["/there/r"]
    remote.close()


def test_a_journal_replaced_by_a_longer_one_is_read_from_its_start(tmp_path: Path) -> None:
    from tui.engine.fleet_watch import RunWatch

    folder = _run(tmp_path, "replaced", sample.running())
    watch = RunWatch(folder)
    watch.look()
    assert watch.state.finished is None
    # Another run's journal put in its place (a new file), longer than what was read.
    other = folder / "journal.new"
    events = sample.succeeded()
    events[0] = events[0].model_copy(update={"name": "other", "goal": "x" * 4_000})
    other.write_text("".join(dump_event(e) + "\n" for e in events))
    os.replace(other, folder / "journal.jsonl")
    watch.look()
    assert watch.state.started is not None and watch.state.started.name == "other"
    assert watch.state.finished is not None and watch.state.finished.outcome == "goal_met"
    assert watch.offset == (folder / "journal.jsonl").stat().st_size
