"""Secrets stay secret: the children's environment, redaction, and the engine's own environ.

- :func:`allowed_env` is what every child (bash tool, validators, a sandboxed
  agent CLI) gets: PATH, LANG, LC_*, TERM, a HOME of its own, the variables
  ``[env] pass`` names, and ``[env] set``. Nothing else of the user's
  environment reaches it.
- :class:`Redactor` replaces the values of secret-looking variables (names
  holding key, token, secret, password, credential; URLs with a password;
  ``[env] redact``) with ``[redacted NAME]`` in any text, and in any event
  before it is journaled, shown or sent to the model.
- :func:`scrub_process_environ` overwrites those values in the engine's own
  initial environment block, so a child that reads ``/proc/<engine>/environ``
  (possible when the sandbox is off) finds nothing. Python's ``os.environ`` is a
  copy made at start and keeps the values for the SDK and the agent CLI.
"""

from __future__ import annotations

import ctypes
import os
import re
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from pydantic import BaseModel

SECRET_NAME = re.compile(r"key|token|secret|passw|credential", re.IGNORECASE)
# Too short to be a secret worth hiding, and redacting it would mangle text.
MIN_SECRET_CHARS = 6
# Passed whatever the spec says: what a shell and its tools need to work.
BASE_NAMES = ("PATH", "LANG", "TERM", "TZ", "COLORTERM")
BASE_PREFIXES = ("LC_",)


def is_secret_name(name: str) -> bool:
    """Whether a variable's name says it holds a secret."""
    return bool(SECRET_NAME.search(name))


def _url_password(value: str) -> str | None:
    if "://" not in value or "@" not in value:
        return None
    try:
        return urlsplit(value.strip()).password or None
    except ValueError:
        return None


def secret_values(environ: Mapping[str, str], extra_names: Sequence[str] = ()) -> dict[str, str]:
    """``{value: name}`` for every secret in ``environ``: longest values first."""
    found: dict[str, str] = {}
    for name, value in environ.items():
        password = _url_password(value)
        if password is not None and len(password) >= 4:
            found.setdefault(value, name)
            found.setdefault(password, name)
        if (is_secret_name(name) or name in extra_names) and len(value) >= MIN_SECRET_CHARS:
            found.setdefault(value, name)
    return dict(sorted(found.items(), key=lambda item: -len(item[0])))


class Redactor:
    """Replaces secret values with ``[redacted NAME]`` in text and in events."""

    def __init__(self, secrets: dict[str, str]) -> None:
        self.secrets = secrets
        self._pattern = (
            re.compile("|".join(re.escape(value) for value in secrets)) if secrets else None
        )

    @classmethod
    def from_environ(
        cls,
        environ: Mapping[str, str] | None = None,
        extra_names: Sequence[str] = (),
    ) -> Redactor:
        """The secrets of ``environ`` (default: the process environment)."""
        return cls(secret_values(os.environ if environ is None else environ, extra_names))

    def text(self, text: str) -> str:
        """``text`` with every secret value replaced."""
        if self._pattern is None or not text:
            return text
        return self._pattern.sub(lambda m: f"[redacted {self.secrets[m.group(0)]}]", text)

    def found_in(self, text: str) -> list[str]:
        """The names of the secrets whose values occur in ``text``."""
        if self._pattern is None:
            return []
        return sorted({self.secrets[m.group(0)] for m in self._pattern.finditer(text)})

    def value(self, value: Any) -> Any:
        """Redact strings anywhere inside ``value`` (models, lists, dicts), in place."""
        if self._pattern is None:
            return value
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, BaseModel):
            for name in type(value).model_fields:
                current = getattr(value, name)
                new = self.value(current)
                if new is not current:
                    object.__setattr__(value, name, new)
            return value
        if isinstance(value, list):
            return [self.value(item) for item in value]
        if isinstance(value, tuple):
            return tuple(self.value(item) for item in value)
        if isinstance(value, dict):
            return {key: self.value(item) for key, item in value.items()}
        return value


def python_bindir() -> str:
    """The folder of the interpreter running loopconsole (first on the children's PATH)."""
    return str(Path(sys.executable).parent)


def allowed_env(
    home: str,
    passed: Sequence[str] = (),
    setting: Mapping[str, str] | None = None,
    environ: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """The allow-listed environment of a child, with ``home`` as its HOME.

    The folder of the interpreter running loopconsole goes first on PATH, so
    ``python`` in a validator is the environment loopconsole is installed in.
    """
    source = os.environ if environ is None else environ
    env = {
        name: value
        for name, value in source.items()
        if name in BASE_NAMES or name.startswith(BASE_PREFIXES) or name in passed
    }
    bindir = python_bindir()
    path = env.get("PATH", os.defpath)
    if path.split(os.pathsep)[0] != bindir:
        env["PATH"] = bindir + os.pathsep + path
    env["HOME"] = home
    env.setdefault("LANG", "C.UTF-8")
    # An agent edits faster than a .pyc's one-second mtime: never run stale bytecode.
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    env.update(setting or {})
    return env


def _environ_block() -> tuple[int, int] | None:
    """Where the kernel shows this process's initial environment (/proc/self/environ)."""
    try:
        stat = Path("/proc/self/stat").read_text()
    except OSError:
        return None
    fields = stat[stat.rindex(")") + 2 :].split()
    # Fields 50 and 51 of proc(5) (env_start, env_end); the list starts at field 3.
    try:
        return int(fields[47]), int(fields[48])
    except (IndexError, ValueError):
        return None


def scrub_process_environ(names: list[str] | None = None) -> list[str]:
    """Blank the values of secret variables in this process's initial environment block.

    Returns the names blanked. ``os.environ`` is untouched; libc's ``getenv``
    sees empty values for them from now on. Linux only; elsewhere a no-op.
    """
    block = _environ_block()
    if block is None:
        return []
    start, end = block
    try:
        raw = Path("/proc/self/environ").read_bytes()
    except OSError:
        return []
    blanked: list[str] = []
    offset = 0
    for entry in raw.split(b"\0"):
        name, sep, value = entry.partition(b"=")
        decoded = name.decode(errors="replace")
        wanted = is_secret_name(decoded) or (names is not None and decoded in names)
        if sep and value and (wanted or _url_password(value.decode(errors="replace"))):
            address = start + offset + len(name) + 1
            if address + len(value) <= end:
                ctypes.memset(address, 0, len(value))
                blanked.append(decoded)
        offset += len(entry) + 1
    return blanked
