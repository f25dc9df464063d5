"""Choosing the agent backend a spec names."""

from __future__ import annotations

from tui.agents.base import Agent
from tui.spec import LoopSpec


def create_agent(spec: LoopSpec) -> Agent:
    """The backend for ``spec.agent.backend`` (imported only when used)."""
    match spec.agent.backend:
        case "anthropic":
            from tui.agents.anthropic_agent import AnthropicAgent

            return AnthropicAgent(spec)
        case "command":
            from tui.agents.command_agent import CommandAgent

            return CommandAgent(spec)
        case "scripted":
            from tui.agents.scripted import ScriptedAgent

            return ScriptedAgent(spec)
    raise ValueError(f"unknown backend {spec.agent.backend!r}")
