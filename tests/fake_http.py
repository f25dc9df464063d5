"""The HTTP side the fake API servers share: serving, replies, streams, scripts.

``tests/fake_messages_server.py`` (Anthropic's Messages API) and
``tests/fake_responses_server.py`` (OpenAI's Responses API) each subclass
``FakeServer`` (the lifecycle, the recorded requests and the queue of scripted
turns) and ``FakeHandler`` (reading a JSON body, JSON replies, and chunked
server-sent events); what they add is their API's routes, shapes and faults.
"""

from __future__ import annotations

import contextlib
import json
import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Generic, Self, TypeVar

Turn = dict[str, Any]
Responder = Callable[[dict[str, Any]], Turn]
Recorded = TypeVar("Recorded")


def sse(name: str, data: dict[str, Any]) -> bytes:
    """One server-sent event: its name and its data as a JSON line."""
    return f"event: {name}\ndata: {json.dumps(data)}\n\n".encode()


class FakeHandler(BaseHTTPRequestHandler):
    """A request handler speaking HTTP/1.1 with keep-alive, quietly."""

    protocol_version = "HTTP/1.1"
    server: FakeHTTPServer
    # Idle keep-alive connections end after this, so shutdown never hangs.
    timeout = 10

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        pass  # keep test output quiet

    def reply_headers(self) -> dict[str, str]:
        """Headers sent with every JSON reply and every stream."""
        return {}

    def read_body(self) -> tuple[bytes, Any]:
        """The request body as sent, and as JSON (None when it is not JSON)."""
        raw = self.rfile.read(int(self.headers.get("content-length") or 0))
        try:
            return raw, json.loads(raw) if raw else None
        except ValueError:
            return raw, None

    def send_json(
        self, status: int, payload: dict[str, Any], headers: dict[str, str] | None = None
    ) -> None:
        """A whole JSON reply."""
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        for k, v in {**self.reply_headers(), **(headers or {})}.items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def start_stream(self, content_type: str, headers: dict[str, str] | None = None) -> None:
        """Status 200 and the headers of a chunked body; send_event/send_chunk follow."""
        self.send_response(200)
        self.send_header("content-type", content_type)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.send_header("transfer-encoding", "chunked")
        for k, v in self.reply_headers().items():
            self.send_header(k, v)
        self.end_headers()

    def send_chunk(self, data: bytes) -> None:
        """One chunk of the body, flushed at once."""
        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
        self.wfile.flush()

    def send_event(self, name: str, data: dict[str, Any]) -> None:
        """One server-sent event in its own chunk."""
        self.send_chunk(sse(name, data))

    def end_stream(self) -> None:
        """The last (empty) chunk: the body is complete."""
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()

    @contextlib.contextmanager
    def client_may_leave(self) -> Iterator[None]:
        """Around writing a stream: a client that hangs up ends it quietly."""
        try:
            yield
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True


class FakeHTTPServer(ThreadingHTTPServer):
    """The listening side; handlers reach the fake through ``server.fake``."""

    daemon_threads = True
    allow_reuse_address = True
    fake: Any


class FakeServer(Generic[Recorded]):
    """A fake API on 127.0.0.1 in a background thread, playing a script of turns.

    ``script`` is a list of turns (each request takes the next) or a callable
    answering each request body with a turn. Subclasses set ``handler``.
    """

    handler: type[FakeHandler]

    def __init__(self, script: Iterable[Turn] | Responder = ()) -> None:
        self._responder: Responder | None = script if callable(script) else None
        self._script: deque[Turn] = deque([] if callable(script) else script)
        # Set by stop(): requests that hang on purpose give up.
        self.stopping = threading.Event()
        self.requests: list[Recorded] = []
        self._lock = threading.Lock()
        self._httpd: FakeHTTPServer | None = None

    # -- lifecycle

    def start(self, port: int = 0) -> Self:
        """Listen on ``port`` (0: a free one) and serve in a daemon thread."""
        self._httpd = FakeHTTPServer(("127.0.0.1", port), self.handler)
        self._httpd.fake = self
        # A short poll interval: shutdown() waits up to one interval.
        threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        ).start()
        return self

    def stop(self) -> None:
        """Stop serving and close the listening socket."""
        self.stopping.set()
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def origin(self) -> str:
        """``http://127.0.0.1:PORT``, where the server listens."""
        assert self._httpd is not None, "start() the server first"
        return f"http://127.0.0.1:{self._httpd.server_port}"

    # -- script and records

    def add(self, *turns: Turn) -> None:
        """Append turns to the script."""
        with self._lock:
            self._script.extend(turns)

    @property
    def remaining(self) -> int:
        """Scripted turns not yet played."""
        return len(self._script)

    def _record(self, request: Recorded) -> None:
        with self._lock:
            self.requests.append(request)

    def _next_turn(self, body: dict[str, Any]) -> Turn:
        if self._responder is not None:
            return self._responder(body)
        with self._lock:
            if not self._script:
                raise LookupError("no scripted turn left for this request")
            return self._script.popleft()
