"""One streamed model turn: server-sent events in, transcript events and a message out.

Text and thinking deltas are published as they arrive, coalesced a little so
the journal is not one line per token; so is a tool call's input as Claude
writes it (ToolInputDelta, for the console). The call itself is not published
here: a tool_use block becomes a ToolCall only once the whole turn has arrived
(the backend then runs it), so a stream that breaks never leaves a call
without a result.

A stream that breaks after it started (an ``event: error``, a dropped
connection, an end without ``message_stop``) raises :class:`StreamBroken`;
the SDK does not retry those, the backend does. Errors before the stream
starts are the SDK's (which retries them) and pass through unchanged.

What an attempt used is kept as it streams (:class:`AttemptSpend`): a stream
that breaks after ``message_start`` was paid for, so the backend charges it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import anthropic

from tui.agents.adapter_base import estimate_tokens, usage_of
from tui.events import AgentText, Event, ToolInputDelta, Usage

try:  # the transport the installed SDK uses (httpx2 since anthropic 2.x)
    import httpx2 as _http
except ImportError:  # pragma: no cover - older SDKs
    import httpx as _http  # type: ignore[no-redef]

Block = dict[str, Any]

# Failures that mean "the stream broke" once it has started.
_BROKEN = (anthropic.APIStatusError, anthropic.APIConnectionError, _http.TransportError)


class StreamBroken(Exception):
    """The stream ended early; ``reason`` says how, in a few words."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


# What a batch of deltas belongs to: "text", "thinking", or a tool call (id, name).
Source = str | tuple[str, str]


class TextCoalescer:
    """Batches streamed deltas into events: AgentText, or tool input as it arrives.

    A batch is published when it holds a newline or ``max_chars`` characters,
    ``max_delay`` seconds after its first delta, when the source changes, and
    at the end of every content block.
    """

    def __init__(
        self, emit: Callable[[Event], None], *, max_chars: int = 200, max_delay: float = 0.1
    ) -> None:
        self._emit = emit
        self.max_chars = max_chars
        self.max_delay = max_delay
        self._source: Source = "text"
        self._parts: list[str] = []
        self._size = 0
        self._timer: asyncio.TimerHandle | None = None

    def add(self, source: Source, text: str) -> None:
        """Queue a delta; publish when the batch is due."""
        if not text:
            return
        if self._parts and source != self._source:
            self.flush()
        self._source = source
        self._parts.append(text)
        self._size += len(text)
        if "\n" in text or self._size >= self.max_chars:
            self.flush()
        elif self._timer is None:
            self._timer = asyncio.get_running_loop().call_later(self.max_delay, self.flush)

    def flush(self) -> None:
        """Publish what is queued."""
        self._cancel_timer()
        if not self._parts:
            return
        text, self._parts, self._size = "".join(self._parts), [], 0
        if isinstance(self._source, tuple):
            call_id, name = self._source
            self._emit(ToolInputDelta(call_id=call_id, name=name, text=text))
        else:
            self._emit(AgentText(text=text, kind=self._source))  # type: ignore[arg-type]

    def discard(self) -> None:
        """Drop what is queued (a broken stream's unfinished text)."""
        self._cancel_timer()
        self._parts, self._size = [], 0

    def _cancel_timer(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None


@dataclass
class AttemptSpend:
    """What one attempt used so far: the usage the API reported, the characters streamed."""

    usage: Usage | None = None  # from message_start; output tokens from message_delta
    chars: int = 0
    # Requests the SDK retried (429, 529, 5xx, connection errors) before this
    # one was answered; error answers carry no tokens.
    sdk_retries: int = 0

    def paid(self) -> tuple[Usage, bool] | None:
        """(usage, estimated) of an attempt that broke; None when the API reported no usage.

        The API reports output tokens only at the end, so a stream cut midway
        has its output estimated from the characters it streamed.
        """
        if self.usage is None:
            return None
        guess = estimate_tokens(self.chars)
        if guess > self.usage.output_tokens:
            return self.usage.model_copy(update={"output_tokens": guess}), True
        return self.usage, False


@dataclass
class TurnResult:
    """A finished assistant turn, ready to go back into the conversation."""

    content: list[Block]
    stop_reason: str
    model: str
    usage: Usage
    stop_details: dict[str, Any] | None = None
    text: str = ""
    sdk_retries: int = 0  # requests the SDK retried before this one was answered


def block_param(block: Any) -> Block | None:
    """A response content block as a request block (None for empty text).

    Thinking blocks keep their signature and redacted ones their data, as the
    API needs them back unchanged.
    """
    kind = block.type
    if kind == "text":
        return {"type": "text", "text": block.text} if block.text else None
    if kind == "thinking":
        return {"type": "thinking", "thinking": block.thinking, "signature": block.signature}
    if kind == "redacted_thinking":
        return {"type": "redacted_thinking", "data": block.data}
    if kind == "tool_use":
        return {"type": "tool_use", "id": block.id, "name": block.name, "input": block.input}
    return block.to_dict()


def _retries_taken(response: Any) -> int:
    """How many times the SDK retried the request before this answer (its retry header)."""
    try:
        return max(0, int(response.request.headers.get("x-stainless-retry-count", 0)))
    except (AttributeError, RuntimeError, ValueError):
        return 0


def describe_break(exc: BaseException) -> str:
    """A few words on why a started stream broke."""
    if isinstance(exc, anthropic.APIStatusError):
        kind = exc.type or "error"
        return f"{kind}: {exc.api_message}" if exc.api_message else kind
    if isinstance(exc, anthropic.APIConnectionError | _http.TransportError):
        detail = str(exc) or type(exc).__name__
        return f"connection lost: {detail}"
    return f"{type(exc).__name__}: {exc}"


async def stream_turn(
    client: anthropic.AsyncAnthropic,
    params: dict[str, Any],
    text: TextCoalescer,
    spend: AttemptSpend | None = None,
) -> TurnResult:
    """Send one request and stream its answer; raise StreamBroken if it breaks.

    ``spend`` is kept up to date with what the attempt used as it streams.
    """
    spend = spend if spend is not None else AttemptSpend()
    started = False
    finished = False
    calls: dict[int, tuple[str, str]] = {}  # block index -> (tool_use id, tool name)
    try:
        async with client.messages.stream(**params) as stream:
            started = True
            spend.sdk_retries = _retries_taken(stream.response)
            kind = stream.response.headers.get("content-type", "")
            if "text/event-stream" not in kind:
                raise StreamBroken(
                    f"the API answered with {kind.split(';')[0] or 'no content type'}, not an "
                    "event stream (a proxy or a login page in the way? check the base URL)"
                )
            async for event in stream:
                if event.type == "content_block_delta":
                    delta = event.delta
                    if delta.type == "text_delta":
                        text.add("text", delta.text)
                        spend.chars += len(delta.text)
                    elif delta.type == "thinking_delta":
                        text.add("thinking", delta.thinking)
                        spend.chars += len(delta.thinking)
                    elif delta.type == "input_json_delta":
                        spend.chars += len(delta.partial_json)
                        if event.index in calls:
                            text.add(calls[event.index], delta.partial_json)
                elif event.type == "message_start":
                    spend.usage = usage_of(event.message.usage.model_dump())
                elif event.type == "message_delta" and spend.usage is not None:
                    spend.usage = spend.usage.model_copy(
                        update={"output_tokens": event.usage.output_tokens}
                    )
                elif event.type == "content_block_start":
                    block = event.content_block
                    if block.type == "tool_use":
                        calls[event.index] = (block.id, block.name)
                elif event.type == "content_block_stop":
                    text.flush()
                elif event.type == "message_stop":
                    finished = True
            if not finished:
                raise StreamBroken("the stream ended before message_stop")
            message = await stream.get_final_message()
    except _BROKEN as exc:
        if not started:
            raise
        raise StreamBroken(describe_break(exc)) from exc
    except ValueError as exc:  # a data: line that is not JSON (json.JSONDecodeError)
        if not started:
            raise
        raise StreamBroken(f"the stream sent malformed JSON ({exc})") from exc
    if message.stop_reason is None:
        raise StreamBroken("the stream ended before message_stop")
    text.flush()
    content = [b for b in (block_param(block) for block in message.content) if b is not None]
    details = message.stop_details.to_dict() if message.stop_details is not None else None
    return TurnResult(
        content=content,
        stop_reason=message.stop_reason,
        model=message.model,
        usage=usage_of(message.usage.model_dump()),
        stop_details=details,
        text="".join(b["text"] for b in content if b["type"] == "text"),
        sdk_retries=spend.sdk_retries,
    )
