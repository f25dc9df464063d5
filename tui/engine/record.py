"""A run's record: what happened in each iteration, read back from its journal.

``land`` (commit messages and the pull-request summary) and ``report`` (the
HTML and Markdown post-mortem) tell the same story, so they read it here,
once: per iteration the decision, the validators' results, the spend and the
signals, and what the human did (hints, goal edits, take-overs, rewinds).
A crashed run reads fine: the record simply ends where the journal does.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from tui.engine.journal import iter_journal
from tui.errors import UserError
from tui.events import (
    BudgetUpdated,
    Checkpointed,
    ControlApplied,
    Decided,
    Event,
    GoalChanged,
    HintAdded,
    InstructionSet,
    IterationReceipt,
    IterationStarted,
    RunFinished,
    RunStarted,
    SignalRaised,
    SignalRecovered,
    ValidatorFinished,
    ValidatorResult,
)


class RecordError(UserError):
    """The run folder holds no readable run (one sentence)."""


@dataclass
class IterationRecord:
    """One iteration as the journal tells it (the latest attempt, after a resume)."""

    iteration: int
    action: str = ""
    outcome: str | None = None
    reason: str = ""
    passing: int = 0
    total: int = 0
    validators: list[ValidatorResult] = field(default_factory=list)
    signals: list[SignalRaised] = field(default_factory=list)
    human: list[str] = field(default_factory=list)  # what the engineer did, in words
    tokens: int = 0  # this iteration's
    cost_usd: float = 0.0  # this iteration's
    cost_total_usd: float = 0.0  # the run's, as of this iteration
    tokens_by_kind: dict[str, int] = field(default_factory=dict)  # this iteration's
    checkpoint: str | None = None  # the iteration's agent checkpoint
    # What the agent part spent, retries' share and sources included (None in older journals).
    receipt: IterationReceipt | None = None
    files_changed: int = 0
    insertions: int = 0
    deletions: int = 0

    def validators_line(self) -> str:
        """One line: each validator's name and result (``tests ✗ 2 failed, 5 passed``)."""
        return "; ".join(validator_words(v) for v in self.validators) or "no validators ran"


def validator_words(v: ValidatorResult) -> str:
    """A validator's result in a few words."""
    mark = "passed" if v.passed else ("timed out" if v.timed_out else "failed")
    counts = []
    if v.tests_failed:
        counts.append(f"{v.tests_failed} failed")
    if v.tests_errors:
        counts.append(f"{v.tests_errors} errors")
    if v.tests_passed is not None:
        counts.append(f"{v.tests_passed} passed")
    detail = f" ({', '.join(counts)})" if counts else ""
    optional = "" if v.required else " [optional]"
    return f"{v.name} {mark}{detail}{optional}"


@dataclass
class RunRecord:
    """A whole run: its start, every iteration, its end (None while live or crashed)."""

    run_dir: Path
    started: RunStarted
    iterations: list[IterationRecord]
    finished: RunFinished | None
    goal: str  # the goal as it stands at the end (the human may have edited it)
    warnings: list[str]

    @property
    def run_id(self) -> str:
        return self.started.run_id or self.run_dir.name

    @property
    def outcome(self) -> str:
        return self.finished.outcome if self.finished else "crashed or still running"

    @property
    def cost_usd(self) -> float:
        if self.finished is not None:
            return self.finished.budget.cost_usd
        return self.iterations[-1].cost_total_usd if self.iterations else 0.0

    @property
    def tokens(self) -> int:
        if self.finished is not None:
            return self.finished.budget.usage.total
        return sum(it.tokens for it in self.iterations)

    @property
    def wall_s(self) -> float:
        return self.finished.budget.wall_s if self.finished is not None else 0.0

    def signals(self) -> list[SignalRaised]:
        return [s for it in self.iterations for s in it.signals]

    def retries(self) -> tuple[int, float]:
        """Retried attempts over the run, and what they cost (from the receipts)."""
        receipts = [it.receipt for it in self.iterations if it.receipt is not None]
        return sum(r.retries for r in receipts), sum(r.retried_cost_usd for r in receipts)

    def interventions(self) -> list[tuple[int, str]]:
        return [(it.iteration, h) for it in self.iterations for h in it.human]

    def original_workspace(self) -> Path:
        """The workspace the spec names (not the run's copy): where the user's repository is."""
        spec_path = Path(self.started.spec_path) if self.started.spec_path else None
        try:
            data = tomllib.loads((self.run_dir / "spec.toml").read_text())
        except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError):
            data = {}
        workspace = data.get("workspace")
        if spec_path is not None and isinstance(workspace, str):
            return (spec_path.parent / workspace).resolve()
        return Path(self.started.workspace)


def load_record(run_dir: Path) -> RunRecord:
    """Read a run folder's journal into a record; RecordError when there is none."""
    journal = run_dir / "journal.jsonl"
    if not journal.is_file():
        raise RecordError(f"{run_dir} is not a run folder: it has no journal.jsonl")
    warnings: list[str] = []
    fold = _Fold()
    for event in iter_journal(journal, warnings):
        fold.add(event)
    if fold.started is None:
        raise RecordError(f"{journal} has no run_started event; it is not a loopconsole journal")
    return RunRecord(
        run_dir=run_dir,
        started=fold.started,
        iterations=[fold.rows[n] for n in sorted(fold.rows) if fold.rows[n].action],
        finished=fold.finished,
        goal=fold.goal,
        warnings=warnings,
    )


class _Fold:
    """Folds events into iteration records, one pass."""

    def __init__(self) -> None:
        self.started: RunStarted | None = None
        self.finished: RunFinished | None = None
        self.goal = ""
        self.rows: dict[int, IterationRecord] = {}
        self.spent = (0, 0.0)  # (tokens, cost) before the iteration in progress
        self.last_budget = (0, 0.0)
        self.last_kinds: dict[str, int] = {}
        self.kinds_before: dict[str, int] = {}

    def row(self, n: int) -> IterationRecord:
        if n not in self.rows:
            self.rows[n] = IterationRecord(n)
        return self.rows[n]

    def add(self, e: Event) -> None:  # noqa: C901 - one branch per event type
        n = e.iteration
        if isinstance(e, RunStarted):
            self.started = self.started or e
            self.goal = self.goal or e.goal
            self.finished = None  # resumed: the earlier end was not the end
        elif isinstance(e, RunFinished):
            self.finished = e
        elif isinstance(e, IterationStarted):
            # A resume runs an unfinished iteration again: keep the human's notes only.
            human = self.rows[n].human if n in self.rows else []
            self.rows[n] = IterationRecord(n, human=human)
            self.spent = self.last_budget
            self.kinds_before = dict(self.last_kinds)
            self.goal = e.goal
        elif isinstance(e, BudgetUpdated):
            usage = e.budget.usage
            self.last_budget = (usage.total, e.budget.cost_usd)
            self.last_kinds = {
                "input": usage.input_tokens,
                "output": usage.output_tokens,
                "cache write": usage.cache_write_tokens,
                "cache read": usage.cache_read_tokens,
            }
        elif isinstance(e, ValidatorFinished):
            row = self.row(n)
            row.validators = [v for v in row.validators if v.name != e.result.name]
            row.validators.append(e.result)
        elif isinstance(e, SignalRaised):
            self.row(n).signals.append(e)
        elif isinstance(e, IterationReceipt):
            self.row(n).receipt = e
        elif isinstance(e, Decided):
            row = self.row(n)
            row.action, row.outcome, row.reason = e.action, e.outcome, e.reason
            row.passing, row.total = e.passing_checks, e.total_checks
            row.tokens = self.last_budget[0] - self.spent[0]
            row.cost_usd = self.last_budget[1] - self.spent[1]
            row.cost_total_usd = self.last_budget[1]
            row.tokens_by_kind = {
                kind: n - self.kinds_before.get(kind, 0) for kind, n in self.last_kinds.items()
            }
        elif isinstance(e, Checkpointed):
            self._checkpointed(e)
        elif isinstance(e, HintAdded):
            self.row(n).human.append(f"hint: {e.text}")
        elif isinstance(e, GoalChanged):
            self.goal = e.goal
            self.row(n).human.append("edited the goal")
        elif isinstance(e, InstructionSet):
            self.row(n).human.append(f"drove the agent: {e.text}")
        elif isinstance(e, ControlApplied) and e.control in ("take_over", "stop"):
            detail = f" ({e.detail})" if e.detail else ""
            self.row(n).human.append(e.control.replace("_", " ") + detail)
        elif isinstance(e, SignalRecovered):
            self._recovered(e)

    def _recovered(self, e: SignalRecovered) -> None:
        """A recovery's rewind is the policy's when the policy made it, not the engineer's."""
        human = self.row(e.iteration).human
        rewind = f"rewound to iteration {e.to_iteration}"
        if not e.by_human and rewind in human:
            human.remove(rewind)
        elif e.by_human:
            human.append(f"recovered from the {e.kind.replace('_', ' ')} signal: {e.note}")

    def _checkpointed(self, e: Checkpointed) -> None:
        row = self.row(e.iteration)
        if e.kind == "agent":
            row.checkpoint = e.commit
            row.files_changed, row.insertions, row.deletions = (
                e.files_changed,
                e.insertions,
                e.deletions,
            )
        elif e.kind == "human":
            row.human.append(f"changed {e.files_changed} file(s) by hand")
        elif e.kind == "rewind":
            back = e.restored_iteration
            row.human.append(f"rewound to iteration {back}" if back is not None else "rewound")
