"""Figures as people read them, for the command line's text output."""

from __future__ import annotations

from collections.abc import Sequence


def duration(seconds: float) -> str:
    """12.3 -> '12.3 s', 185 -> '3 min 05 s', 7300 -> '2 h 01 min'."""
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, secs = divmod(int(seconds), 60)
    if minutes < 60:
        return f"{minutes} min {secs:02d} s"
    return f"{minutes // 60} h {minutes % 60:02d} min"


def some(names: Sequence[str], most: int = 3) -> str:
    """The first ``most`` names, and ", ..." when there are more."""
    return ", ".join(names[:most]) + (", ..." if len(names) > most else "")
