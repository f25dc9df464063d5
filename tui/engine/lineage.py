"""A run's lineage: the runs its work went through, each cut where the next one forked.

A fork branch starts from its source's checkpoint of iteration K in a
workspace of its own, so its own checkpoints hold only what it did after K.
Its work as the user sees it is the source's iterations up to K (and, when
the source is itself a branch, that source's, and so on), then the branch's.
A run that adopted a branch goes on in it: its iterations up to the fork
point, then the adopted branch's (and whatever that branch adopted).

:func:`lineage` returns those pieces in order, each with the checkpoints it
contributes, so that ``land`` can write them as one history.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from tui.engine.checkpoints import CheckpointError, CheckpointInfo, Checkpoints
from tui.engine.fork import FORK_FILE, Branch, ForkError
from tui.engine.fork_compare import adoption_of
from tui.engine.record import RecordError, RunRecord, load_record
from tui.engine.shadow import ShadowError
from tui.errors import UserError

# Forks of forks of forks: deep enough for any real use, short of a loop in the records.
MAX_DEPTH = 32


class LineageError(UserError):
    """A run's lineage cannot be followed (one sentence)."""


@dataclass
class Segment:
    """One run's share of a lineage: its checkpoints from ``start`` through ``steps``."""

    record: RunRecord
    start: CheckpointInfo  # the tree the segment starts from
    infos: list[CheckpointInfo]  # its checkpoints after ``start``, oldest first


def lineage(record: RunRecord) -> list[Segment]:
    """The segments whose checkpoints, in order, make the run's work."""
    return _before(record.run_dir, 0) + _onwards(record, 0)


def _before(run_dir: Path, depth: int) -> list[Segment]:
    """What came before a branch's start: its source's lineage up to the fork point."""
    if not (run_dir / FORK_FILE).is_file():
        return []
    _guard(depth, run_dir)
    try:
        branch = Branch.load(run_dir)
    except ForkError as exc:
        raise LineageError(str(exc)) from None
    source_dir = Path(branch.source)
    try:
        source = load_record(source_dir)
    except RecordError as exc:
        raise LineageError(
            f"branch {run_dir.name} started from run {source_dir.name}, "
            f"which cannot be read ({exc}); its work before the fork cannot be landed"
        ) from None
    return _before(source_dir, depth + 1) + [_segment(source, upto=branch.iteration)]


def _onwards(record: RunRecord, depth: int) -> list[Segment]:
    """The run's own checkpoints, and the branch it adopted from where it forked."""
    _guard(depth, record.run_dir)
    adopted = adoption_of(record.run_dir)
    if adopted is None:
        return [_segment(record)]
    try:
        branch = load_record(adopted.path)
    except RecordError as exc:
        raise LineageError(
            f"run {record.run_id} adopted branch {adopted.run_id}, which cannot be read ({exc})"
        ) from None
    return [_segment(record, upto=adopted.iteration)] + _onwards(branch, depth + 1)


def _segment(record: RunRecord, upto: int | None = None) -> Segment:
    """The run's checkpoints from its start, through iteration ``upto`` when given.

    The cut is the checkpoint a fork from ``upto`` starts from (see
    ``fork._checkpoint_tree``): the latest of that iteration's agent part, or
    the start for 0.
    """
    try:
        infos = Checkpoints.open_readonly(record.run_dir).log()
    except (CheckpointError, ShadowError) as exc:
        raise LineageError(str(exc)) from None
    start = next((i for i in infos if i.kind == "start"), infos[0] if infos else None)
    if start is None:
        raise LineageError(f"run {record.run_id} has no checkpoints")
    first = infos.index(start)
    if upto is None:
        return Segment(record, start, infos[first + 1 :])
    kind = "start" if upto == 0 else "agent"
    cut = next(
        (
            n
            for n in range(len(infos) - 1, -1, -1)
            if (infos[n].iteration, infos[n].kind) == (upto, kind)
        ),
        None,
    )
    if cut is None:
        raise LineageError(f"run {record.run_id} has no checkpoint of iteration {upto}")
    return Segment(record, start, infos[first + 1 : cut + 1])


def _guard(depth: int, run_dir: Path) -> None:
    if depth > MAX_DEPTH:
        raise LineageError(
            f"the forks behind {run_dir.name} go deeper than {MAX_DEPTH} runs; "
            "their records may name each other in a loop"
        )
