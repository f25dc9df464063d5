"""A fork group as the console compares it: each branch's state, the adoption, diffs across.

:mod:`tui.engine.fork` makes, runs and ranks branches; this module reads a
group back for a view that refreshes while the branches run: where each
branch stands (waiting, running, done, adopted, discarded), which branch a
source run continued in, and the checkpoints to diff a branch against the
fork point or against another branch (whose objects live in its own shadow
repository).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

import pygit2

from tui.engine.checkpoints import CheckpointError, Checkpoints
from tui.engine.fork import (
    FORK_FILE,
    Branch,
    BranchResult,
    ForkError,
    branches_of,
    fork_groups,
    group_results,
)
from tui.engine.protocol import read_engine_info
from tui.engine.record import RecordError, load_record
from tui.engine.shadow import SHADOW_DIR, ShadowError, open_shadow_readonly


def find_group(run_dir: Path, number: int | None = None) -> list[Branch]:
    """The branches of a fork group, named by a branch folder or by the source and ``number``.

    A source run with no ``number`` gives its newest fork. Raises ForkError
    (one sentence) when there is no such group.
    """
    if (run_dir / FORK_FILE).is_file() and number is None:
        return branches_of(run_dir)
    if not (run_dir / "journal.jsonl").is_file():
        raise ForkError(f"{run_dir} is not a run folder: it has no journal.jsonl")
    forks = forks_of(run_dir)
    if not forks:
        raise ForkError(f"run {run_dir.name} has no forks; fork it first (loopconsole fork)")
    if number is None:
        return forks[-1]
    for group in forks:
        if group[0].group.endswith(f"-fork{number}"):
            return group
    raise ForkError(f"run {run_dir.name} has no fork {number} (it has {len(forks)})")


def forks_of(source: Path) -> list[list[Branch]]:
    """Every fork group of a source run, oldest first."""
    groups = [g for g in fork_groups(source) if g and Path(g[0].source) == source]
    return sorted(groups, key=lambda g: int(g[0].group.rsplit("-fork", 1)[1]))


def branch_status(result: BranchResult) -> str:
    """waiting | running | done | stopped | adopted | discarded | failed (in the fork's words)."""
    if result.branch.status in ("adopted", "discarded"):
        return result.branch.status
    if result.error and result.record is None:
        return "waiting" if not (result.branch.path / "journal.jsonl").exists() else "failed"
    if read_engine_info(result.branch.path) is not None:
        return "running"
    if result.record is not None and result.record.finished is not None:
        return "done"
    return "stopped"


@dataclass
class GroupView:
    """One look at a fork group: its branches' results and statuses."""

    source: Path
    iteration: int
    group: str
    results: list[BranchResult]
    statuses: dict[str, str]  # run id -> branch_status

    @property
    def running(self) -> bool:
        return any(s in ("waiting", "running") for s in self.statuses.values())


#: A journal's size and modification time: unchanged, its record is read again from the cache.
JournalStamp = tuple[int, int]
RecordCache = dict[Path, tuple[JournalStamp, BranchResult]]


def look(branches: list[Branch], cache: RecordCache | None = None) -> GroupView:
    """Read every branch's journal and state now (call from a worker thread).

    With ``cache``, a journal that has not changed since the last look is not
    read again (a finished branch's record never changes).
    """
    fresh = [Branch.load(b.path) for b in branches]  # adopted/discarded since
    results = []
    for branch in fresh:
        stamp = _stamp(branch.path / "journal.jsonl")
        kept = cache.get(branch.path) if cache is not None else None
        if kept is not None and stamp is not None and kept[0] == stamp:
            result = replace(kept[1], branch=branch)
        else:
            result = group_results([branch])[0]
            if cache is not None and stamp is not None:
                cache[branch.path] = (stamp, result)
        results.append(result)
    first = fresh[0]
    return GroupView(
        source=Path(first.source),
        iteration=first.iteration,
        group=first.group,
        results=results,
        statuses={r.branch.run_id: branch_status(r) for r in results},
    )


def _stamp(journal: Path) -> JournalStamp | None:
    try:
        info = journal.stat()
    except OSError:
        return None
    return (info.st_size, info.st_mtime_ns)


def adoption_of(run_dir: Path) -> Branch | None:
    """The branch a source run continued in (adopted), or None."""
    try:
        groups = fork_groups(run_dir)
    except ForkError:
        return None
    for group in reversed(groups):
        for branch in group:
            if branch.status == "adopted" and Path(branch.source) == run_dir:
                return branch
    return None


def next_step(branch: Branch) -> str:
    """What to do with an adopted branch, in words: land it when it met the goal, else resume."""
    try:
        met = load_record(branch.path).outcome == "goal_met"
    except RecordError:
        met = False
    if met:
        return f"it met the goal; land it with: loopconsole land {branch.run_id}"
    return f"go on with: loopconsole resume {branch.run_id}"


def has_forks(run_dir: Path) -> bool:
    """Whether a run was forked (cheap: one glob)."""
    return any(run_dir.parent.glob(f"{run_dir.name}-fork*-1/{FORK_FILE}"))


# -- diffs ---------------------------------------------------------------------


def fork_point(branch: Branch) -> str | None:
    """The branch's start checkpoint: the workspace as the fork point left it."""
    try:
        with Checkpoints.open_readonly(branch.path) as checkpoints:
            info = checkpoints.find(0, "start")
    except (CheckpointError, ShadowError):
        return None
    return info.commit if info else None


def newest(branch: Branch) -> str | None:
    """The branch's newest checkpoint (its work so far), or None before its first."""
    try:
        with Checkpoints.open_readonly(branch.path) as checkpoints:
            head = checkpoints.head()
    except (CheckpointError, ShadowError):
        return None
    return head.commit if head else None


def open_pair(branch: Path, other: Path) -> Checkpoints:
    """``branch``'s checkpoints, able to read ``other``'s too (to diff the two branches).

    Read-only: the other's objects are added in memory as an alternate,
    nothing is written to either repository.
    """
    try:
        repo = open_shadow_readonly(branch)
        repo.odb.add_disk_alternate(str(Path(other) / SHADOW_DIR / "objects"))
    except (ShadowError, pygit2.GitError) as exc:
        raise CheckpointError(str(exc)) from None
    return Checkpoints(repo, Path(branch), [])
