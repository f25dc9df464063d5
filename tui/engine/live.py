"""A live run: the runner with its socket, and the registry of runs on this machine.

:func:`run_served` runs a runner to its end while serving it on its socket
(``tui.engine.server``), so consoles can attach; the engine process of
``run`` / ``run --detach`` and headless runs all go through it. Every served
run is registered in the user's state folder, which is how ``attach RUN``
finds a run by id or prefix and how the fleet lists them.
"""

from __future__ import annotations

import contextlib
import logging
import os
from pathlib import Path

from tui.engine.protocol import socket_path
from tui.engine.rundir import state_dir, state_runs_root
from tui.engine.runner import Runner
from tui.engine.server import QUEUE_LINES, RunServer
from tui.events import RunFinished

log = logging.getLogger("loopconsole.live")


def registry_dir() -> Path:
    """Where runs register: one file per run, holding its folder (runs kept elsewhere,
    ``--run-dir``, are found through it)."""
    return state_dir() / "registry"


def register(run_id: str, run_dir: Path) -> None:
    """Remember a run's folder under its id (best effort: never stops a run)."""
    folder = registry_dir()
    with contextlib.suppress(OSError):
        folder.mkdir(parents=True, exist_ok=True)
        (folder / run_id).write_text(str(run_dir.resolve()) + "\n")


def registered_runs() -> dict[str, Path]:
    """Every run in the state folder, and every registered one elsewhere: id -> folder."""
    runs: dict[str, Path] = {}
    kept = state_runs_root()
    if kept.is_dir():
        for run in kept.iterdir():
            if (run / "journal.jsonl").is_file():
                runs[run.name] = run
    folder = registry_dir()
    if not folder.is_dir():
        return runs
    for entry in folder.iterdir():
        with contextlib.suppress(OSError):
            path = Path(entry.read_text().strip())
            if (path / "journal.jsonl").is_file():
                runs[entry.name] = path
    return runs


async def run_served(runner: Runner) -> RunFinished:
    """Run to the end while serving the run on its socket."""
    run_dir = runner.run_dir.path
    register(runner.run_id, run_dir)
    # How far a client may fall behind (lines) before it is dropped; tests lower it.
    queue = int(os.environ.get("LOOPCONSOLE_CLIENT_QUEUE", QUEUE_LINES))
    server = RunServer(
        runner, run_dir, runner.run_dir.journal_path, socket_path(run_dir), queue_lines=queue
    )
    try:
        await server.start()
    except OSError as exc:
        log.warning("consoles cannot attach to this run: %s", exc)
        return await runner.run()
    try:
        return await runner.run()
    finally:
        await server.close()
