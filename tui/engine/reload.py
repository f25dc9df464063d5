"""Hot reload: watch loop.toml during a run and apply valid edits.

A valid edit of the goal, budget, validators, thrash or memory settings
applies from the next iteration; an invalid edit is reported and the spec in
force stays as it was.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

import watchfiles

from tui.spec import LoopSpec, SpecError, spec_from_text

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
    last = path.read_text() if path.exists() else ""
    async for _changes in watchfiles.awatch(
        path.parent,
        watch_filter=lambda _change, changed: Path(changed).name == path.name,
        stop_event=stop,
        debounce=300,
        step=50,
        recursive=False,
    ):
        try:
            text = path.read_text()
        except OSError:
            continue  # mid-save by an editor that replaces the file
        if text == last:
            continue
        last = text
        try:
            spec = spec_from_text(text, path)
        except SpecError as exc:
            on_invalid(exc.messages)
            continue
        on_valid(spec)
