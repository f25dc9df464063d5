"""HiddenNote: says how many old entries were pruned from an iteration block."""

from __future__ import annotations

from textual.widgets import Static


class HiddenNote(Static):
    """``… 12 earlier entries are not shown (the journal has them all)``."""
