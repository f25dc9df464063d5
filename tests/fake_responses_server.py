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
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

Turn = dict[str, Any]
Responder = Callable[[dict[str, Any]], Turn]


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


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server
    timeout = 10

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        pass

    def do_GET(self) -> None:  # noqa: N802
        self.server.fake._record(RecordedRequest("GET", self.path, dict(self.headers), None))
        self._json(404, {"error": {"message": f"no route {self.path}", "type": "not_found"}})

    def do_POST(self) -> None:  # noqa: N802
        length = int(self.headers.get("content-length") or 0)
        raw = self.rfile.read(length)
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = None
        fake = self.server.fake
        fake._record(RecordedRequest("POST", self.path, dict(self.headers), body))
        if self.path.split("?")[0].rstrip("/") != "/v1/responses":
            return self._json(404, {"error": {"message": f"no route {self.path}"}})
        if not isinstance(body, dict):
            return self._json(400, {"error": {"message": "body must be a JSON object"}})
        try:
            turn_ = fake._next_turn(body)
        except LookupError as exc:
            return self._json(500, {"error": {"message": f"fake server: {exc}"}})
        if turn_.get("delay_s"):
            time.sleep(turn_["delay_s"])
        if turn_.get("fault") == "status":
            status = int(turn_["status"])
            text = turn_.get("message") or f"fake status {status}"
            return self._json(status, {"error": {"message": text, "type": "error"}})
        self._stream(sse_events(turn_, str(body.get("model", "gpt-test"))))

    def _json(self, status: int, payload: dict[str, Any]) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _stream(self, events: list[dict[str, Any]]) -> None:
        self.send_response(200)
        self.send_header("content-type", "text/event-stream")
        self.send_header("transfer-encoding", "chunked")
        self.end_headers()
        try:
            for event in events:
                data = f"event: {event['type']}\ndata: {json.dumps(event)}\n\n".encode()
                self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
                self.wfile.flush()
            self.wfile.write(b"0\r\n\r\n")
            self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    fake: FakeResponsesServer


class FakeResponsesServer:
    """A Responses API on 127.0.0.1 (random port) in a background thread."""

    def __init__(self, script: Iterable[Turn] | Responder = ()) -> None:
        self._responder: Responder | None = script if callable(script) else None
        self._script: deque[Turn] = deque([] if callable(script) else script)
        self.requests: list[RecordedRequest] = []
        self._lock = threading.Lock()
        self._httpd: _Server | None = None

    def start(self) -> FakeResponsesServer:
        """Listen on a free port and serve in a daemon thread."""
        self._httpd = _Server(("127.0.0.1", 0), _Handler)
        self._httpd.fake = self
        threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        ).start()
        return self

    def stop(self) -> None:
        """Stop serving and close the listening socket."""
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None

    def __enter__(self) -> FakeResponsesServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        """The provider's base URL (ends in /v1)."""
        assert self._httpd is not None, "start() the server first"
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}/v1"

    @property
    def response_requests(self) -> list[dict[str, Any]]:
        """Bodies of the POST /v1/responses requests, in order."""
        with self._lock:
            return [r.body for r in self.requests if r.path.startswith("/v1/responses")]

    def _record(self, request: RecordedRequest) -> None:
        with self._lock:
            self.requests.append(request)

    def _next_turn(self, body: dict[str, Any]) -> Turn:
        if self._responder is not None:
            return self._responder(body)
        with self._lock:
            if not self._script:
                raise LookupError("no scripted turn left for this request")
            return self._script.popleft()


def codex_provider_args(url: str, name: str = "local") -> list[str]:
    """``codex`` options pointing it at ``url`` through a custom provider."""
    return [
        "-c", f"model_provider={name}",
        "-c", f"model_providers.{name}.name={name}",
        "-c", f"model_providers.{name}.base_url={url}",
        "-c", f"model_providers.{name}.wire_api=responses",
        "-c", f"model_providers.{name}.env_key=LOCAL_API_KEY",
    ]  # fmt: skip
