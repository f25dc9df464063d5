"""Hot reload: watch loop.toml during a run and apply valid edits.

A valid edit of the goal, budget, validators, thrash or memory settings
applies from the next iteration; an invalid edit is reported and the spec in
force stays as it was.

The file is watched only when the agent cannot write it: commands run in the
sandbox (which hides the spec) and the agent is not an unsandboxed CLI (the
editor refuses the spec anyway). Otherwise it is read once at start, and an
edit applies only when the human asks for it (:meth:`SpecReload.reload_spec`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import watchfiles

from tui.events import GoalChanged, Notice, SpecReloaded
from tui.spec import LoopSpec, SpecError, read_spec_text, spec_from_text

if TYPE_CHECKING:
    from tui.engine.runner import Runner

RELOADABLE = ("goal", "budget", "validators", "thrash", "memory", "prices")


def reloadable_changes(old: LoopSpec, new: LoopSpec) -> tuple[list[str], list[str]]:
    """(sections that changed and can apply, sections that changed and cannot)."""
    applied: list[str] = []
    ignored: list[str] = []
    for name in LoopSpec.model_fields:
        if name == "path":
            continue
        if getattr(old, name) != getattr(new, name):
            (applied if name in RELOADABLE else ignored).append(name)
    return applied, ignored


async def watch_spec(
    path: Path,
    on_valid: Callable[[LoopSpec], None],
    on_invalid: Callable[[list[str]], None],
    *,
    stop: asyncio.Event,
) -> None:
    """Call ``on_valid`` or ``on_invalid`` each time ``path`` changes, until ``stop``."""
    try:
        last = read_spec_text(path)
    except SpecError:
        last = ""
    async for _changes in watchfiles.awatch(
        path.parent,
        watch_filter=lambda _change, changed: Path(changed).name == path.name,
        stop_event=stop,
        debounce=300,
        step=50,
        recursive=False,
    ):
        try:
            text = read_spec_text(path)  # never blocks on a FIFO, never reads without end
        except SpecError as exc:
            if path.exists():  # else: mid-save by an editor that replaces the file
                on_invalid(exc.messages)
            continue
        if text == last:
            continue
        last = text
        try:
            spec = spec_from_text(text, path)
        except SpecError as exc:
            on_invalid(exc.messages)
            continue
        on_valid(spec)


class SpecReload:
    """Hot reload for one runner: valid edits of loop.toml wait for the next iteration."""

    def __init__(self, runner: Runner, watch: bool) -> None:
        self.runner = runner
        self.watch = watch and runner.spec.path is not None
        self.pending: LoopSpec | None = None
        self.stopped = asyncio.Event()

    def spec_out_of_reach(self) -> bool:
        """Whether nothing the agent runs can write the spec file."""
        runner = self.runner
        sandboxed = runner.confinement.sandbox is not None
        agent = runner.spec.agent
        return sandboxed and (agent.backend != "command" or agent.sandbox)

    def reload_spec(self) -> None:
        """The human asks for the spec file to be read again; edits apply as a hot reload's."""
        path = self.runner.spec.path
        if path is None:
            return
        try:
            text = path.read_text()
        except OSError as exc:
            self.invalid([f"{path}: cannot be read ({exc.strerror})"])
            return
        try:
            new = spec_from_text(text, path)
        except SpecError as exc:
            self.invalid(exc.messages)
            return
        self.edited(new)

    def start(self) -> asyncio.Task[None] | None:
        """Watch loop.toml until :attr:`stopped` is set (when asked to, and out of the
        agent's reach)."""
        path = self.runner.spec.path
        if not self.watch or path is None:
            return None
        if not self.spec_out_of_reach():
            self.runner.publish(
                Notice(
                    level="warning",
                    message=f"{path.name} is not watched for edits: the agent could "
                    "write it (the sandbox is off, or the agent CLI runs unsandboxed); it "
                    "was read once, and edits apply only when you reload it",
                )
            )
            return None
        return asyncio.ensure_future(watch_spec(path, self.edited, self.invalid, stop=self.stopped))

    def edited(self, new: LoopSpec) -> None:
        """A valid edit: say what applies from the next iteration, and what cannot."""
        runner = self.runner
        applied, ignored = reloadable_changes(self.pending or runner.spec, new)
        if ignored:
            runner.publish(
                Notice(
                    level="warning",
                    message=f"{new.path}: changes to {', '.join(ignored)} need a new run; "
                    "they were not applied",
                )
            )
        if applied:
            self.pending = new
            runner.publish(SpecReloaded(changed=applied))

    def invalid(self, messages: list[str]) -> None:
        self.runner.publish(
            Notice(
                level="error",
                message=f"{messages[0]} (edit not applied; the spec in force is unchanged)",
            )
        )

    def apply_pending(self) -> None:
        """Between iterations: put the pending edit in force."""
        runner = self.runner
        new, self.pending = self.pending, None
        if new is None:
            return
        old = runner.spec
        goal_edited = new.goal != old.goal
        for name in RELOADABLE:
            setattr(old, name, getattr(new, name))
        runner.budget.limits = old.budget
        runner.budget.prices = old.prices
        runner.thrash.update(old.thrash)
        goal = new.goal.strip()
        if goal_edited and goal and goal != runner.state.goal:
            runner.publish(GoalChanged(goal=goal, previous=runner.state.goal))
