"""What the console prints when it closes: the outcome, the run folder, how to look again."""

from __future__ import annotations

from pathlib import Path

from tui.engine.raise_budget import limit_to_raise, plain, proposed_value
from tui.events import RunFinished
from tui.figures import duration

_WORDS = {
    "goal_met": "goal met",
    "budget": "budget exhausted",
    "stopped": "stopped",
    "paused": "paused for a human",
    "interrupted": "interrupted",
    "error": "failed",
}


def exit_summary(finished: RunFinished | None, run_dir: str, run_id: str) -> str:
    """Three or four lines for the terminal the console leaves behind."""
    lines = []
    if finished is None:
        lines.append("loopconsole: the console closed before the run ended")
    else:
        b = finished.budget
        plural = "" if b.iterations == 1 else "s"
        lines.append(
            f"loopconsole: {_WORDS.get(finished.outcome, finished.outcome)} after "
            f"{b.iterations} iteration{plural} ({duration(b.wall_s)}, ${b.cost_usd:.2f}): "
            f"{finished.reason}"
        )
    if run_dir:
        name = run_id or Path(run_dir).name
        lines.append(f"  run folder  {run_dir}")
        lines.append(f"  replay      loopconsole replay {name}")
        if finished is not None and finished.outcome in ("stopped", "paused", "interrupted"):
            lines.append(f"  resume      loopconsole resume {name}")
        key = limit_to_raise(finished.budget) if finished is not None else None
        if finished is not None and finished.outcome == "budget" and key is not None:
            value = plain(proposed_value(key, finished.budget))
            lines.append(f"  go on       loopconsole resume {name} --raise {key}={value}")
    return "\n".join(lines)
