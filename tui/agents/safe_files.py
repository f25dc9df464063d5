"""Files under a root, reached race-free: the text editor's and the memory tool's floor.

Every read and write walks the path from a handle on the root one folder at a
time with ``O_NOFOLLOW`` (openat-style), so a folder swapped for a symlink
between the check (:func:`confine`) and the write is refused, never followed.
Writes go through a temporary file and a rename in the same folder.
:func:`refuse_git` keeps the editor out of ``.git/`` and out of the folder a
``.git`` file's ``gitdir:`` names (a ``core.fsmonitor`` line in a config runs
code on the user's next ``git status``).
"""

from __future__ import annotations

import contextlib
import errno
import os
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
# Read once: os.umask can only be read by setting it, which is not thread-safe later.
_UMASK = os.umask(0o022)
os.umask(_UMASK)


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


def open_folder(root: Path, parts: tuple[str, ...], *, create: bool = False) -> int:
    """A handle on ``root/parts``, walked one folder at a time, never through a symlink.

    ``root`` must be a real path. Missing folders are made when ``create``.
    Raises PathEscape when a folder on the way is (now) a symlink or a file.
    """
    fd = os.open(root, _DIR_FLAGS)
    try:
        for part in parts:
            try:
                nxt = os.open(part, _DIR_FLAGS, dir_fd=fd)
            except FileNotFoundError:
                if not create:
                    raise
                os.mkdir(part, 0o777, dir_fd=fd)
                nxt = os.open(part, _DIR_FLAGS, dir_fd=fd)
            except OSError as exc:
                if exc.errno in (errno.ELOOP, errno.ENOTDIR):
                    raise PathEscape(
                        f"{'/'.join(parts)}: {part} is not a folder (it is a file, or a "
                        "symlink, possibly swapped in while the path was checked); nothing "
                        "was written."
                    ) from None
                raise
            os.close(fd)
            fd = nxt
    except BaseException:
        os.close(fd)
        raise
    return fd


def parts_in(root: Path, file: Path) -> tuple[str, ...]:
    return file.relative_to(root.resolve()).parts


def write_in(root: Path, file: Path, text: str) -> None:
    """Write ``text`` to ``file`` (a real path under ``root``) race-free: temp file, rename."""
    *folders, name = parts_in(root, file)
    parent = open_folder(root.resolve(), tuple(folders), create=True)
    try:
        try:
            mode = os.stat(name, dir_fd=parent, follow_symlinks=False).st_mode & 0o7777
        except FileNotFoundError:
            mode = 0o666 & ~_UMASK
        tmp = f".{name}.{secrets.token_hex(6)}.tmp"
        fd = os.open(
            tmp,
            os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC,
            0o600,
            dir_fd=parent,
        )
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(text.encode("utf-8"))
                os.fchmod(out.fileno(), mode)
            os.replace(tmp, name, src_dir_fd=parent, dst_dir_fd=parent)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp, dir_fd=parent)
            raise
    finally:
        os.close(parent)


def open_file(root: Path, file: Path) -> int:
    """A read handle on ``file`` (a real path under ``root``), opened race-free."""
    *folders, name = parts_in(root, file)
    parent = open_folder(root.resolve(), tuple(folders))
    try:
        return os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=parent)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise PathEscape(f"{file.name} became a symlink while being read; try again.") from None
        raise
    finally:
        os.close(parent)


def write_atomic(file: Path, text: str) -> None:
    """Write ``text`` to ``file`` through a temp file in the same folder and a rename."""
    file.parent.mkdir(parents=True, exist_ok=True)
    write_in(file.parent, file.resolve(), text)


def _gitdir_targets(root: Path, parts: tuple[str, ...]) -> list[tuple[str, ...]]:
    """The folders inside ``root`` that ``.git`` files (``gitdir: ...``) along ``parts`` name."""
    real = root.resolve()
    found = []
    for depth in range(len(parts)):
        marker = real.joinpath(*parts[:depth], ".git")
        if not marker.is_file() or marker.is_symlink():
            continue
        try:
            line = marker.read_text(errors="replace").strip()
        except OSError:
            continue
        if line.startswith("gitdir:"):
            target = (marker.parent / line.removeprefix("gitdir:").strip()).resolve()
            if target.is_relative_to(real):
                found.append(target.relative_to(real).parts)
    return found


def refuse_git(root: Path, file: Path, path: str) -> None:
    """Raise ToolError when ``file`` lies in ``.git/`` or in a folder a ``gitdir:`` names."""
    parts = parts_in(root, file)
    if any(part.casefold() == ".git" for part in parts):
        raise ToolError(
            f"{path} is inside .git/: the editor does not write the repository's own files "
            "(its config and hooks run code); change the work tree instead."
        )
    for target in _gitdir_targets(root, parts):
        if parts[: len(target)] == target:
            raise ToolError(
                f"{path} is inside the git directory a .git file points to (gitdir:); "
                "the editor does not write it."
            )


def human_bytes(n: int) -> str:
    size = float(n)
    for unit in ("bytes", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{n:,} bytes" if unit == "bytes" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{n:,} bytes"


def stream_lines(handle: BinaryIO, limit: int) -> Iterator[bytes]:
    """The lines of a binary file without their newline, each cut at ``limit`` bytes.

    Memory stays bounded by ``limit`` however long a line is.
    """
    while True:
        piece = handle.readline(limit)
        if not piece:
            return
        line = piece
        while not piece.endswith(b"\n"):
            piece = handle.readline(limit)  # the rest of a long line: skipped
            if not piece:
                break
        yield line.rstrip(b"\n")
