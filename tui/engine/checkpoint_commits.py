"""Checkpoints as commits on the shadow branch: writing one, reading one back.

Every checkpoint is a commit on ``refs/heads/checkpoints`` of the shadow
repository, by the ``loopconsole`` identity, whose message ends in trailers
(``Loopconsole-Iteration``, ``-Kind``, ``-Decision``, ``-Restored``). This
module writes such a commit, finds the branch's head or a commit by id, and
reads a commit back as a :class:`~tui.engine.checkpoint_info.CheckpointInfo`.
``loopconsole land`` uses the same identity and message layout.
"""

from __future__ import annotations

import time
from pathlib import Path

import pygit2

from tui.engine.checkpoint_info import CheckpointError, CheckpointInfo
from tui.engine.diffs import DiffStat

IDENTITY = ("loopconsole", "loopconsole@localhost")
BRANCH = "refs/heads/checkpoints"

_ITERATION = "Loopconsole-Iteration"
_KIND = "Loopconsole-Kind"
_DECISION = "Loopconsole-Decision"
_RESTORED = "Loopconsole-Restored"

_SUBJECTS = {
    "start": "the workspace before the first iteration",
    "agent": "the agent's changes",
    "human": "the engineer's changes",
    "rewind": "rewind",
}


def write_checkpoint(
    repo: pygit2.Repository,
    head: pygit2.Commit | None,
    iteration: int,
    kind: str,
    tree: pygit2.Oid,
    notes: list[str],
    *,
    subject: str = "",
    decision: str = "",
    restored: str | None = None,
) -> pygit2.Commit:
    """Commit ``tree`` on the branch after ``head``; ``notes`` become the body (blanks dropped).

    ``subject`` defaults to the kind's ("Iteration 3: the agent's changes").
    """
    body = "\n\n".join(n.strip() for n in notes if n.strip())
    trailers = [(_ITERATION, str(iteration)), (_KIND, kind)]
    if decision:
        trailers.append((_DECISION, decision))
    if restored:
        trailers.append((_RESTORED, restored))
    text = compose_message(subject or f"Iteration {iteration}: {_SUBJECTS[kind]}", body, trailers)
    sig = pygit2.Signature(*IDENTITY, int(time.time()), 0)
    parents = [head.id] if head is not None else []
    oid = repo.create_commit(BRANCH, sig, sig, text, tree, parents)
    return repo[oid]  # type: ignore[return-value]


def read_info(commit: pygit2.Commit, stat: DiffStat | None = None) -> CheckpointInfo:
    """The checkpoint a commit records, from its trailers (``stat``: against its parent)."""
    trailers = parse_trailers(commit.message)
    parent = commit.parents[0] if commit.parents else None
    return CheckpointInfo(
        commit=str(commit.id),
        tree=str(commit.tree_id),
        parent=str(parent.id) if parent else None,
        iteration=int(trailers.get(_ITERATION, "0") or 0),
        kind=trailers.get(_KIND, ""),
        decision=trailers.get(_DECISION, ""),
        subject=commit.message.split("\n", 1)[0],
        time=commit.commit_time,
        restored=trailers.get(_RESTORED),
        stat=stat,
    )


def branch_head(repo: pygit2.Repository) -> pygit2.Commit | None:
    """The latest checkpoint's commit, or None before the first."""
    try:
        ref = repo.lookup_reference(BRANCH)
        return repo[ref.target]  # type: ignore[return-value]
    except KeyError:
        return None
    except (ValueError, pygit2.GitError) as exc:
        raise CheckpointError(
            f"the checkpoint repository {Path(repo.path)} is damaged ({exc}); "
            "its branch does not name a checkpoint"
        ) from None


def find_commit(repo: pygit2.Repository, rev: str) -> pygit2.Commit:
    """The checkpoint commit ``rev`` names (a unique prefix will do)."""
    try:
        obj = repo.revparse_single(rev)
        commit = obj.peel(pygit2.Commit)
    except (KeyError, ValueError, pygit2.GitError):
        raise CheckpointError(f"no checkpoint {rev!r} in {Path(repo.path)}") from None
    return commit


def compose_message(subject: str, body: str, trailers: list[tuple[str, str]]) -> str:
    """A commit message: subject, optional body, then the trailers paragraph."""
    parts = [subject.strip().splitlines()[0] if subject.strip() else "checkpoint"]
    if body.strip():
        parts.append(body.strip())
    parts.append("\n".join(f"{k}: {' '.join(v.split())}" for k, v in trailers))
    return "\n\n".join(parts) + "\n"


def parse_trailers(message: str) -> dict[str, str]:
    """The ``Key: value`` lines of a message's last paragraph."""
    last = message.strip().rsplit("\n\n", 1)[-1]
    out: dict[str, str] = {}
    for line in last.splitlines():
        key, sep, value = line.partition(": ")
        if sep and key and " " not in key:
            out[key] = value.strip()
    return out
