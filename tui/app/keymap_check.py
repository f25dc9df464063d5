"""Keymap problems: one key bound to two different actions, said naming both."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from textual.binding import Binding
from textual.screen import Screen


def _keys(spec: str) -> list[str]:
    return [k.strip() for k in spec.split(",") if k.strip()]


def keymap_conflicts(bindings: Iterable[Binding], keymap: Mapping[str, str]) -> list[str]:
    """One sentence per key the user's keymap gave to a second action.

    Keys the console itself shares on purpose (space: pause or resume, t: take
    over or hand back) are not conflicts: only one of the pair is ever active.
    """
    owners: dict[str, list[tuple[str, str, bool]]] = {}
    for binding in bindings:
        if not binding.id:
            continue
        remapped = binding.id in keymap
        for key in _keys(keymap.get(binding.id, binding.key)):
            owners.setdefault(key, []).append((binding.id, binding.action, remapped))
    problems = []
    for key, bound in owners.items():
        actions = {action for _, action, _ in bound}
        if len(actions) < 2 or not any(remapped for _, _, remapped in bound):
            continue
        ids = sorted({id_ for id_, _, _ in bound})
        named = " and ".join(ids)
        problems.append(
            f"keymap: {key!r} is bound to both {named}; give one of them another key in config.toml"
        )
    return problems


def shown_key(screen: Screen[Any], binding_id: str) -> str:
    """The key a screen's binding has after the user's keymap, as the footer shows it."""
    for binding in screen.BINDINGS:
        if isinstance(binding, Binding) and binding.id == binding_id:
            key = screen.app._keymap.get(binding_id, binding.key).split(",")[0].strip()
            return screen.app.get_key_display(Binding(key, binding.action))
    return binding_id
