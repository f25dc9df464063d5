"""Anthropic's memory tool (``memory_20250818``), kept in the run directory.

Claude sees a folder called ``/memories`` and works on it with six commands:
``view``, ``create``, ``str_replace``, ``insert``, ``delete`` and ``rename``.
Here that folder is ``<run dir>/memories``, so the agent's notes survive from
one iteration (one fresh conversation) to the next, and the engine can show
them in the next prompt.

The first four are the text editor's (:class:`~tui.agents.text_editor.TextEditor`,
rooted at the memories folder); what is the memory tool's own is the
``/memories`` path mapping, ``delete`` and ``rename``, a size limit, and the
replies where Anthropic's reference implementation, which is what the model
is trained on, words or behaves differently (a lenient ``view_range``, sizes
in listings, ``create`` never overwriting).

Every path must start with ``/memories`` and stays inside the folder: ``..``,
NUL bytes and symlinks that lead out are refused (through the same
:func:`~tui.agents.text_editor.confine` as the workspace tools).
"""

from __future__ import annotations

import os
import shutil
import stat
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, TypeAdapter

from tui.agents.text_editor import (
    EditorCommand,
    PathEscape,
    TextEditor,
    ToolError,
    ToolInput,
    ToolOutcome,
    confine,
    walk_two_levels,
)
from tui.agents.tools import Toolbox

MEMORY_TOOL = "memory"
ROOT = "/memories"
# Notes are for short facts; a huge file would fill every later prompt.
MAX_FILE_CHARS = 100_000
MAX_VIEW_CHARS = 30_000


class _Delete(ToolInput):
    command: Literal["delete"]
    path: str


class _Rename(ToolInput):
    command: Literal["rename"]
    old_path: str
    new_path: str


_COMMAND: TypeAdapter[EditorCommand | _Delete | _Rename] = TypeAdapter(
    Annotated[EditorCommand | _Delete | _Rename, Field(discriminator="command")]
)


def _size(n: int) -> str:
    """Sizes as the reference implementation shows them: 512B, 4K, 1.5M."""
    if n < 1024:
        return f"{n}B"
    value, unit = n / 1024, "K"
    if value >= 1024:
        value, unit = value / 1024, "M"
    return f"{int(value)}{unit}" if value == int(value) else f"{value:.1f}{unit}"


class MemoryTool(TextEditor):
    """The ``memory`` tool over one folder; call it with the tool_use input."""

    # The replies of Anthropic's reference implementation.
    MISSING = "The path {path} does not exist. Please provide a valid path."
    NOT_TEXT = "{path} is not UTF-8 text."
    VIEWED = "Here's the content of {path} with line numbers:\n{body}"
    CLIPPED = "\n<response clipped; use view_range to see the rest>"
    NO_MATCH = "No replacement was performed, old_str `{old}` did not appear verbatim in {path}."
    EMPTY_OLD = NO_MATCH
    MANY_MATCHES = (
        "No replacement was performed. Multiple occurrences of old_str `{old}` in lines: "
        "{lines}. Please ensure it is unique"
    )
    REPLACED = (
        "The memory file has been edited. Here is the snippet showing the change "
        "(with line numbers):\n{snippet}"
    )
    BAD_INSERT_LINE = (
        "Invalid `insert_line` parameter: {line}. It should be within the range [0, {count}]."
    )
    INSERTED = "The file {path} has been edited."
    SNIPPET_CONTEXT = 2

    def __init__(self, root: Path) -> None:
        super().__init__(root, max_characters=MAX_VIEW_CHARS)
        self._real_root: Path | None = None

    def _check_root(self) -> None:
        """Refuse a memories folder swapped for a symlink or moved since the first call."""
        self.root.mkdir(parents=True, exist_ok=True)
        info = os.lstat(self.root)
        real = self.root.resolve()
        if (
            stat.S_ISLNK(info.st_mode)
            or not stat.S_ISDIR(info.st_mode)
            or (self._real_root is not None and real != self._real_root)
        ):
            raise ToolError(
                f"The {ROOT} folder was replaced (it is now a symlink, or not the folder it "
                "was); the memory tool will not use it."
            )
        self._real_root = real

    def register(self, toolbox: Toolbox) -> None:
        """Make ``memory`` one of the toolbox's tools."""
        toolbox.register(MEMORY_TOOL, self)

    async def __call__(self, tool_input: dict) -> ToolOutcome:
        """Run one command; mistakes raise ToolError, which the toolbox turns into is_error."""
        request = _COMMAND.validate_python(tool_input)
        self._check_root()
        if isinstance(request, _Delete):
            return ToolOutcome(self._delete(request.path))
        if isinstance(request, _Rename):
            return ToolOutcome(self._rename(request.old_path, request.new_path))
        return ToolOutcome(self.run(request))

    # -- where the memory tool differs from the editor

    def _resolve(self, path: str) -> Path:
        """The real path for ``/memories/...``, refused if it leaves the folder."""
        if path != ROOT and not path.startswith(ROOT + "/"):
            raise ToolError(f"Path must start with {ROOT}, got: {path}")
        relative = path[len(ROOT) :].lstrip("/") or "."
        try:
            return confine(self.root, relative)
        except PathEscape:
            raise ToolError(f"The path {path} would escape the {ROOT} directory.") from None

    def _write(self, file: Path, path: str, text: str) -> None:
        if len(text) > MAX_FILE_CHARS:
            raise ToolError(
                f"{path} would hold {len(text):,} characters; memory files are limited to "
                f"{MAX_FILE_CHARS:,}. Keep notes short and split them by topic."
            )
        super()._write(file, path, text)

    def _select(
        self, text: str, path: str, view_range: tuple[int, int] | None
    ) -> tuple[list[str], int]:
        # As the reference: every line after each newline is numbered, and a
        # range out of bounds shows what there is rather than an error.
        lines = text.split("\n")
        if view_range is None:
            return lines, 1
        start, end = view_range
        start = max(1, start)
        return (lines[start - 1 :] if end == -1 else lines[start - 1 : end]), start

    def _view_folder(self, folder: Path, path: str, view_range: tuple[int, int] | None) -> str:
        rows = [f"{_size(folder.stat().st_size)}\t{path}"]
        for entry in walk_two_levels(folder):
            rel = Path(entry.path).relative_to(folder).as_posix()
            if entry.is_dir(follow_symlinks=False):
                rows.append(f"{_size(entry.stat().st_size)}\t{path}/{rel}/")
            elif entry.is_file(follow_symlinks=False):
                rows.append(f"{_size(entry.stat().st_size)}\t{path}/{rel}")
        return (
            f"Here're the files and directories up to 2 levels deep in {path}, "
            "excluding hidden items:\n" + "\n".join(rows)
        )

    def create(self, path: str, file_text: str) -> str:
        """Write a new note; unlike the editor, never over an existing one."""
        if self._resolve(path).exists():
            raise ToolError(
                f"File {path} already exists; edit it with str_replace or insert, "
                "or delete it first."
            )
        return super().create(path, file_text)

    # -- the memory tool's own commands

    def _is_root(self, target: Path) -> bool:
        return target == self.root.resolve()

    def _delete(self, path: str) -> str:
        target = self._resolve(path)
        if self._is_root(target):
            raise ToolError(f"Cannot delete the {ROOT} directory itself")
        if target.is_dir():
            shutil.rmtree(target)
        elif target.exists():
            target.unlink()
        else:
            raise ToolError(f"The path {path} does not exist")
        return f"Successfully deleted {path}"

    def _rename(self, old_path: str, new_path: str) -> str:
        source = self._resolve(old_path)
        dest = self._resolve(new_path)
        if self._is_root(source):
            raise ToolError(f"Cannot rename the {ROOT} directory itself")
        if not source.exists():
            raise ToolError(f"The path {old_path} does not exist")
        if dest.exists():
            raise ToolError(f"The destination {new_path} already exists")
        dest.parent.mkdir(parents=True, exist_ok=True)
        source.rename(dest)
        return f"Successfully renamed {old_path} to {new_path}"
