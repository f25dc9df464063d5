"""Child processes: one shell command in its own process group, bounded in time and output.

Everything loopconsole runs on the user's machine (the agent's bash tool,
validators, the command agent backend) goes through :func:`run_command`:

- the command runs under bash (or /bin/sh) in a new session, so it and every
  process it starts share one process group that can be killed as a whole;
- stdout and stderr are merged and read in chunks; only the first and last
  bytes are kept (:class:`OutputCap`), so memory stays bounded whatever the
  command prints;
- on timeout, on cancellation, and when the shell exits while children it put
  in the background still run, the whole group gets SIGTERM, then SIGKILL after
  a short grace: no process outlives its command;
- the environment has API keys and other secrets removed (:func:`child_env`),
  unless the caller gives one (a run gives its allow-listed environment);
- with a ``sandbox`` (:mod:`tui.sandbox`), the shell runs under bubblewrap.
"""

from __future__ import annotations

import asyncio
import codecs
import contextlib
import os
import re
import shutil
import signal
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tui.sandbox import Sandbox

# Names of environment variables that must never reach a child process.
_SECRET_NAME = re.compile(r"(_KEY|_TOKEN|_SECRET|_PASSWORD)$", re.IGNORECASE)
_ALWAYS_SCRUBBED = {"ANTHROPIC_API_KEY", "ANTHROPIC_AUTH_TOKEN"}

_CHUNK = 64 * 1024
# How long processes get between SIGTERM and SIGKILL, and how long output left
# in the pipe by background children is still read after the shell exited.
_TERM_GRACE_S = 0.5
_DRAIN_GRACE_S = 0.5
# How long a cancelled command waits for its killed shell to be reaped.
_REAP_S = 2.0
_POLL_S = 0.05
STREAM_CAPPED_MARKER = "\n[output capped; the rest is summarised at the end]\n"


def child_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """``os.environ`` without API keys, tokens, secrets and passwords, plus ``extra``.

    The folder of the interpreter running loopconsole goes first on PATH, so
    `python` in a validator is the environment loopconsole is installed in,
    whether or not that environment was activated.
    """
    env = {
        name: value
        for name, value in os.environ.items()
        if name not in _ALWAYS_SCRUBBED and not _SECRET_NAME.search(name)
    }
    bindir = str(Path(sys.executable).parent)
    path = env.get("PATH", os.defpath)
    if path.split(os.pathsep)[0] != bindir:
        env["PATH"] = bindir + os.pathsep + path
    if extra:
        env.update(extra)
    return env


def _human_size(n: int) -> str:
    size = float(n)
    for unit in ("B", "KB", "MB", "GB"):
        if size < 999.95 or unit == "GB":  # so 999,999 bytes reads 1.0 MB, not 1000.0 KB
            return f"{size:.0f} B" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1000
    return f"{n} B"  # unreachable; keeps type checkers content


class OutputCap:
    """Keeps the first ``head`` and the last ``tail`` bytes of a stream.

    Whatever falls between is counted, not stored, so memory stays bounded
    by ``head + tail`` plus one chunk.
    """

    def __init__(self, cap: int = 100_000, *, head: int | None = None, tail: int | None = None):
        self.head_limit = cap // 2 if head is None else head
        self.tail_limit = cap - self.head_limit if tail is None else tail
        self._head = bytearray()
        self._tail = bytearray()
        self.total_bytes = 0

    @property
    def truncated_bytes(self) -> int:
        """How many bytes were cut from the middle."""
        return max(0, self.total_bytes - len(self._head) - len(self._tail))

    def feed(self, data: bytes) -> None:
        """Add the next chunk of the stream."""
        self.total_bytes += len(data)
        room = self.head_limit - len(self._head)
        if room > 0:
            self._head += data[:room]
            data = data[room:]
        if not data or self.tail_limit <= 0:
            return
        if len(data) >= self.tail_limit:
            self._tail = bytearray(data[-self.tail_limit :])
        else:
            self._tail += data
            excess = len(self._tail) - self.tail_limit
            if excess > 0:
                del self._tail[:excess]

    def render(self) -> str:
        """The kept text, with a marker line where the middle was cut."""
        head = self._head.decode("utf-8", errors="replace")
        tail = self._tail.decode("utf-8", errors="replace")
        cut = self.truncated_bytes
        if not cut:
            return head + tail
        marker = f"[... {_human_size(cut)} ({cut:,} bytes) cut from the middle ...]"
        if head and not head.endswith("\n"):
            head += "\n"
        return f"{head}{marker}\n{tail}"


@dataclass
class CommandResult:
    """How a command ended and what it printed (capped)."""

    exit_code: int | None  # None when it timed out; negative N when killed by signal N
    timed_out: bool
    output: str
    truncated_bytes: int
    duration_s: float


def _shell() -> str:
    return shutil.which("bash") or "/bin/sh"


def _signal_group(pgid: int, sig: signal.Signals) -> None:
    # The group may already be gone; that is the good case.
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)


class _Streamer:
    """Passes decoded chunks to ``on_output`` until ``cap`` bytes have gone by."""

    def __init__(self, on_output: Callable[[str], None] | None, cap: int):
        self.on_output = on_output
        self.room = cap
        self.capped = False
        self.decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")

    def feed(self, data: bytes) -> None:
        if self.on_output is None or self.capped:
            return
        part = data[: self.room]
        self.room -= len(part)
        text = self.decoder.decode(part, final=self.room <= 0)
        if text:
            self.on_output(text)
        if len(part) < len(data) or self.room <= 0:
            self.capped = True
            self.on_output(STREAM_CAPPED_MARKER)

    def finish(self) -> None:
        if self.on_output is not None and not self.capped:
            text = self.decoder.decode(b"", final=True)
            if text:
                self.on_output(text)


async def _pump(stream: asyncio.StreamReader, cap: OutputCap, streamer: _Streamer) -> None:
    while chunk := await stream.read(_CHUNK):
        cap.feed(chunk)
        streamer.feed(chunk)
    streamer.finish()


async def _feed_stdin(writer: asyncio.StreamWriter, data: bytes) -> None:
    # A command that does not read its input must not fail the run.
    with contextlib.suppress(BrokenPipeError, ConnectionResetError):
        writer.write(data)
        await writer.drain()
    with contextlib.suppress(BrokenPipeError, ConnectionResetError):
        writer.close()


async def _shell_exit(proc: asyncio.subprocess.Process, reader: asyncio.Task) -> None:
    """Return once the shell has exited, even while its background children hold the pipe.

    ``Process.wait()`` also waits for the pipe to close, so it cannot tell; the
    return code is set as soon as the shell is reaped, hence the polling.
    """
    while proc.returncode is None and not reader.done():
        await asyncio.wait({reader}, timeout=_POLL_S)
    await proc.wait()


async def _settled(proc: asyncio.subprocess.Process, reader: asyncio.Task) -> None:
    await proc.wait()
    await asyncio.wait({reader})


async def _reap(proc: asyncio.subprocess.Process) -> None:
    """Wait briefly for a killed shell to be reaped, then close its transport.

    A cancel arriving meanwhile (asyncio.run cancels every task at exit) does
    not cut this short; the caller re-raises its own CancelledError after.
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + _REAP_S
    try:
        while proc.returncode is None and loop.time() < deadline:
            with contextlib.suppress(asyncio.CancelledError, TimeoutError):
                await asyncio.wait_for(proc.wait(), max(deadline - loop.time(), 0.01))
    finally:
        transport = getattr(proc, "_transport", None)
        if transport is not None:
            transport.close()


async def _end_group(pgid: int, proc: asyncio.subprocess.Process, reader: asyncio.Task) -> None:
    """SIGTERM the group, SIGKILL it after a grace, and stop reading its pipe."""
    _signal_group(pgid, signal.SIGTERM)
    settled = asyncio.ensure_future(_settled(proc, reader))
    await asyncio.wait({settled}, timeout=_TERM_GRACE_S)
    # Unconditionally: children that closed their stdout are not seen by the
    # pipe, and SIGTERM may have been ignored.
    _signal_group(pgid, signal.SIGKILL)
    await asyncio.wait({settled}, timeout=1.0)
    # A process that left the group (setsid) may still hold the pipe; stop
    # reading rather than wait for it.
    settled.cancel()
    reader.cancel()
    await asyncio.wait({reader})


async def run_command(
    command: str,
    cwd: Path,
    *,
    timeout_s: float,
    output_cap: int = 100_000,
    on_output: Callable[[str], None] | None = None,
    env: dict[str, str] | None = None,
    stdin: bytes | None = None,
    stream_cap: int | None = None,
    sandbox: Sandbox | None = None,
    network: bool | None = None,
    writable: list[Path] | None = None,
    readable: list[Path] | None = None,
) -> CommandResult:
    """Run ``command`` through the shell in ``cwd`` and return how it ended.

    ``on_output`` receives decoded text as it arrives, in chunks that are not
    aligned to lines (callers that want lines buffer them), until
    ``stream_cap`` bytes (default: ``output_cap``) have been streamed; then it receives
    :data:`STREAM_CAPPED_MARKER` once and nothing more. The returned output
    keeps the first and last halves of ``output_cap`` with a marker between.

    The command, and anything it started in the background, is killed on
    timeout, on cancellation of the awaiting task (CancelledError is
    re-raised), and shortly after the shell itself exits. Raises OSError when
    the shell cannot be started (e.g. ``cwd`` does not exist).

    With ``sandbox``, the shell runs inside it (see :mod:`tui.sandbox`); its
    PID namespace dies with the shell, so nothing it started outlives it.
    ``network`` overrides the sandbox's network setting for this command;
    ``writable`` are more folders it may write (a validator's report folder),
    ``readable`` more it may read (an agent CLI's prompt folder).
    """
    started = time.monotonic()
    argv = [_shell(), "-c", command]
    if sandbox is not None:
        if not cwd.is_dir():
            raise FileNotFoundError(2, "No such file or directory", str(cwd))
        argv = sandbox.wrap(argv, cwd, network=network, writable=writable, readable=readable)
    proc = await asyncio.create_subprocess_exec(
        *argv,
        cwd=str(cwd),
        stdin=asyncio.subprocess.PIPE if stdin is not None else asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        env=child_env() if env is None else env,
        start_new_session=True,
    )
    pgid = proc.pid  # a new session's leader is its group's leader
    cap = OutputCap(output_cap)
    assert proc.stdout is not None
    reader = asyncio.create_task(
        _pump(proc.stdout, cap, _Streamer(on_output, stream_cap or output_cap))
    )
    feeder = None
    if stdin is not None:
        assert proc.stdin is not None
        feeder = asyncio.create_task(_feed_stdin(proc.stdin, stdin))
    timed_out = False
    try:
        try:
            await asyncio.wait_for(_shell_exit(proc, reader), timeout_s)
        except TimeoutError:
            timed_out = True
        else:
            # The shell is done; background children may still hold the pipe.
            remaining = timeout_s - (time.monotonic() - started)
            await asyncio.wait({reader}, timeout=max(0.0, min(_DRAIN_GRACE_S, remaining)))
        await _end_group(pgid, proc, reader)
    except asyncio.CancelledError:
        # Be quick: the caller is going away. The SIGKILLed group closes the
        # pipe; reap the shell and let its pipe close before going on, or the
        # transport is left to be closed by a loop that may be gone ("Event
        # loop is closed" at exit after Ctrl-C).
        _signal_group(pgid, signal.SIGKILL)
        reader.cancel()
        if feeder is not None:
            feeder.cancel()
        await _reap(proc)
        raise
    if feeder is not None:
        feeder.cancel()
        await asyncio.wait({feeder})
    if not reader.cancelled() and reader.exception() is not None:
        raise reader.exception()  # e.g. on_output failed: a programming error
    return CommandResult(
        exit_code=None if timed_out else proc.returncode,
        timed_out=timed_out,
        output=cap.render(),
        truncated_bytes=cap.truncated_bytes,
        duration_s=time.monotonic() - started,
    )
