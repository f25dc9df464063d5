"""What every output adapter shares: the base classes, Spend and small parsers.

See :mod:`tui.agents.adapters` for the formats and how they are chosen.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from tui.events import AgentText, Event, Usage

# A transcript stays readable and the journal bounded even when a CLI prints
# a whole file in one tool result or one enormous malformed line.
RAW_LINE_CHARS = 4_000
TOOL_OUTPUT_CHARS = 40_000
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

    def __init__(self) -> None:
        self.final_text = ""
        self.turns = 0
        self.tool_calls = 0
        # Set when the CLI itself reported failure (e.g. Claude's is_error).
        self.error: str | None = None

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
            return [raw(line)]
        return self.on_object(data, line)

    def on_object(self, data: dict[str, Any], line: str) -> list[Item]:
        """What one object (``data``, read from ``line``) becomes."""
        raise NotImplementedError
