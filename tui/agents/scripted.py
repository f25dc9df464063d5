"""The scripted agent: replays a recorded loop through the real tools.

It is how the sample loops run without an API key, and how engine tests run.
A script is a TOML file with one ``[[iteration]]`` table per iteration::

    pace_s = 0.05                    # optional: delay between steps (demos)
    model = "claude-sonnet-5-5"      # optional: model used to price `usage`

    [[iteration]]
    usage = { input_tokens = 1200, output_tokens = 300 }   # optional
    done = true                      # optional: the agent claims it is done

    [[iteration.step]]
    say = "Let me look at the code."  # assistant text

    [[iteration.step]]
    tool = "str_replace_based_edit_tool"
    input = { command = "view", path = "fizzbuzz.py" }

Steps run in order; tool steps go through the same confined tools as every
other backend. Past the last recorded iteration the agent says so and does
nothing.
"""

from __future__ import annotations

import asyncio
import tomllib
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from tui.agents.base import AgentConfigError, AgentContext, AgentResult, claims_done
from tui.agents.memory_tool import MEMORY_TOOL, MemoryTool
from tui.agents.tools import BASH_TOOL, EDITOR_TOOL
from tui.events import AgentText, AgentTurn, Notice, Usage
from tui.spec import LoopSpec

# The tools a recording may call (the shared toolbox every backend gets).
RECORDED_TOOLS = (EDITOR_TOOL, BASH_TOOL, MEMORY_TOOL)


class Step(BaseModel):
    model_config = ConfigDict(extra="forbid")

    say: str | None = None
    tool: str | None = None
    input: dict[str, Any] = {}

    @model_validator(mode="after")
    def _one_kind(self) -> Step:
        if (self.say is None) == (self.tool is None):
            raise ValueError("a step has either `say` or `tool`")
        if self.tool is not None and self.tool not in RECORDED_TOOLS:
            known = ", ".join(RECORDED_TOOLS)
            raise ValueError(f"tool {self.tool!r} does not exist; the tools are {known}")
        return self


class RecordedIteration(BaseModel):
    model_config = ConfigDict(extra="forbid")

    step: list[Step] = []
    usage: Usage | None = None
    done: bool | None = None


class Script(BaseModel):
    model_config = ConfigDict(extra="forbid")

    pace_s: float = Field(default=0.0, ge=0)
    model: str | None = None
    iteration: list[RecordedIteration] = []


def load_script(path: Path) -> Script:
    """Read a script file; raise AgentConfigError with a readable message."""
    try:
        data = tomllib.loads(path.read_text())
    except OSError as exc:
        raise AgentConfigError(f"{path}: cannot read the agent script ({exc.strerror})") from None
    except tomllib.TOMLDecodeError as exc:
        raise AgentConfigError(f"{path}: TOML syntax error: {exc}") from None
    try:
        return Script.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"])
        msg = str(err.get("ctx", {}).get("error", err["msg"]))
        raise AgentConfigError(f"{path}: {where}: {msg}") from None


class ScriptedAgent:
    """Replays a recorded script; says plainly that it is a recording."""

    name = "scripted"

    def __init__(self, spec: LoopSpec) -> None:
        assert spec.agent.script is not None  # the spec validator guarantees it
        self.path = spec.agent.script
        self.spec = spec
        self.script: Script | None = None

    def prepare(self) -> None:
        self.script = load_script(self.path)

    async def run_iteration(self, ctx: AgentContext) -> AgentResult:
        if self.script is None:
            self.prepare()
        script = self.script
        assert script is not None
        total = len(script.iteration)
        if ctx.iteration > total:
            text = (
                f"[recording] The recording {self.path.name} has only {total} iterations; "
                "there is nothing more to replay."
            )
            ctx.emit(AgentText(text=text))
            return AgentResult(stop="script_exhausted", final_text=text)
        if ctx.iteration == 1:
            ctx.emit(
                Notice(
                    message=f"scripted agent: replaying the recording {self.path.name}; "
                    "no model is called"
                )
            )
        if MEMORY_TOOL not in ctx.tools.names:  # as the anthropic backend does
            MemoryTool(ctx.memories).register(ctx.tools)
        recorded = script.iteration[ctx.iteration - 1]
        ctx.emit(AgentText(text=f"[recording {ctx.iteration}/{total} from {self.path.name}]\n\n"))
        last_text = ""
        tool_calls = 0
        for number, step in enumerate(recorded.step, start=1):
            if ctx.stopping.is_set():
                break
            if script.pace_s:
                await asyncio.sleep(script.pace_s)
            if step.say is not None:
                await self._say(ctx, step.say, script.pace_s)
                last_text = step.say
            else:
                tool_calls += 1
                call_id = f"rec_{ctx.iteration}_{number}"
                await ctx.call_tool(call_id, step.tool or "", dict(step.input))
        turns = 0
        if recorded.usage is not None:
            model = script.model or self.spec.agent.model
            cost = ctx.charge(model, recorded.usage, None)
            turns = 1
            ctx.emit(
                AgentTurn(
                    turn=1, stop_reason="end_turn", model=model, usage=recorded.usage, cost_usd=cost
                )
            )
        done = recorded.done if recorded.done is not None else claims_done(last_text)
        return AgentResult(
            stop="end_turn",
            final_text=last_text,
            claims_done=done,
            turns=turns,
            tool_calls=tool_calls,
        )

    async def _say(self, ctx: AgentContext, text: str, pace_s: float) -> None:
        if not pace_s:
            ctx.emit(AgentText(text=text + "\n\n"))
            return
        # Stream a few words at a time so a watched demo looks like a model.
        words = text.split(" ")
        for i in range(0, len(words), 4):
            chunk = " ".join(words[i : i + 4]) + (" " if i + 4 < len(words) else "\n\n")
            ctx.emit(AgentText(text=chunk))
            await asyncio.sleep(pace_s / 4)

    async def aclose(self) -> None:
        return None
