"""PromptSeparator: the rule opening an iteration in the transcript."""

from __future__ import annotations

from textual.widgets import Collapsible


class PromptSeparator(Collapsible):
    """``▶ Iteration 3 · prompt``; expands to the prompt the agent was given."""

    # Maximising works on whole panes, not on parts of them.
    ALLOW_MAXIMIZE = False
