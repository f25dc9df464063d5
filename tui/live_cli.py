"""Live runs from the command line: the engine process, ``run`` / ``run --detach``, ``attach``.

``run PATH`` starts the engine as its own process (its own session, so
closing the terminal leaves the run going), then attaches the console to it.
``--detach`` starts it alone and says how to attach. ``attach RUN`` finds a
run by folder, id or unique id prefix and opens the console on it.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from tui.engine.protocol import read_engine_info
from tui.errors import UserError
from tui.figures import some

if TYPE_CHECKING:
    from tui.bridge import RemoteFleet
    from tui.engine.client import SocketConnection
    from tui.engine.fleet import Fleet

ENGINE_START_S = 15.0  # how long to wait for a new engine's socket


class LiveError(UserError):
    """A live run cannot be started or reached; one sentence for the user."""


# -- the engine process -----------------------------------------------------------
def engine_main(
    run_dir: Path, spec_path: Path | None, *, paused: bool, step: bool, raises: Sequence[str] = ()
) -> int:
    """The engine process: run the loop in ``run_dir`` while serving its socket.

    Without ``spec_path`` it resumes the run (``loopconsole resume``).
    """
    from tui.agents.registry import create_agent
    from tui.engine.live import run_served
    from tui.engine.resume import load_resume_state, prepare_workspace
    from tui.engine.rundir import open_run
    from tui.engine.runner import Runner
    from tui.spec import load_spec

    signal.signal(signal.SIGHUP, signal.SIG_IGN)  # a closed terminal never ends the run
    if spec_path is None:
        from tui.engine.raise_budget import apply_raises
        from tui.engine.rundir import lock_run

        lock_run(run_dir.resolve())  # before reading its journal (the runner's is a no-op)
        state = load_resume_state(run_dir)
        for line in apply_raises(state, list(raises)):
            print(f"loopconsole: {line}", file=sys.stderr)
        agent = create_agent(state.spec)
        agent.prepare()
        run = open_run(state.run_dir, state.spec)
        prep = prepare_workspace(state, run.workspace)
        runner = Runner(
            state.spec, run, agent, resume=state, prep=prep, start_paused=paused, watch_spec=True
        )
    else:
        spec = load_spec(spec_path)
        agent = create_agent(spec)
        agent.prepare()
        run = open_run(run_dir, spec)
        runner = Runner(spec, run, agent, start_paused=paused, step=step, watch_spec=True)

    async def main() -> int:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, runner.interrupt)
        finished = await run_served(runner)
        return finished.exit_code

    return asyncio.run(main())


def start_engine(
    run_dir: Path, spec_path: Path | None, *, paused: bool, step: bool, raises: Sequence[str] = ()
) -> int:
    """Start the engine process for a run folder (new, or resumed without ``spec_path``);
    return its pid once it serves."""
    command = [sys.executable, "-m", "tui.cli", "_engine", str(run_dir)]
    if spec_path is not None:
        command += ["--spec", str(spec_path)]
    for text in raises:
        command += ["--raise", text]
    if paused:
        command.append("--paused")
    if step:
        command.append("--step")
    with open(run_dir / "engine.log", "ab") as log:
        process = subprocess.Popen(  # noqa: S603 - our own entry point
            command,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=log,
            start_new_session=True,
            cwd=run_dir,
        )
    deadline = time.monotonic() + ENGINE_START_S
    while time.monotonic() < deadline:
        if read_engine_info(run_dir) is not None:
            return process.pid
        if process.poll() is not None:
            raise LiveError(
                f"the run's engine stopped at once (exit {process.returncode}); "
                f"see {run_dir / 'engine.log'}"
            )
        time.sleep(0.05)
    raise LiveError(f"the run's engine did not start within {ENGINE_START_S:.0f} s")


# -- finding a run -----------------------------------------------------------------
def find_run(text: str) -> Path:
    """A run folder from a folder path, a run id, or a unique prefix of one."""
    from tui.engine.live import registered_runs

    path = Path(text).expanduser()
    if (path / "journal.jsonl").is_file():
        return path.resolve()
    runs = registered_runs()
    if text in runs:
        return runs[text]
    matches = sorted(run_id for run_id in runs if run_id.startswith(text))
    if len(matches) == 1:
        return runs[matches[0]]
    if matches:
        shown = some(matches, 5)
        raise LiveError(f"{text!r} matches {len(matches)} runs ({shown}); give more of the id")
    raise LiveError(
        f"no run {text!r}: give a run folder, a run id or a prefix of one "
        "(`loopconsole fleet` lists them)"
    )


def workspace_shell(run_dir: Path) -> int:
    """The user's shell in a run's workspace, in this terminal (``o`` during a take-over
    over ``attach --via`` runs ``CMD loopconsole _shell RUN`` on the run's machine)."""
    import shlex

    from tui.events import RunStarted, parse_event

    try:
        with open(run_dir / "journal.jsonl", "rb") as journal:
            started = parse_event(journal.readline())
    except (OSError, ValueError):
        started = None
    if not isinstance(started, RunStarted) or not Path(started.workspace).is_dir():
        raise LiveError(f"run {run_dir.name} has no workspace to open a shell in")
    shell = shlex.split(os.environ.get("SHELL") or "/bin/sh")
    os.chdir(started.workspace)
    try:
        os.execvp(shell[0], [*shell, "-i"])  # interactive even when no terminal came along
    except OSError as exc:
        raise LiveError(f"cannot start the shell {shell[0]}: {exc.strerror or exc}") from None


# -- consoles -------------------------------------------------------------------------
def attach(run_dir: Path, *, theme: str | None = None) -> int:
    """Open the console on the live run in ``run_dir``; return the exit code."""
    from tui.engine.client import SocketConnection

    info = read_engine_info(run_dir)
    if info is None:
        raise LiveError(
            f"run {run_dir.name} is not live; `loopconsole replay {run_dir}` shows it, "
            f"`loopconsole resume {run_dir}` carries it on"
        )

    journal = run_dir / "journal.jsonl"  # read here, through its index: a fast catch-up
    return _console(
        lambda: SocketConnection.open(Path(info.socket), journal=journal),
        theme,
        resume_run=lambda raises: resume_raised(run_dir, raises),
    )


async def resume_raised(run_dir: Path, raises: list[str]) -> SocketConnection:
    """Resume a run that stopped with its limits raised (``resume RUN --raise ...``) in a
    new engine process, once the old one is gone, and connect to it.

    Raises RaiseError, in one sentence, when the raise is refused or the run cannot go on.
    """
    from tui.engine.client import ConnectError, SocketConnection
    from tui.engine.raise_budget import RaiseError, check_raises_before_resuming
    from tui.engine.rundir import RunDirError

    try:
        await asyncio.to_thread(_wait_until_stopped, run_dir)
        await asyncio.to_thread(check_raises_before_resuming, run_dir, raises)
        await asyncio.to_thread(
            start_engine, run_dir, None, paused=False, step=False, raises=raises
        )
        info = read_engine_info(run_dir)
        if info is None:
            raise LiveError(f"the run's engine stopped at once; see {run_dir / 'engine.log'}")
        return await SocketConnection.open(Path(info.socket), journal=run_dir / "journal.jsonl")
    except (LiveError, RunDirError, ConnectError) as exc:
        raise RaiseError(str(exc)) from None


def _wait_until_stopped(run_dir: Path, timeout_s: float = 10.0) -> None:
    """Wait for the run's engine process to end (it ends just after its run does)."""
    from tui.engine.rundir import running_pid

    deadline = time.monotonic() + timeout_s
    while (pid := running_pid(run_dir)) is not None:
        if time.monotonic() > deadline:
            raise LiveError(f"the run's engine (process {pid}) has not exited; try again")
        time.sleep(0.05)


def attach_via(via: str, run: str, *, theme: str | None = None) -> int:
    """Open the console on a run on another machine (``--via 'ssh HOST'``)."""
    from tui.bridge import open_via

    return _console(lambda: open_via(via, run), theme)


def _console(
    connect: Callable[[], Awaitable[SocketConnection]],
    theme: str | None,
    *,
    resume_run: Callable[[list[str]], Awaitable[SocketConnection]] | None = None,
) -> int:
    from tui.app.app import ConsoleApp
    from tui.engine.client import ConnectError

    async def main() -> int:
        try:
            connection = await connect()
        except ConnectError as exc:
            raise LiveError(str(exc)) from None
        app = ConsoleApp(connection=connection, theme=theme, resume_run=resume_run)
        code = await app.run_async()
        await connection.close()
        if app.connection is not connection:  # the run went on with a raised budget
            await app.connection.close()  # type: ignore[union-attr]
        store = app.main.store
        finished = app.outcome or store.finished
        if finished is not None:  # the run is over: how it ended, how to look again or go on
            from tui.app.exit_summary import exit_summary

            print(exit_summary(finished, store.run_dir, store.run_id))
        return code if code is not None else (app.return_code or 1)

    return asyncio.run(main())


def detached_message(run_dir: Path, pid: int) -> str:
    return (
        f"run {run_dir.name} is going in the background (engine pid {pid}).\n"
        f"  attach:  loopconsole attach {run_dir.name}\n"
        f"  folder:  {run_dir}"
    )


def stop_engine(run_dir: Path) -> None:
    """Ask a live run's engine to stop at once (SIGTERM: outcome interrupted)."""
    info = read_engine_info(run_dir)
    if info is not None:
        os.kill(info.pid, signal.SIGTERM)


# -- the fleet -----------------------------------------------------------------------
def fleet(
    paths: list[Path],
    *,
    as_json: bool = False,
    via: str | None = None,
    theme: str | None = None,
    follow: bool = False,
) -> int:
    """List every known run ("needs you" first); Enter attaches, then back to the list.

    ``follow``: print the list as one JSON line, and again whenever it
    changes, until stdin closes (what ``fleet --via`` runs there).
    """
    from tui.bridge import RemoteFleet
    from tui.engine.fleet import Fleet

    if follow and not via:
        from tui.fleet_follow import follow_json

        return follow_json(Fleet(paths))
    known: Fleet | RemoteFleet = RemoteFleet(via, paths) if via else Fleet(paths)
    try:
        return _fleet(known, as_json=as_json, via=via, theme=theme)
    finally:
        if isinstance(known, RemoteFleet):
            known.close()


def _fleet(known: Fleet | RemoteFleet, *, as_json: bool, via: str | None, theme: str | None) -> int:
    from tui.app.fleet_app import FleetApp
    from tui.engine.client import ConnectError

    if as_json:
        import json

        try:
            rows = known.rows()
        except ConnectError as exc:
            raise LiveError(str(exc)) from None
        print(json.dumps([row.to_json() for row in rows], indent=1))
        return 0
    while True:
        chosen = FleetApp(known).run()
        if not chosen:
            return 0
        try:
            if via:
                attach_via(via, chosen, theme=theme)
            else:
                attach(Path(chosen), theme=theme)
        except LiveError as exc:
            print(f"loopconsole: {exc}", file=sys.stderr)
