"""A synthetic journal for the replay benchmark: a long run that never converges.

Written through the real event models and :class:`JournalWriter`, in the
order the runner publishes them: ``run_started`` and the start checkpoint,
then per iteration ``iteration_started`` (a multi-KB prompt), model turns
(assistant text in ~40-character chunks as the stream coalescer emits them,
tool input deltas, ``tool_call``/``tool_result`` pairs carrying file contents
and test output, ``agent_turn`` and ``budget_updated``), ``agent_finished``,
a pytest-like validator (``validator_started``, output chunks,
``validator_finished`` with counts and failing ids), ``budget_updated``, now
and then a thrash ``signal`` (then a pause the human resumes), the ``agent``
checkpoint with a fake commit and tree, and the ``decision``; at the end
``run_finished``. Iterations are padded with more turns until the file
reaches the requested size (an iteration takes at least about 60 KiB, so a
smaller size per iteration comes out larger than asked).

Run: python tests/benchmarks/make_journal.py OUT.jsonl [--iterations 1000] [--mb 50]
Or:  from tests.benchmarks.make_journal import make_journal
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path

from tui.engine.journal import JournalWriter
from tui.events import (
    AgentFinished,
    AgentText,
    AgentTurn,
    BudgetState,
    BudgetUpdated,
    Checkpointed,
    ControlApplied,
    Decided,
    Event,
    FileStat,
    IterationStarted,
    Paused,
    Resumed,
    RunFinished,
    RunStarted,
    SignalRaised,
    ToolCall,
    ToolInputDelta,
    ToolResult,
    Usage,
    ValidatorFinished,
    ValidatorOutput,
    ValidatorResult,
    ValidatorStarted,
)

RUN_ID = "20261121-101500-bench"
GOAL = "Make every test in tests/ pass without editing tests/. Keep the public API of billing/."
TESTS = 240
SIGNAL_EVERY = 37  # an iteration that raises a thrash signal, now and then
SIGNAL_KINDS = ["same_failure", "oscillation", "no_progress", "repeated_actions", "false_done"]
FILES = [f"billing/{name}.py" for name in ("invoice", "tax", "currency", "ledger", "export")]
MB = 1024 * 1024

_TEXT = (
    "the invoice total rounds each line before summing so the tax differs by one cent "
    "when several lines carry fractional amounts I will move rounding to the end and "
    "check the ledger export which formats currency with the locale of the account "
    "looking at the failing test the expected value uses banker's rounding while the "
    "code rounds half up so the fixtures disagree on values ending in five"
)
_WORDS = _TEXT.split()


class _Clock:
    """Timestamps that move forward like a real run's."""

    def __init__(self) -> None:
        self.now = 1_795_000_000.0

    def __call__(self, step: float = 0.05) -> float:
        self.now += step
        return self.now


def _prose(rng: random.Random, words: int) -> str:
    text = " ".join(rng.choice(_WORDS) for _ in range(words))
    return text[0].upper() + text[1:] + ".\n\n"


def _source(rng: random.Random, lines: int) -> str:
    out = []
    for n in range(lines):
        name = rng.choice(_WORDS)
        out.append(
            f"def {name}_{n}(amount: Decimal, rate: Decimal) -> Decimal:\n"
            f"    # {' '.join(rng.choice(_WORDS) for _ in range(8))}\n"
            f"    return (amount * rate).quantize(CENT, rounding=ROUND_HALF_UP)  # {n}\n"
        )
    return "".join(out)


def _failing(iteration: int, passing: int) -> list[str]:
    return [
        f"tests/test_billing.py::test_case_{(iteration + k) % TESTS}"
        for k in range(TESTS - passing)
    ]


def _pytest_output(rng: random.Random, failing: list[str], passing: int) -> str:
    dots = "".join(rng.choice(".....F") for _ in range(TESTS))
    blocks = [
        f"{'_' * 20} {f.split('::')[1]} {'_' * 20}\n\n"
        f"    def {f.split('::')[1]}():\n>       assert total(lines) == Decimal('10.05')\n"
        f"E       AssertionError: assert Decimal('10.04') == Decimal('10.05')\n\n"
        f"tests/test_billing.py:{rng.randint(10, 900)}: AssertionError\n"
        for f in failing[:12]
    ]
    summary = "\n".join(f"FAILED {f} - AssertionError" for f in failing)
    return (
        f"{dots[:80]}\n{dots[80:160]}\n{dots[160:]}\n{'=' * 30} FAILURES {'=' * 30}\n"
        + "".join(blocks)
        + f"{'=' * 20} short test summary info {'=' * 20}\n{summary}\n"
        f"{len(failing)} failed, {passing} passed in {rng.uniform(2, 9):.2f}s\n"
    )


class _Writer:
    """Stamps each event with the run id, the iteration and a moving clock."""

    def __init__(self, path: Path) -> None:
        self.journal = JournalWriter(path)
        self.clock = _Clock()
        self.iteration = 0

    def __call__(self, event: Event, step: float = 0.05) -> None:
        event.run_id = RUN_ID
        event.iteration = self.iteration
        event.ts = self.clock(step)
        self.journal.write(event)

    @property
    def size(self) -> int:
        return self.journal.bytes_written


class _Run:
    """The spending and the progress of the synthetic run."""

    def __init__(self, iterations: int) -> None:
        self.usage = Usage()
        self.cost = 0.0
        self.wall = 0.0
        self.iterations = 0
        self.max_iterations = iterations
        self.passing = TESTS // 3

    def budget(self) -> BudgetState:
        return BudgetState(
            iterations=self.iterations,
            usage=self.usage,
            cost_usd=round(self.cost, 6),
            wall_s=round(self.wall, 3),
            max_iterations=self.max_iterations,
            max_tokens=2_000_000_000,
            max_cost_usd=10_000.0,
        )

    def charge(self, usage: Usage) -> float:
        cost = (
            usage.input_tokens * 3 + usage.output_tokens * 15 + usage.cache_read_tokens * 0.3
        ) / 1e6
        self.usage = self.usage + usage
        self.cost += cost
        return cost


def _turn(w: _Writer, rng: random.Random, run: _Run, turn: int, call_no: int) -> None:
    """One model turn: text, a tool call written as it streams, its result, the cost."""
    # The stream coalescer publishes every 0.1 s: a few words per event.
    text = _prose(rng, rng.randint(60, 200))
    for i in range(0, len(text), 40):
        w(AgentText(text=text[i : i + 40]), step=0.1)
    path = rng.choice(FILES)
    call_id = f"toolu_{w.iteration:04d}_{call_no:02d}"
    if rng.random() < 0.3:
        call = ToolCall(call_id=call_id, name="bash", input={"command": "python -m pytest -q -x"})
        failing = _failing(w.iteration, run.passing)
        output = _pytest_output(rng, failing, run.passing)
        result = ToolResult(call_id=call_id, name="bash", output=output, exit_code=1, is_error=True)
    elif rng.random() < 0.5:
        call = ToolCall(
            call_id=call_id,
            name="str_replace_based_edit_tool",
            input={"command": "view", "path": path},
        )
        result = ToolResult(
            call_id=call_id, name=call.name, output=_source(rng, rng.randint(20, 60))
        )
    else:
        new = _source(rng, rng.randint(1, 4))
        call = ToolCall(
            call_id=call_id,
            name="str_replace_based_edit_tool",
            input={
                "command": "str_replace",
                "path": path,
                "old_str": _source(rng, 2),
                "new_str": new,
            },
        )
        for i in range(0, len(new), 200):
            w(ToolInputDelta(call_id=call_id, name=call.name, text=new[i : i + 200]), step=0.01)
        result = ToolResult(call_id=call_id, name=call.name, output=f"edited {path}")
    w(call)
    w(result, step=0.3)
    usage = Usage(
        input_tokens=rng.randint(800, 3000),
        output_tokens=rng.randint(100, 900),
        cache_read_tokens=rng.randint(5000, 30000),
    )
    cost = run.charge(usage)
    w(BudgetUpdated(budget=run.budget()), step=0.001)
    w(
        AgentTurn(
            turn=turn, stop_reason="tool_use", model="claude-sonnet-5-5", usage=usage, cost_usd=cost
        )
    )


def _validators(w: _Writer, rng: random.Random, run: _Run) -> ValidatorResult:
    failing = _failing(w.iteration, run.passing)
    output = _pytest_output(rng, failing, run.passing)
    command = "python -m pytest -q"
    w(ValidatorStarted(name="tests", command=command))
    for i in range(0, len(output), 4000):
        w(ValidatorOutput(name="tests", text=output[i : i + 4000]), step=0.5)
    result = ValidatorResult(
        name="tests",
        command=command,
        passed=False,
        exit_code=1,
        duration_s=round(rng.uniform(2, 9), 2),
        output=output[-6000:],
        reason=f"exit 1: {len(failing)} failed, {run.passing} passed",
        tests_passed=run.passing,
        tests_failed=len(failing),
        tests_skipped=0,
        failing_ids=failing,
    )
    w(ValidatorFinished(result=result))
    return result


def _iteration(w: _Writer, rng: random.Random, run: _Run, target: int) -> None:
    """One iteration, padded with turns until the journal holds ``target`` bytes."""
    failures = "\n".join(_failing(w.iteration, run.passing)[:40])
    prompt = (
        f"# Goal\n{GOAL}\n\n# Iteration {w.iteration}\n\n# Earlier iterations\n"
        + "".join(f"- iteration {w.iteration - k}: {_prose(rng, 25)}" for k in range(1, 6))
        + f"# What failed after the last iteration\n{failures}\n\n"
        + "# Your notes from earlier iterations\n"
        + _prose(rng, 120)
    )
    w(IterationStarted(goal=GOAL, prompt=prompt, system="You are a careful engineer." * 10), 1.0)
    turn = 0
    # Leave room for the validator, the checkpoint and the decision (~15 KB).
    while turn < 3 or w.size < target - 16_000:
        turn += 1
        _turn(w, rng, run, turn, turn)
        if turn > 400:
            break
    run.iterations += 1
    run.wall = w.clock.now - 1_795_000_000.0
    w(AgentFinished(stop="end_turn", final_text=_prose(rng, 30), turns=turn, tool_calls=turn))
    _validators(w, rng, run)
    w(BudgetUpdated(budget=run.budget()))
    signal = w.iteration % SIGNAL_EVERY == 0
    if signal:
        kind = SIGNAL_KINDS[(w.iteration // SIGNAL_EVERY) % len(SIGNAL_KINDS)]
        w(
            SignalRaised(
                kind=kind,
                iterations=[w.iteration - 2, w.iteration - 1, w.iteration],
                explanation=f"the same {TESTS - run.passing} checks failed three times in a row",
                evidence={
                    "key": f"{kind}:{w.iteration}",
                    "failing": _failing(w.iteration, run.passing)[:5],
                },
            )
        )
    files = [
        FileStat(
            path=p, status="modified", insertions=rng.randint(1, 9), deletions=rng.randint(0, 9)
        )
        for p in rng.sample(FILES, 2)
    ]
    w(
        Checkpointed(
            kind="agent",
            commit=f"{rng.getrandbits(160):040x}",
            tree=f"{rng.getrandbits(160):040x}",
            files_changed=len(files),
            insertions=sum(f.insertions for f in files),
            deletions=sum(f.deletions for f in files),
            files=files,
        )
    )
    last = w.iteration == run.max_iterations
    action = "stop" if last else "pause" if signal else "continue"
    reason = (
        f"budget: {run.max_iterations} iterations used"
        if last
        else "thrash, same failure: the same checks failed three times"
        if signal
        else "1 of 1 required validators failing (tests)"
    )
    w(
        Decided(
            action=action,
            outcome="budget" if last else None,
            reason=reason,
            passing_checks=run.passing,
            total_checks=TESTS,
        )
    )
    if signal and not last:
        w(Paused(reason=reason), step=30.0)
        w(ControlApplied(control="resume"))
        w(Resumed())
    run.passing = max(0, min(TESTS - 1, run.passing + rng.choice((-1, 0, 0, 1, 1))))


def make_journal(path: Path, iterations: int = 1000, mb: float = 50.0) -> Path:
    """Write a synthetic journal of ``iterations`` iterations and about ``mb`` MiB to ``path``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.unlink(missing_ok=True)
    rng = random.Random(6)
    w = _Writer(path)
    run = _Run(iterations)
    total = int(mb * MB)
    try:
        w(
            RunStarted(
                name="bench",
                goal=GOAL,
                spec_path="/home/dev/billing/loop.toml",
                run_dir=f"/home/dev/billing/.loopconsole/runs/{RUN_ID}",
                workspace="/home/dev/billing",
                backend="anthropic",
                model="claude-sonnet-5-5",
                budget=run.budget(),
                validators=["tests"],
            )
        )
        w(
            Checkpointed(
                kind="start",
                commit=f"{rng.getrandbits(160):040x}",
                tree=f"{rng.getrandbits(160):040x}",
            )
        )
        for n in range(1, iterations + 1):
            w.iteration = n
            _iteration(w, rng, run, total * n // iterations)
        w(
            RunFinished(
                outcome="budget", reason="budget: iterations used", exit_code=1, budget=run.budget()
            )
        )
    finally:
        w.journal.close()
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Write a synthetic loopconsole journal.")
    parser.add_argument("out", type=Path)
    parser.add_argument("--iterations", type=int, default=1000)
    parser.add_argument("--mb", type=float, default=50.0)
    args = parser.parse_args(argv)
    started = time.perf_counter()
    path = make_journal(args.out, args.iterations, args.mb)
    size = path.stat().st_size
    print(
        f"{path}: {args.iterations} iterations, {size / MB:.1f} MiB, "
        f"{time.perf_counter() - started:.1f} s"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
