"""The low-level side of checkpoints: the shadow repository's files and the workspace scan.

Kept apart from :mod:`tui.engine.checkpoints` (which knows iterations and
kinds) because these are the parts that touch the file system directly:
creating and configuring ``checkpoints.git``, recovering the locks a crash
left, excluding what must never be committed, and staging the workspace.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path

import pygit2
from pygit2.enums import DiffOption, FileMode, RepositoryOpenFlag

from tui.engine import large_files
from tui.engine.index_entries import add_with_stat
from tui.engine.large_files import DEFAULT_MAX_FILE_BYTES
from tui.engine.pack_writer import PackWriter

SHADOW_DIR = "checkpoints.git"
# The shadow config key remembering the run's size limit (see size_limit).
LIMIT_KEY = "loopconsole.maxFileBytes"
# From this many changed files on, a scan writes one pack instead of loose objects.
BULK_FILES = 256
PACK_FILES = 25_000

# libgit2's GIT_DIFF_UPDATE_INDEX, which pygit2 does not name: refresh the
# stat data of files that were hashed and found unchanged, so the next scan
# skips them instead of reading them again.
_DIFF_UPDATE_INDEX = 1 << 15
_SCAN = (
    DiffOption.INCLUDE_UNTRACKED
    | DiffOption.RECURSE_UNTRACKED_DIRS
    | DiffOption.INCLUDE_TYPECHANGE
    | DiffOption.IGNORE_SUBMODULES
    | _DIFF_UPDATE_INDEX
)

# Local settings that make a checkpoint a byte-exact copy whatever the user's
# global git configuration says.
_CONFIG = {
    "core.autocrlf": "false",
    "core.safecrlf": "false",
    "core.filemode": "true",
    "core.symlinks": "true",
    "core.ignorecase": "false",
    "gc.auto": "0",
}
# info/attributes outranks the workspace's .gitattributes: no end-of-line
# conversion, no filter drivers, no $Id$ expansion.
_ATTRIBUTES = "* -text -filter -ident\n"
_EXCLUDE_HEAD = "# loopconsole: never checkpointed (rewritten when the run is opened)\n"
_NESTED_MARK = "# nested repositories, found while checkpointing\n"
_LOCKS = ("index.lock", "HEAD.lock", "config.lock", "packed-refs.lock")


class ShadowError(Exception):
    """The shadow repository or the workspace cannot be used (one sentence)."""


def open_shadow(
    run_dir: Path, workspace: Path, branch: str
) -> tuple[pygit2.Repository, Path, list[str]]:
    """Create or reopen ``<run_dir>/checkpoints.git`` with ``workspace`` as its work tree.

    Returns the repository, the resolved workspace and the stale lock files
    that were removed. The work tree is set in memory only: the repository
    stays bare on disk and nothing is written into the workspace.
    """
    workspace = workspace.resolve()
    if not workspace.is_dir():
        raise ShadowError(f"the workspace {workspace} is not a directory")
    gitdir = run_dir.resolve() / SHADOW_DIR
    recovered = recover_locks(gitdir)
    try:
        if (gitdir / "HEAD").is_file():
            repo = pygit2.Repository(str(gitdir), RepositoryOpenFlag.NO_SEARCH)
        else:
            repo = pygit2.init_repository(str(gitdir), bare=True, initial_head=branch)
        _configure(repo, workspace)
        repo.workdir = str(workspace)
    except pygit2.GitError as exc:
        raise ShadowError(f"cannot open the checkpoint repository {gitdir}: {exc}") from None
    _write_info(gitdir, workspace, run_dir.resolve())
    return repo, workspace, recovered


def open_shadow_readonly(run_dir: Path) -> pygit2.Repository:
    """Open ``<run_dir>/checkpoints.git`` to read it, writing nothing.

    No config, no info files, no lock recovery: a live run may hold a lock
    right now, and a replay must leave the run as it found it.
    """
    gitdir = Path(run_dir) / SHADOW_DIR
    if not (gitdir / "HEAD").is_file():
        raise ShadowError(f"this run has no checkpoints ({gitdir} is missing)")
    try:
        return pygit2.Repository(str(gitdir), RepositoryOpenFlag.NO_SEARCH)
    except pygit2.GitError as exc:
        raise ShadowError(f"cannot open the checkpoints in {gitdir}: {exc}") from None


def recover_locks(gitdir: Path) -> list[str]:
    """Remove the lock files a killed process left behind; return their names.

    Only this run's engine writes to its shadow repository and it holds a lock
    for milliseconds, so a lock found when the repository is opened is stale.
    """
    if not gitdir.is_dir():
        return []
    found = [gitdir / name for name in _LOCKS]
    refs = gitdir / "refs"
    if refs.is_dir():
        found += list(refs.rglob("*.lock"))
    removed = []
    for lock in found:
        try:
            lock.unlink()
        except FileNotFoundError:
            continue
        removed.append(str(lock.relative_to(gitdir)))
    return removed


def _configure(repo: pygit2.Repository, workspace: Path) -> None:
    config = repo.config
    wanted = {**_CONFIG, "loopconsole.workspace": str(workspace)}
    for key, value in wanted.items():
        if config_value(config, key) != value:  # write only on change: each write rewrites the file
            config[key] = value


def size_limit(repo: pygit2.Repository, wanted: int | None) -> int:
    """The run's size limit: ``wanted`` (remembered in the shadow config), else the stored one."""
    config = repo.config
    if wanted is not None:
        if config_value(config, LIMIT_KEY) != str(wanted):
            config[LIMIT_KEY] = str(wanted)
        return wanted
    try:
        return int(str(config[LIMIT_KEY]))
    except (KeyError, ValueError):
        return DEFAULT_MAX_FILE_BYTES


def config_value(config: pygit2.Config, key: str) -> str | None:
    """``key``'s value in ``config``, or None when it is not set."""
    try:
        return config[key]
    except KeyError:
        return None


def _pattern(rel: str) -> str:
    """An anchored gitignore pattern matching exactly the folder ``rel``."""
    out = []
    for ch in rel:
        out.append("\\" + ch if ch in "*?[]\\!# " else ch)
    return "/" + "".join(out) + "/\n"


def _read_nested(exclude: Path) -> list[str]:
    try:
        text = exclude.read_text()
    except FileNotFoundError:
        return []
    _, mark, tail = text.partition(_NESTED_MARK)
    return [line for line in tail.splitlines(keepends=True) if line.strip()] if mark else []


def _write_info(gitdir: Path, workspace: Path, run_dir: Path) -> None:
    info = gitdir / "info"
    info.mkdir(exist_ok=True)
    (info / "attributes").write_text(_ATTRIBUTES)
    exclude = info / "exclude"
    # .loopconsole-restore-*: temporary files of a restore that was killed.
    # Bytecode records its source's timestamp: left in, going back to the
    # same code would give a different tree and hide an oscillation.
    lines = [
        _EXCLUDE_HEAD,
        ".loopconsole/\n",
        ".loopconsole-restore-*\n",
        "__pycache__/\n",
        "*.py[co]\n",
    ]
    if run_dir != workspace and run_dir.is_relative_to(workspace):
        lines.append(_pattern(run_dir.relative_to(workspace).as_posix()))
    lines += [_NESTED_MARK, *_read_nested(exclude)]
    exclude.write_text("".join(lines))


def _exclude_nested(repo: pygit2.Repository, folders: list[str]) -> None:
    exclude = Path(repo.path) / "info" / "exclude"
    known = set(_read_nested(exclude))
    new = [p for p in (_pattern(f) for f in folders if "\n" not in f) if p not in known]
    if new:
        with open(exclude, "a") as f:
            f.writelines(new)


@dataclass(frozen=True)
class Scan:
    """What staging the workspace found besides the files it added."""

    skipped: tuple[str, ...] = ()  # could not be read: they keep their previous content
    large: tuple[tuple[str, int], ...] = ()  # (path, size) recorded by size and hash only
    changed: int = 0  # paths staged or removed


def scan_workspace(
    repo: pygit2.Repository, index: pygit2.Index, max_file_bytes: int = DEFAULT_MAX_FILE_BYTES
) -> Scan:
    """Bring the index in line with the workspace, like ``git add -A``; write it.

    Only files whose stat data changed are read; folders the ignore rules
    exclude are not walked. Nested repositories met on the way are excluded
    from now on. Files over ``max_file_bytes`` get a placeholder (see
    :mod:`tui.engine.large_files`). Many changed files at once (a first
    checkpoint) are written as one pack rather than one loose object each.
    """
    diff = index.diff_to_workdir(_SCAN)
    deleted: list[str] = []
    changed: list[str] = []
    nested: list[str] = []
    for delta in diff.deltas:
        new = delta.new_file
        if delta.status_char() == "D":
            deleted.append(delta.old_file.path)
        elif new.path.endswith("/") or new.mode in (FileMode.TREE, FileMode.COMMIT):
            nested.append(new.path.rstrip("/"))
        else:
            changed.append(new.path)
    # Deletions first: a file replacing a folder (or the reverse) must not
    # collide with the entries it replaces.
    for path in deleted:
        index.remove(path)
    root = os.fsencode(repo.workdir).rstrip(b"/")
    skipped, large = add_files(repo, index, root, changed, max_file_bytes)
    if nested:
        _exclude_nested(repo, nested)
    if deleted or changed:
        index.write()  # unchanged: the file on disk holds the same entries already
    return Scan(tuple(skipped), tuple(large), len(deleted) + len(changed))


def add_files(
    repo: pygit2.Repository, index: pygit2.Index, root: bytes, paths: list[str], limit: int
) -> tuple[list[str], list[tuple[str, int]]]:
    """Hash ``paths`` into the shadow repository and the index (one pack when many).

    Returns the paths that could not be read and the (path, size) of files
    over ``limit``, which get a placeholder.
    """
    skipped: list[str] = []
    large: list[tuple[str, int]] = []
    if len(paths) >= BULK_FILES:
        # One pack per PACK_FILES files: the entries waiting for their pack stay few.
        for start in range(0, len(paths), PACK_FILES):
            _add_bulk(repo, index, root, paths[start : start + PACK_FILES], limit, skipped, large)
        return skipped, large
    for path in paths:
        try:
            _add_one(repo, index, root, path, limit, large)
        except (pygit2.GitError, OSError):
            skipped.append(path)
    return skipped, large


def _add_one(
    repo: pygit2.Repository,
    index: pygit2.Index,
    root: bytes,
    path: str,
    limit: int,
    large: list[tuple[str, int]],
) -> None:
    rel = os.fsencode(path)
    st = os.lstat(os.path.join(root, rel))
    if stat.S_ISREG(st.st_mode) and st.st_size > limit:
        large_files.record(repo, index, root, rel, st, limit)
        large.append((path, st.st_size))
    else:
        index.add(path)


def _add_bulk(
    repo: pygit2.Repository,
    index: pygit2.Index,
    root: bytes,
    paths: list[str],
    limit: int,
    skipped: list[str],
    large: list[tuple[str, int]],
) -> None:
    """Hash many files into one new pack and index them with their stat data."""
    with PackWriter(Path(repo.path) / "objects") as pack:
        staged: list[tuple[bytes, bytes, int, os.stat_result]] = []
        mode: int
        for path in paths:
            rel = os.fsencode(path)
            full = os.path.join(root, rel)
            try:
                st = os.lstat(full)
                if stat.S_ISLNK(st.st_mode):
                    staged.append((rel, pack.add(os.readlink(full)), FileMode.LINK, st))
                elif not stat.S_ISREG(st.st_mode):
                    skipped.append(path)
                elif st.st_size > limit:
                    large_files.record(repo, index, root, rel, st, limit)
                    large.append((path, st.st_size))
                else:
                    with open(full, "rb", buffering=0) as f:
                        data = f.readall()
                    mode = FileMode.BLOB_EXECUTABLE if st.st_mode & stat.S_IXUSR else FileMode.BLOB
                    staged.append((rel, pack.add(data), mode, st))
            except OSError:
                skipped.append(path)
        pack.finish()  # before the entries: the index must only name objects that exist
    for rel, oid, mode, st in staged:
        add_with_stat(index, rel, oid, int(mode), st)
