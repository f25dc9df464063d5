"""Raising a budget limit when a run is resumed (``resume RUN --raise KEY=VALUE``).

A run that stopped on its budget can go on with a higher limit. The raise
goes through the same path as an edit of loop.toml made while the run was
stopped (``ResumeState.spec_edits``), so it applies before the limit is
checked, and it is journaled: a ``spec_reloaded`` event for the budget and a
notice saying which limit went from what to what.

The console's offer to raise the limit a run stopped on (tui/app) proposes a
value with :func:`limit_to_raise` and :func:`proposed_value`, checks it with
:func:`check_raise`, and resumes the run with the same ``--raise``: one
implementation, whether typed or offered.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path

from pydantic import ValidationError

from tui.engine.resume import ResumeState
from tui.errors import UserError
from tui.events import BudgetState
from tui.spec import BudgetSpec, LoopSpec

LIMITS = ("max_iterations", "max_tokens", "max_cost_usd", "max_wall_s")
_WHOLE = ("max_iterations", "max_tokens")
# What the run has used of each limit.
_USED: dict[str, Callable[[BudgetState], float]] = {
    "max_iterations": lambda b: b.iterations,
    "max_tokens": lambda b: b.usage.total,
    "max_cost_usd": lambda b: b.cost_usd,
    "max_wall_s": lambda b: b.wall_s,
}


class RaiseError(UserError):
    """A ``--raise`` the run cannot take (one sentence, exit 2)."""


def parse_raise(text: str) -> tuple[str, int | float]:
    """``max_cost_usd=10`` -> ("max_cost_usd", 10.0); RaiseError when malformed."""
    key, sep, value = text.partition("=")
    key, value = key.strip(), value.strip()
    if not sep or key not in LIMITS:
        raise RaiseError(
            f"--raise {text!r}: write LIMIT=VALUE with LIMIT one of {', '.join(LIMITS)}"
        )
    try:
        number = float(value)
    except ValueError:
        raise RaiseError(f"--raise {text!r}: {value!r} is not a number") from None
    if not math.isfinite(number):
        raise RaiseError(f"--raise {text!r}: give a finite number, not {value!r}")
    if number <= 0:
        raise RaiseError(f"--raise {text!r}: a limit must be more than 0")
    if key in _WHOLE:
        if not number.is_integer():
            raise RaiseError(f"--raise {text!r}: {key} takes a whole number, not {value!r}")
        return key, int(number)
    return key, number


def plain(value: float) -> str:
    """A number as typed: '3', '2000000', '10.5' (never '2e+06')."""
    return str(int(value)) if float(value).is_integer() else f"{value:.2f}".rstrip("0")


def used_of(key: str, budget: BudgetState) -> float:
    """What the run has used of limit ``key``."""
    return _USED[key](budget)


def limit_words(key: str, value: float) -> str:
    """A limit's value as a person writes it: '20', '2,000,000', '$10.00', '600 s'."""
    if key == "max_cost_usd":
        return f"${value:,.2f}"
    if key == "max_wall_s":
        return f"{value:,.0f} s" if value >= 10 else f"{value:.2g} s"
    return f"{value:,.0f}"


def check_raise(key: str, value: float, budget: BudgetState) -> None:
    """Refuse a new limit that is not a raise: at or under the limit, or under what the
    run has already used (``budget`` holds both). RaiseError in one sentence."""
    old = getattr(budget, key)
    said = f"--raise {key}={plain(value)}"
    if old is not None and value <= old:
        raise RaiseError(
            f"{said}: the limit is already {limit_words(key, old)}; raise it above that"
        )
    used = _USED[key](budget)
    if value <= used:
        raise RaiseError(
            f"{said}: the run has already used {limit_words(key, used)}; raise it above that"
        )


def raised_spec(spec: LoopSpec, used: BudgetState, raises: list[str]) -> tuple[LoopSpec, list[str]]:
    """``spec`` with its limits raised, and one line per raise; RaiseError when one is not."""
    spec = spec.model_copy(deep=True)
    limits = spec.budget.model_dump()
    lines: list[str] = []
    seen: set[str] = set()
    for text in raises:
        key, value = parse_raise(text)
        if key in seen:
            raise RaiseError(f"--raise {key} is given twice; give each limit once")
        seen.add(key)
        old = limits[key]
        check_raise(key, value, used.model_copy(update={key: old}))
        limits[key] = value
        lines.append(
            f"budget raised on resume: {key} {'none' if old is None else plain(old)} → "
            f"{plain(value)}"
        )
    try:
        spec.budget = BudgetSpec.model_validate(limits)
    except ValidationError as exc:
        raise RaiseError(f"--raise: {exc.errors()[0]['msg']}") from None
    return spec, lines


def apply_raises(state: ResumeState, raises: list[str]) -> list[str]:
    """Raise the run's limits; return one line per raise (also kept as the run's notes)."""
    if not raises:
        return []
    spec, lines = raised_spec(state.spec_edits or state.spec, state.budget, raises)
    state.spec_edits = spec
    state.notes.extend(lines)
    return lines


def check_raises_before_resuming(run_dir: Path, raises: list[str]) -> None:
    """Refuse bad raises before an engine process is started to resume the run, so the
    person reads why here rather than in the engine's log (RaiseError)."""
    if not raises:
        return
    from tui.engine.resume import load_resume_state
    from tui.engine.rundir import lock_run, unlock_run

    lock_run(run_dir)  # nothing else may resume it while its journal is read
    try:
        apply_raises(load_resume_state(run_dir), raises)
    finally:
        unlock_run(run_dir)


def limit_to_raise(budget: BudgetState) -> str | None:
    """The limit a run that stopped on its budget reached (or came nearest to, when it
    stopped because the next request could break one); None when it has no limits."""
    reached = []
    for key in LIMITS:
        limit = getattr(budget, key)
        if limit:
            reached.append((_USED[key](budget) / limit, key != "max_iterations", key))
    return max(reached)[2] if reached else None


def proposed_value(key: str, budget: BudgetState) -> int | float:
    """What to offer for ``key``: the limit doubled (and above what was used)."""
    limit = getattr(budget, key) or 0
    used = _USED[key](budget)
    value = max(limit * 2, used * 2, 1)
    if key in _WHOLE:
        return int(math.ceil(value))
    return round(value, 2)
