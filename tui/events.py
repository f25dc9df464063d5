"""Events: the one vocabulary between the engine and every view.

Each event is a pydantic model with a ``type`` tag, a timestamp, the run id
and the iteration it belongs to. The journal is the list of events, one JSON
object per line; the console and the headless printer are fed the same
events, live or from a journal.

The producer sets ``run_id`` and ``iteration`` when it publishes, so agents
and validators can build events without knowing either.
"""

from __future__ import annotations

import time
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, TypeAdapter

Outcome = Literal["goal_met", "budget", "stopped", "paused", "interrupted", "error"]
Action = Literal["continue", "stop", "pause"]
# raw: a line no adapter understood; plain: the output of an agent that prints
# plain text (format = "text"), shown verbatim.
TextKind = Literal["text", "thinking", "raw", "plain"]


class Usage(BaseModel):
    """Tokens of one model request (or of a whole run when summed)."""

    input_tokens: int = 0
    output_tokens: int = 0
    cache_write_tokens: int = 0
    cache_read_tokens: int = 0

    @property
    def total(self) -> int:
        return (
            self.input_tokens
            + self.output_tokens
            + self.cache_write_tokens
            + self.cache_read_tokens
        )

    def __add__(self, other: Usage) -> Usage:
        return Usage(
            input_tokens=self.input_tokens + other.input_tokens,
            output_tokens=self.output_tokens + other.output_tokens,
            cache_write_tokens=self.cache_write_tokens + other.cache_write_tokens,
            cache_read_tokens=self.cache_read_tokens + other.cache_read_tokens,
        )


class BudgetState(BaseModel):
    """Where the run stands against its limits."""

    iterations: int = 0
    usage: Usage = Usage()
    cost_usd: float = 0.0
    wall_s: float = 0.0
    max_iterations: int | None = None
    max_tokens: int | None = None
    max_cost_usd: float | None = None
    max_wall_s: float | None = None
    # Where cost_usd came from, in USD: "priced" (API usage at loopconsole's
    # price table), "reported" (an agent CLI said what it cost), "estimated"
    # (a CLI session cut short, worked out from what it streamed), "plan"
    # (what a CLI on a subscription plan reported: not money spent per token).
    cost_sources: dict[str, float] = {}


class ValidatorResult(BaseModel):
    """The structured result of one validator run."""

    name: str
    command: str
    required: bool = True
    passed: bool
    exit_code: int | None = None
    timed_out: bool = False
    duration_s: float = 0.0
    output: str = ""
    output_truncated_bytes: int = 0
    reason: str = ""
    tests_passed: int | None = None
    tests_failed: int | None = None
    tests_errors: int | None = None
    tests_skipped: int | None = None
    failing_ids: list[str] = []

    @property
    def counts(self) -> str:
        """'2 failed, 5 passed' for pytest-like results, '' otherwise."""
        if self.tests_passed is None:
            return ""
        return count_text(
            self.tests_passed,
            self.tests_failed or 0,
            self.tests_errors or 0,
            self.tests_skipped or 0,
        )


def count_text(passed: int, failed: int, errors: int = 0, skipped: int = 0) -> str:
    """Test counts in pytest's own order: '2 failed, 5 passed, 1 skipped, 1 error'."""
    parts = [f"{failed} failed"] if failed else []
    parts.append(f"{passed} passed")
    if skipped:
        parts.append(f"{skipped} skipped")
    if errors:
        parts.append(f"{errors} error{'s' if errors != 1 else ''}")
    return ", ".join(parts)


class _Event(BaseModel):
    ts: float = Field(default_factory=time.time)
    run_id: str = ""
    iteration: int = 0


class RunStarted(_Event):
    type: Literal["run_started"] = "run_started"
    name: str
    goal: str
    spec_path: str
    run_dir: str
    workspace: str
    backend: str
    model: str = ""
    budget: BudgetState = BudgetState()
    validators: list[str] = []
    resumed: bool = False
    # How commands are confined: "bwrap", or "off" (unconfined; the header warns).
    sandbox: str = ""


class IterationStarted(_Event):
    type: Literal["iteration_started"] = "iteration_started"
    goal: str
    prompt: str
    system: str = ""
    notes: str = ""  # the agent's memory notes as they went into the prompt


class AgentText(_Event):
    """Assistant text as it streams; consecutive deltas may be coalesced."""

    type: Literal["agent_text"] = "agent_text"
    text: str
    kind: TextKind = "text"


class AgentTurn(_Event):
    """One model request/response finished, with what it cost."""

    type: Literal["agent_turn"] = "agent_turn"
    turn: int
    stop_reason: str = ""
    model: str = ""
    usage: Usage = Usage()
    cost_usd: float = 0.0
    # Where cost_usd came from (BudgetState.cost_sources); "" in older journals.
    cost_source: str = ""
    # An attempt whose stream broke midway: what it used was paid for all the
    # same. ``retried``: the request was sent again, so this is part of the
    # retries' share of the iteration's spend (IterationReceipt).
    retried: bool = False
    # Requests retried before this one was answered: the SDK's retries of
    # 429/529/5xx (error answers carry no tokens), or the retries of its API an
    # agent CLI reported (their tokens are within ``usage``, not reported apart).
    retries: int = 0


class ToolCall(_Event):
    type: Literal["tool_call"] = "tool_call"
    call_id: str
    name: str
    input: dict[str, Any] = {}


class ToolInputDelta(_Event):
    """Part of a tool call's input as the model writes it (before its ToolCall)."""

    type: Literal["tool_input_delta"] = "tool_input_delta"
    call_id: str
    name: str
    text: str


class ToolResult(_Event):
    type: Literal["tool_result"] = "tool_result"
    call_id: str
    name: str
    output: str
    is_error: bool = False
    exit_code: int | None = None
    interrupted: bool = False


class AgentFinished(_Event):
    """The agent's part of an iteration is over."""

    type: Literal["agent_finished"] = "agent_finished"
    stop: str = "end_turn"
    final_text: str = ""
    claims_done: bool = False
    turns: int = 0
    tool_calls: int = 0


class IterationReceipt(_Event):
    """What an iteration's agent part spent, published when it ends.

    The sum of the iteration's AgentTurn events: ``usage`` and ``cost_usd``
    include the retries' share, which ``retried_usage`` and
    ``retried_cost_usd`` give apart (attempts that broke and were sent again);
    ``retries`` counts those attempts, the SDK's retries of error answers and
    the retries agent CLIs reported.
    ``cost_sources`` says where the dollars came from, as
    BudgetState.cost_sources does. Absent from older journals.
    """

    type: Literal["receipt"] = "receipt"
    turns: int = 0
    usage: Usage = Usage()
    cost_usd: float = 0.0
    cost_sources: dict[str, float] = {}
    retries: int = 0
    retried_usage: Usage = Usage()
    retried_cost_usd: float = 0.0


class ValidatorStarted(_Event):
    type: Literal["validator_started"] = "validator_started"
    name: str
    command: str


class ValidatorOutput(_Event):
    type: Literal["validator_output"] = "validator_output"
    name: str
    text: str


class ValidatorFinished(_Event):
    type: Literal["validator_finished"] = "validator_finished"
    result: ValidatorResult


class BudgetUpdated(_Event):
    type: Literal["budget_updated"] = "budget_updated"
    budget: BudgetState


FileStatus = Literal["added", "deleted", "modified", "renamed", "copied", "typechange"]


class FileStat(BaseModel):
    """One changed file: its path, what happened to it and its +/- line counts."""

    path: str
    status: FileStatus
    insertions: int = 0
    deletions: int = 0
    binary: bool = False
    old_path: str | None = None  # renames and copies

    def describe(self) -> str:
        """'modified fizzbuzz.py (+2 -1)': how the next prompt tells the agent."""
        counts = "" if self.binary else f" (+{self.insertions} -{self.deletions})"
        return f"{self.status} {self.path}{counts}"


class Checkpointed(_Event):
    type: Literal["checkpointed"] = "checkpointed"
    kind: Literal["agent", "human", "rewind", "start"] = "agent"
    commit: str
    tree: str
    files_changed: int = 0
    insertions: int = 0
    deletions: int = 0
    files: list[FileStat] = []
    # A rewind: the commit whose tree it brought back, and that commit's iteration.
    restored: str = ""
    restored_iteration: int | None = None
    # What the checkpoint did not store as usual (files over the size limit, unreadable files).
    notes: list[str] = []


class SignalRaised(_Event):
    """A thrash signal: evidence that the loop is not converging."""

    type: Literal["signal"] = "signal"
    kind: str
    iterations: list[int] = []
    explanation: str
    evidence: dict[str, Any] = {}
    # The policy it met: "pause", "hint", "stop", "recover", or "ignore" for a
    # quiet one (the spec ignores its kind, or the human switched it off); it is
    # recorded and shown, but never notifies or interrupts. "" in older journals.
    action: str = ""


class Decided(_Event):
    """What the engine concluded after an iteration, and why."""

    type: Literal["decision"] = "decision"
    action: Action
    outcome: Outcome | None = None
    reason: str
    passing_checks: int = 0
    total_checks: int = 0


class ControlApplied(_Event):
    """A human control reached the engine (pause, resume, step, stop...)."""

    type: Literal["control"] = "control"
    control: Literal["pause", "resume", "step", "stop", "revalidate", "rewind", "take_over"]
    detail: str = ""


class GoalChanged(_Event):
    type: Literal["goal_changed"] = "goal_changed"
    goal: str
    previous: str = ""


class SpecReloaded(_Event):
    """loop.toml was edited during the run; the edit applies from the next iteration."""

    type: Literal["spec_reloaded"] = "spec_reloaded"
    changed: list[str] = []


class WorkspaceEdited(_Event):
    """Files the human changed in the workspace while the loop was paused (watch mode)."""

    type: Literal["workspace_edited"] = "workspace_edited"
    paths: list[str]
    more: int = 0  # changed paths beyond ``paths`` (a huge batch is cut short)


class InstructionSet(_Event):
    """The human wrote the agent's instruction for the next iteration (drive)."""

    type: Literal["instruction_set"] = "instruction_set"
    text: str


class SignalDismissed(_Event):
    """The human dismissed a thrash signal, or switched its kind off for the run."""

    type: Literal["signal_dismissed"] = "signal_dismissed"
    kind: str
    key: str = ""
    whole_kind: bool = False


class SignalRecovered(_Event):
    """A recovery from a thrash signal: the workspace went back to before the
    evidence began, and ``note`` goes into the next prompt.

    ``by_human`` is False for the ``recover`` policy; ``number`` counts the
    policy's recoveries in the run so far (this one included), of ``limit``.
    """

    type: Literal["signal_recovered"] = "signal_recovered"
    kind: str
    key: str = ""
    to_iteration: int
    note: str
    by_human: bool = False
    number: int = 0
    limit: int = 0


class ThresholdRaised(_Event):
    """The human raised a kind of signal's threshold for the rest of the run."""

    type: Literal["threshold_raised"] = "threshold_raised"
    kind: str
    threshold: int
    previous: int


class HintAdded(_Event):
    type: Literal["hint_added"] = "hint_added"
    text: str
    # "engine": a corrective hint the thrash policy queued, not the human's.
    by: Literal["human", "engine"] = "human"


class Paused(_Event):
    type: Literal["paused"] = "paused"
    reason: str
    # True when a human asked for it (pause, step, --paused); False when the
    # engine stopped to ask for a human (thrash, refusal, an API that stayed down).
    by_human: bool = False
    # The agent's question (ask_human), waiting for the human's answer.
    question: str = ""
    # Every required validator passes: the run can be finished with the goal met.
    goal_met: bool = False


class Resumed(_Event):
    type: Literal["resumed"] = "resumed"
    stepping: bool = False


class Notice(_Event):
    """Something a person should read that is not an error."""

    type: Literal["notice"] = "notice"
    level: Literal["info", "warning", "error"] = "info"
    message: str


class TakeOverStarted(_Event):
    """The engine handed the workspace to the human (the loop is paused)."""

    type: Literal["take_over_started"] = "take_over_started"


class ChangesRecorded(_Event):
    """What the human changed in the workspace, checkpointed; the next prompt lists it."""

    type: Literal["changes_recorded"] = "changes_recorded"
    changes: list[str]  # "modified fizzbuzz.py (+2 -1)"


class HandedBack(_Event):
    """The human handed the workspace back to the agent after a take-over."""

    type: Literal["handed_back"] = "handed_back"
    changes: list[str] = []  # everything changed during this take-over


class QuestionAnswered(_Event):
    """The human answered the agent's question; the answer goes into the next prompt."""

    type: Literal["question_answered"] = "question_answered"
    question: str
    answer: str


class RunFinished(_Event):
    type: Literal["run_finished"] = "run_finished"
    outcome: Outcome
    reason: str
    exit_code: int
    budget: BudgetState = BudgetState()


Event = Annotated[
    RunStarted
    | IterationStarted
    | AgentText
    | AgentTurn
    | ToolCall
    | ToolInputDelta
    | ToolResult
    | AgentFinished
    | ValidatorStarted
    | ValidatorOutput
    | ValidatorFinished
    | BudgetUpdated
    | Checkpointed
    | SignalRaised
    | Decided
    | ControlApplied
    | GoalChanged
    | SpecReloaded
    | InstructionSet
    | WorkspaceEdited
    | SignalDismissed
    | HintAdded
    | Paused
    | Resumed
    | Notice
    | TakeOverStarted
    | ChangesRecorded
    | HandedBack
    | QuestionAnswered
    | RunFinished
    | SignalRecovered
    | ThresholdRaised
    | IterationReceipt,
    Field(discriminator="type"),
]

EVENT_ADAPTER: TypeAdapter[Event] = TypeAdapter(Event)

EXIT_CODES: dict[str, int] = {
    "goal_met": 0,
    "budget": 1,
    "stopped": 1,
    "error": 1,
    "paused": 3,
    "interrupted": 130,
}


def parse_event(line: str | bytes) -> Event:
    """One journal line to an event (raises pydantic.ValidationError)."""
    return EVENT_ADAPTER.validate_json(line)


def dump_event(event: _Event) -> str:
    """One event to a compact JSON line (no newline)."""
    return event.model_dump_json()
