"""The agent protocol: what every backend (anthropic, command, scripted) does.

The runner hands an agent an :class:`AgentContext` for each iteration. The
agent works on the workspace (through ``ctx.call_tool`` or its own CLI),
publishes what happens with ``ctx.emit``, charges model usage to the budget
with ``ctx.charge``, and returns an :class:`AgentResult`. Agents never import
the engine: the context is all they see of it.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from tui.events import Notice, ToolCall, ToolResult, Usage
from tui.spec import AgentConfigError

if TYPE_CHECKING:
    from tui.agents.tools import Toolbox
    from tui.events import Event
    from tui.spec import LoopSpec


class MissingCredential(AgentConfigError):
    """The agent needs a key the environment does not hold (``check`` notes it)."""


class AgentFatal(Exception):
    """The agent cannot go on at all (e.g. the API rejected the key).

    The run ends with outcome "error" and this message.
    """


@dataclass
class AgentResult:
    """How the agent's part of an iteration ended."""

    stop: str = "end_turn"
    final_text: str = ""
    claims_done: bool = False
    turns: int = 0
    tool_calls: int = 0
    # Set when a human must look before the loop goes on (a refusal, an API
    # that stayed unreachable after retries). The runner pauses (console) or
    # ends the run with outcome "paused" (headless).
    pause_reason: str | None = None


class Charge(Protocol):
    """charge(model, usage, cost_usd or None, source="") -> cost charged in USD."""

    def __call__(
        self, model: str, usage: Usage, reported_cost: float | None = None, source: str = ""
    ) -> float: ...


BudgetCheck = Callable[[str, int], "str | None"]


@dataclass
class AgentContext:
    """Everything an agent may use during one iteration."""

    iteration: int
    prompt: str
    system: str
    workspace: Path
    run_dir: Path
    spec: LoopSpec
    tools: Toolbox
    emit: Callable[[Event], None]
    # charge(model, usage, cost_usd or None) -> cost charged in USD
    charge: Charge
    # over_budget(model, max_output_tokens) -> name of the limit a request of
    # that size could break, or None when it may be sent
    over_budget: BudgetCheck
    # The agent's notes folder (the memory tool); the engine reads it into prompts.
    memories: Path
    # Set when the human asked the run to stop; agents check it between turns.
    stopping: asyncio.Event = field(default_factory=asyncio.Event)

    async def call_tool(self, call_id: str, name: str, tool_input: dict) -> ToolResult:
        """Run one of the shared tools, publishing the call and its result.

        A cancelled call still gets its result event (marked interrupted), so
        every tool call in the journal has exactly one result.
        """
        self.emit(ToolCall(call_id=call_id, name=name, input=tool_input))
        try:
            outcome = await self.tools.call(name, tool_input)
        except asyncio.CancelledError:
            self.emit(
                ToolResult(
                    call_id=call_id,
                    name=name,
                    output="interrupted: the run was stopped during this call",
                    is_error=True,
                    interrupted=True,
                )
            )
            raise
        except Exception as exc:  # a crashing tool must still answer the call it was given
            output = f"The {name} tool crashed: {type(exc).__name__}: {exc}"
            result = ToolResult(call_id=call_id, name=name, output=output, is_error=True)
            self.emit(result)
            self.emit(Notice(level="error", message=output))
            return result
        result = ToolResult(
            call_id=call_id,
            name=name,
            output=outcome.output,
            is_error=outcome.is_error,
            exit_code=outcome.exit_code,
        )
        self.emit(result)
        return result


class Agent(Protocol):
    """A backend that can carry out one iteration."""

    name: str

    def prepare(self) -> None:
        """Check configuration before the run starts; raise AgentConfigError."""

    async def run_iteration(self, ctx: AgentContext) -> AgentResult:
        """Do the agent's part of one iteration."""

    async def aclose(self) -> None:
        """Release clients and processes."""


_DONE = re.compile(
    r"\b(all (the )?tests (now )?pass|task (is )?(complete|done|finished)|"
    r"i('m| am) (done|finished)|(is|are) now (fixed|passing)|should now pass)\b",
    re.IGNORECASE,
)


def claims_done(text: str) -> bool:
    """Whether the agent's final words say the work is finished."""
    return bool(_DONE.search(text[-2000:]))
