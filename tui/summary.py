"""Text summaries for the command line: a spec (``check``) and runs (``runs``)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from tui.engine.journal_index import JournalIndex
from tui.engine.rundir import find_runs, running_pid
from tui.figures import duration
from tui.spec import LoopSpec


def _limit(value: float | None, fmt: str) -> str | None:
    return None if value is None else fmt.format(value)


def describe_spec(spec: LoopSpec) -> str:
    """A short summary of a valid spec."""
    a, b = spec.agent, spec.budget
    goal = " ".join(spec.goal.split())
    if len(goal) > 100:
        goal = goal[:99] + "…"
    match a.backend:
        case "scripted":
            agent = f"scripted, replaying {a.script.name if a.script else '?'}"
        case "command":
            agent = f"command `{a.command}` (output: {a.format}, {a.timeout_s:.0f} s limit)"
        case _:
            agent = f"anthropic, model {a.model}, up to {a.max_turns} turns per iteration"
    copy = " (each run works on a copy)" if spec.copy_workspace else ""
    limits = [
        f"{b.max_iterations} iterations",
        _limit(b.max_tokens, "{:,} tokens"),
        _limit(b.max_cost_usd, "${:.2f}"),
        _limit(b.max_wall_s, "{:.0f} s"),
    ]
    lines = [
        f"{spec.name}: {spec.path} is valid",
        f"  goal        {goal}",
        f"  workspace   {spec.workspace}{copy}",
        f"  agent       {agent}",
    ]
    if spec.validators:
        for i, v in enumerate(spec.validators):
            label = "validators" if i == 0 else ""
            need = "required" if v.required else "optional"
            lines.append(f"  {label:<11} {v.name}: `{v.run}` ({need}, {v.timeout_s:.0f} s)")
    else:
        lines.append("  validators  none: the agent's own word decides when the goal is met")
    lines.append(f"  budget      {', '.join(x for x in limits if x)}")
    policy: str = spec.thrash.action
    if policy == "recover":
        policy = f"recover (at most {spec.thrash.recoveries} times, then pause)"
    lines.append(f"  thrash      {policy} when the loop stops converging")
    return "\n".join(lines)


@dataclass
class RunRow:
    run_id: str
    name: str = "?"
    outcome: str = ""
    iterations: int = 0
    cost_usd: float = 0.0
    wall_s: float = 0.0
    signals: int = 0


def summarize_run(run_dir: Path) -> RunRow:
    """What a run's journal says about it (tolerates a crashed run)."""
    row = RunRow(run_id=run_dir.name)
    journal = run_dir / "journal.jsonl"
    if not journal.exists():
        row.outcome = "no journal"
        return row
    # The index parses only the few small events a summary needs.
    index = JournalIndex.build(journal)
    if index.run_started is not None:
        row.name = index.run_started.name
    decided = [r for r in index.rows if r.action]
    row.iterations = decided[-1].iteration if decided else 0
    row.signals = sum(len(r.signals) for r in index.rows)
    if decided:
        row.cost_usd = decided[-1].cost_usd
    finished = index.run_finished
    if finished is None:
        row.outcome = "running" if running_pid(run_dir) else "crashed or killed"
    else:
        row.outcome = finished.outcome
        row.iterations = finished.budget.iterations
        row.cost_usd = finished.budget.cost_usd
        row.wall_s = finished.budget.wall_s
    return row


def find_run_dirs(path: Path) -> list[Path]:
    """Run directories for a spec, its folder, or any spec below a folder."""
    return find_runs(path)


def list_runs(path: Path) -> str:
    """A table of runs, oldest first."""
    dirs = find_run_dirs(path)
    if not dirs:
        return f"no runs found under {path}"
    head = f"{'run':<36} {'outcome':<18} {'iter':>4} {'cost':>8} {'time':>10} {'signals':>7}"
    rows = [head]
    for d in dirs:
        r = summarize_run(d)
        cost = f"${r.cost_usd:.2f}"
        rows.append(
            f"{r.run_id:<36} {r.outcome:<18} {r.iterations:>4} {cost:>8} "
            f"{duration(r.wall_s):>10} {r.signals:>7}"
        )
    return "\n".join(rows)
