"""What every output adapter shares: the base classes, Spend and small parsers.

See :mod:`tui.agents.adapters` for the formats and how they are chosen.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from tui.events import AgentText, Event, ToolResult, Usage

# A transcript stays readable and the journal bounded even when a CLI prints
# a whole file in one tool result or one enormous malformed line.
RAW_LINE_CHARS = 4_000
TOOL_OUTPUT_CHARS = 40_000
# Lines that are not JSON (a usage error, log chatter) shown per iteration.
STRAY_LINES_SHOWN = 20
# The most of a plain CLI's closing words kept as its final text.
FINAL_TEXT_CHARS = 4_000

_ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b\][^\x07]*(\x07|\x1b\\)|\x1b[@-Z\\-_]")


@dataclass
class Spend:
    """Usage a CLI reported; the agent charges it to the budget.

    ``cost_usd`` is what the CLI said it cost, or None when it reported
    tokens only (the engine then prices them with the spec's model).
    """

    usage: Usage
    cost_usd: float | None = None
    model: str = ""
    stop_reason: str = ""
    # Tokens worked out from a stream that was cut short (no final report).
    estimated: bool = False
    # The CLI is logged in to a subscription plan: its cost is what the same
    # tokens would cost through the API, not money spent.
    plan: bool = False


FailureKind = Literal["unavailable", "auth", "usage"]


@dataclass
class ApiFailure:
    """A CLI said its API failed: unreachable or overloaded, or the key was rejected.

    ``unavailable`` pauses the run (resumable), ``auth`` stops it; ``usage`` is
    the CLI refusing its own command line. ``message`` is one sentence for people.
    """

    kind: FailureKind
    message: str


Item = Event | Spend


def clip(text: str, limit: int) -> str:
    """``text`` cut to about ``limit`` chars, keeping head and tail."""
    if len(text) <= limit:
        return text
    half = limit // 2
    cut = len(text) - 2 * half
    return f"{text[:half]}\n… [{cut} characters cut] …\n{text[-half:]}"


def strip_ansi(text: str) -> str:
    """``text`` without terminal colour and cursor escapes."""
    return _ANSI.sub("", text)


def raw(line: str) -> AgentText:
    """A line shown as the CLI printed it (clipped), because no adapter understood it."""
    return AgentText(text=clip(strip_ansi(line), RAW_LINE_CHARS) + "\n", kind="raw")


def raw_once(adapter: OutputAdapter, kind: str, line: str) -> list[Item]:
    """``line`` shown raw (dim) the first time a line of this ``kind`` is not understood."""
    if kind in adapter.unknown_kinds:
        return []
    adapter.unknown_kinds.add(kind)
    return [raw(line)]


def estimate_tokens(chars: int) -> int:
    """About how many tokens ``chars`` characters are (4 a token, rounded up)."""
    return (max(chars, 0) + 3) // 4


def relative_path(path: Any, workspace: Path | None) -> str | None:
    """``path`` relative to ``workspace`` when it lies inside it, else None."""
    if not isinstance(path, str) or not path or workspace is None:
        return None
    if not os.path.isabs(path):
        return path
    try:
        rel = os.path.relpath(os.path.normpath(path), os.path.normpath(workspace))
    except ValueError:
        return None
    return None if rel == ".." or rel.startswith("../") else rel


def usage_of(data: Any) -> Usage:
    """Anthropic's usage object (the API's and Claude Code's, as a dict) as Usage."""
    if not isinstance(data, dict):
        return Usage()
    return Usage(
        input_tokens=as_int(data.get("input_tokens")),
        output_tokens=as_int(data.get("output_tokens")),
        cache_write_tokens=as_int(data.get("cache_creation_input_tokens")),
        cache_read_tokens=as_int(data.get("cache_read_input_tokens")),
    )


def as_int(value: Any) -> int:
    """A token count from JSON, tolerating null, floats and junk."""
    if isinstance(value, bool):
        return 0
    if isinstance(value, int):
        return max(value, 0)
    if isinstance(value, float):
        return max(int(value), 0)
    return 0


def as_cost(value: Any) -> float | None:
    """A reported USD cost, or None when absent or not a number."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if value >= 0 else None


def parse_object(line: str) -> dict[str, Any] | None:
    """The JSON object on ``line`` with a string ``type``, else None."""
    try:
        data = json.loads(line)
    except (ValueError, RecursionError):
        return None
    if not isinstance(data, dict) or not isinstance(data.get("type"), str):
        return None
    return data


class OutputAdapter:
    """Base for adapters: state every format shares.

    ``feed`` takes one complete line (no newline) and returns what to emit;
    ``finish`` is called once when the process has ended.
    """

    format = "text"

    def __init__(self, workspace: Path | None = None) -> None:
        self.final_text = ""
        self.turns = 0
        self.tool_calls = 0
        # Set when the CLI itself reported failure (e.g. Claude's is_error).
        self.error: str | None = None
        # Set when the CLI reported its API failing past its own retries.
        self.failure: ApiFailure | None = None
        # Set when the CLI should be ended now (it retries what cannot work).
        self.abort: str | None = None
        # Retries of its API the CLI reported (counted on the next AgentTurn).
        self.retries = 0
        # Paths in tool calls are shown relative to this folder.
        self.workspace = workspace
        # Kinds of lines not understood and already shown once.
        self.unknown_kinds: set[str] = set()
        # Lines that were not the format's own (a usage error, a log line).
        self.stray_lines: list[str] = []
        # Lines in the format's own shape: none means the CLI never really started.
        self.objects_seen = 0
        # The prompt's length, for estimating what a cut-short session read.
        self.prompt_chars = 0
        # Tool calls reported and not yet answered: call id -> tool name.
        self.pending_calls: dict[str, str] = {}

    def close_calls(self) -> list[Item]:
        """A result for every call the session ended without answering."""
        results: list[Item] = [
            ToolResult(
                call_id=call_id,
                name=name,
                output="no result: the session ended before this call returned",
                is_error=True,
                interrupted=True,
            )
            for call_id, name in self.pending_calls.items()
        ]
        self.pending_calls.clear()
        return results

    def feed(self, line: str) -> list[Item]:
        raise NotImplementedError

    def finish(self) -> list[Item]:
        return []


class JsonLinesAdapter(OutputAdapter):
    """Base for CLIs that print one JSON object per line, tagged by ``type``.

    Blank lines are skipped and a line that is not such an object is shown
    raw; subclasses handle the objects in :meth:`on_object`.
    """

    def feed(self, line: str) -> list[Item]:
        if not line.strip():
            return []
        data = parse_object(line)
        if data is None:
            return self.on_stray(line)
        self.objects_seen += 1
        return self.on_object(data, line)

    def on_stray(self, line: str) -> list[Item]:
        """A line that is not a JSON object: shown raw, the first few of them."""
        if len(self.stray_lines) < STRAY_LINES_SHOWN:
            self.stray_lines.append(clip(strip_ansi(line), RAW_LINE_CHARS))
            return [raw(line)]
        return raw_once(self, "more stray lines", "… (more lines like these not shown)")

    def on_object(self, data: dict[str, Any], line: str) -> list[Item]:
        """What one object (``data``, read from ``line``) becomes."""
        raise NotImplementedError
