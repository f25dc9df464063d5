"""The loop's flow: what the controls ask of the runner at its next safe point.

This is not run state (that is :mod:`tui.engine.run_state`, folded from
events): it is the handful of requests the runner checks between steps, and
the means to interrupt what it is doing. The controls set them; the runner
reads them.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from tui.agents.base import AgentContext


@dataclass
class LoopFlow:
    """Pause, step and stop requests, and the work a stop may cut short."""

    pause_requested: bool = False
    pause_reason: str = "paused by the human"
    paused_by_human: bool = True
    stepping: bool = False
    stop_requested: bool = False
    stop_now: bool = False
    interrupted: bool = False
    goal_met_while_paused: bool = False
    take_over_pending: bool = False
    question: str = ""  # the agent asked (ask_human): said with the next pause
    finish_offered: bool = False  # a resume whose results pass paused to offer finishing
    wake: asyncio.Event = field(default_factory=asyncio.Event)
    work: asyncio.Future | None = None  # the phase stop(now=True) cancels
    agent: AgentContext | None = None  # the iteration's agent context, while it runs

    def request_pause(self, reason: str, by_human: bool) -> None:
        """Pause at the next safe point, saying why."""
        self.pause_requested = True
        self.pause_reason, self.paused_by_human = reason, by_human

    def go_on(self, stepping: bool) -> None:
        """Leave the pause; ``stepping``: for one iteration only."""
        self.stepping = stepping
        self.pause_requested = False
        self.wake.set()

    def request_stop(self, now: bool) -> None:
        """Stop after the current step; ``now``: cut the agent and validators short."""
        self.stop_requested = True
        if self.agent is not None:
            # The agent makes no further tool call in this iteration.
            self.agent.stopping.set()
        if now:
            self.stop_now = True
            if self.work is not None:
                self.work.cancel()
        self.wake.set()
