"""A local server that speaks Anthropic's Messages API, for tests.

It plays scripted assistant turns (as JSON, or as server-sent events exactly as
Anthropic documents the stream), records every request, simulates prompt
caching from the request's ``cache_control`` breakpoints, and injects faults:
HTTP errors (529, 429 with retry-after, 401, 403, 500), an ``event: error`` in
the middle of a stream, a connection dropped mid-stream, a ``data:`` line that
is not JSON, an HTML page with status 200, a request never answered, and a
stream that sends nothing but pings.

A script is a list of turns; each request takes the next one. Turns are plain
dicts, so a script can live in a JSON file::

    [{"content": [{"type": "text", "text": "Looking."},
                  {"type": "tool_use", "name": "bash", "input": {"command": "ls"}}]},
     {"fault": "status", "status": 529},
     {"content": [{"type": "text", "text": "Done."}], "stop_reason": "end_turn"}]

Instead of a list, a callable ``responder(body) -> turn`` answers dynamically.

Run by hand (e.g. to try the console against it)::

    python tests/fake_messages_server.py script.json --port 8765
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import socket
import sys
import threading
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

if not __package__:  # run as a script: python tests/fake_messages_server.py
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.fake_http import FakeHandler, FakeHTTPServer, FakeServer, Responder, Turn  # noqa: E402

# The API looks back this many blocks from a breakpoint for an earlier cache entry.
CACHE_LOOKBACK = 20


# -- building turns ---------------------------------------------------------------


def text(value: str) -> dict[str, Any]:
    """A text block."""
    return {"type": "text", "text": value}


def thinking(value: str, signature: str | None = None) -> dict[str, Any]:
    """A thinking block (with a made-up signature unless one is given)."""
    sig = signature or "sig-" + hashlib.sha256(value.encode()).hexdigest()[:16]
    return {"type": "thinking", "thinking": value, "signature": sig}


def redacted_thinking(data: str = "ENCRYPTED") -> dict[str, Any]:
    """A redacted thinking block."""
    return {"type": "redacted_thinking", "data": data}


def tool_use(name: str, tool_input: dict[str, Any], id: str | None = None) -> dict[str, Any]:
    """A tool_use block; ids are generated when not given."""
    return {"type": "tool_use", "id": id or f"toolu_{uuid.uuid4().hex[:20]}", "name": name,
            "input": tool_input}  # fmt: skip


def turn(*blocks: dict[str, Any], stop_reason: str | None = None, **extra: Any) -> Turn:
    """An assistant turn; stop_reason defaults to tool_use when it calls a tool."""
    if stop_reason is None:
        stop_reason = "tool_use" if any(b["type"] == "tool_use" for b in blocks) else "end_turn"
    return {"content": list(blocks), "stop_reason": stop_reason, **extra}


def status_error(
    status: int,
    error_type: str | None = None,
    message: str | None = None,
    retry_after: float | None = None,
) -> Turn:
    """An HTTP error answer instead of a turn."""
    return {"fault": "status", "status": status, "error_type": error_type,
            "message": message, "retry_after": retry_after}  # fmt: skip


def sse_error(partial: Turn, after: int = 4, error_type: str = "overloaded_error") -> Turn:
    """Stream the first ``after`` events of ``partial``, then an ``event: error``."""
    return {**partial, "fault": "sse_error", "after": after, "error_type": error_type}


def drop(partial: Turn, after: int = 4, clean: bool = False) -> Turn:
    """Stream the first ``after`` events of ``partial``, then drop the connection.

    ``clean`` ends the body properly (no message_stop); otherwise the socket is
    cut mid-body, which the client sees as an incomplete chunked read.
    """
    return {**partial, "fault": "drop", "after": after, "clean": clean}


def bad_json(partial: Turn, after: int = 4) -> Turn:
    """Stream the first ``after`` events, then a ``data:`` line that is not JSON."""
    return {**partial, "fault": "bad_json", "after": after}


def html_page() -> Turn:
    """HTTP 200 with an HTML body (a captive portal or a misconfigured proxy)."""
    return {"fault": "html"}


def hang() -> Turn:
    """Accept the request and never answer (until the server stops)."""
    return {"fault": "hang"}


def pings_only(every: float = 0.05) -> Turn:
    """Start a stream, then send nothing but ``ping`` events (until the server stops)."""
    return {"fault": "pings", "every": every}


_ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    413: "request_too_large",
    429: "rate_limit_error",
    500: "api_error",
    529: "overloaded_error",
}


# -- what the server saw ----------------------------------------------------------


@dataclass
class RecordedRequest:
    """One request as the server received it."""

    method: str
    path: str
    headers: dict[str, str]
    body: dict[str, Any] | None
    raw: bytes
    at: float = field(default_factory=time.monotonic)
    # The usage the server answered with (set once a turn was played).
    usage: dict[str, int] | None = None

    @property
    def api_key(self) -> str | None:
        """The key the client sent, however it sent it."""
        return _presented_key(self.headers)


def _presented_key(headers: Any) -> str | None:
    """The key a request carries: ``x-api-key``, or ``Authorization: Bearer`` (newer SDKs)."""
    if headers.get("x-api-key"):
        return headers.get("x-api-key")
    auth = headers.get("authorization") or ""
    return auth[len("Bearer ") :] if auth.startswith("Bearer ") else None


def estimate_tokens(value: Any) -> int:
    """A rough token count (4 characters a token), like the benchmarks need."""
    s = value if isinstance(value, str) else json.dumps(value, sort_keys=True)
    return max(1, len(s) // 4)


def _segments(body: dict[str, Any]) -> list[tuple[str, bool]]:
    """The prompt in cache order (tools, system, messages) as (canonical text, breakpoint)."""

    def canon(block: Any) -> tuple[str, bool]:
        if not isinstance(block, dict):
            return json.dumps(block), False
        marked = "cache_control" in block
        clean = {k: v for k, v in block.items() if k != "cache_control"}
        return json.dumps(clean, sort_keys=True), marked

    out = [canon(t) for t in body.get("tools") or []]
    system = body.get("system")
    if isinstance(system, str):
        out.append((system, False))
    elif isinstance(system, list):
        out.extend(canon(b) for b in system)
    for message in body.get("messages") or []:
        content = message.get("content")
        role = message.get("role", "")
        if isinstance(content, str):
            out.append((role + ":" + content, False))
        else:
            out.extend((role + ":" + s, m) for s, m in (canon(b) for b in content or []))
    return out


class PromptCache:
    """Anthropic-like prompt caching: prefixes at breakpoints, with lookback."""

    def __init__(self) -> None:
        self._entries: set[str] = set()
        self._lock = threading.Lock()

    def usage_for(self, body: dict[str, Any]) -> dict[str, int]:
        """input/cache_write/cache_read tokens for this request; caches its prefixes."""
        segs = _segments(body)
        hashes: list[str] = []
        tokens: list[int] = []
        h, total = "", 0
        for s, _ in segs:
            h = hashlib.sha1((h + s).encode()).hexdigest()
            total += estimate_tokens(s)
            hashes.append(h)
            tokens.append(total)
        marks = [i for i, (_, m) in enumerate(segs) if m]
        with self._lock:
            hit = -1
            for b in marks:
                for j in range(b, max(-1, b - CACHE_LOOKBACK), -1):
                    if hashes[j] in self._entries:
                        hit = max(hit, j)
                        break
            for b in marks:
                self._entries.add(hashes[b])
        read = tokens[hit] if hit >= 0 else 0
        last = marks[-1] if marks else -1
        cached_to = tokens[last] if last > hit else read
        return {
            "input_tokens": total - cached_to,
            "cache_creation_input_tokens": cached_to - read,
            "cache_read_input_tokens": read,
        }


# -- rendering a turn -------------------------------------------------------------


def _message(turn_: Turn, model: str, usage: dict[str, int]) -> dict[str, Any]:
    message = {
        "id": f"msg_{uuid.uuid4().hex[:24]}",
        "type": "message",
        "role": "assistant",
        "model": turn_.get("model", model),
        "content": turn_.get("content", []),
        "stop_reason": turn_.get("stop_reason", "end_turn"),
        "stop_sequence": None,
        "usage": usage,
    }
    if turn_.get("stop_details") is not None:
        message["stop_details"] = turn_["stop_details"]
    return message


def _pieces(s: str, size: int) -> list[str]:
    return [s[i : i + size] for i in range(0, len(s), size)] or [""]


def sse_events(message: dict[str, Any], chunk: int = 12) -> list[tuple[str, dict[str, Any]]]:
    """The documented event flow for a whole message, deltas ``chunk`` characters long."""
    start = {**message, "content": [], "stop_reason": None, "stop_sequence": None}
    start.pop("stop_details", None)
    start["usage"] = {**message["usage"], "output_tokens": 1}
    events: list[tuple[str, dict[str, Any]]] = [
        ("message_start", {"type": "message_start", "message": start}),
        ("ping", {"type": "ping"}),
    ]
    for index, block in enumerate(message["content"]):
        kind = block["type"]
        deltas: list[dict[str, Any]] = []
        if kind == "text":
            empty = {"type": "text", "text": ""}
            deltas = [{"type": "text_delta", "text": p} for p in _pieces(block["text"], chunk)]
        elif kind == "thinking":
            empty = {"type": "thinking", "thinking": "", "signature": ""}
            deltas = [
                {"type": "thinking_delta", "thinking": p} for p in _pieces(block["thinking"], chunk)
            ]
            deltas.append({"type": "signature_delta", "signature": block["signature"]})
        elif kind == "tool_use":
            empty = {"type": "tool_use", "id": block["id"], "name": block["name"], "input": {}}
            raw = json.dumps(block["input"])
            deltas = [{"type": "input_json_delta", "partial_json": ""}]
            deltas += [{"type": "input_json_delta", "partial_json": p} for p in _pieces(raw, chunk)]
        else:  # redacted_thinking and anything else arrive whole
            empty = block
        events.append(
            ("content_block_start",
             {"type": "content_block_start", "index": index, "content_block": empty})
        )  # fmt: skip
        events.extend(
            ("content_block_delta", {"type": "content_block_delta", "index": index, "delta": d})
            for d in deltas
        )
        events.append(("content_block_stop", {"type": "content_block_stop", "index": index}))
    delta: dict[str, Any] = {"stop_reason": message["stop_reason"], "stop_sequence": None}
    if "stop_details" in message:
        delta["stop_details"] = message["stop_details"]
    events.append(
        ("message_delta",
         {"type": "message_delta", "delta": delta,
          "usage": {"output_tokens": message["usage"]["output_tokens"]}})
    )  # fmt: skip
    events.append(("message_stop", {"type": "message_stop"}))
    return events


# -- the server -------------------------------------------------------------------


class _Handler(FakeHandler):
    server: FakeHTTPServer

    def reply_headers(self) -> dict[str, str]:
        return {"request-id": f"req_{uuid.uuid4().hex[:20]}"}

    def do_POST(self) -> None:  # noqa: N802
        raw, body = self.read_body()
        fake: FakeMessagesServer = self.server.fake
        headers = {k.lower(): v for k, v in self.headers.items()}
        record = RecordedRequest("POST", self.path, headers, body, raw)
        fake._record(record)
        if self.path.split("?")[0].rstrip("/") != "/v1/messages":
            return self._error(404, "not_found_error", f"no route {self.path}")
        if fake.api_key is not None and _presented_key(self.headers) != fake.api_key:
            return self._error(401, "authentication_error", "invalid x-api-key")
        if not isinstance(body, dict) or not body.get("messages"):
            return self._error(400, "invalid_request_error", "messages: field required")
        try:
            turn_ = fake._next_turn(body)
        except LookupError as exc:
            return self._error(500, "api_error", f"fake server: {exc}")
        if turn_.get("delay_s"):
            time.sleep(turn_["delay_s"])
        if turn_.get("fault") == "hang":
            while not fake.stopping.wait(0.05):
                pass
            self.close_connection = True
            return None
        if turn_.get("fault") == "html":
            return self._html()
        if turn_.get("fault") == "status":
            kind = turn_.get("error_type") or _ERROR_TYPES.get(turn_["status"], "api_error")
            extra: dict[str, str] = {}
            if turn_.get("retry_after") is not None:
                extra["retry-after"] = str(turn_["retry_after"])
            return self._error(turn_["status"], kind, turn_.get("message") or kind, extra)
        usage = fake.cache.usage_for(body)
        usage["output_tokens"] = estimate_tokens(turn_.get("content", []))
        usage.update(turn_.get("usage") or {})
        record.usage = usage
        message = _message(turn_, body.get("model", "claude-test"), usage)
        if not body.get("stream"):
            return self.send_json(200, message)
        self._stream(message, turn_)

    def _html(self) -> None:
        data = b"<!DOCTYPE html><html><body><h1>Sign in to the Wi-Fi</h1></body></html>"
        self.send_response(200)
        self.send_header("content-type", "text/html; charset=utf-8")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _error(self, status: int, kind: str, message: str, headers: dict[str, str] | None = None):
        body = {"type": "error", "error": {"type": kind, "message": message}}
        self.send_json(status, body, headers)

    def _stream(self, message: dict[str, Any], turn_: Turn) -> None:
        fake: FakeMessagesServer = self.server.fake
        self.start_stream("text/event-stream; charset=utf-8", {"cache-control": "no-cache"})
        events = sse_events(message, fake.chunk)
        fault = turn_.get("fault")
        if fault in ("sse_error", "drop", "bad_json"):
            events = events[: turn_.get("after", 4)]
        if fault == "pings":
            events = events[:2]
        with self.client_may_leave():
            for name, data in events:
                self.send_event(name, data)
                if fake.event_delay:
                    time.sleep(fake.event_delay)
            if fault == "bad_json":
                self.send_chunk(b'event: content_block_delta\ndata: {"type": "content_blo\n\n')
            if fault == "pings":
                while not fake.stopping.wait(turn_.get("every", 0.05)):
                    self.send_event("ping", {"type": "ping"})
                self.close_connection = True
                return
            if fault == "sse_error":
                kind = turn_.get("error_type", "overloaded_error")
                err = {"type": "error", "error": {"type": kind, "message": "Overloaded"}}
                self.send_event("error", err)
            if fault == "drop" and not turn_.get("clean"):
                # Cut the socket without the final chunk: an incomplete body.
                self.close_connection = True
                self.connection.shutdown(socket.SHUT_RDWR)
                return
            self.end_stream()


class FakeMessagesServer(FakeServer[RecordedRequest]):
    """A Messages API on 127.0.0.1 (random port) in a background thread.

    ``script`` is a list of turns (each request takes the next) or a callable
    answering each request body with a turn. ``api_key``, when set, makes any
    other key a 401. ``chunk`` is the length of each streamed delta and
    ``event_delay`` a pause between events (to watch streaming happen).
    """

    handler = _Handler

    def __init__(
        self,
        script: Iterable[Turn] | Responder = (),
        *,
        api_key: str | None = None,
        chunk: int = 12,
        event_delay: float = 0.0,
    ) -> None:
        super().__init__(script)
        self.api_key = api_key
        self.chunk = chunk
        self.event_delay = event_delay
        self.cache = PromptCache()

    @property
    def url(self) -> str:
        """The base URL to give the client (ANTHROPIC_BASE_URL)."""
        return self.origin

    @property
    def message_requests(self) -> list[dict[str, Any]]:
        """Bodies of the POST /v1/messages requests, in order."""
        with self._lock:
            return [r.body for r in self.requests if r.path.startswith("/v1/messages") and r.body]


def load_script(path: str) -> list[Turn]:
    """A JSON file holding a list of turns."""
    with open(path, encoding="utf-8") as f:
        data = json.load(f)
    if not isinstance(data, list):
        raise SystemExit(f"{path}: expected a JSON list of turns")
    return data


def main(argv: list[str] | None = None) -> int:
    """Serve a script file until interrupted."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("script", help="JSON file: a list of turns")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--delay", type=float, default=0.02, help="seconds between events")
    args = parser.parse_args(argv)
    fake = FakeMessagesServer(load_script(args.script), event_delay=args.delay)
    fake.start(args.port)
    print(f"ANTHROPIC_BASE_URL={fake.url}", flush=True)
    with contextlib.suppress(KeyboardInterrupt):
        fake.stopping.wait()
    fake.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
