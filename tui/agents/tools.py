"""The tools every agent backend uses, confined to the workspace.

Two tools with the semantics of Anthropic's client tools, which Claude models
are trained on:

- ``str_replace_based_edit_tool`` (``text_editor_20250728``): ``view``,
  ``create``, ``str_replace`` (exactly one match), ``insert``;
- ``bash`` (``bash_20250124``): ``{"command": ...}`` or ``{"restart": true}``.
  There is no persistent shell session: each command is a fresh shell whose
  working directory is the workspace (``cd`` and variables do not carry over),
  run in its own process group with a timeout, a capped output and an
  environment without API keys (see :mod:`tui.process`).

Paths may be relative to the workspace or absolute inside it; anything that
leaves it (``..``, other absolute paths, symlinks pointing out, NUL bytes) is
refused. Files are written through a temporary file and a rename, so a reader
never sees half a file. Mistakes come back as ``ToolOutcome(is_error=True)``
with one clear sentence, for the model to read and correct. The editor's
commands live in :mod:`tui.agents.text_editor`.

With a :class:`~tui.confinement.Confinement` (the runner always gives one),
bash commands run in the run's sandbox with its allow-listed environment, the
editor refuses protected paths, and every tool output is redacted of secret
values before the model or the record sees it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError, model_validator

from tui.agents.text_editor import (
    EDITOR_INPUT,
    PathEscape,
    TextEditor,
    ToolError,
    ToolInput,
    ToolOutcome,
    confine,
    input_error,
)
from tui.process import run_command

if TYPE_CHECKING:
    from tui.confinement import Confinement

__all__ = [
    "BASH_TOOL",
    "EDITOR_TOOL",
    "PathEscape",
    "ToolError",
    "ToolOutcome",
    "Toolbox",
    "confine",
]

EDITOR_TOOL = "str_replace_based_edit_tool"
BASH_TOOL = "bash"


class _Bash(ToolInput):
    command: str | None = None
    restart: bool = False

    @model_validator(mode="after")
    def _one(self) -> _Bash:
        if not self.restart and not (self.command or "").strip():
            raise ValueError('bash needs a "command" (or "restart": true)')
        return self


class Toolbox:
    """The tools of one workspace, by name; backends may register more."""

    def __init__(
        self,
        workspace: Path,
        *,
        timeout_s: float = 120,
        output_cap: int = 30_000,
        max_characters: int | None = None,
        confinement: Confinement | None = None,
        protected: Callable[[str], bool] | None = None,
    ):
        self.workspace = workspace
        self.timeout_s = timeout_s
        self.output_cap = output_cap
        self.max_characters = max_characters or output_cap
        self.confinement = confinement
        self.editor = TextEditor(workspace, max_characters=self.max_characters, protected=protected)
        self._handlers: dict[str, Callable[[dict], Awaitable[ToolOutcome]]] = {
            EDITOR_TOOL: self.edit,
            BASH_TOOL: self.bash,
        }

    @property
    def names(self) -> list[str]:
        """The names of the tools this box answers to."""
        return sorted(self._handlers)

    def register(self, name: str, handler: Callable[[dict], Awaitable[ToolOutcome]]) -> None:
        """Add (or replace) a tool; the handler gets the raw input dict."""
        self._handlers[name] = handler

    async def call(self, name: str, tool_input: dict) -> ToolOutcome:
        """Run a tool; mistakes in the call become an error outcome, never an exception."""
        handler = self._handlers.get(name)
        if handler is None:
            known = ", ".join(self.names)
            return ToolOutcome(f"Unknown tool {name!r}; the tools are: {known}.", is_error=True)
        if not isinstance(tool_input, dict):
            return ToolOutcome(f"The input for {name} must be a JSON object.", is_error=True)
        try:
            outcome = await handler(tool_input)
            if self.confinement is not None:
                outcome.output = self.confinement.redactor.text(outcome.output)
            return outcome
        except (PathEscape, ToolError) as exc:
            return ToolOutcome(str(exc), is_error=True)
        except ValidationError as exc:
            return input_error(name, exc)
        except OSError as exc:
            where = f" ({exc.filename})" if exc.filename else ""
            return ToolOutcome(f"{name} failed: {exc.strerror or exc}{where}.", is_error=True)

    # -- the text editor ------------------------------------------------------

    async def edit(self, tool_input: dict[str, Any]) -> ToolOutcome:
        """``str_replace_based_edit_tool``: view, create, str_replace, insert."""
        if tool_input.get("command") == "undo_edit":
            raise ToolError("undo_edit is not available; make the reverse edit with str_replace.")
        return ToolOutcome(self.editor.run(EDITOR_INPUT.validate_python(tool_input)))

    # -- bash -----------------------------------------------------------------

    async def bash(self, tool_input: dict[str, Any]) -> ToolOutcome:
        """``bash``: run one command in a fresh shell in the workspace."""
        request = _Bash.model_validate(tool_input)
        if request.restart:
            return ToolOutcome(
                "tool has been restarted. (Each command runs in a fresh shell in the "
                "workspace, so there was no session state to lose.)"
            )
        assert request.command is not None
        if self.confinement is not None:
            result = await self.confinement.run(
                request.command,
                self.workspace,
                timeout_s=self.timeout_s,
                output_cap=self.output_cap,
            )
        else:
            result = await run_command(
                request.command,
                self.workspace,
                timeout_s=self.timeout_s,
                output_cap=self.output_cap,
            )
        output = result.output.rstrip("\n") or "(no output)"
        if result.timed_out:
            return ToolOutcome(
                f"{output}\n[timed out after {self.timeout_s:g} s; the command and every "
                "process it started were killed. Run long jobs with a shorter scope.]",
                is_error=True,
            )
        if result.exit_code != 0:
            output += f"\n[exit code {result.exit_code}]"
        return ToolOutcome(output, exit_code=result.exit_code)
