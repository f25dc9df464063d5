"""Preflight: everything ``run`` refuses before the first iteration, in one place.

``run`` and ``check`` both call :func:`preflight`, so a spec that ``check``
passes is one that ``run`` starts, and a refusal reads the same from both
(exit code 2). The one difference: a missing API key is a fact about the
shell, not the spec, so ``check`` reports it as a note and ``run`` refuses.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from tui.agents.base import Agent, MissingCredential
from tui.agents.registry import create_agent
from tui.errors import UserError
from tui.spec import LoopSpec


class RunFolderRefused(UserError):
    """``--run-dir`` cannot hold this run; the message is one sentence."""


@dataclass
class Preflight:
    """A spec that may run: its prepared agent and what the user should know."""

    agent: Agent
    notes: list[str] = field(default_factory=list)


def preflight(spec: LoopSpec, run_dir: Path | None = None, *, need_key: bool = True) -> Preflight:
    """Check what a run needs before it starts; raise with one sentence if it cannot.

    Raises :class:`RunFolderRefused` for a bad ``--run-dir`` and
    :class:`~tui.agents.base.AgentConfigError` for an agent that cannot start
    (a script that does not parse, a program not found, a thinking budget the
    API refuses; a missing key only when ``need_key``).
    """
    if run_dir is not None:
        check_run_folder(spec, run_dir)
    agent = create_agent(spec)
    notes: list[str] = []
    try:
        agent.prepare()
    except MissingCredential as exc:
        if need_key:
            raise
        notes.append(str(exc))
    return Preflight(agent=agent, notes=notes)


def check_run_folder(spec: LoopSpec, run_dir: Path) -> None:
    """Refuse a run folder the agent could reach, or one already in use.

    The run folder holds the journal and checkpoints that judge the agent, so
    it may not be the workspace or lie inside it (a copied workspace would
    also copy itself into itself, level after level).
    """
    target = run_dir.expanduser().resolve()
    workspace = spec.workspace.resolve()
    if target == workspace or target.is_relative_to(workspace):
        raise RunFolderRefused(
            f"--run-dir {target} is inside the workspace {workspace}; the agent could "
            "change its own record there: choose a folder outside the workspace"
        )
    if target.exists() and not target.is_dir():
        raise RunFolderRefused(f"--run-dir {target} is a file, not a folder; choose a new folder")
    try:
        in_use = target.is_dir() and any(target.iterdir())
    except OSError as exc:
        raise RunFolderRefused(
            f"--run-dir {target} cannot be read ({exc.strerror}); choose another folder"
        ) from None
    if in_use:
        raise RunFolderRefused(
            f"run directory {target} already exists and is not empty; choose a new folder"
        )
