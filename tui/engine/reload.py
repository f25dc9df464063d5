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

from tui.events import Notice, SpecReloaded
from tui.spec import LoopSpec, SpecError, read_spec_text, spec_from_text

if TYPE_CHECKING:
    from tui.engine.runner import Runner

RELOADABLE = ("goal", "budget", "validators", "thrash", "memory", "prices")


def reloadable_changes(old: LoopSpec, new: LoopSpec) -> tuple[list[str], list[str]]:
    """(sections that changed and can apply, sections that changed and cannot)."""
    applied, ignored = [], []
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
    """Hot reload, mixed into Runner: valid edits wait for the next iteration."""

    def spec_out_of_reach(self: Runner) -> bool:
        """Whether nothing the agent runs can write the spec file."""
        sandboxed = self.confinement.sandbox is not None
        agent = self.spec.agent
        return sandboxed and (agent.backend != "command" or agent.sandbox)

    def reload_spec(self: Runner) -> None:
        """The human asks for the spec file to be read again; edits apply as a hot reload's."""
        if self.spec.path is None:
            return
        try:
            text = self.spec.path.read_text()
        except OSError as exc:
            self._spec_invalid([f"{self.spec.path}: cannot be read ({exc.strerror})"])
            return
        try:
            new = spec_from_text(text, self.spec.path)
        except SpecError as exc:
            self._spec_invalid(exc.messages)
            return
        self._spec_edited(new)

    def _start_watcher(self: Runner) -> asyncio.Task | None:
        if not self._watch_spec or self.spec.path is None:
            return None
        if not self.spec_out_of_reach():
            self.publish(
                Notice(
                    level="warning",
                    message=f"{self.spec.path.name} is not watched for edits: the agent could "
                    "write it (the sandbox is off, or the agent CLI runs unsandboxed); it "
                    "was read once, and edits apply only when you reload it",
                )
            )
            return None
        return asyncio.ensure_future(
            watch_spec(self.spec.path, self._spec_edited, self._spec_invalid, stop=self._watch_stop)
        )

    def _spec_edited(self: Runner, new: LoopSpec) -> None:
        applied, ignored = reloadable_changes(self._pending_spec or self.spec, new)
        if ignored:
            self.publish(
                Notice(
                    level="warning",
                    message=f"{new.path}: changes to {', '.join(ignored)} need a new run; "
                    "they were not applied",
                )
            )
        if applied:
            self._pending_spec = new
            self.publish(SpecReloaded(changed=applied))

    def _spec_invalid(self: Runner, messages: list[str]) -> None:
        self.publish(
            Notice(
                level="error",
                message=f"{messages[0]} (edit not applied; the spec in force is unchanged)",
            )
        )

    def _apply_pending_spec(self: Runner) -> None:
        new, self._pending_spec = self._pending_spec, None
        if new is None:
            return
        old = self.spec
        goal_edited = new.goal != old.goal
        for name in RELOADABLE:
            setattr(old, name, getattr(new, name))
        self.budget.limits = old.budget
        self.budget.prices = old.prices
        self.thrash.update(old.thrash)
        if goal_edited:
            self.set_goal(new.goal)
