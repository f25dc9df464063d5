"""Recovering from thrash signals: where to go back to, and how often it was done.

A recovery puts the workspace back as it was when a signal's evidence began
(the checkpoint the first iteration of the evidence started from) and goes
on with a corrective note. :class:`RecoveryLog` is a fold over a run's
events that knows both where every iteration started from and how many
recoveries the ``recover`` policy has made; the runner feeds it live events
and resume feeds it the journal, so the two never disagree.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from tui.events import Checkpointed, Event, IterationStarted, SignalRaised, SignalRecovered

Origin = tuple[str, int]  # (checkpoint commit, the iteration whose end state it holds)


@dataclass
class RecoveryLog:
    """Where each iteration started from, and the policy's recoveries so far."""

    used: int = 0  # recoveries made by the policy (the human's own do not count)
    origins: dict[int, Origin] = field(default_factory=dict)
    at: Origin | None = None  # where the workspace stands now

    def see(self, event: Event) -> None:
        """Take in one event (any type; most change nothing)."""
        if isinstance(event, Checkpointed):
            restored = event.restored_iteration
            self.at = (event.commit, event.iteration if restored is None else restored)
        elif isinstance(event, IterationStarted) and self.at is not None:
            self.origins[event.iteration] = self.at
        elif isinstance(event, SignalRecovered) and not event.by_human:
            self.used += 1

    def origin_of(self, signal: SignalRaised) -> Origin | None:
        """The checkpoint the signal's evidence began from; None: the start of the run."""
        start = min(signal.iterations, default=signal.iteration)
        return self.origins.get(start) if start > 0 else None
