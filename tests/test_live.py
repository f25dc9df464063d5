"""Live runs through real processes: an engine process, clients on its socket.

The engine runs as `loopconsole run --detach` would start it (its own
session); the test attaches clients speaking the protocol, as a console does.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.loops import REPO, edit, write_loop
from tui.engine.client import ConnectError, SocketConnection
from tui.engine.commands import AddHint, Pause, Resume, Step, Stop
from tui.engine.journal import read_journal
from tui.engine.protocol import read_engine_info
from tui.events import AgentText, Event, Paused, RunFinished, dump_event

pytestmark = pytest.mark.slow


def _spec(tmp_path: Path, iterations: int = 4, pace: float = 0.05) -> Path:
    script = f"pace_s = {pace}\n" + "".join(
        f"[[iteration]]\n{edit(f'bad {i}')}{edit(f'x {i}', 'notes.txt')}" for i in range(iterations)
    )
    return write_loop(
        tmp_path / "loop",
        script=script,
        extra='[thrash]\naction = "ignore"',
        budget=f"max_iterations = {iterations}",
    )


def _cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tui.cli", *args],
        capture_output=True,
        text=True,
        cwd=REPO,
        env=env,
        timeout=60,
    )


@pytest.fixture
def state_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    monkeypatch.setenv("LOOPCONSOLE_STATE_DIR", str(tmp_path / "state"))
    return dict(os.environ)


def _detach(tmp_path: Path, env: dict[str, str], *extra: str, pace: float = 0.05) -> Path:
    run_dir = tmp_path / "run"
    done = _cli(
        "run",
        str(_spec(tmp_path, pace=pace)),
        "--detach",
        "--run-dir",
        str(run_dir),
        *extra,
        env=env,
    )
    assert done.returncode == 0, done.stderr
    assert "loopconsole attach run" in done.stdout
    return run_dir


async def _attach(run_dir: Path) -> tuple[SocketConnection, list[Event], asyncio.Task]:
    info = read_engine_info(run_dir)
    assert info is not None
    conn = await SocketConnection.open(Path(info.socket))
    seen: list[Event] = []
    conn.subscribe(seen.append)
    return conn, seen, asyncio.ensure_future(conn.follow())


async def _until(check, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "condition not reached in time"
        await asyncio.sleep(0.02)


def _lines(events: list[Event]) -> list[str]:
    """Events as journal lines, streamed text joined per stretch (the journal writes
    text in batches; live consoles get the deltas)."""
    lines: list[str] = []
    text: list[str] = []
    held: AgentText | None = None
    for e in [*events, None]:
        if (
            isinstance(e, AgentText)
            and held is not None
            and (e.iteration, e.kind)
            == (
                held.iteration,
                held.kind,
            )
        ):
            text.append(e.text)
            continue
        if held is not None:
            lines.append(f"text {held.iteration} {held.kind}: {''.join(text)}")
            held, text = None, []
        if isinstance(e, AgentText):
            held, text = e, [e.text]
        elif e is not None:
            lines.append(dump_event(e))
    return lines


async def test_two_clients_see_every_event_once_and_every_controls_effect(
    tmp_path: Path, state_env: dict[str, str]
) -> None:
    run_dir = _detach(tmp_path, state_env, "--paused", pace=0.1)
    first, seen1, follow1 = await _attach(run_dir)
    await _until(lambda: any(isinstance(e, Paused) for e in seen1))
    assert (await first.send(Step())).ok
    await asyncio.sleep(0.3)  # the second attaches mid-iteration
    second, seen2, follow2 = await _attach(run_dir)
    await _until(lambda: sum(isinstance(e, Paused) for e in seen2) >= 2)
    reply = await second.send(AddHint(text="from the second console"))
    assert reply.ok
    await _until(lambda: any(e.type == "hint_added" for e in seen1))
    assert (await first.send(Resume())).ok
    finished1, finished2 = await asyncio.wait_for(asyncio.gather(follow1, follow2), 60)
    assert isinstance(finished1, RunFinished) and finished1 == finished2
    journal = _lines(read_journal(run_dir / "journal.jsonl").events)
    # Catch-up then live: exactly the journal, no gap, no duplicate, for both.
    assert _lines(seen1) == journal
    assert _lines(seen2) == journal
    assert read_engine_info(run_dir) is None  # the engine cleaned up


async def test_bad_input_gets_error_replies_and_the_engine_goes_on(
    tmp_path: Path, state_env: dict[str, str]
) -> None:
    run_dir = _detach(tmp_path, state_env, "--paused")
    info = read_engine_info(run_dir)
    assert info is not None
    reader, writer = await asyncio.open_unix_connection(info.socket, limit=1 << 24)
    writer.write(b'{"type": "hello", "protocol": 1}\n')
    for line in (
        b"garbage\n",
        b'{"type": "launch_missiles", "id": "u1"}\n',
        b'{"type": "rewind", "iteration": "three", "id": "r1"}\n',
        b'{"type": "revalidate", "id": "v1"}\n',
    ):
        writer.write(line)
    writer.write(b'{"type": "pa')  # half a line, then the client vanishes
    await writer.drain()
    replies = {}
    while len(replies) < 4:
        line = await asyncio.wait_for(reader.readline(), 10)
        data = json.loads(line)
        if data["type"] == "reply":
            replies[data["id"] or "garbage"] = data
    assert not replies["garbage"]["ok"] and "not valid JSON" in replies["garbage"]["message"]
    assert "unknown command" in replies["u1"]["message"]
    assert not replies["r1"]["ok"]
    assert replies["v1"]["ok"]  # paused: the engine re-ran the validators
    writer.close()
    # A newer protocol is refused with a reason; the engine still serves others.
    reader, writer = await asyncio.open_unix_connection(info.socket)
    writer.write(b'{"type": "hello", "protocol": 99}\n')
    await writer.drain()
    bye = json.loads(await asyncio.wait_for(reader.readline(), 10))
    assert bye["type"] == "bye" and "protocol 1" in bye["reason"]
    conn, seen, follow = await _attach(run_dir)
    assert (await conn.send(Stop())).ok
    finished = await asyncio.wait_for(follow, 30)
    assert finished is not None and finished.outcome == "stopped"


async def test_engine_killed_is_reported_and_a_stale_socket_is_replaced(
    tmp_path: Path, state_env: dict[str, str]
) -> None:
    run_dir = _detach(tmp_path, state_env, "--paused")
    conn, _seen, follow = await _attach(run_dir)
    info = read_engine_info(run_dir)
    assert info is not None
    os.kill(info.pid, signal.SIGKILL)
    started = time.monotonic()
    assert await asyncio.wait_for(follow, 5) is None  # lost, not finished
    assert time.monotonic() - started < 2.0
    # The crash left engine.json and the socket behind: neither fools anyone.
    assert Path(info.socket).exists()
    await _until(lambda: read_engine_info(run_dir) is None, timeout=2)
    with pytest.raises(ConnectError):
        await SocketConnection.open(Path(info.socket))
    done = _cli("attach", str(run_dir), env=state_env)
    assert done.returncode == 2 and "resume" in done.stderr


async def test_closing_the_terminal_leaves_the_run_going(
    tmp_path: Path, state_env: dict[str, str]
) -> None:
    run_dir = _detach(tmp_path, state_env, pace=0.2)
    info = read_engine_info(run_dir)
    assert info is not None
    # The engine has its own session: a hang-up of the terminal's group never reaches it.
    assert os.getsid(info.pid) == info.pid
    os.kill(info.pid, signal.SIGHUP)
    conn, _seen, follow = await _attach(run_dir)
    finished = await asyncio.wait_for(follow, 60)
    assert finished is not None and finished.outcome == "budget"


async def test_a_client_that_stops_reading_is_dropped_not_waited_for(
    tmp_path: Path, state_env: dict[str, str]
) -> None:
    state_env["LOOPCONSOLE_CLIENT_QUEUE"] = "200"
    run_dir = _detach(tmp_path, state_env, "--paused")
    info = read_engine_info(run_dir)
    assert info is not None
    slow = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    slow.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    slow.connect(info.socket)
    slow.sendall(b'{"type": "hello", "protocol": 1}\n')
    # A reader that keeps up, driving the run while the slow one reads nothing.
    conn, seen, follow = await _attach(run_dir)
    for n in range(1_000):
        # Each hint is an event for every client; the slow one falls behind.
        await conn.send(AddHint(text=f"hint {n} " + "x" * 200))
    assert (await conn.send(Pause())).ok
    await conn.send(Stop())
    finished = await asyncio.wait_for(follow, 60)
    assert finished is not None
    slow.settimeout(5)
    received = b""
    while True:
        chunk = slow.recv(1 << 20)
        if not chunk:
            break
        received += chunk
    assert b'"type":"bye"' in received and b"attach again" in received
    slow.close()


def test_attach_finds_a_run_by_id_prefix(tmp_path: Path, state_env: dict[str, str]) -> None:
    done = _cli("attach", "no-such-run", env=state_env)
    assert done.returncode == 2
    assert "no run 'no-such-run'" in done.stderr


async def test_via_a_local_command_speaks_the_same_protocol(
    tmp_path: Path, state_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from tui.bridge import open_via

    # `env` stands in for ssh: it runs `loopconsole bridge RUN` "there" (here).
    monkeypatch.setenv("PATH", f"{Path(sys.executable).parent}:{os.environ['PATH']}")
    run_dir = _detach(tmp_path, state_env, "--paused")
    conn = await open_via("env", "run")
    assert not conn.local  # no shell or editor on a workspace over there
    seen: list[Event] = []
    conn.subscribe(seen.append)
    follow = asyncio.ensure_future(conn.follow())
    await _until(lambda: any(isinstance(e, Paused) for e in seen))
    assert (await conn.send(AddHint(text="over the bridge"))).ok
    assert (await conn.send(Stop())).ok
    finished = await asyncio.wait_for(follow, 30)
    assert finished is not None and finished.outcome == "stopped"
    assert _lines(seen) == _lines(read_journal(run_dir / "journal.jsonl").events)
    listed = _cli("fleet", "--via", "env", "--json", env=dict(os.environ))
    assert listed.returncode == 0, listed.stderr
    assert [row["run_id"] for row in json.loads(listed.stdout)] == ["run"]


async def test_a_killed_engine_resumes_as_a_new_engine_process(
    tmp_path: Path, state_env: dict[str, str]
) -> None:
    run_dir = _detach(tmp_path, state_env, "--paused")
    info = read_engine_info(run_dir)
    assert info is not None
    os.kill(info.pid, signal.SIGKILL)
    await _until(lambda: read_engine_info(run_dir) is None, timeout=5)
    done = _cli("resume", str(run_dir), "--detach", env=state_env)
    assert done.returncode == 0, done.stderr
    conn, seen, follow = await _attach(run_dir)
    await _until(lambda: sum(e.type == "run_started" for e in seen) == 2)
    assert (await conn.send(Stop())).ok
    finished = await asyncio.wait_for(follow, 30)
    assert finished is not None and finished.outcome == "stopped"


def _controlling_terminal() -> None:
    """In the child: a session of its own whose controlling terminal is the pty."""
    import fcntl
    import termios

    os.setsid()
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)


def _console_in_a_terminal(run_dir: Path, env: dict[str, str]) -> tuple[subprocess.Popen, int]:
    """`loopconsole attach` in a pseudo-terminal, as a person's terminal would run it."""
    import pty
    import threading

    master, slave = pty.openpty()
    os.set_blocking(master, True)
    console = subprocess.Popen(
        [sys.executable, "-m", "tui.cli", "attach", str(run_dir)],
        stdin=slave,
        stdout=slave,
        stderr=slave,
        cwd=REPO,
        env={**env, "TERM": "xterm-256color", "COLUMNS": "100", "LINES": "30"},
        preexec_fn=_controlling_terminal,
    )
    os.close(slave)

    def drain() -> None:  # a terminal reads what the console writes
        with contextlib.suppress(OSError):
            while os.read(master, 65536):
                pass

    threading.Thread(target=drain, daemon=True).start()
    return console, master


async def test_consoles_killed_or_hung_up_leave_the_run_going(
    tmp_path: Path, state_env: dict[str, str]
) -> None:
    run_dir = _detach(tmp_path, state_env, pace=1.5)  # about 12 s of work
    first, _master1 = _console_in_a_terminal(run_dir, state_env)
    second, master2 = _console_in_a_terminal(run_dir, state_env)
    await asyncio.sleep(3.0)  # both attached and painting
    assert first.poll() is None and second.poll() is None
    first.kill()  # kill -9 of a console
    os.close(master2)  # its terminal closes: SIGHUP
    assert first.wait(10) == -signal.SIGKILL
    second.wait(10)
    info = read_engine_info(run_dir)
    assert info is not None  # the engine goes on
    conn, seen, follow = await _attach(run_dir)
    finished = await asyncio.wait_for(follow, 90)
    assert finished is not None and finished.outcome == "budget"
    journal = read_journal(run_dir / "journal.jsonl")
    assert journal.warnings == [] and _lines(seen) == _lines(journal.events)


async def test_a_headless_run_can_be_attached_while_it_runs(
    tmp_path: Path, state_env: dict[str, str]
) -> None:
    run_dir = tmp_path / "run"
    headless = subprocess.Popen(
        [sys.executable, "-m", "tui.cli", "run", str(_spec(tmp_path, pace=0.3)), "--headless",
         "--run-dir", str(run_dir)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=REPO, env=state_env,
    )  # fmt: skip
    await _until(lambda: read_engine_info(run_dir) is not None)
    conn, seen, follow = await _attach(run_dir)
    assert (await conn.send(AddHint(text="from a console, to a cron run"))).ok
    finished = await asyncio.wait_for(follow, 60)
    assert finished is not None and finished.outcome == "budget"
    assert headless.wait(30) == 1
    assert _lines(seen) == _lines(read_journal(run_dir / "journal.jsonl").events)
