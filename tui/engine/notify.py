"""The notify command: run when a loop starts needing a human, or finishes.

``[notify] command = "..."`` in the spec, or else in the user's config.toml,
is run through the shell with the run's facts in its environment, so users
can wire notify-send, ntfy or a chat webhook. A failing command is reported
once (a Notice) and never stops or slows the run.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import tomllib
from pathlib import Path

import platformdirs

from tui.events import Event, Notice, Paused, RunFinished
from tui.spec import LoopSpec, NotifySpec

NOTIFY_TIMEOUT_S = 30.0
_NEEDS_YOU = ("budget", "paused", "error")


def notify_command(spec: LoopSpec) -> str:
    """The spec's notify command, else the user's, else ""."""
    if spec.notify.command.strip():
        return spec.notify.command
    folder = os.environ.get("LOOPCONSOLE_CONFIG_DIR") or platformdirs.user_config_dir(
        "loopconsole", appauthor=False
    )
    try:
        data = tomllib.loads((Path(folder) / "config.toml").read_text())
        return NotifySpec.model_validate(data.get("notify", {})).command
    except (OSError, tomllib.TOMLDecodeError, ValueError):
        return ""


def moment(event: Event) -> tuple[str, str] | None:
    """("needs_you" or "finished", the reason) when ``event`` is worth a notification."""
    if isinstance(event, Paused) and not event.by_human:
        return "needs_you", event.reason
    if isinstance(event, RunFinished):
        kind = "needs_you" if event.outcome in _NEEDS_YOU else "finished"
        return kind, f"{event.outcome.replace('_', ' ')}: {event.reason}"
    return None


class NotifyCommand:
    """A runner subscriber that runs the command at the moments that matter."""

    def __init__(self, command: str, *, name: str, run_dir: Path, publish: object) -> None:
        self.command = command
        self.name = name
        self.run_dir = run_dir
        self.publish = publish
        self.failed = False
        self.tasks: set[asyncio.Task[None]] = set()

    def __call__(self, event: Event) -> None:
        found = moment(event)
        if found is None:
            return
        kind, reason = found
        env = dict(
            os.environ,
            LOOPCONSOLE_EVENT=kind,
            LOOPCONSOLE_RUN_ID=event.run_id,
            LOOPCONSOLE_NAME=self.name,
            LOOPCONSOLE_REASON=reason,
            LOOPCONSOLE_RUN_DIR=str(self.run_dir),
        )
        with contextlib.suppress(RuntimeError):  # no event loop: nothing to run it in
            task = asyncio.get_running_loop().create_task(self._run(env))
            self.tasks.add(task)
            task.add_done_callback(self.tasks.discard)

    async def _run(self, env: dict[str, str]) -> None:
        try:
            process = await asyncio.create_subprocess_shell(
                self.command,
                env=env,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.DEVNULL,
                stderr=asyncio.subprocess.PIPE,
                start_new_session=True,
            )
            _out, err = await asyncio.wait_for(process.communicate(), NOTIFY_TIMEOUT_S)
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                process.kill()
            self._failed(f"it ran longer than {NOTIFY_TIMEOUT_S:.0f} s")
            return
        except OSError as exc:
            self._failed(str(exc.strerror or exc))
            return
        if process.returncode:
            last = err.decode(errors="replace").strip().splitlines()[-1:] if err else []
            self._failed(f"exit {process.returncode}" + (f": {last[0][:200]}" if last else ""))

    def _failed(self, why: str) -> None:
        if self.failed:
            return
        self.failed = True  # reported once; later moments still try
        self.publish(  # type: ignore[operator]
            Notice(
                level="warning",
                message=f"the notify command failed ({why}); the run goes on, and further "
                "failures are not reported. Fix [notify] command in the spec or config.toml.",
            )
        )

    async def settle(self) -> None:
        """Let the commands started so far finish (at the end of a run)."""
        if self.tasks:
            await asyncio.wait(list(self.tasks), timeout=NOTIFY_TIMEOUT_S)
