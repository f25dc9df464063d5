"""Protected paths: what judges the loop, out of the agent's reach.

A spec protects globs relative to the workspace (``[protect] paths``); always
protected are the spec file and the files it names (an agent script, say)
when they lie inside the workspace, ``.git/`` and ``.loopconsole/``.

They are enforced three ways: the text editor refuses to write them, the
sandbox mounts them read-only, and after every iteration :meth:`ProtectedPaths.compare`
looks for changes made any other way (an unsandboxed agent CLI, say), which
the runner restores before the validators run and reports as a ``tamper``
signal with the diff as evidence.

``.git/`` is compared by what can run code or redirect the repository:
``config``, ``hooks/``, ``info/`` and a ``.git`` file (``gitdir:``); the rest
of it is read-only in the sandbox and out of the editor's reach.
"""

from __future__ import annotations

import difflib
import hashlib
import os
import re
import shutil
import stat
import tomllib
from dataclasses import dataclass
from pathlib import Path

from tui.engine.validators import is_pytest
from tui.spec import LoopSpec

ALWAYS = [".loopconsole/**"]
GIT_COMPARED = [".git", ".git/config", ".git/hooks/**", ".git/info/**"]
# Folders never walked while looking for matches of a leading-glob pattern.
_NOT_WALKED = {".git", ".loopconsole", "node_modules", "__pycache__"}
# Start content kept for restoring, in all; past it a change is reported, not undone.
KEEP_BYTES = 64 * 1024 * 1024
_MAX_BINDS = 1000
_DIFF_CHARS = 6000
_GLOB = re.compile(r"[*?\[]")


def glob_regex(pattern: str) -> re.Pattern[str]:
    """A workspace glob as a regex: ``**`` any folders, ``*`` and ``?`` within one name."""
    pattern = pattern.strip().removeprefix("./")
    pattern = pattern.rstrip("/") + ("/**" if pattern.endswith("/") else "")
    out, i = [], 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif pattern.startswith("**", i):
            out.append(".*")
            i += 2
        elif pattern[i] == "*":
            out.append("[^/]*")
            i += 1
        elif pattern[i] == "?":
            out.append("[^/]")
            i += 1
        else:
            out.append(re.escape(pattern[i]))
            i += 1
    return re.compile("".join(out))


def _literal_prefix(pattern: str) -> str:
    parts = []
    for part in pattern.strip("/").split("/"):
        if _GLOB.search(part):
            break
        parts.append(part)
    return "/".join(parts)


# With a pytest validator: files pytest loads that could make every test pass
# (its configuration can add `addopts = "--collect-only"` or load a plugin).
PYTEST_FILES = ["conftest.py", "pytest.ini", ".pytest.ini", "tox.ini", "setup.cfg"]
# pyproject.toml is the project's, so only the table pytest reads from it is protected.
PYTEST_TABLES = {"pyproject.toml": ("tool", "pytest")}
# `python -m NAME` runs the first NAME.py on the path, and the working folder is first.
_RUN_MODULE = re.compile(r"(?:^|\s)-m\s*([A-Za-z_]\w*)")


def spec_patterns(spec: LoopSpec) -> list[str]:
    """The globs a spec protects: its own, plus the spec and the files it names.

    With a pytest validator, the workspace's top ``conftest.py`` and
    ``pytest.ini`` too: one line in either (``os._exit(0)``) passes any suite.
    """
    patterns = list(spec.protect.paths) + ALWAYS
    if any(is_pytest(validator.run) for validator in spec.validators):
        patterns += PYTEST_FILES
    patterns += shadow_patterns(spec)
    named = [spec.path, spec.agent.script]
    for file in named:
        if file is not None and file.is_relative_to(spec.workspace):
            patterns.append(file.relative_to(spec.workspace).as_posix())
    return patterns


def shadow_patterns(spec: LoopSpec) -> list[str]:
    """A module a validator runs with ``python -m``, as the workspace would shadow it.

    ``python -m unittest`` in the workspace imports ``./unittest.py`` (or a
    ``unittest/`` package) before the real one: a file the agent writes there
    would be the judge. Protected when the workspace does not have it at the
    start (then it is the project's own code, run on purpose).
    """
    names = {m for v in spec.validators for m in _RUN_MODULE.findall(v.run)}
    out = []
    for name in sorted(names):
        if not any(os.path.lexists(spec.workspace / p) for p in (name, f"{name}.py")):
            out += [f"{name}.py", name]
    return out


def spec_tables(spec: LoopSpec) -> dict[str, tuple[str, ...]]:
    """TOML tables a spec protects inside files the agent may otherwise edit."""
    if any(is_pytest(validator.run) for validator in spec.validators):
        return dict(PYTEST_TABLES)
    return {}


@dataclass(frozen=True)
class FileState:
    """A protected file as it was: kind, mode, hash, and (when kept) its bytes."""

    kind: str  # "file" | "link" | "dir"
    mode: int
    digest: str
    data: bytes | None = None


@dataclass(frozen=True)
class Change:
    """One protected path that differs from the start: added, modified or deleted."""

    path: str
    what: str


class ProtectedPaths:
    """The protected paths of one workspace."""

    def __init__(
        self,
        workspace: Path,
        patterns: list[str],
        tables: dict[str, tuple[str, ...]] | None = None,
    ) -> None:
        self.workspace = workspace
        self.patterns = [p for p in patterns if p.strip()]
        # Files of which only one TOML table is protected: compared, never read-only.
        self.tables = dict(tables or {})
        self._regexes = [glob_regex(p) for p in self.patterns + GIT_COMPARED]

    def matches(self, rel: str) -> bool:
        """Whether the workspace-relative path ``rel`` (or a folder above it) is protected."""
        parts = Path(rel).parts
        if not parts:
            return False
        if parts[0] in (".git", ".loopconsole"):
            return True
        candidates = ["/".join(parts[: n + 1]) for n in range(len(parts))]
        return any(rx.fullmatch(c) for rx in self._regexes for c in candidates)

    # -- what the sandbox mounts read-only

    def read_only(self) -> list[Path]:
        """Existing paths to mount read-only: whole folders for ``dir/**``, else the matches."""
        found: list[Path] = []
        for name in (".git", ".loopconsole"):
            if os.path.lexists(self.workspace / name):
                found.append(self.workspace / name)
        for pattern in self.patterns:
            prefix = _literal_prefix(pattern)
            whole = pattern.rstrip("/") in (prefix, f"{prefix}/**") or pattern.endswith("/")
            if prefix and whole:
                path = self.workspace / prefix
                if path.exists() and path not in found:
                    found.append(path)
                continue
            for rel in self._walk(pattern):
                path = self.workspace / rel
                if path not in found:
                    found.append(path)
                if len(found) >= _MAX_BINDS:
                    return found  # the rest is still compared after each iteration
        return [p for p in found if not p.is_symlink()]

    # -- the comparison after each iteration

    def snapshot(self) -> dict[str, FileState]:
        """Every protected file as it is now."""
        kept = 0
        states: dict[str, FileState] = {}
        for rel in sorted(self._all_matches() | set(self.tables)):
            keep = kept < KEEP_BYTES or rel in self.tables
            state = _state(self.workspace / rel, keep=keep)
            if state is not None:
                kept += len(state.data or b"")
                states[rel] = state
        return states

    def compare(self, start: dict[str, FileState]) -> tuple[list[Change], dict[str, FileState]]:
        """What changed since ``start``, and the protected files as they are now."""
        now = self.snapshot()
        changes = [
            Change(rel, "deleted")
            for rel in start
            if rel not in now
            and (rel not in self.tables or _table(self.tables[rel], start[rel]) is not None)
        ]
        for rel, state in now.items():
            before = start.get(rel)
            if rel in self.tables:
                if _table(self.tables[rel], before) != _table(self.tables[rel], state):
                    changes.append(Change(rel, "added" if before is None else "modified"))
                continue
            if before is None:
                changes.append(Change(rel, "added"))
            elif (before.kind, before.mode, before.digest) != (
                state.kind,
                state.mode,
                state.digest,
            ):
                changes.append(Change(rel, "modified"))
        return sorted(changes, key=lambda c: c.path), now

    def restore(self, start: dict[str, FileState], changes: list[Change]) -> list[str]:
        """Put changed paths back as they were at ``start``; returns what could not be."""
        failed = []
        for change in changes:
            target = self.workspace / change.path
            try:
                _make_parents_real(self.workspace, change.path)
                if change.what == "added":
                    _remove(target)
                    continue
                before = start[change.path]
                if before.kind == "dir":
                    if not target.is_dir() or target.is_symlink():
                        _remove(target)
                        target.mkdir()
                    continue
                if before.data is None:
                    failed.append(change.path)
                    continue
                _remove(target)
                if before.kind == "link":
                    os.symlink(before.data.decode(), target)
                else:
                    target.write_bytes(before.data)
                    os.chmod(target, before.mode)
            except OSError:
                failed.append(change.path)
        return failed

    def _all_matches(self) -> set[str]:
        found: set[str] = set()
        for pattern in self.patterns + GIT_COMPARED:
            found.update(self._walk(pattern))
        return found

    def _walk(self, pattern: str) -> list[str]:
        """Workspace-relative paths matching ``pattern`` (or lying below a match)."""
        prefix = _literal_prefix(pattern)
        start = self.workspace / prefix if prefix else self.workspace
        if not os.path.lexists(start):
            return []
        regex = glob_regex(pattern)
        if not start.is_dir() or start.is_symlink():
            return [prefix] if regex.fullmatch(prefix) or prefix == pattern else []
        out = []
        if regex.fullmatch(prefix) or prefix == pattern.rstrip("/"):
            out.append(prefix)  # a protected folder: its deletion is a change too
        for folder, dirs, files in os.walk(start):
            rel_folder = Path(folder).relative_to(self.workspace).as_posix()
            rel_folder = "" if rel_folder == "." else rel_folder
            if not prefix:
                dirs[:] = [d for d in dirs if d not in _NOT_WALKED]
            for name in sorted(dirs + files):
                rel = f"{rel_folder}/{name}" if rel_folder else name
                if self.matches_one(regex, rel):
                    out.append(rel)
        return out

    @staticmethod
    def matches_one(regex: re.Pattern[str], rel: str) -> bool:
        parts = rel.split("/")
        return any(regex.fullmatch("/".join(parts[: n + 1])) for n in range(len(parts)))


def _state(path: Path, *, keep: bool) -> FileState | None:
    try:
        info = os.lstat(path)
        if stat.S_ISLNK(info.st_mode):
            target = os.readlink(path).encode()
            return FileState("link", 0, hashlib.sha256(target).hexdigest(), target)
        if stat.S_ISDIR(info.st_mode):
            return FileState("dir", 0, "")
        if not stat.S_ISREG(info.st_mode):
            return FileState("other", stat.S_IFMT(info.st_mode), "")
        data = path.read_bytes()
    except OSError:
        return None
    mode = stat.S_IMODE(info.st_mode)
    return FileState("file", mode, hashlib.sha256(data).hexdigest(), data if keep else None)


def _table(keys: tuple[str, ...], state: FileState | None) -> object:
    """A file's protected TOML table (None: no file or no table; unreadable TOML: its hash)."""
    if state is None:
        return None
    if state.kind != "file" or state.data is None:
        return state.digest
    try:
        value: object = tomllib.loads(state.data.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError):
        return state.digest
    for key in keys:
        value = value.get(key) if isinstance(value, dict) else None
    return value


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    elif os.path.lexists(path):
        path.unlink()


def _make_parents_real(workspace: Path, rel: str) -> None:
    """Folders on the way to ``rel`` that became symlinks (or files) become folders again."""
    current = workspace
    for part in Path(rel).parts[:-1]:
        current = current / part
        if current.is_symlink() or (os.path.lexists(current) and not current.is_dir()):
            current.unlink()
        if not current.exists():
            current.mkdir()


def tamper_evidence(
    start: dict[str, FileState], now: dict[str, FileState], changes: list[Change]
) -> str:
    """A unified diff of the changes (text files), clipped."""
    parts: list[str] = []
    for change in changes:
        before = start.get(change.path)
        after = now.get(change.path)
        old = _text(before)
        new = _text(after)
        if old is None or new is None:
            parts.append(f"{change.what}: {change.path} (not text)")
            continue
        parts.extend(
            difflib.unified_diff(
                old.splitlines(keepends=True),
                new.splitlines(keepends=True),
                f"a/{change.path}",
                f"b/{change.path}",
            )
        )
    text = "".join(p if p.endswith("\n") else p + "\n" for p in parts)
    if len(text) > _DIFF_CHARS:
        text = text[:_DIFF_CHARS] + f"\n[... diff clipped at {_DIFF_CHARS:,} characters]\n"
    return text


def _text(state: FileState | None) -> str | None:
    if state is None or state.kind == "dir":
        return ""
    if state.data is None or state.kind != "file":
        return None
    try:
        return state.data.decode("utf-8")
    except UnicodeDecodeError:
        return None
