"""The text editor every agent backend uses, confined to its folder.

The semantics of Anthropic's ``str_replace_based_edit_tool``
(``text_editor_20250728``): ``view`` (line numbers, ranges, a two-level folder
listing), ``create``, ``str_replace`` (exactly one match), ``insert``. Paths may
be relative to the root or absolute inside it; anything that leaves it (``..``,
other absolute paths, symlinks pointing out, NUL bytes) is refused. Files are
written through a temporary file and a rename, so a reader never sees half a
file, and every read and write walks the path from a handle on the root one
folder at a time without following symlinks (openat-style): a folder swapped
for a symlink between the check and the write is refused, never followed.
Writes into ``.git/``, into the folder a ``.git`` file's ``gitdir:`` names, and
to protected paths are refused. Files above :data:`MAX_EDIT_BYTES` are not
edited, and ``view`` reads a big file a line at a time. Mistakes come back
as ``ToolOutcome(is_error=True)`` with one clear sentence, for the model to
read and correct. The memory tool (:mod:`tui.agents.memory_tool`) reuses
:class:`TextEditor` on its own folder.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError, model_validator

from tui.agents.safe_files import (
    PathEscape,
    ToolError,
    confine,
    human_bytes,
    open_file,
    parts_in,
    refuse_git,
    stream_lines,
    write_atomic,
    write_in,
)

__all__ = [
    "EDITOR_INPUT",
    "PathEscape",
    "TextEditor",
    "ToolError",
    "ToolOutcome",
    "confine",
    "input_error",
    "walk_two_levels",
    "write_atomic",
]

_MAX_LISTED = 1000
# Files above this are not edited (a whole-file rewrite); view streams them.
MAX_EDIT_BYTES = 10 * 1024 * 1024
# Files above this are viewed a line at a time instead of read whole.
_STREAM_VIEW_BYTES = 1024 * 1024


@dataclass
class ToolOutcome:
    """What a tool call produced, as the model will read it."""

    output: str
    is_error: bool = False
    exit_code: int | None = None


# -- tool inputs --------------------------------------------------------------


class ToolInput(BaseModel):
    """A tool's input as the model sends it; unknown keys are mistakes."""

    model_config = ConfigDict(extra="forbid")


class ViewCommand(ToolInput):
    """``view``: a file with line numbers, or a folder's listing."""

    command: Literal["view"]
    path: str
    view_range: tuple[int, int] | None = None


class CreateCommand(ToolInput):
    """``create``: write a whole file."""

    command: Literal["create"]
    path: str
    file_text: str


class StrReplaceCommand(ToolInput):
    """``str_replace``: replace the one occurrence of ``old_str``."""

    command: Literal["str_replace"]
    path: str
    old_str: str
    new_str: str = ""


class InsertCommand(ToolInput):
    """``insert``: add text after line ``insert_line`` (0 for the top)."""

    command: Literal["insert"]
    path: str
    insert_line: int
    insert_text: str | None = None
    new_str: str | None = None  # the name older tool versions use

    @model_validator(mode="after")
    def _has_text(self) -> InsertCommand:
        if self.insert_text is None and self.new_str is None:
            raise ValueError("insert needs insert_text (the text to insert)")
        return self

    @property
    def text(self) -> str:
        """The text to insert, under whichever name it came."""
        return self.insert_text if self.insert_text is not None else self.new_str or ""


EditorCommand = ViewCommand | CreateCommand | StrReplaceCommand | InsertCommand

EDITOR_INPUT: TypeAdapter[EditorCommand] = TypeAdapter(
    Annotated[EditorCommand, Field(discriminator="command")]
)


def input_error(tool: str, exc: ValidationError) -> ToolOutcome:
    first = exc.errors()[0]
    where = ".".join(str(part) for part in first["loc"]) or "input"
    return ToolOutcome(f"Invalid input for {tool}: {where}: {first['msg']}.", is_error=True)


# -- file helpers -------------------------------------------------------------


def walk_two_levels(folder: Path) -> Iterator[os.DirEntry[str]]:
    """What ``view`` lists in a folder: entries two levels deep, by name, hidden ones left out."""

    def walk(directory: str | Path, depth: int) -> Iterator[os.DirEntry[str]]:
        try:
            children = sorted(os.scandir(directory), key=lambda e: e.name)
        except OSError:
            return
        for child in children:
            if child.name.startswith("."):
                continue
            yield child
            if depth < 2 and child.is_dir(follow_symlinks=False):
                yield from walk(child.path, depth + 1)

    return walk(folder, 1)


def _split_lines(text: str) -> list[str]:
    lines = text.split("\n")
    return lines[:-1] if lines and lines[-1] == "" else lines


def _numbered(lines: list[str], first: int) -> str:
    # The format of `cat -n`, as Anthropic's reference implementation returns it.
    return "\n".join(f"{number:6}\t{line}" for number, line in enumerate(lines, first))


def _snippet(text: str, first_line: int, last_line: int, context: int) -> str:
    lines = _split_lines(text)
    start = max(1, first_line - context)
    end = min(len(lines), last_line + context)
    return _numbered(lines[start - 1 : end], start)


def _match_lines(text: str, old: str) -> list[int]:
    """The line (from 1) where each occurrence of ``old`` starts, left to right."""
    lines, at = [], text.find(old)
    while at != -1:
        lines.append(text.count("\n", 0, at) + 1)
        at = text.find(old, at + len(old))
    return lines


# -- the text editor ----------------------------------------------------------


class TextEditor:
    """``view``, ``create``, ``str_replace`` and ``insert`` on the text files under ``root``.

    The workspace's ``str_replace_based_edit_tool`` is one; the memory tool is
    another, rooted at its own folder. Replies are ``str.format`` templates in
    class attributes, so a subclass words them as its own reference does.
    Mistakes raise :class:`ToolError` (or :class:`PathEscape`).
    """

    MISSING = "The path {path} does not exist."
    NOT_A_FILE = "The path {path} is not a file."
    NOT_TEXT = "{path} is not UTF-8 text; the editor only handles text files."
    VIEWED = "Here's the result of running `cat -n` on {path}:\n{body}\n"
    CLIPPED = (
        "\n<response clipped: {path} is longer than {limit:,} characters; "
        "use view_range to see the rest>"
    )
    CREATED = "File {verb} successfully at: {path}"
    EMPTY_OLD = "old_str is empty; give the exact text to replace."
    NO_MATCH = "No replacement was performed: old_str did not appear verbatim in {path}."
    MANY_MATCHES = (
        "No replacement was performed: old_str occurs {count} times in {path} "
        "(lines {lines}); include more context so it matches exactly once."
    )
    REPLACED = (
        "The file {path} has been edited. Here's the result of running `cat -n` on a "
        "snippet of {path}:\n{snippet}\n"
        "Review the changes and make sure they are as expected. "
        "Edit the file again if necessary."
    )
    BAD_INSERT_LINE = (
        "Invalid insert_line {line}: it must be between 0 and {count}, "
        "the number of lines in {path}."
    )
    INSERTED = (
        "The file {path} has been edited. Here's the result of running `cat -n` on a "
        "snippet of the edited file:\n{snippet}\n"
        "Review the changes and make sure they are as expected (correct indentation, "
        "no duplicate lines, etc). Edit the file again if necessary."
    )
    # Lines shown before and after an edit.
    SNIPPET_CONTEXT = 4

    TOO_BIG = (
        "{path} is {size}; the editor edits files up to {limit}. Change it with a command "
        "instead (sed, a script), or view it with view_range."
    )
    PROTECTED = (
        "{path} is protected (the spec's [protect] paths, the spec itself, .git/ and "
        ".loopconsole/ are what judges the loop); it cannot be changed. Change the code "
        "under test instead."
    )

    def __init__(
        self,
        root: Path,
        *,
        max_characters: int,
        protected: Callable[[str], bool] | None = None,
    ) -> None:
        self.root = root
        # How much of a file `view` shows; bounded so one view cannot fill the context.
        self.max_characters = max_characters
        # Whether a root-relative path (posix) is protected: such writes are refused.
        self.protected = protected

    def run(self, request: EditorCommand) -> str:
        """Carry out one validated command and return the reply."""
        match request:
            case ViewCommand():
                return self.view(request.path, request.view_range)
            case CreateCommand():
                return self.create(request.path, request.file_text)
            case StrReplaceCommand():
                return self.str_replace(request.path, request.old_str, request.new_str)
            case InsertCommand():
                return self.insert(request.path, request.insert_line, request.text)
        raise AssertionError(f"unreachable: {request!r}")

    # -- what a subclass may change

    def _resolve(self, path: str) -> Path:
        """The real path for ``path`` as the model gave it, refused if it leaves ``root``."""
        return confine(self.root, path)

    def _write(self, file: Path, path: str, text: str) -> None:
        self._refuse_write(file, path)
        write_in(self.root, file, text)

    def _refuse_write(self, file: Path, path: str) -> None:
        refuse_git(self.root, file, path)
        rel = "/".join(parts_in(self.root, file))
        if self.protected is not None and self.protected(rel):
            raise ToolError(self.PROTECTED.format(path=path))

    # -- for a human (a take-over from another machine)

    def writable(self, path: str) -> Path:
        """The real path of ``path``, refused exactly as a write to it would be."""
        file = self._resolve(path)
        self._refuse_write(file, path)
        return file

    def read_text(self, path: str) -> str:
        """The whole text of a file (refused: missing, not a file, too big, not UTF-8)."""
        return self._read(self._resolve(path), path)

    def _select(
        self, text: str, path: str, view_range: tuple[int, int] | None
    ) -> tuple[list[str], int]:
        """The lines ``view`` shows and the number of the first."""
        lines = _split_lines(text)
        if view_range is None:
            return lines, 1
        start, end = view_range
        if not 1 <= start <= max(1, len(lines)):
            raise ToolError(
                f"Invalid view_range {list(view_range)}: the first line must be between "
                f"1 and {len(lines)}, the number of lines in {path}."
            )
        if end != -1 and end < start:
            raise ToolError(
                f"Invalid view_range {list(view_range)}: the end must be -1 or at least "
                f"the start ({start})."
            )
        return (lines[start - 1 :] if end == -1 else lines[start - 1 : end]), start

    def _view_folder(self, folder: Path, path: str, view_range: tuple[int, int] | None) -> str:
        if view_range is not None:
            raise ToolError("view_range only applies to files, not to directories.")
        root = self.root.resolve()
        entries: list[str] = []
        for entry in walk_two_levels(folder):
            if len(entries) == _MAX_LISTED:
                entries.append(f"[listing stopped at {_MAX_LISTED} entries]")
                break
            rel = Path(entry.path).relative_to(root).as_posix()
            entries.append(rel + ("/" if entry.is_dir(follow_symlinks=False) else ""))
        return (
            f"Here's the files and directories up to 2 levels deep in {path}, "
            "excluding hidden items:\n" + ("\n".join(entries) or "(empty directory)")
        )

    # -- the commands

    def _open(self, file: Path, path: str) -> int:
        if not file.exists():
            raise ToolError(self.MISSING.format(path=path))
        if not file.is_file():
            raise ToolError(self.NOT_A_FILE.format(path=path))
        return open_file(self.root, file)

    def _read(self, file: Path, path: str) -> str:
        fd = self._open(file, path)
        with os.fdopen(fd, "rb") as handle:
            size = os.fstat(handle.fileno()).st_size
            if size > MAX_EDIT_BYTES:
                limit = human_bytes(MAX_EDIT_BYTES)
                raise ToolError(self.TOO_BIG.format(path=path, size=human_bytes(size), limit=limit))
            data = handle.read()
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError:
            raise ToolError(self.NOT_TEXT.format(path=path)) from None

    def _view_streamed(
        self, file: Path, path: str, view_range: tuple[int, int] | None
    ) -> tuple[list[str], int]:
        """``_select`` for a big file: a line at a time, keeping only what is shown."""
        start, end = view_range if view_range is not None else (1, -1)
        kept: list[str] = []
        room = self.max_characters + 1
        total = 0
        with os.fdopen(self._open(file, path), "rb") as handle:
            for number, line in enumerate(stream_lines(handle, room), 1):
                total = number
                if number >= start and (end == -1 or number <= end) and room > 0:
                    try:
                        text = line.decode("utf-8")
                    except UnicodeDecodeError:
                        raise ToolError(self.NOT_TEXT.format(path=path)) from None
                    kept.append(text)
                    room -= len(text) + 8
                if (end != -1 and number >= end) or (room <= 0 and number >= start):
                    break  # what is shown is complete; the rest is not read
        if view_range is not None:
            self._select("\n" * total, path, view_range)  # the same range checks
        return kept, start

    def view(self, path: str, view_range: tuple[int, int] | None = None) -> str:
        """A file with line numbers (clipped at ``max_characters``), or a folder's listing."""
        target = self._resolve(path)
        if target.is_dir():
            return self._view_folder(target, path, view_range)
        if target.is_file() and target.stat().st_size > _STREAM_VIEW_BYTES:
            lines, first = self._view_streamed(target, path, view_range)
        else:
            lines, first = self._select(self._read(target, path), path, view_range)
        body = _numbered(lines, first)
        if len(body) > self.max_characters:
            clipped = self.CLIPPED.format(path=path, limit=self.max_characters)
            body = body[: self.max_characters] + clipped
        return self.VIEWED.format(path=path, body=body)

    def create(self, path: str, file_text: str) -> str:
        """Write a whole file, making its folders; an existing file is overwritten."""
        target = self._resolve(path)
        existed = target.exists()
        if existed and not target.is_file():
            raise ToolError(f"The path {path} is a directory; give a file path to create.")
        self._write(target, path, file_text)
        return self.CREATED.format(verb="overwritten" if existed else "created", path=path)

    def str_replace(self, path: str, old: str, new: str) -> str:
        """Replace ``old`` with ``new`` where it occurs exactly once; refuse otherwise."""
        target = self._resolve(path)
        if not old:
            raise ToolError(self.EMPTY_OLD.format(path=path, old=old))
        text = self._read(target, path)
        found = _match_lines(text, old)
        if not found:
            raise ToolError(self.NO_MATCH.format(path=path, old=old))
        if len(found) > 1:
            lines = ", ".join(map(str, found))
            raise ToolError(
                self.MANY_MATCHES.format(path=path, old=old, count=len(found), lines=lines)
            )
        at = text.index(old)
        updated = text[:at] + new + text[at + len(old) :]
        self._write(target, path, updated)
        first = found[0]
        snippet = _snippet(updated, first, first + new.count("\n"), self.SNIPPET_CONTEXT)
        return self.REPLACED.format(path=path, snippet=snippet)

    def insert(self, path: str, line: int, insert: str) -> str:
        """Insert ``insert`` after line ``line`` (0: at the top), as whole lines."""
        target = self._resolve(path)
        text = self._read(target, path)
        lines = text.split("\n")
        kept = [part + "\n" for part in lines[:-1]] + ([lines[-1]] if lines[-1] else [])
        if not 0 <= line <= len(kept):
            raise ToolError(self.BAD_INSERT_LINE.format(line=line, count=len(kept), path=path))
        if line == len(kept) and kept and not kept[-1].endswith("\n"):
            kept[-1] += "\n"
        block = insert if insert.endswith("\n") else insert + "\n"
        updated = "".join(kept[:line]) + block + "".join(kept[line:])
        self._write(target, path, updated)
        snippet = _snippet(updated, line + 1, line + block.count("\n"), self.SNIPPET_CONTEXT)
        return self.INSERTED.format(path=path, snippet=snippet)
