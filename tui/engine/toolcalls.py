"""Repeated tool calls: telling a stuck agent from one that re-runs its tests.

Calling the same tool with the same input again is not thrash by itself:
running the tests after every edit is exactly what a good agent does, and
polling a job until it finishes is what a patient one does. A repeat is the
same action *and* the same observation: the same tool with the same input
(paths normalised, a command's spaces collapsed) that returned the same
result (exit status, error flag, and output after
:func:`~tui.engine.fingerprint.normalize_output`). What counts as repeated:

- the same *edit* (same tool, path and text, same result) made again,
  anywhere in the run: re-applying a change means it was undone, or keeps
  failing;
- the same *read* or *command* again with the same result and nothing
  changed in between, inside one iteration: looking at the same thing while
  doing nothing about it. A command whose output changed (a job's status, a
  growing log) is looking at something new; so is a read of another range
  or of a file that changed.

When a call's result is unknown (an agent that does not report them), the
input alone decides, as it always did.

An edit changes the state. So may any command we have not seen since the
last change (``sed -i``, ``git checkout``), so a new command starts a new
span; only an exact repeat of a command already run in the span does not.
Iterations start fresh conversations, so reads and commands are counted
within an iteration (re-reading a file at the start of each is normal);
a stuck workspace across iterations is the "no progress" signal's job.
"""

from __future__ import annotations

import hashlib
import json
import posixpath
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Literal

from tui.engine.fingerprint import normalize_output
from tui.events import Event, ToolCall, ToolResult

CallKind = Literal["read", "edit", "run", "note"]

# Anthropic's text editor tool (and its older names), Claude Code, Codex.
_EDITOR_TOOLS = {"str_replace_based_edit_tool", "str_replace_editor", "text_editor"}
_READ_TOOLS = {
    "read",
    "grep",
    "glob",
    "ls",
    "notebookread",
    "webfetch",
    "websearch",
    "web_search",
    "todoread",
    "bashoutput",
}
_EDIT_TOOLS = {"edit", "write", "multiedit", "notebookedit", "file_change", "apply_patch"}
_NOTE_TOOLS = {"todowrite", "memory"}  # the agent's own notes, not the workspace
_PATH_KEYS = {"path", "file_path", "notebook_path"}
_COMMAND_KEYS = {"command", "cmd"}
SHOWN_CHARS = 300
SEEN_CHARS = 400  # of an observation kept as evidence


def classify(name: str, tool_input: dict[str, Any]) -> CallKind:
    """Whether a call reads, edits the workspace, runs something, or writes notes."""
    lowered = name.lower()
    command = tool_input.get("command")
    if name in _EDITOR_TOOLS:
        return "read" if command == "view" else "edit"
    if lowered == "memory":
        return "read" if command == "view" else "note"
    if lowered in _READ_TOOLS:
        return "read"
    if lowered in _EDIT_TOOLS:
        return "edit"
    if lowered in _NOTE_TOOLS:
        return "note"
    return "run"


def _normal_value(key: str, value: Any) -> Any:
    if isinstance(value, str):
        if key in _PATH_KEYS:
            return posixpath.normpath(value) if value else value
        if key in _COMMAND_KEYS:
            return " ".join(value.split())
        return value
    if isinstance(value, dict):
        return {k: _normal_value(k, v) for k, v in value.items()}
    if isinstance(value, list):
        return [_normal_value(key, v) for v in value]
    return value


def call_key(name: str, tool_input: dict[str, Any]) -> str:
    """The identity of a call: its name and normalised input, as canonical JSON."""
    normal = {k: _normal_value(k, v) for k, v in tool_input.items()}
    return json.dumps([name, normal], sort_keys=True, ensure_ascii=False, default=str)


def observation(result: ToolResult) -> str:
    """What a call returned: its status line, then its output as it came.

    Normalised (:func:`normal_observation`) only when it must be compared.
    """
    status = "error" if result.is_error else "ok"
    return f"{status} {result.exit_code}\n{result.output}"


def normal_observation(seen: str) -> str:
    """An observation as compared for repeats: the output through :func:`normalize_output`."""
    status, _, output = seen.partition("\n")
    return f"{status}\n{normalize_output(output)}"


@dataclass
class CallLog:
    """One iteration's tool calls in order, each with what it returned (when known)."""

    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    ids: list[str] = field(default_factory=list)
    results: dict[str, str] = field(default_factory=dict)

    def see(self, event: Event) -> None:
        """Take in a ToolCall or ToolResult; other events are ignored."""
        if isinstance(event, ToolCall):
            self.calls.append((event.name, dict(event.input)))
            self.ids.append(event.call_id)
        elif isinstance(event, ToolResult) and not event.interrupted:
            self.results[event.call_id] = observation(event)

    def __len__(self) -> int:
        """How many calls the iteration made so far."""
        return len(self.calls)

    def observations(self) -> list[str | None]:
        """What each call returned, aligned with ``calls``; None where unknown."""
        return [self.results.get(call_id) for call_id in self.ids]


def call_digest(key: str) -> str:
    """A short stable id of a call key."""
    return hashlib.sha1(key.encode()).hexdigest()[:12]


def shown_input(tool_input: dict[str, Any]) -> dict[str, Any]:
    """The input with long strings cut, for evidence a person reads."""
    shown: dict[str, Any] = {}
    for k, v in tool_input.items():
        if isinstance(v, str) and len(v) > SHOWN_CHARS:
            v = v[: SHOWN_CHARS - 1] + "…"
        shown[k] = v
    return shown


@dataclass
class Repeat:
    """A call that has just been repeated often enough to report."""

    key: str  # the call's digest
    name: str
    input: dict[str, Any]
    kind: CallKind
    count: int
    iterations: list[int]
    scope: Literal["run", "iteration"]
    seen: str | None = None  # what the call returned each time (normalised), when known


@dataclass
class CallHistory:
    """Counts repeated calls over a run; ``add`` reports the ones that reach ``threshold``."""

    threshold: int
    edits: Counter[str] = field(default_factory=Counter)
    edit_iterations: dict[str, list[int]] = field(default_factory=dict)

    def add(
        self,
        iteration: int,
        calls: list[tuple[str, dict[str, Any]]],
        seen: list[str | None] | None = None,
    ) -> list[Repeat]:
        """Record one iteration's calls, in order, with what each returned
        (``seen``, aligned with ``calls``; None where unknown); return the
        repeats it completed."""
        threshold = max(2, self.threshold)  # a first call is never a repeat
        repeats: dict[str, Repeat] = {}
        span: Counter[str] = Counter()
        raw = list(seen or [])
        raw += [None] * (len(calls) - len(raw))
        actions = [call_key(name, tool_input) for name, tool_input in calls]
        twice = {a for a, n in Counter(actions).items() if n > 1}
        normal: dict[str, str] = {}  # normalising is the costly part: once per distinct output
        for (name, tool_input), action, result in zip(calls, actions, raw, strict=False):
            kind = classify(name, tool_input)
            # Only an action seen twice in the iteration (or an edit, counted over
            # the run) can repeat, so only then does what it returned matter.
            if result is not None and (kind == "edit" or action in twice):
                if result not in normal:
                    normal[result] = normal_observation(result)
                result = normal[result]
            else:
                result = None
            # Digests, not the inputs: a run's edits can hold whole files.
            # The same action with another result is another observation.
            key = call_digest(action + ("" if result is None else result))
            shown = None if result is None else _clip(result.split("\n", 1)[-1])
            if kind == "note":
                continue
            if kind == "edit":
                span.clear()  # the workspace changed: earlier reads are stale
                self.edits[key] += 1
                its = self.edit_iterations.setdefault(key, [])
                if not its or its[-1] != iteration:
                    its.append(iteration)
                count = self.edits[key]
                if count % threshold == 0:
                    repeats[key] = Repeat(
                        key, name, shown_input(tool_input), kind, count, list(its), "run", shown
                    )
                continue
            if kind == "run" and key not in span:
                span.clear()  # a new command may have changed the workspace
            span[key] += 1
            if span[key] >= threshold and (key not in repeats or repeats[key].count < span[key]):
                repeats[key] = Repeat(
                    key,
                    name,
                    shown_input(tool_input),
                    kind,
                    span[key],
                    [iteration],
                    "iteration",
                    shown,
                )
        return list(repeats.values())


def _clip(text: str) -> str:
    return text if len(text) <= SEEN_CHARS else text[: SEEN_CHARS - 1] + "…"
