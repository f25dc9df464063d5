"""Land a run: its checkpoints as commits on a new branch of the user's own repository.

The branch starts at the user's HEAD. Each landed commit is HEAD's tree with
what the run changed in the workspace (checkpoint against the run's start)
put in at the workspace's place in the repository, so the branch carries the
run's changes and nothing else, even when the user had uncommitted work when
the run started. One commit per checkpoint that changed something (the
agent's iterations, the engineer's take-overs, rewinds), or one with
``squash``; each message ends in trailers: run, iteration, validators, cost.

What is written into the user's repository: the blobs and trees the commits
need, the commits, and the one new branch. Never the checked-out branch,
HEAD, the index, the work tree, the config or any existing ref.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pygit2
from pygit2.enums import FileMode

from tui.engine.checkpoints import (
    IDENTITY,
    CheckpointInfo,
    compose_message,
)
from tui.engine.large_files import is_placeholder
from tui.engine.lineage import LineageError, lineage
from tui.engine.record import IterationRecord, RunRecord
from tui.engine.shadow import ShadowError, open_shadow_readonly
from tui.errors import UserError


class LandError(UserError):
    """The run cannot be landed (one sentence, exit 2)."""


@dataclass
class LandResult:
    """What ``land`` wrote."""

    repo: Path  # the repository's work tree (or git dir when bare)
    branch: str
    base: str | None  # the commit the branch starts from (the user's HEAD)
    commits: list[str] = field(default_factory=list)  # oldest first
    prefix: str = ""  # where the workspace lies in the repository
    files: int = 0  # files the branch changes against its base
    moved: list[str] = field(default_factory=list)  # paths HEAD changed since the run began
    large: list[str] = field(default_factory=list)  # over the size limit: never stored, not landed


def default_branch(record: RunRecord) -> str:
    return f"loopconsole/{record.run_id}"


def land(
    record: RunRecord,
    *,
    branch: str | None = None,
    repo_path: Path | None = None,
    squash: bool = False,
) -> LandResult:
    """Write the run's checkpoints as a new branch; raise LandError on a refusal."""
    try:
        segments = lineage(record)
    except LineageError as exc:
        raise LandError(str(exc)) from None
    repo, prefix = _open_user_repo(segments[0].record, repo_path)
    name = branch or default_branch(record)
    ref = f"refs/heads/{name}"
    if not pygit2.reference_is_valid_name(ref):
        raise LandError(f"{name!r} is not a valid branch name; choose another with --branch")
    if ref in repo.references:
        raise LandError(f"branch {name!r} already exists in {_where(repo)}; choose another name")
    try:
        shadows = [open_shadow_readonly(seg.record.run_dir) for seg in segments]
    except ShadowError as exc:
        raise LandError(str(exc)) from None
    plan = [
        (seg, shadow, _steps(seg.infos, seg.start.tree))
        for seg, shadow in zip(segments, shadows, strict=True)
    ]
    if not any(steps for _, _, steps in plan):
        raise LandError(f"run {record.run_id} changed nothing in its workspace; nothing to land")

    base = None if repo.head_is_unborn else repo.head.peel(pygit2.Commit)
    result = LandResult(repo=_where(repo), branch=name, base=str(base.id) if base else None)
    result.prefix = prefix
    index = pygit2.Index()
    if base is not None:
        index.read_tree(base.tree)
    parent = base
    changed: set[str] = set()
    for seg, shadow, steps in plan:
        start_tree = shadow[seg.start.tree]
        previous = start_tree
        by_iteration = {it.iteration: it for it in seg.record.iterations}
        for info in steps:
            tree = shadow[info.tree]
            _apply(shadow, repo, index, previous, tree, prefix, result.large)
            previous = tree
            if squash:
                continue
            message = _message(seg.record, info, by_iteration.get(info.iteration))
            parent = _commit(repo, index, message, parent)
            result.commits.append(str(parent.id))
        changed.update(_changed_paths(shadow, start_tree, previous))
    if squash:
        parent = _commit(repo, index, _squash_message(record), parent)
        result.commits.append(str(parent.id))
    assert parent is not None
    repo.references.create(ref, parent.id)
    result.files = len(changed)
    if base is not None:
        # Paths HEAD changed since the run began: the branch carries the run's version.
        first = shadows[0][segments[0].start.tree]
        result.moved = [
            p
            for p in sorted(changed)
            if _entry(base.tree, _join(prefix, p)) != _entry(first, p)  # type: ignore[arg-type]
        ]
    return result


def _commit(
    repo: pygit2.Repository, index: pygit2.Index, message: str, parent: pygit2.Commit | None
) -> pygit2.Commit:
    """One commit of the index's tree on ``parent``; no reference moves."""
    sig = _signature(repo)
    oid = repo.create_commit(
        None, sig, sig, message, index.write_tree(repo), [parent.id] if parent else []
    )
    return repo[oid]  # type: ignore[return-value]


def _steps(infos: list[CheckpointInfo], start_tree: str) -> list[CheckpointInfo]:
    """The checkpoints that changed the workspace, in order."""
    out: list[CheckpointInfo] = []
    tree = start_tree
    for info in infos:
        if info.tree != tree:
            out.append(info)
            tree = info.tree
    return out


def _open_user_repo(record: RunRecord, repo_path: Path | None) -> tuple[pygit2.Repository, str]:
    workspace = record.original_workspace()
    where = repo_path or workspace
    found = pygit2.discover_repository(str(where))
    if found is None:
        if repo_path is not None:
            raise LandError(f"{repo_path} is not a git repository")
        raise LandError(
            f"the workspace {workspace} is not inside a git repository; "
            "pass --repo with the repository to land in"
        )
    repo = pygit2.Repository(found)
    if repo.is_bare or repo.workdir is None:
        raise LandError(f"{found} is a bare repository; land into a repository with a work tree")
    workdir = Path(repo.workdir).resolve()
    try:
        prefix = workspace.resolve().relative_to(workdir).as_posix()
    except ValueError:
        prefix = ""  # --repo names another repository: the workspace lands at its root
    return repo, "" if prefix == "." else prefix


def _where(repo: pygit2.Repository) -> Path:
    return Path(repo.workdir or repo.path)


def _join(prefix: str, path: str) -> str:
    return f"{prefix}/{path}" if prefix else path


def _apply(
    shadow: pygit2.Repository,
    repo: pygit2.Repository,
    index: pygit2.Index,
    old: pygit2.Object,
    new: pygit2.Object,
    prefix: str,
    large: list[str],
) -> None:
    """Put the change from ``old`` to ``new`` (shadow trees) into ``index`` under ``prefix``.

    A file over the checkpoint size limit was recorded by size and hash only:
    its content cannot be landed, so its path is left as HEAD has it and
    named in ``large``.
    """
    diff = shadow.diff(old, new)  # type: ignore[call-overload]
    for delta in diff.deltas:
        new_file = delta.new_file
        stored = delta.status_char() != "D" and new_file.mode != FileMode.COMMIT
        if stored and is_placeholder(shadow, new_file.id):
            if new_file.path not in large:
                large.append(new_file.path)
            continue
        if delta.status_char() in ("D", "R"):
            _remove(index, _join(prefix, delta.old_file.path))
        if delta.status_char() == "D":
            continue
        if new_file.mode != FileMode.COMMIT and new_file.id not in repo:
            repo.odb.write(pygit2.enums.ObjectType.BLOB, shadow[new_file.id].read_raw())
        index.add(pygit2.IndexEntry(_join(prefix, new_file.path), new_file.id, new_file.mode))


def _remove(index: pygit2.Index, path: str) -> None:
    # HEAD may no longer have the file the run deleted: then there is nothing to remove.
    if path in index:
        index.remove(path)


def _changed_paths(shadow: pygit2.Repository, old: pygit2.Object, new: pygit2.Object) -> list[str]:
    paths = set()
    for delta in shadow.diff(old, new).deltas:  # type: ignore[call-overload]
        paths.add(delta.old_file.path)
        paths.add(delta.new_file.path)
    return sorted(paths)


def _entry(tree: pygit2.Tree, path: str) -> tuple[str, int] | None:
    try:
        obj = tree[path]
    except KeyError:
        return None
    return str(obj.id), int(obj.filemode)


def _signature(repo: pygit2.Repository) -> pygit2.Signature:
    """The user's identity from their git config when set, else loopconsole's."""
    try:
        return repo.default_signature
    except (KeyError, pygit2.GitError):
        return pygit2.Signature(*IDENTITY)


def _message(record: RunRecord, info: CheckpointInfo, it: IterationRecord | None) -> str:
    n = info.iteration
    name = record.started.name
    if info.kind == "human":
        subject = f"{name}, iteration {n}: the engineer's changes"
    elif info.kind == "rewind":
        subject = f"{name}, iteration {n}: {info.subject or 'rewind'}"
    elif it is not None and it.outcome == "goal_met":
        subject = f"{name}, iteration {n}: goal met"
    else:
        subject = f"{name}, iteration {n}: the agent's changes"
    trailers = [("Loopconsole-Run", record.run_id), ("Loopconsole-Iteration", str(n))]
    body = ""
    if it is not None and info.kind == "agent":
        body = it.reason
        trailers.append(("Loopconsole-Validators", it.validators_line()))
        trailers.append(("Loopconsole-Cost", f"${it.cost_usd:.4f} ({it.tokens:,} tokens)"))
    return compose_message(subject, body, trailers)


def _squash_message(record: RunRecord) -> str:
    last = record.iterations[-1] if record.iterations else None
    outcome = record.outcome.replace("_", " ")
    subject = f"{record.started.name}: {outcome} in {len(record.iterations)} iterations"
    trailers = [
        ("Loopconsole-Run", record.run_id),
        ("Loopconsole-Iterations", str(len(record.iterations))),
    ]
    if last is not None:
        trailers.append(("Loopconsole-Validators", last.validators_line()))
    trailers.append(("Loopconsole-Cost", f"${record.cost_usd:.4f} ({record.tokens:,} tokens)"))
    return compose_message(subject, record.goal, trailers)
