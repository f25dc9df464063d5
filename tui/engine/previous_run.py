"""A new run of a workspace starts from the previous run's shadow index, where that is safe.

A plain folder (not a git repository) has no index of its own, so its first
checkpoint hashes every file. A second run of the same workspace need not:
the previous run's shadow index still holds every file's id and stat data.
The new shadow repository takes a copy of that index (its time kept, for
libgit2's racy-git check) and hard links to every object file of the
previous one, so the scan that follows hashes only what changed since, and
deleting the old run later takes nothing from the new one (a hard link is a
file of its own).

Used only when it is safe: a sibling run folder (same parent) whose shadow
repository records the same workspace path and the same size limit, which
borrows from no other repository (no alternates), on the same file system
(hard links), and only for the first checkpoint of a new run. The index is
copied before the objects are listed, so every object it names is linked.
"""

from __future__ import annotations

import contextlib
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import pygit2
from pygit2.enums import RepositoryOpenFlag

from tui.engine.large_files import DEFAULT_MAX_FILE_BYTES
from tui.engine.shadow import SHADOW_DIR, config_value


@dataclass(frozen=True)
class Reused:
    """What a new run took from the previous run of its workspace."""

    run: str  # the previous run's folder
    entries: int
    objects: int  # object files linked

    def note(self) -> str:
        return (
            f"Started from the index of the previous run of this workspace ({self.run}): "
            f"{self.entries} files known, only changed ones hashed."
        )


def previous_shadow(run_dir: Path, workspace: Path, limit_key: str, limit: int) -> Path | None:
    """The newest sibling run's shadow repository that can be reused, or None."""
    here = run_dir.resolve()
    candidates = []
    try:
        siblings = list(here.parent.iterdir())
    except OSError:
        return None
    for other in siblings:
        gitdir = other / SHADOW_DIR
        if other == here or not (gitdir / "index").is_file():
            continue
        if (gitdir / "objects" / "info" / "alternates").exists():
            continue
        try:
            repo = pygit2.Repository(str(gitdir), RepositoryOpenFlag.NO_SEARCH)
            config = repo.config
            same = config["loopconsole.workspace"] == str(workspace)
            same = same and int(config_value(config, limit_key) or DEFAULT_MAX_FILE_BYTES) == limit
            repo.free()
        except (pygit2.GitError, KeyError, ValueError):
            continue
        if same:
            candidates.append(((gitdir / "index").stat().st_mtime_ns, gitdir))
    return max(candidates)[1] if candidates else None


def reuse(old: Path, new_gitdir: Path, index: pygit2.Index) -> Reused | None:
    """Copy ``old``'s index into ``new_gitdir`` and link its objects; None when not possible."""
    target_index = new_gitdir / "index"
    linked: list[Path] = []
    try:
        shutil.copy2(old / "index", target_index)
        count = 0
        for folder, _dirs, files in os.walk(old / "objects"):
            rel = Path(folder).relative_to(old / "objects")
            if rel.parts[:1] == ("info",):
                continue
            for name in files:
                if name.startswith("tmp_"):
                    continue  # an object or pack still being written: not named by the index
                dest = new_gitdir / "objects" / rel / name
                if dest.exists():
                    continue
                dest.parent.mkdir(parents=True, exist_ok=True)
                os.link(Path(folder) / name, dest)
                linked.append(dest)
                count += 1
        index.read(True)
    except (OSError, pygit2.GitError):
        with contextlib.suppress(OSError):
            target_index.unlink()
        for path in linked:
            with contextlib.suppress(OSError):
                path.unlink()
        index.clear()
        return None
    return Reused(str(old.parent), len(index), count)
