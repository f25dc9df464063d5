"""A local server that speaks OpenAI's Responses API (``POST /v1/responses``), for Codex.

It answers each request with the next scripted turn as server-sent events, the
way the Responses API streams (``response.created``, ``response.output_item.*``,
``response.output_text.delta``, ``response.completed``), records every request,
and injects faults: an HTTP status (401, 429, 500, 529...), a turn that never
answers (``delay_s``), and a ``response.failed`` event.

A turn is a dict::

    {"output": [message("Done."), function_call("exec_command", {"cmd": "ls"})],
     "usage": {"input_tokens": 900, "output_tokens": 40}}
    {"fault": "status", "status": 500}

Instead of a list, a callable ``responder(body) -> turn`` answers dynamically.
Codex is pointed at it with a custom provider (``OPENAI_BASE_URL`` is ignored)::

    codex exec --json -c model_provider=local \\
      -c model_providers.local.name=local \\
      -c model_providers.local.base_url=http://127.0.0.1:PORT/v1 \\
      -c model_providers.local.wire_api=responses \\
      -c model_providers.local.env_key=LOCAL_API_KEY
"""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass
from typing import Any

from tests.fake_http import FakeHandler, FakeHTTPServer, FakeServer, Turn
from tests.fake_http import Responder as Responder  # re-exported, as before


def message(text: str) -> dict[str, Any]:
    """An assistant message output item."""
    return {
        "type": "message",
        "role": "assistant",
        "id": f"msg_{uuid.uuid4().hex[:16]}",
        "status": "completed",
        "content": [{"type": "output_text", "text": text, "annotations": []}],
    }


def function_call(name: str, arguments: dict[str, Any], call_id: str | None = None) -> dict:
    """A function_call output item (a tool the CLI runs itself)."""
    return {
        "type": "function_call",
        "id": f"fc_{uuid.uuid4().hex[:16]}",
        "call_id": call_id or f"call_{uuid.uuid4().hex[:12]}",
        "name": name,
        "arguments": json.dumps(arguments),
        "status": "completed",
    }


def custom_call(name: str, text: str, call_id: str | None = None) -> dict[str, Any]:
    """A custom_tool_call output item (free-form input, e.g. apply_patch)."""
    return {
        "type": "custom_tool_call",
        "id": f"ctc_{uuid.uuid4().hex[:16]}",
        "call_id": call_id or f"call_{uuid.uuid4().hex[:12]}",
        "name": name,
        "input": text,
        "status": "completed",
    }


def reasoning(summary: str) -> dict[str, Any]:
    """A reasoning output item with one summary paragraph."""
    return {
        "type": "reasoning",
        "id": f"rs_{uuid.uuid4().hex[:16]}",
        "summary": [{"type": "summary_text", "text": summary}],
    }


def status_error(status: int, message: str | None = None) -> Turn:
    """An HTTP error answer instead of a turn."""
    return {"fault": "status", "status": status, "message": message}


@dataclass
class RecordedRequest:
    """One request as the server saw it."""

    method: str
    path: str
    headers: dict[str, str]
    body: Any


def _usage(turn_: Turn) -> dict[str, Any]:
    given = turn_.get("usage") or {}
    inp = int(given.get("input_tokens", 1200))
    cached = int(given.get("cached_tokens", 0))
    out = int(given.get("output_tokens", 60))
    return {
        "input_tokens": inp,
        "input_tokens_details": {"cached_tokens": cached},
        "output_tokens": out,
        "output_tokens_details": {"reasoning_tokens": int(given.get("reasoning_tokens", 0))},
        "total_tokens": inp + out,
    }


def sse_events(turn_: Turn, model: str) -> list[dict[str, Any]]:
    """The events of one streamed response, in order."""
    response_id = f"resp_{uuid.uuid4().hex[:20]}"
    base = {"id": response_id, "object": "response", "model": model, "status": "in_progress"}
    events: list[dict[str, Any]] = [{"type": "response.created", "response": base}]
    output = list(turn_.get("output") or [])
    for index, item in enumerate(output):
        events.append({"type": "response.output_item.added", "output_index": index, "item": item})
        if item["type"] == "message":
            text = item["content"][0]["text"]
            for start in range(0, len(text), 16):
                events.append(
                    {
                        "type": "response.output_text.delta",
                        "item_id": item["id"],
                        "output_index": index,
                        "content_index": 0,
                        "delta": text[start : start + 16],
                    }
                )
        events.append({"type": "response.output_item.done", "output_index": index, "item": item})
    if turn_.get("fault") == "failed":
        error = {"code": "server_error", "message": turn_.get("message") or "failed"}
        events.append(
            {"type": "response.failed", "response": {**base, "status": "failed", "error": error}}
        )
        return events
    done = {**base, "status": "completed", "output": output, "usage": _usage(turn_)}
    events.append({"type": "response.completed", "response": done})
    return events


class _Handler(FakeHandler):
    server: FakeHTTPServer

    def do_GET(self) -> None:  # noqa: N802
        self.server.fake._record(RecordedRequest("GET", self.path, dict(self.headers), None))
        self.send_json(404, {"error": {"message": f"no route {self.path}", "type": "not_found"}})

    def do_POST(self) -> None:  # noqa: N802
        _, body = self.read_body()
        fake: FakeResponsesServer = self.server.fake
        fake._record(RecordedRequest("POST", self.path, dict(self.headers), body))
        if self.path.split("?")[0].rstrip("/") != "/v1/responses":
            return self.send_json(404, {"error": {"message": f"no route {self.path}"}})
        if not isinstance(body, dict):
            return self.send_json(400, {"error": {"message": "body must be a JSON object"}})
        try:
            turn_ = fake._next_turn(body)
        except LookupError as exc:
            return self.send_json(500, {"error": {"message": f"fake server: {exc}"}})
        if turn_.get("delay_s"):
            time.sleep(turn_["delay_s"])
        if turn_.get("fault") == "status":
            status = int(turn_["status"])
            text = turn_.get("message") or f"fake status {status}"
            return self.send_json(status, {"error": {"message": text, "type": "error"}})
        self.start_stream("text/event-stream")
        with self.client_may_leave():
            for event in sse_events(turn_, str(body.get("model", "gpt-test"))):
                self.send_event(event["type"], event)
            self.end_stream()


class FakeResponsesServer(FakeServer[RecordedRequest]):
    """A Responses API on 127.0.0.1 (random port) in a background thread."""

    handler = _Handler

    @property
    def url(self) -> str:
        """The provider's base URL (ends in /v1)."""
        return f"{self.origin}/v1"

    @property
    def response_requests(self) -> list[dict[str, Any]]:
        """Bodies of the POST /v1/responses requests, in order."""
        with self._lock:
            return [r.body for r in self.requests if r.path.startswith("/v1/responses")]


def codex_provider_args(url: str, name: str = "local") -> list[str]:
    """``codex`` options pointing it at ``url`` through a custom provider."""
    return [
        "-c", f"model_provider={name}",
        "-c", f"model_providers.{name}.name={name}",
        "-c", f"model_providers.{name}.base_url={url}",
        "-c", f"model_providers.{name}.wire_api=responses",
        "-c", f"model_providers.{name}.env_key=LOCAL_API_KEY",
    ]  # fmt: skip
