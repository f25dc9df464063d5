"""Raising a budget limit when a run is resumed (``resume RUN --raise KEY=VALUE``).

A run that stopped on its budget can go on with a higher limit. The raise
goes through the same path as an edit of loop.toml made while the run was
stopped (``ResumeState.spec_edits``), so it applies before the limit is
checked, and it is journaled: a ``spec_reloaded`` event for the budget and a
notice saying which limit went from what to what.
"""

from __future__ import annotations

from pydantic import ValidationError

from tui.engine.resume import ResumeState
from tui.spec import BudgetSpec

LIMITS = ("max_iterations", "max_tokens", "max_cost_usd", "max_wall_s")


class RaiseError(Exception):
    """A ``--raise`` the run cannot take (one sentence, exit 2)."""


def parse_raise(text: str) -> tuple[str, int | float]:
    """``max_cost_usd=10`` -> ("max_cost_usd", 10.0); RaiseError when malformed."""
    key, sep, value = text.partition("=")
    key = key.strip()
    if not sep or key not in LIMITS:
        raise RaiseError(
            f"--raise {text!r}: write LIMIT=VALUE with LIMIT one of {', '.join(LIMITS)}"
        )
    try:
        number: int | float = (
            int(value) if key in ("max_iterations", "max_tokens") else float(value)
        )
    except ValueError:
        raise RaiseError(f"--raise {text!r}: {value.strip()!r} is not a number") from None
    return key, number


def apply_raises(state: ResumeState, raises: list[str]) -> list[str]:
    """Raise the run's limits; return one line per raise (also kept as the run's notes)."""
    if not raises:
        return []
    base = state.spec_edits or state.spec
    spec = base.model_copy(deep=True)
    limits = spec.budget.model_dump()
    lines = []
    for text in raises:
        key, value = parse_raise(text)
        old = limits[key]
        if old is not None and value <= old:
            raise RaiseError(
                f"--raise {key}={value:g}: the limit is already {old:g}; raise it above"
            )
        limits[key] = value
        lines.append(
            f"budget raised on resume: {key} {'none' if old is None else f'{old:g}'} → {value:g}"
        )
    try:
        spec.budget = BudgetSpec.model_validate(limits)
    except ValidationError as exc:
        raise RaiseError(f"--raise: {exc.errors()[0]['msg']}") from None
    state.spec_edits = spec
    state.notes.extend(lines)
    return lines
