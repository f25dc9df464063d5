"""Take-over over `attach --via`: the shell through the same command, the editor on a copy.

`env` stands in for ssh (as in the other --via tests): the engine runs as
its own process, the console reaches it through `env loopconsole bridge run`,
its shell through `env loopconsole _shell run`, and its editor through the
engine's ListFiles / ReadFile / WriteFile commands.
"""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

import pytest

from tests.app.helpers import wait_for
from tests.loops import write_loop
from tests.test_live import _cli
from tui.app.app import ConsoleApp
from tui.app.screens.file_pick import FilePickScreen
from tui.bridge import open_via
from tui.engine.commands import ReadFile, Stop, WriteFile
from tui.engine.journal import read_journal
from tui.events import Checkpointed, HandedBack

pytestmark = pytest.mark.slow
SIZE = (110, 32)


def shown(app: ConsoleApp) -> str:
    return "\n".join(f"{n.title}: {n.message}" for n in app._notifications)


@pytest.fixture
def remote(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A paused run whose workspace has a protected folder; `loopconsole` on PATH."""
    monkeypatch.setenv("LOOPCONSOLE_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.setenv("PATH", f"{Path(sys.executable).parent}:{os.environ['PATH']}")
    spec = write_loop(
        tmp_path / "loop",
        script="[[iteration]]\n",
        files={"state.txt": "bad\n", "tests/check.txt": "the judge\n"},
        extra='[protect]\npaths = ["tests/**"]\n[thrash]\naction = "ignore"',
    )
    run_dir = tmp_path / "run"
    done = _cli("run", str(spec), "--detach", "--paused", "--run-dir", str(run_dir))
    assert done.returncode == 0, done.stderr
    return run_dir


async def test_shell_and_editor_over_via_change_the_workspace_and_are_checkpointed(
    remote: Path, suspendable, script, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SHELL", script("fake-shell", 'printf "good\\n" > state.txt\n'))
    monkeypatch.delenv("VISUAL", raising=False)
    monkeypatch.setenv("EDITOR", script("fake-editor", 'printf "edited\\n" >> "$1"\n'))
    workspace = remote / "workspace"
    connection = await open_via("env", "run")
    app = ConsoleApp(connection=connection)
    async with app.run_test(size=SIZE) as pilot:
        store = app.main.store
        await wait_for(pilot, lambda: store.status == "paused", "the pause")
        assert not (await connection.send(ReadFile(path="state.txt"))).ok  # not taken over yet
        await pilot.press("t")
        await wait_for(pilot, lambda: app.main.taking_over, "the take-over")
        # o: the shell runs on the run's machine, in its workspace.
        await pilot.press("o")
        await wait_for(pilot, lambda: "modified state.txt" in shown(app), "the shell's change")
        assert (workspace / "state.txt").read_text() == "good\n"
        # e: the engine's file list, a local copy in $EDITOR, the text sent back.
        await pilot.press("e")
        await wait_for(pilot, lambda: isinstance(app.screen, FilePickScreen), "the file list")
        assert isinstance(app.screen, FilePickScreen)
        assert {"state.txt", "tests/check.txt"} <= set(app.screen.files)
        await pilot.press(*"state", "enter")
        await wait_for(pilot, lambda: (workspace / "state.txt").read_text() != "good\n", "edit")
        assert (workspace / "state.txt").read_text() == "good\nedited\n"
        # A protected file is refused as the agent's editor refuses it.
        await pilot.press("e")
        await wait_for(pilot, lambda: isinstance(app.screen, FilePickScreen), "the file list")
        await pilot.press(*"check", "enter")
        await wait_for(pilot, lambda: "protected" in shown(app), "the refusal")
        assert (workspace / "tests/check.txt").read_text() == "the judge\n"
        await pilot.press("t")
        await wait_for(pilot, lambda: not app.main.taking_over, "the hand-back")
        assert (await connection.send(Stop())).ok
        await wait_for(pilot, lambda: store.finished is not None, "the end", 30)
    await connection.close()
    events = read_journal(remote / "journal.jsonl").events
    human = [e for e in events if isinstance(e, Checkpointed) and e.kind == "human"]
    assert len(human) == 2 and all(f.path == "state.txt" for c in human for f in c.files)
    (back,) = [e for e in events if isinstance(e, HandedBack)]
    assert [line.split(" (")[0] for line in back.changes] == ["modified state.txt"] * 2


async def test_the_engine_refuses_what_the_agents_editor_refuses(
    remote: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tui.engine.commands import TakeOver

    outside = remote.parent / "outside.txt"
    outside.write_text("not yours\n")
    (remote / "workspace" / "link.txt").symlink_to(outside)
    connection = await open_via("env", "run")
    follow = asyncio.ensure_future(connection.follow())  # replies come with the events
    try:
        assert (await connection.send(TakeOver())).ok
        read = await connection.send(ReadFile(path="state.txt"))
        assert read.ok and read.data["text"] == "bad\n" and read.data["exists"]
        for path, why in [
            ("tests/check.txt", "protected"),
            ("../outside.txt", "climbs out"),
            ("link.txt", "symlink"),
            (".git/config", ".git"),
        ]:
            reply = await connection.send(ReadFile(path=path))
            assert not reply.ok and why in reply.message, (path, reply.message)
            reply = await connection.send(WriteFile(path=path, text="x", expected=""))
            assert not reply.ok and why in reply.message, (path, reply.message)
        # An edit made meanwhile is not overwritten.
        (remote / "workspace" / "state.txt").write_text("changed meanwhile\n")
        stale = WriteFile(path="state.txt", text="mine\n", expected=read.data["sha"])
        reply = await connection.send(stale)
        assert not reply.ok and "since you opened it" in reply.message
        new = await connection.send(WriteFile(path="notes/new.txt", text="hello\n"))
        assert new.ok and (remote / "workspace" / "notes/new.txt").read_text() == "hello\n"
        assert outside.read_text() == "not yours\n"
    finally:
        await connection.send(Stop())
        await asyncio.wait_for(follow, 30)
