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
with one clear sentence, for the model to read and correct.

The editor's checks guard against mistakes, not against a hostile agent: the
bash tool can reach anything the user can.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError, model_validator

from tui.process import run_command

EDITOR_TOOL = "str_replace_based_edit_tool"
BASH_TOOL = "bash"
_SNIPPET_LINES = 4
_MAX_LISTED = 1000
# Read once: os.umask can only be read by setting it, which is not thread-safe later.
_UMASK = os.umask(0o022)
os.umask(_UMASK)


@dataclass
class ToolOutcome:
    """What a tool call produced, as the model will read it."""

    output: str
    is_error: bool = False
    exit_code: int | None = None


class PathEscape(Exception):
    """A path that would leave the workspace."""


class ToolError(Exception):
    """A tool call the model can correct; its message is the tool result."""


def confine(root: Path, path: str) -> Path:
    """Resolve ``path`` (relative, or absolute inside ``root``) to a real path inside ``root``.

    Raises :class:`PathEscape` for NUL bytes, ``..`` that climbs out, absolute
    paths elsewhere, and symlinks (the file or any parent) resolving outside.
    """
    if "\x00" in path:
        raise PathEscape("The path contains a NUL byte; send a plain file path.")
    real_root = root.resolve()
    given = Path(path)
    if given.is_absolute():
        normal = Path(os.path.normpath(given))
        # Accept the workspace as given or as resolved (e.g. /tmp -> /private/tmp).
        for base in (root.absolute(), real_root):
            if normal == base or normal.is_relative_to(base):
                relative = normal.relative_to(base)
                break
        else:
            raise PathEscape(
                f"{path} is outside the workspace; use a path relative to the workspace."
            )
    else:
        relative = Path(os.path.normpath(given))
        if relative.parts and relative.parts[0] == "..":
            raise PathEscape(f"{path} climbs out of the workspace with '..'; stay inside it.")
    resolved = (real_root / relative).resolve()
    if resolved != real_root and not resolved.is_relative_to(real_root):
        raise PathEscape(
            f"{path} goes through a symlink that points outside the workspace; "
            "use a path inside it."
        )
    return resolved


# -- tool inputs --------------------------------------------------------------


class _Input(BaseModel):
    model_config = ConfigDict(extra="forbid")


class _View(_Input):
    command: Literal["view"]
    path: str
    view_range: tuple[int, int] | None = None


class _Create(_Input):
    command: Literal["create"]
    path: str
    file_text: str


class _StrReplace(_Input):
    command: Literal["str_replace"]
    path: str
    old_str: str
    new_str: str = ""


class _Insert(_Input):
    command: Literal["insert"]
    path: str
    insert_line: int
    insert_text: str | None = None
    new_str: str | None = None  # the name older tool versions use

    @model_validator(mode="after")
    def _has_text(self) -> _Insert:
        if self.insert_text is None and self.new_str is None:
            raise ValueError("insert needs insert_text (the text to insert)")
        return self


_EDITOR_INPUT: TypeAdapter[_View | _Create | _StrReplace | _Insert] = TypeAdapter(
    Annotated[_View | _Create | _StrReplace | _Insert, Field(discriminator="command")]
)


class _Bash(_Input):
    command: str | None = None
    restart: bool = False

    @model_validator(mode="after")
    def _one(self) -> _Bash:
        if not self.restart and not (self.command or "").strip():
            raise ValueError('bash needs a "command" (or "restart": true)')
        return self


def _input_error(tool: str, exc: ValidationError) -> ToolOutcome:
    first = exc.errors()[0]
    where = ".".join(str(part) for part in first["loc"]) or "input"
    return ToolOutcome(f"Invalid input for {tool}: {where}: {first['msg']}.", is_error=True)


# -- file helpers -------------------------------------------------------------


def _read_text(file: Path, shown: str) -> str:
    if not file.exists():
        raise ToolError(f"The path {shown} does not exist.")
    if not file.is_file():
        raise ToolError(f"The path {shown} is not a file.")
    try:
        return file.read_bytes().decode("utf-8")
    except UnicodeDecodeError:
        raise ToolError(f"{shown} is not UTF-8 text; the editor only handles text files.") from None


def write_atomic(file: Path, text: str) -> None:
    """Write ``text`` to ``file`` through a temp file in the same folder and a rename."""
    file.parent.mkdir(parents=True, exist_ok=True)
    try:
        mode = file.stat().st_mode & 0o7777
    except FileNotFoundError:
        mode = 0o666 & ~_UMASK
    fd, tmp = tempfile.mkstemp(dir=file.parent, prefix=f".{file.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(text.encode("utf-8"))
        os.chmod(tmp, mode)  # mkstemp makes 0600; keep the file's own mode
        os.replace(tmp, file)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _split_lines(text: str) -> list[str]:
    lines = text.split("\n")
    return lines[:-1] if lines and lines[-1] == "" else lines


def _numbered(lines: list[str], first: int) -> str:
    # The format of `cat -n`, as Anthropic's reference implementation returns it.
    return "\n".join(f"{number:6}\t{line}" for number, line in enumerate(lines, first))


def _snippet(text: str, first_line: int, last_line: int) -> str:
    lines = _split_lines(text)
    start = max(1, first_line - _SNIPPET_LINES)
    end = min(len(lines), last_line + _SNIPPET_LINES)
    return _numbered(lines[start - 1 : end], start)


class Toolbox:
    """The tools of one workspace, by name; backends may register more."""

    def __init__(
        self,
        workspace: Path,
        *,
        timeout_s: float = 120,
        output_cap: int = 30_000,
        max_characters: int | None = None,
    ):
        self.workspace = workspace
        self.timeout_s = timeout_s
        self.output_cap = output_cap
        # How much of a file `view` shows; bounded so one view cannot fill the context.
        self.max_characters = max_characters or output_cap
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
            return await handler(tool_input)
        except (PathEscape, ToolError) as exc:
            return ToolOutcome(str(exc), is_error=True)
        except ValidationError as exc:
            return _input_error(name, exc)
        except OSError as exc:
            where = f" ({exc.filename})" if exc.filename else ""
            return ToolOutcome(f"{name} failed: {exc.strerror or exc}{where}.", is_error=True)

    # -- the text editor ------------------------------------------------------

    async def edit(self, tool_input: dict[str, Any]) -> ToolOutcome:
        """``str_replace_based_edit_tool``: view, create, str_replace, insert."""
        if tool_input.get("command") == "undo_edit":
            raise ToolError("undo_edit is not available; make the reverse edit with str_replace.")
        request = _EDITOR_INPUT.validate_python(tool_input)
        target = confine(self.workspace, request.path)
        shown = request.path
        if isinstance(request, _View):
            return ToolOutcome(self._view(target, shown, request.view_range))
        if isinstance(request, _Create):
            existed = target.exists()
            if existed and not target.is_file():
                raise ToolError(f"The path {shown} is a directory; give a file path to create.")
            write_atomic(target, request.file_text)
            verb = "overwritten" if existed else "created"
            return ToolOutcome(f"File {verb} successfully at: {shown}")
        if isinstance(request, _StrReplace):
            return ToolOutcome(self._str_replace(target, shown, request.old_str, request.new_str))
        text = request.insert_text if request.insert_text is not None else request.new_str
        return ToolOutcome(self._insert(target, shown, request.insert_line, text or ""))

    def _view(self, target: Path, shown: str, view_range: tuple[int, int] | None) -> str:
        if target.is_dir():
            if view_range is not None:
                raise ToolError("view_range only applies to files, not to directories.")
            return (
                f"Here's the files and directories up to 2 levels deep in {shown}, "
                f"excluding hidden items:\n" + self._listing(target)
            )
        lines = _split_lines(_read_text(target, shown))
        first = 1
        if view_range is not None:
            start, end = view_range
            if not 1 <= start <= max(1, len(lines)):
                raise ToolError(
                    f"Invalid view_range {list(view_range)}: the first line must be between "
                    f"1 and {len(lines)}, the number of lines in {shown}."
                )
            if end != -1 and end < start:
                raise ToolError(
                    f"Invalid view_range {list(view_range)}: the end must be -1 or at least "
                    f"the start ({start})."
                )
            lines = lines[start - 1 :] if end == -1 else lines[start - 1 : end]
            first = start
        body = _numbered(lines, first)
        if len(body) > self.max_characters:
            body = (
                body[: self.max_characters]
                + f"\n<response clipped: {shown} is longer than {self.max_characters:,} "
                "characters; use view_range to see the rest>"
            )
        return f"Here's the result of running `cat -n` on {shown}:\n{body}\n"

    def _listing(self, folder: Path) -> str:
        root = self.workspace.resolve()
        entries: list[str] = []

        def walk(directory: Path, depth: int) -> None:
            try:
                children = sorted(os.scandir(directory), key=lambda e: e.name)
            except OSError:
                return
            for child in children:
                if child.name.startswith(".") or len(entries) >= _MAX_LISTED:
                    continue
                is_dir = child.is_dir(follow_symlinks=False)
                rel = Path(child.path).relative_to(root).as_posix()
                entries.append(rel + ("/" if is_dir else ""))
                if is_dir and depth < 2:
                    walk(Path(child.path), depth + 1)

        walk(folder, 1)
        if len(entries) >= _MAX_LISTED:
            entries.append(f"[listing stopped at {_MAX_LISTED} entries]")
        return "\n".join(entries) if entries else "(empty directory)"

    def _str_replace(self, target: Path, shown: str, old: str, new: str) -> str:
        if not old:
            raise ToolError("old_str is empty; give the exact text to replace.")
        text = _read_text(target, shown)
        count = text.count(old)
        if count == 0:
            raise ToolError(
                f"No replacement was performed: old_str did not appear verbatim in {shown}."
            )
        if count > 1:
            lines, at = [], text.find(old)
            while at != -1:
                lines.append(str(text.count("\n", 0, at) + 1))
                at = text.find(old, at + len(old))
            raise ToolError(
                f"No replacement was performed: old_str occurs {count} times in {shown} "
                f"(lines {', '.join(lines)}); include more context so it matches exactly once."
            )
        at = text.index(old)
        updated = text[:at] + new + text[at + len(old) :]
        write_atomic(target, updated)
        first = text.count("\n", 0, at) + 1
        return (
            f"The file {shown} has been edited. Here's the result of running `cat -n` on a "
            f"snippet of {shown}:\n{_snippet(updated, first, first + new.count(chr(10)))}\n"
            "Review the changes and make sure they are as expected. "
            "Edit the file again if necessary."
        )

    def _insert(self, target: Path, shown: str, line: int, insert: str) -> str:
        text = _read_text(target, shown)
        lines = text.split("\n")
        kept = [part + "\n" for part in lines[:-1]] + ([lines[-1]] if lines[-1] else [])
        if not 0 <= line <= len(kept):
            raise ToolError(
                f"Invalid insert_line {line}: it must be between 0 and {len(kept)}, "
                f"the number of lines in {shown}."
            )
        if line == len(kept) and kept and not kept[-1].endswith("\n"):
            kept[-1] += "\n"
        block = insert if insert.endswith("\n") else insert + "\n"
        updated = "".join(kept[:line]) + block + "".join(kept[line:])
        write_atomic(target, updated)
        added = block.count("\n")
        return (
            f"The file {shown} has been edited. Here's the result of running `cat -n` on a "
            f"snippet of the edited file:\n{_snippet(updated, line + 1, line + added)}\n"
            "Review the changes and make sure they are as expected (correct indentation, "
            "no duplicate lines, etc). Edit the file again if necessary."
        )

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


__all__ = [
    "BASH_TOOL",
    "EDITOR_TOOL",
    "PathEscape",
    "ToolError",
    "ToolOutcome",
    "Toolbox",
    "confine",
    "write_atomic",
]
