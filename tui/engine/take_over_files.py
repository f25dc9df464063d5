"""The workspace's files for a human who took over from another machine (``attach --via``).

A console on the run's machine opens $EDITOR on the workspace itself. One
on another machine cannot: it asks the engine for the file list, for a
file's text, and sends the edited text back (:class:`~tui.engine.commands.ReadFile`,
:class:`~tui.engine.commands.WriteFile`). The engine reads and writes with
the agent's own text editor (:class:`tui.agents.text_editor.TextEditor`), so
what it refuses is exactly what the editor refuses: paths outside the
workspace (``..``, absolute, symlinks out), ``.git/``, and the protected
paths (``[protect]``, the spec). A write names the text it replaces (its
sha256): an edit made meanwhile is never overwritten. What changed is then
checkpointed as for a local take-over (``RecordChanges``, ``HandBack``).
"""

from __future__ import annotations

import asyncio
import hashlib
import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from tui.agents.text_editor import PathEscape, TextEditor, ToolError
from tui.engine.commands import ListFiles, ReadFile, Reply, WriteFile, refused

if TYPE_CHECKING:
    from tui.engine.runner import Runner

# Folders never listed (tools' caches, repositories, the run's own files).
SKIPPED = {".git", ".hg", ".svn", ".loopconsole", "__pycache__", "node_modules", ".venv", "venv"}
MAX_FILES = 5_000
# A file sent over the protocol whole; its JSON line stays well under the 4 MiB limit.
MAX_REMOTE_EDIT_BYTES = 512 * 1024


def workspace_files(root: Path, limit: int = MAX_FILES) -> list[str]:
    """Relative paths of the files under ``root``, sorted, skipping tool folders."""
    out: list[str] = []
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d not in SKIPPED and not d.endswith(".egg-info"))
        rel = Path(folder).relative_to(root)
        for name in sorted(files):
            if name.endswith((".pyc", ".swp")):
                continue
            out.append((rel / name).as_posix())
            if len(out) >= limit:
                return out
    return out


def text_sha(text: str) -> str:
    """What a write names as the text it replaces."""
    return hashlib.sha256(text.encode()).hexdigest()


class WorkspaceFiles:
    """List, read and write the workspace's files for a human on another machine.

    Refusals raise :class:`ToolError` or ``PathEscape`` with one sentence.
    """

    def __init__(self, workspace: Path, protected: Callable[[str], bool]) -> None:
        self.workspace = workspace
        self.editor = TextEditor(workspace, max_characters=0, protected=protected)

    def list(self) -> list[str]:
        """The files a human may pick."""
        return workspace_files(self.workspace)

    def read(self, path: str) -> tuple[str, bool]:
        """(text, exists) of a file the human may change; a new file reads as ""."""
        file = self.editor.writable(path)
        if not file.exists():
            return "", False
        if file.is_file() and file.stat().st_size > MAX_REMOTE_EDIT_BYTES:
            raise ToolError(
                f"{path} is larger than {MAX_REMOTE_EDIT_BYTES // 1024} KiB; edit it with "
                "the shell (o) instead"
            )
        return self.editor.read_text(path), True

    def write(self, path: str, text: str, expected: str) -> None:
        """Write the human's text, if the file still holds what they read."""
        if len(text.encode()) > MAX_REMOTE_EDIT_BYTES:
            raise ToolError(f"the text for {path} is larger than the editor takes from afar")
        current, exists = self.read(path)
        if (text_sha(current) if exists else "") != expected:
            raise ToolError(f"{path} changed in the workspace since you opened it; open it again")
        self.editor.create(path, text)


class FileCommands:
    """ListFiles, ReadFile and WriteFile of one run: only while the human has the workspace."""

    def __init__(self, runner: Runner) -> None:
        self.runner = runner
        self._files: WorkspaceFiles | None = None

    def _workspace(self) -> WorkspaceFiles | None:
        if not self.runner.state.taking_over:
            return None
        if self._files is None:
            runner = self.runner
            self._files = WorkspaceFiles(runner.run_dir.workspace, runner.protected.matches)
        return self._files

    async def list(self, _cmd: ListFiles) -> Reply:
        files = self._workspace()
        if files is None:
            return refused(_NOT_TAKEN_OVER)
        return Reply(data={"files": await asyncio.to_thread(files.list)})

    async def read(self, cmd: ReadFile) -> Reply:
        files = self._workspace()
        if files is None:
            return refused(_NOT_TAKEN_OVER)
        try:
            text, exists = await asyncio.to_thread(files.read, cmd.path)
        except (PathEscape, ToolError, OSError) as exc:
            return refused(str(exc))
        sha = text_sha(text) if exists else ""
        return Reply(data={"path": cmd.path, "text": text, "exists": exists, "sha": sha})

    async def write(self, cmd: WriteFile) -> Reply:
        files = self._workspace()
        if files is None:
            return refused(_NOT_TAKEN_OVER)
        async with self.runner.workspace_lock:
            try:
                await asyncio.to_thread(files.write, cmd.path, cmd.text, cmd.expected)
            except (PathEscape, ToolError, OSError) as exc:
                return refused(str(exc))
        return Reply()


_NOT_TAKEN_OVER = "take over the workspace (t) first"
