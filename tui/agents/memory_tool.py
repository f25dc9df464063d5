"""Anthropic's memory tool (``memory_20250818``), kept in the run directory.

Claude sees a folder called ``/memories`` and works on it with six commands:
``view``, ``create``, ``str_replace``, ``insert``, ``delete`` and ``rename``.
Here that folder is ``<run dir>/memories``, so the agent's notes survive from
one iteration (one fresh conversation) to the next, and the engine can show
them in the next prompt. Results read like Anthropic's reference
implementation, which is what the model is trained on.

Every path must start with ``/memories`` and stays inside the folder: ``..``,
NUL bytes and symlinks that lead out are refused (through the same
:func:`~tui.agents.tools.confine` as the workspace tools).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from tui.agents.tools import PathEscape, Toolbox, ToolError, ToolOutcome, confine, write_atomic

MEMORY_TOOL = "memory"
ROOT = "/memories"
# Notes are for short facts; a huge file would fill every later prompt.
MAX_FILE_CHARS = 100_000
MAX_VIEW_CHARS = 30_000


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
    insert_text: str


class _Delete(_Input):
    command: Literal["delete"]
    path: str


class _Rename(_Input):
    command: Literal["rename"]
    old_path: str
    new_path: str


_COMMAND: TypeAdapter[_View | _Create | _StrReplace | _Insert | _Delete | _Rename] = TypeAdapter(
    Annotated[
        _View | _Create | _StrReplace | _Insert | _Delete | _Rename,
        Field(discriminator="command"),
    ]
)


def _size(n: int) -> str:
    """Sizes as the reference implementation shows them: 512B, 4K, 1.5M."""
    if n < 1024:
        return f"{n}B"
    value, unit = n / 1024, "K"
    if value >= 1024:
        value, unit = value / 1024, "M"
    return f"{int(value)}{unit}" if value == int(value) else f"{value:.1f}{unit}"


def _numbered(lines: list[str], first: int) -> str:
    return "\n".join(f"{n:6}\t{line}" for n, line in enumerate(lines, first))


class MemoryTool:
    """The ``memory`` tool over one folder; call it with the tool_use input."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def register(self, toolbox: Toolbox) -> None:
        """Make ``memory`` one of the toolbox's tools."""
        toolbox.register(MEMORY_TOOL, self)

    async def __call__(self, tool_input: dict) -> ToolOutcome:
        """Run one command; mistakes raise ToolError, which the toolbox turns into is_error."""
        request = _COMMAND.validate_python(tool_input)
        self.root.mkdir(parents=True, exist_ok=True)
        match request:
            case _View():
                return ToolOutcome(self._view(request))
            case _Create():
                return ToolOutcome(self._create(request))
            case _StrReplace():
                return ToolOutcome(self._str_replace(request))
            case _Insert():
                return ToolOutcome(self._insert(request))
            case _Delete():
                return ToolOutcome(self._delete(request))
            case _Rename():
                return ToolOutcome(self._rename(request))
        raise AssertionError("unreachable: the adapter accepts only the six commands")

    # -- paths

    def _path(self, path: str) -> Path:
        """The real path for ``/memories/...``, refused if it leaves the folder."""
        if path != ROOT and not path.startswith(ROOT + "/"):
            raise ToolError(f"Path must start with {ROOT}, got: {path}")
        relative = path[len(ROOT) :].lstrip("/") or "."
        try:
            return confine(self.root, relative)
        except PathEscape:
            raise ToolError(f"The path {path} would escape the {ROOT} directory.") from None

    def _is_root(self, target: Path) -> bool:
        return target == self.root.resolve()

    def _read(self, target: Path, path: str) -> str:
        if not target.exists():
            raise ToolError(f"The path {path} does not exist. Please provide a valid path.")
        if not target.is_file():
            raise ToolError(f"The path {path} is not a file.")
        try:
            return target.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            raise ToolError(f"{path} is not UTF-8 text.") from None

    def _write(self, target: Path, path: str, text: str) -> None:
        if len(text) > MAX_FILE_CHARS:
            raise ToolError(
                f"{path} would hold {len(text):,} characters; memory files are limited to "
                f"{MAX_FILE_CHARS:,}. Keep notes short and split them by topic."
            )
        write_atomic(target, text)

    # -- commands

    def _view(self, request: _View) -> str:
        target = self._path(request.path)
        if target.is_dir():
            return self._listing(target, request.path)
        lines = self._read(target, request.path).split("\n")
        first = 1
        if request.view_range is not None:
            start, end = request.view_range
            start = max(1, start)
            lines = lines[start - 1 :] if end == -1 else lines[start - 1 : end]
            first = start
        body = _numbered(lines, first)
        if len(body) > MAX_VIEW_CHARS:
            body = body[:MAX_VIEW_CHARS] + "\n<response clipped; use view_range to see the rest>"
        return f"Here's the content of {request.path} with line numbers:\n{body}"

    def _listing(self, folder: Path, shown: str) -> str:
        rows = [f"{_size(folder.stat().st_size)}\t{shown}"]

        def walk(directory: Path, prefix: str, depth: int) -> None:
            for entry in sorted(os.scandir(directory), key=lambda e: e.name):
                if entry.name.startswith("."):
                    continue
                rel = f"{prefix}{entry.name}"
                if entry.is_dir(follow_symlinks=False):
                    rows.append(f"{_size(entry.stat().st_size)}\t{shown}/{rel}/")
                    if depth < 2:
                        walk(Path(entry.path), rel + "/", depth + 1)
                elif entry.is_file(follow_symlinks=False):
                    rows.append(f"{_size(entry.stat().st_size)}\t{shown}/{rel}")

        walk(folder, "", 1)
        return (
            f"Here're the files and directories up to 2 levels deep in {shown}, "
            "excluding hidden items:\n" + "\n".join(rows)
        )

    def _create(self, request: _Create) -> str:
        target = self._path(request.path)
        if target.exists():
            raise ToolError(
                f"File {request.path} already exists; edit it with str_replace or insert, "
                "or delete it first."
            )
        self._write(target, request.path, request.file_text)
        return f"File created successfully at: {request.path}"

    def _str_replace(self, request: _StrReplace) -> str:
        target = self._path(request.path)
        text = self._read(target, request.path)
        count = text.count(request.old_str) if request.old_str else 0
        if count == 0:
            raise ToolError(
                f"No replacement was performed, old_str `{request.old_str}` did not appear "
                f"verbatim in {request.path}."
            )
        if count > 1:
            lines, at = [], text.find(request.old_str)
            while at != -1:
                lines.append(str(text.count("\n", 0, at) + 1))
                at = text.find(request.old_str, at + 1)
            raise ToolError(
                f"No replacement was performed. Multiple occurrences of old_str "
                f"`{request.old_str}` in lines: {', '.join(lines)}. Please ensure it is unique"
            )
        at = text.index(request.old_str)
        updated = text[:at] + request.new_str + text[at + len(request.old_str) :]
        self._write(target, request.path, updated)
        changed = text.count("\n", 0, at)
        lines = updated.split("\n")
        start = max(0, changed - 2)
        snippet = _numbered(lines[start : changed + 3], start + 1)
        return (
            "The memory file has been edited. Here is the snippet showing the change "
            f"(with line numbers):\n{snippet}"
        )

    def _insert(self, request: _Insert) -> str:
        target = self._path(request.path)
        text = self._read(target, request.path)
        lines = text.split("\n")
        if lines and lines[-1] == "":
            lines.pop()
        if not 0 <= request.insert_line <= len(lines):
            raise ToolError(
                f"Invalid `insert_line` parameter: {request.insert_line}. "
                f"It should be within the range [0, {len(lines)}]."
            )
        lines.insert(request.insert_line, request.insert_text.rstrip("\n"))
        self._write(target, request.path, "\n".join(lines) + "\n")
        return f"The file {request.path} has been edited."

    def _delete(self, request: _Delete) -> str:
        target = self._path(request.path)
        if self._is_root(target):
            raise ToolError(f"Cannot delete the {ROOT} directory itself")
        if target.is_dir():
            shutil.rmtree(target)
        elif target.exists():
            target.unlink()
        else:
            raise ToolError(f"The path {request.path} does not exist")
        return f"Successfully deleted {request.path}"

    def _rename(self, request: _Rename) -> str:
        source = self._path(request.old_path)
        dest = self._path(request.new_path)
        if self._is_root(source):
            raise ToolError(f"Cannot rename the {ROOT} directory itself")
        if not source.exists():
            raise ToolError(f"The path {request.old_path} does not exist")
        if dest.exists():
            raise ToolError(f"The destination {request.new_path} already exists")
        dest.parent.mkdir(parents=True, exist_ok=True)
        source.rename(dest)
        return f"Successfully renamed {request.old_path} to {request.new_path}"
