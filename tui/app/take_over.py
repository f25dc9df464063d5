"""Take-over: hand the terminal to the engineer's $SHELL or $EDITOR, in the workspace.

The console suspends itself (``App.suspend``), runs the program in the
foreground with the workspace as its folder, and comes back when it exits.
What the engineer changed is then checkpointed by the runner
(``record_human_changes``) and told to the agent in the next prompt.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import tempfile
from pathlib import Path

from textual.app import App, SuspendNotSupported

BANNER = (
    "\nloopconsole: you have the workspace ({path}).\n"
    "The loop is paused. Exit this {what} to go back to the console: what you changed is\n"
    "checkpointed and goes into the agent's next prompt.\n"
)


class TakeOverError(Exception):
    """The shell or editor could not be started (one sentence)."""


def shell_command() -> list[str]:
    """The engineer's shell: $SHELL, else /bin/sh."""
    shell = os.environ.get("SHELL") or "/bin/sh"
    return shlex.split(shell)


def editor_command(path: str) -> list[str]:
    """$VISUAL or $EDITOR (with its arguments) on ``path``; vi when neither is set."""
    editor = os.environ.get("VISUAL") or os.environ.get("EDITOR")
    if not editor:
        editor = next((e for e in ("vi", "nano") if shutil.which(e)), "")
    if not editor:
        raise TakeOverError("set $EDITOR to the editor to open files with")
    return [*shlex.split(editor), path]


def run_suspended(app: App, argv: list[str], cwd: Path, banner: str = "") -> int:
    """Run ``argv`` in the foreground with the console suspended; return its exit code."""
    try:
        with app.suspend():
            if banner:
                print(banner, flush=True)
            # os.environ, not the process's own block: the engine blanks secrets
            # there for children (tui/redaction.py), and this is the human's shell.
            env = dict(os.environ)
            return subprocess.run(argv, cwd=cwd, check=False, env=env).returncode
    except SuspendNotSupported:
        raise TakeOverError(
            "this terminal cannot hand over to another program; edit the workspace "
            f"from another terminal instead: {cwd}"
        ) from None
    except FileNotFoundError:
        raise TakeOverError(f"{argv[0]} was not found; check $SHELL / $EDITOR") from None
    except PermissionError:
        raise TakeOverError(f"{argv[0]} cannot be run (permission denied)") from None


def open_shell(app: App, workspace: Path) -> int:
    """The engineer's shell in the workspace, until they exit it."""
    return run_suspended(
        app, shell_command(), workspace, BANNER.format(path=workspace, what="shell")
    )


def open_editor(app: App, workspace: Path, rel_path: str) -> int:
    """$EDITOR on one workspace file, until they close it."""
    target = (workspace / rel_path).resolve()
    if not target.is_relative_to(workspace.resolve()):
        raise TakeOverError(f"{rel_path} is outside the workspace")
    return run_suspended(app, editor_command(str(target)), workspace)


def open_remote_shell(app: App, via: str, run: str) -> int:
    """A shell in the workspace of a run on another machine, through ``via``
    (``CMD loopconsole _shell RUN``), until they exit it."""
    from tui.bridge import via_command

    where = f"run {run}'s workspace, through {via}"
    return run_suspended(
        app, via_command(via, "_shell", run), Path.cwd(), BANNER.format(path=where, what="shell")
    )


def edit_copy(app: App, rel_path: str, text: str) -> str:
    """$EDITOR on a local copy of a file of a workspace on another machine; its text after."""
    folder = Path(tempfile.mkdtemp(prefix="loopconsole-edit-"))
    try:
        copy = folder / (Path(rel_path).name or "file")
        copy.write_text(text, encoding="utf-8", newline="")
        run_suspended(app, editor_command(str(copy)), folder)
        with open(copy, encoding="utf-8", newline="") as edited:
            return edited.read()
    except (OSError, UnicodeDecodeError) as exc:
        raise TakeOverError(f"cannot edit a copy of {rel_path}: {exc}") from None
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def changes_text(lines: list[str]) -> str:
    """The notification after a hand-back: what the next prompt will say."""
    if not lines:
        return "No changes in the workspace."
    shown = "\n".join(f"• {line}" for line in lines[:8])
    more = f"\n… and {len(lines) - 8} more" if len(lines) > 8 else ""
    return f"You changed:\n{shown}{more}\nThe next prompt tells the agent."
