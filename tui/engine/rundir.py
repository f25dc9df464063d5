"""Run directories: where a run keeps its journal, spec copy and workspace.

```
<user state dir>/runs/<YYYYmmdd-HHMMSS>-<name>/   (platformdirs; or --run-dir)
  journal.jsonl   spec.toml   checkpoints.git/   workspace/ (copy_workspace)
```

Runs live out of the workspace, where the agent cannot reach them. Earlier
versions kept them in ``<spec dir>/.loopconsole/runs/``; :func:`find_runs`
still finds those.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

import platformdirs

from tui.engine import runlock
from tui.errors import UserError
from tui.spec import LoopSpec, spec_path

# Where earlier versions kept runs, under the spec's folder (still read).
RUNS_FOLDER = Path(".loopconsole") / "runs"


class RunDirError(UserError):
    """The run directory cannot be used (exists and is not empty, unwritable)."""


@dataclass(frozen=True)
class RunDir:
    """The paths of one run."""

    path: Path
    run_id: str
    workspace: Path

    @property
    def journal_path(self) -> Path:
        return self.path / "journal.jsonl"

    @property
    def spec_copy(self) -> Path:
        return self.path / "spec.toml"

    @property
    def memories(self) -> Path:
        return self.path / "memories"


def state_dir() -> Path:
    """The user's state folder for loopconsole (``LOOPCONSOLE_STATE_DIR`` overrides)."""
    override = os.environ.get("LOOPCONSOLE_STATE_DIR")
    return Path(override) if override else platformdirs.user_state_path("loopconsole")


def state_runs_root() -> Path:
    """The folder holding every run by default: ``runs`` in the user's state folder."""
    return state_dir() / "runs"


def runs_root(spec: LoopSpec) -> Path:
    """The folder holding a spec's runs by default."""
    return state_runs_root()


def spec_of(run_dir: Path) -> Path | None:
    """The spec file a run was started from (its journal's first event)."""
    try:
        with (run_dir / "journal.jsonl").open("rb") as journal:
            first = json.loads(journal.readline(1_000_000) or b"{}")
    except (OSError, ValueError):
        return None
    spec = first.get("spec_path") if isinstance(first, dict) else None
    return Path(spec) if spec else None


LEGACY_DEPTH = 3  # how deep below a folder old `.loopconsole/runs` folders are looked for
_SKIP = {".git", ".venv", "venv", "node_modules", "__pycache__"}


def legacy_roots(here: Path, depth: int = LEGACY_DEPTH) -> list[Path]:
    """``.loopconsole/runs`` folders at most ``depth`` levels below ``here``.

    Bounded and tolerant: a big or busy folder (a home, /tmp) is not walked
    whole, and a folder that vanishes or cannot be read is passed over.
    """
    roots: list[Path] = []
    level = [here]
    for _ in range(depth + 1):
        below: list[Path] = []
        for folder in level:
            runs = folder / RUNS_FOLDER
            if runs.is_dir():
                roots.append(runs)
            try:
                children = [e for e in os.scandir(folder) if e.is_dir(follow_symlinks=False)]
            except OSError:
                continue
            below += [Path(e.path) for e in children if not e.name.startswith(".")]
            below = [p for p in below if p.name not in _SKIP]
        level = below
    return roots


def find_runs(path: Path) -> list[Path]:
    """Run folders of a spec, or of every spec in or below a folder, oldest first.

    Looks in the user's state folder and in the ``.loopconsole/runs`` folders
    earlier versions kept beside the spec.
    """
    spec_file = spec_path(path)
    if spec_file.is_file():
        legacy = [spec_file.parent / RUNS_FOLDER]
        mine = spec_file.resolve()

        def belongs(spec: Path) -> bool:
            return spec == mine

    else:
        legacy = legacy_roots(path)
        folder = path.resolve()

        def belongs(spec: Path) -> bool:
            return spec.is_relative_to(folder)

    runs = [d for root in legacy if root.is_dir() for d in root.iterdir() if d.is_dir()]
    state = state_runs_root()
    if state.is_dir():
        for run in state.iterdir():
            spec = spec_of(run) if run.is_dir() else None
            if spec is not None and belongs(spec):
                runs.append(run)
    return sorted(runs, key=lambda d: d.name)


def _new_run_path(spec: LoopSpec) -> Path:
    stamp = time.strftime("%Y%m%d-%H%M%S")
    root = runs_root(spec)
    path = root / f"{stamp}-{spec.name}"
    n = 2
    while path.exists():
        path = root / f"{stamp}-{spec.name}-{n}"
        n += 1
    return path


def _ignore_run_folders(_dir: str, names: list[str]) -> set[str]:
    return {n for n in names if n == ".loopconsole"}


def create_run(spec: LoopSpec, run_dir: Path | None = None) -> RunDir:
    """Make a new run directory, copying the workspace when the spec asks."""
    path = (run_dir or _new_run_path(spec)).resolve()
    try:
        if path.exists() and any(path.iterdir()):
            raise RunDirError(f"run directory {path} already exists and is not empty")
        path.mkdir(parents=True, exist_ok=True)
        if spec.path is not None:
            shutil.copyfile(spec.path, path / "spec.toml")
        if spec.copy_workspace:
            workspace = path / "workspace"
            shutil.copytree(spec.workspace, workspace, symlinks=True, ignore=_ignore_run_folders)
        else:
            workspace = spec.workspace
    except OSError as exc:
        raise RunDirError(f"cannot create run directory {path}: {exc.strerror or exc}") from None
    return RunDir(path=path, run_id=path.name, workspace=workspace)


def open_run(path: Path, spec: LoopSpec) -> RunDir:
    """An existing run directory (resume, replay)."""
    path = path.resolve()
    workspace = path / "workspace" if spec.copy_workspace else spec.workspace
    return RunDir(path=path, run_id=path.name, workspace=workspace)


LOCK_NAME = "run.pid"


def process_alive(pid: int) -> bool:
    """Whether process ``pid`` lives (a zombie does not)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return not _zombie(pid)


def _zombie(pid: int) -> bool:
    """A killed process nobody has reaped yet: it still answers signals."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[-1].split()[0] in ("Z", "X")


def _recorded_pid(run_dir: Path) -> int | None:
    try:
        return int((run_dir / LOCK_NAME).read_text().strip())
    except (OSError, ValueError):
        return None


def running_pid(run_dir: Path) -> int | None:
    """The pid of a live process running this run, or None.

    The run's lock (tui/engine/runlock.py) decides: a ``run.pid`` left by a
    crash is stale even when its number now names an unrelated process.
    """
    held = runlock.held_elsewhere(run_dir)
    pid = _recorded_pid(run_dir)
    if held is None:  # a run from before the lock: trust the pid file
        return pid if pid is not None and pid != os.getpid() and process_alive(pid) else None
    return (pid or -1) if held else None


def _refusal(run_dir: Path) -> RunDirError:
    pid = _recorded_pid(run_dir)
    who = f" (process {pid})" if pid else ""
    return RunDirError(f"run {run_dir.name} is still running{who}; stop it before resuming")


def refuse_if_running(run_dir: Path) -> None:
    """Raise RunDirError when another live process is running this run."""
    if running_pid(run_dir) is not None:
        raise _refusal(run_dir)


def lock_run(run_dir: Path) -> None:
    """Hold the run for this process, before anything in it is read; refuse when
    another live process holds it. Holding it again is a no-op."""
    try:
        runlock.hold(run_dir)
    except runlock.RunLocked as exc:
        if runlock.held_elsewhere(run_dir):
            raise _refusal(run_dir) from None
        raise RunDirError(str(exc)) from None
    with contextlib.suppress(OSError):
        (run_dir / LOCK_NAME).write_text(f"{os.getpid()}\n")


def unlock_run(run_dir: Path) -> None:
    with contextlib.suppress(OSError):
        if (run_dir / LOCK_NAME).read_text().strip() == str(os.getpid()):
            (run_dir / LOCK_NAME).unlink()
    runlock.release(run_dir)
