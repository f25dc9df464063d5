"""The ``anthropic`` backend: Claude through the Messages API, with its own client tools.

One iteration is one fresh conversation: the engine's prompt, then turns of
streamed model output and tool calls until Claude ends its turn, the turn
limit or the budget is reached, or something needs a human. Every stop reason
is handled on purpose:

- ``tool_use``: run each call through the shared tools, send the results back;
- ``end_turn`` / ``stop_sequence``: the iteration's agent part is done;
- ``max_tokens``: ask Claude to continue (a cut-off tool call gets an error
  result), a bounded number of times in a row, then report;
- ``pause_turn``: send the turn back as it is so Claude continues;
- ``refusal``: pause for the human, with the reason;
- ``model_context_window_exceeded``: end the iteration and say so.

Faults: the SDK retries 429, 529, 5xx and connection errors before a stream
starts; a stream that breaks midway is retried here with backoff. A broken
attempt was paid for (its input, and the output it streamed): it is charged
and published as an AgentTurn marked ``retried`` (the retries' share of the
iteration's receipt). When the API stays unavailable the iteration ends with a
``pause_reason`` (nothing is lost; the run can be resumed). A rejected key is
fatal.

The API key is read by the SDK from the environment and never passes through
loopconsole's events.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import anthropic

from tui.agents.anthropic_request import (
    ASK_HUMAN,
    Message,
    request_params,
    system_blocks,
    thinking_problem,
    tool_definitions,
    user_message,
)
from tui.agents.anthropic_stream import (
    AttemptSpend,
    StreamBroken,
    TextCoalescer,
    TurnResult,
    stream_turn,
)
from tui.agents.base import (
    AgentConfigError,
    AgentContext,
    AgentFatal,
    AgentResult,
    MissingCredential,
    claims_done,
)
from tui.agents.memory_tool import MEMORY_TOOL, MemoryTool
from tui.events import AgentTurn, Notice, ToolCall, ToolResult
from tui.spec import LoopSpec

NO_KEY = (
    "ANTHROPIC_API_KEY is not set: export ANTHROPIC_API_KEY=<your API key> in this shell "
    "and run again, or choose another agent.backend"
)
CONTINUE = (
    "Your last response was cut off at the max_tokens limit ({max_tokens} tokens). "
    "Continue from where you stopped, in shorter steps."
)
TURNS_USED = (
    "Claude used all {max_turns} turns of this iteration (agent.max_turns); the validators run now."
)
OVER_BUDGET = "Stopping before turn {turn}: another request could exceed the {limit} limit."
CUT_OFFS = (
    "Claude hit max_tokens ({max_tokens}) {times} times in a row; ending this iteration. "
    "Raise agent.max_tokens if this repeats."
)
CONTEXT_FULL = (
    "The conversation filled the model's context window in turn {turn}; this iteration "
    "ends here and the next starts afresh."
)
RETRYING = (
    "The stream broke ({reason}); retrying turn {turn} (attempt {attempt} of {attempts}) "
    "in {delay:g} s; its partial text above is discarded."
)
NOT_RUN = "not run: the run was stopped before this call"
CUT_OFF_CALL = (
    "Not run: this tool call was cut off at the max_tokens limit, so its input is "
    "incomplete. Make the call again, with smaller input if it was large."
)


class _Pause(Exception):
    """The iteration must end and the loop wait for a human."""


class _ContextFull(Exception):
    """The conversation no longer fits the model's context window."""


@dataclass
class _Progress:
    turns: int = 0
    tool_calls: int = 0
    cut_offs: int = 0
    last_text: str = ""
    question: str | None = None  # asked with ask_human: the iteration ends


class AnthropicAgent:
    """Claude as the loop's agent (see the module docstring)."""

    name = "anthropic"

    def __init__(
        self,
        spec: LoopSpec,
        *,
        sdk_retries: int = 4,
        stream_retries: int = 3,
        retry_delays: Sequence[float] = (2.0, 8.0, 30.0),
        max_continuations: int = 3,
    ) -> None:
        self.spec = spec
        self.sdk_retries = sdk_retries
        self.stream_retries = stream_retries
        # Backoff before each stream retry; the last value repeats.
        self.retry_delays = tuple(retry_delays) or (0.0,)
        self.max_continuations = max_continuations
        self._client: anthropic.AsyncAnthropic | None = None

    # -- the protocol -----------------------------------------------------------

    def prepare(self) -> None:
        """Say what is missing before the run starts."""
        problem = thinking_problem(self.spec.agent)
        if problem:
            raise AgentConfigError(problem)
        if not _has_key():
            raise MissingCredential(NO_KEY)

    async def aclose(self) -> None:
        """Close the HTTP client."""
        if self._client is not None:
            await self._client.close()
            self._client = None

    async def run_iteration(self, ctx: AgentContext) -> AgentResult:
        """One fresh conversation: turns until Claude is done or something stops it."""
        client = self._connect()
        agent = self.spec.agent
        if MEMORY_TOOL not in ctx.tools.names:
            MemoryTool(ctx.memories).register(ctx.tools)
        system = system_blocks(ctx.system, ctx.workspace)
        tools = tool_definitions(ctx.tools.max_characters)
        messages: list[Message] = [user_message({"type": "text", "text": ctx.prompt})]
        done = _Progress()

        def result(stop: str, pause_reason: str | None = None) -> AgentResult:
            return AgentResult(
                stop=stop,
                final_text=done.last_text,
                claims_done=claims_done(done.last_text),
                turns=done.turns,
                tool_calls=done.tool_calls,
                pause_reason=pause_reason,
            )

        while True:
            if ctx.stopping.is_set():
                return result("stopped")
            if done.turns >= agent.max_turns:
                ctx.emit(Notice(message=TURNS_USED.format(max_turns=agent.max_turns)))
                return result("max_turns")
            limit = ctx.over_budget(agent.model, agent.max_tokens)
            if limit:
                ctx.emit(Notice(message=OVER_BUDGET.format(turn=done.turns + 1, limit=limit)))
                return result("budget")
            done.turns += 1
            params = request_params(agent, system, tools, messages)
            try:
                turn = await self._turn(client, ctx, params, done.turns)
            except _Pause as exc:
                # The runner shows the reason when it pauses (or exits 3 headless).
                return result("api_error", pause_reason=str(exc))
            except _ContextFull as exc:
                ctx.emit(Notice(level="warning", message=str(exc)))
                return result("context_window_exceeded")
            cost = ctx.charge(agent.model, turn.usage, None)
            ctx.emit(
                AgentTurn(
                    turn=done.turns,
                    stop_reason=turn.stop_reason,
                    model=turn.model,
                    usage=turn.usage,
                    cost_usd=cost,
                    retries=turn.sdk_retries,
                )
            )
            if turn.text:
                done.last_text = turn.text
            if turn.content:
                messages.append({"role": "assistant", "content": turn.content})
            stop = turn.stop_reason
            if stop != "max_tokens":
                done.cut_offs = 0
            if stop == "tool_use":
                messages.append(user_message(*await self._run_tools(ctx, turn, done)))
                if done.question is not None:
                    return result("asked_human", pause_reason=done.question)
            elif stop == "pause_turn":
                continue  # the API continues a paused turn sent back as it is
            elif stop == "max_tokens":
                done.cut_offs += 1
                if done.cut_offs > self.max_continuations or not turn.content:
                    message = CUT_OFFS.format(max_tokens=agent.max_tokens, times=done.cut_offs)
                    ctx.emit(Notice(level="warning", message=message))
                    return result("max_tokens")
                blocks = await self._run_tools(ctx, turn, done, cut_off=True)
                note = CONTINUE.format(max_tokens=agent.max_tokens)
                messages.append(user_message(*blocks, {"type": "text", "text": note}))
            elif stop == "refusal":
                return result("refusal", pause_reason=_refusal_reason(turn))
            elif stop == "model_context_window_exceeded":
                message = CONTEXT_FULL.format(turn=done.turns)
                ctx.emit(Notice(level="warning", message=message))
                return result("context_window_exceeded")
            else:  # end_turn, stop_sequence
                return result(stop)

    # -- one turn, with retries -------------------------------------------------

    def _connect(self) -> anthropic.AsyncAnthropic:
        if not _has_key():
            raise AgentFatal(NO_KEY)
        if self._client is None:
            # The SDK reads the key (and ANTHROPIC_BASE_URL) from the environment itself.
            kwargs: dict[str, Any] = (
                {"base_url": self.spec.agent.base_url} if self.spec.agent.base_url else {}
            )
            # Explicit: a request that gets no bytes for this long fails (and is retried).
            timeout = anthropic.Timeout(self.spec.agent.request_timeout_s, connect=15.0)
            self._client = anthropic.AsyncAnthropic(
                max_retries=self.sdk_retries, timeout=timeout, **kwargs
            )
        return self._client

    async def _turn(
        self, client: anthropic.AsyncAnthropic, ctx: AgentContext, params: dict, turn: int
    ) -> TurnResult:
        attempts = 1 + self.stream_retries
        for attempt in range(1, attempts + 1):
            text = TextCoalescer(ctx.emit)
            spend = AttemptSpend()
            try:
                return await self._bounded_turn(client, params, text, spend)
            except StreamBroken as exc:
                text.discard()
                self._charge_broken(ctx, spend, turn, retried=attempt < attempts)
                if attempt == attempts:
                    raise _Pause(
                        f"The Anthropic API stream broke {attempts} times in turn {turn} "
                        f"({exc.reason}); the loop waits for you, resume when the API is back."
                    ) from exc
                delay = self.retry_delays[min(attempt, len(self.retry_delays)) - 1]
                message = RETRYING.format(
                    reason=exc.reason,
                    turn=turn,
                    attempt=attempt + 1,
                    attempts=attempts,
                    delay=delay,
                )
                ctx.emit(Notice(level="warning", message=message))
                await asyncio.sleep(delay)
            except asyncio.CancelledError:
                text.flush()  # keep what was said before the human stopped the run
                raise
            except anthropic.APIError as exc:
                raise _api_failure(exc, self.spec.agent.model, self.sdk_retries) from exc
        raise AssertionError("unreachable: the last attempt returns or raises")

    def _charge_broken(
        self, ctx: AgentContext, spend: AttemptSpend, turn: int, *, retried: bool
    ) -> None:
        """Charge what a broken attempt used (nothing when the API reported no usage)."""
        paid = spend.paid()
        if paid is None:
            return
        usage, estimated = paid
        model = self.spec.agent.model
        source = "estimated" if estimated else "priced"
        cost = ctx.charge(model, usage, None, source)
        ctx.emit(
            AgentTurn(
                turn=turn,
                stop_reason="stream_broken",
                model=model,
                usage=usage,
                cost_usd=cost,
                cost_source=source,
                retried=retried,
                retries=spend.sdk_retries,
            )
        )

    async def _bounded_turn(
        self,
        client: anthropic.AsyncAnthropic,
        params: dict,
        text: TextCoalescer,
        spend: AttemptSpend,
    ) -> TurnResult:
        """One streamed turn within request_timeout_s from start to end.

        A server that sends only pings never trips the read timeout, so the
        whole turn has a bound too.
        """
        limit = self.spec.agent.request_timeout_s
        try:
            async with asyncio.timeout(limit):
                return await stream_turn(client, params, text, spend)
        except TimeoutError:
            raise StreamBroken(f"no complete answer within {limit:g} s") from None

    # -- tools --------------------------------------------------------------------

    async def _run_tools(
        self, ctx: AgentContext, turn: TurnResult, done: _Progress, cut_off: bool = False
    ) -> list[dict]:
        """Run the turn's tool calls in order; one tool_result for every tool_use.

        With ``cut_off`` (the turn hit max_tokens) the last call is incomplete and
        is answered with an error instead of being run.
        """
        calls = [b for b in turn.content if b["type"] == "tool_use"]
        results: list[dict] = []
        for i, call in enumerate(calls):
            call_id, name = call["id"], call["name"]
            if cut_off and i == len(calls) - 1 and turn.content[-1] is call:
                ctx.emit(ToolCall(call_id=call_id, name=name, input=call["input"]))
                ctx.emit(ToolResult(call_id=call_id, name=name, output=CUT_OFF_CALL, is_error=True))
                results.append(_tool_result(call_id, CUT_OFF_CALL, True))
                continue
            if name == ASK_HUMAN:
                results.append(self._ask(ctx, call_id, call["input"], done))
                continue
            try:
                outcome = await ctx.call_tool(call_id, name, call["input"])
                output, is_error = outcome.output, outcome.is_error
            except asyncio.CancelledError:
                # call_tool recorded the interrupted call; the rest never ran.
                for rest in calls[i + 1 :]:
                    ctx.emit(ToolCall(call_id=rest["id"], name=rest["name"], input=rest["input"]))
                    ctx.emit(
                        ToolResult(
                            call_id=rest["id"],
                            name=rest["name"],
                            output=NOT_RUN,
                            is_error=True,
                            interrupted=True,
                        )
                    )
                raise
            done.tool_calls += 1
            results.append(_tool_result(call_id, output, is_error))
        return results

    def _ask(self, ctx: AgentContext, call_id: str, asked: object, done: _Progress) -> dict:
        """ask_human: recorded as a tool call; the question becomes the pause's reason."""
        data = asked if isinstance(asked, dict) else {}
        question = " ".join(str(data.get("question", "")).split())[:2000]
        choices = [str(c)[:200] for c in data.get("choices", []) or []][:10]
        shown_input = {"question": question, "choices": choices}
        ctx.emit(ToolCall(call_id=call_id, name=ASK_HUMAN, input=shown_input))
        if not question:
            ctx.emit(ToolResult(call_id=call_id, name=ASK_HUMAN, output=NO_QUESTION, is_error=True))
            return _tool_result(call_id, NO_QUESTION, True)
        shown = f" (choices: {' / '.join(choices)})" if choices else ""
        done.question = f"the agent asks: {question}{shown}"
        ctx.emit(ToolResult(call_id=call_id, name=ASK_HUMAN, output=ASKED))
        return _tool_result(call_id, ASKED, False)


NO_QUESTION = "ask_human needs a question."
ASKED = "Your question was passed to the engineer; the iteration ends here."


def _tool_result(call_id: str, output: str, is_error: bool) -> dict:
    block: dict = {"type": "tool_result", "tool_use_id": call_id}
    if output:
        block["content"] = output
    if is_error:
        block["is_error"] = True
    return block


def _has_key() -> bool:
    return bool(os.environ.get("ANTHROPIC_API_KEY") or os.environ.get("ANTHROPIC_AUTH_TOKEN"))


def _refusal_reason(turn: TurnResult) -> str:
    details = turn.stop_details or {}
    why = details.get("explanation") or details.get("category")
    said = f" ({why})" if why else ""
    return (
        f"Claude declined to continue{said}. Read the transcript, then change the goal "
        "or add a hint before resuming."
    )


def _api_failure(exc: anthropic.APIError, model: str, retries: int) -> Exception:
    """What an API error that the SDK gave up on means for the loop."""
    if isinstance(exc, anthropic.APIStatusError):
        what = f"{exc.status_code} {exc.type or 'error'}"
        if exc.api_message:
            what += f": {exc.api_message}"
        if isinstance(exc, anthropic.AuthenticationError | anthropic.PermissionDeniedError):
            return AgentFatal(
                f"The Anthropic API rejected the key ({what}); check ANTHROPIC_API_KEY."
            )
        if isinstance(exc, anthropic.NotFoundError):
            return AgentFatal(
                f"The Anthropic API does not know this model or path ({what}); "
                f"check agent.model ({model!r}) and the base URL."
            )
        if isinstance(exc, anthropic.BadRequestError):
            if "too long" in (exc.api_message or "") or "context" in (exc.api_message or ""):
                return _ContextFull(
                    f"The conversation no longer fits the model's context window ({what}); "
                    "this iteration ends here and the next starts afresh."
                )
            return AgentFatal(f"The Anthropic API rejected the request ({what}); check the spec.")
        if isinstance(exc, anthropic.RateLimitError | anthropic.InternalServerError):
            return _Pause(
                f"The Anthropic API is unavailable ({what}) after {retries} retries; "
                "the loop waits for you, resume when it is back."
            )
        return _Pause(f"The Anthropic API returned an error ({what}); the loop waits for you.")
    if isinstance(exc, anthropic.APIConnectionError):
        return _Pause(
            f"The Anthropic API cannot be reached ({exc}) after {retries} retries; "
            "check the network or ANTHROPIC_BASE_URL, then resume."
        )
    return _Pause(f"The Anthropic API call failed ({type(exc).__name__}: {exc}).")
