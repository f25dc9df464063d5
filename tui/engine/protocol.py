"""The protocol between a live run's engine and its clients (consoles, the fleet, bridges).

JSON lines over a Unix socket (or a bridge's stdin and stdout), one message
a line:

- client → engine: first ``{"type": "hello", "protocol": 1}``; then commands
  (:mod:`tui.engine.commands`), each with an ``id`` the reply echoes.
- engine → client: ``{"type": "welcome", "protocol": 1, "run_id": ..., "run_dir": ...}``;
  then the run's events from its first (the journal, as written), then live
  ones as they happen, with no gap and no duplicate. A client on the same
  machine may ask to read the journal itself (``read_journal``): then the
  welcome says how long the journal was (``journal_bytes``) and only live
  events follow, from exactly that point. ``reply`` messages
  among them; ``{"type": "bye", "reason": ...}`` when the engine drops a
  client (too slow to read) or refuses it (a newer protocol).

A client that cannot keep up is dropped, never waited for: it can attach
again and catch up from the journal.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
import warnings
from hashlib import sha1
from pathlib import Path
from typing import Any, Literal

import platformdirs
from pydantic import BaseModel

from tui.engine.rundir import process_alive

PROTOCOL = 1
# A Unix socket path holds at most 107 bytes (108 with its NUL) on Linux.
MAX_SOCKET_PATH = 100
ENGINE_FILE = "engine.json"  # in the run folder: the live engine's pid and socket
MAX_LINE = 4 * 1024 * 1024  # a longer line from a client is refused


class Hello(BaseModel):
    """The first line a client sends."""

    type: Literal["hello"] = "hello"
    protocol: int = PROTOCOL
    client: str = ""  # "console", "fleet", "bridge": for the engine's log
    catch_up: bool = True  # False: no journal, only what happens from now on (the fleet)
    # True: the client reads the journal itself (it is on the same machine, through
    # the journal index): the engine sends no catch-up bytes, only where live events
    # begin (Welcome.journal_bytes). An engine that predates this sends the bytes.
    read_journal: bool = False


class Welcome(BaseModel):
    """The engine's answer to hello, before the run's events."""

    type: Literal["welcome"] = "welcome"
    protocol: int = PROTOCOL
    run_id: str
    run_dir: str
    pid: int
    catch_up_bytes: int = 0  # the journal's bytes that follow, before the live events
    journal_bytes: int = 0  # the journal's length when the client joined: live events follow it


class Bye(BaseModel):
    """The engine closes this client's connection, saying why."""

    type: Literal["bye"] = "bye"
    reason: str


class EngineInfo(BaseModel):
    """``engine.json`` in the run folder, while the engine lives."""

    pid: int
    socket: str
    protocol: int = PROTOCOL


def socket_path(run_dir: Path) -> Path:
    """A short, owner-only place for a run's socket (run folders can be deep)."""
    name = sha1(str(run_dir.resolve()).encode()).hexdigest()[:16] + ".sock"
    for base in (_runtime_dir(), Path(tempfile.gettempdir()) / f"loopconsole-{os.getuid()}"):
        if base is None:
            continue
        path = base / name
        if len(os.fsencode(path)) <= MAX_SOCKET_PATH:
            return path
    return Path(tempfile.gettempdir()) / name


def _runtime_dir() -> Path | None:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # no XDG_RUNTIME_DIR: its fallback is fine
            return Path(platformdirs.user_runtime_dir("loopconsole"))
    except Exception:  # noqa: BLE001 - no runtime folder on this system: use the fallback
        return None


def prepare_socket_folder(path: Path) -> None:
    """Make the socket's folder, owner-only (0700), and refuse one that is not ours."""
    folder = path.parent
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    info = folder.stat()
    if info.st_uid != os.getuid():
        raise OSError(f"{folder} belongs to another user; cannot keep the run's socket there")
    if info.st_mode & 0o077:
        folder.chmod(0o700)


def write_engine_info(run_dir: Path, info: EngineInfo) -> None:
    path = run_dir / ENGINE_FILE
    tmp = path.with_suffix(".tmp")
    tmp.write_text(info.model_dump_json())
    tmp.replace(path)


def read_engine_info(run_dir: Path) -> EngineInfo | None:
    """The live engine of a run, or None (never started one, or it is gone)."""
    try:
        info = EngineInfo.model_validate_json((run_dir / ENGINE_FILE).read_text())
    except (OSError, ValueError):
        return None
    return info if process_alive(info.pid) else None


def clear_engine_info(run_dir: Path) -> None:
    """Best effort: a run folder turned read-only keeps a stale one (its pid is dead)."""
    with contextlib.suppress(OSError):
        (run_dir / ENGINE_FILE).unlink(missing_ok=True)


def message_line(message: BaseModel | dict[str, Any]) -> bytes:
    """One protocol message as a JSON line."""
    if isinstance(message, BaseModel):
        return message.model_dump_json().encode() + b"\n"
    return json.dumps(message).encode() + b"\n"
