"""A thrash signal's evidence, laid out for the explanation screen.

Pure: from a :class:`~tui.events.SignalRaised` (live or read from a journal)
to a few facts and two or more columns shown side by side. A column is text
or a diff; a diff column may name two checkpoints (by iteration) so the
screen can show the full diff between them from the run's repository, with
the patch kept in the evidence as the fallback when there is none.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Literal

from tui.engine.signal_text import iterations_text
from tui.events import SignalRaised

KIND_TITLES = {
    "same_failure": "the same failure again",
    "oscillation": "going back and forth",
    "edit_undone": "an edit undone",
    "no_progress": "no progress",
    "repeated_actions": "repeated actions",
    "false_done": "done, but failing",
}


@dataclass(frozen=True)
class Column:
    """One side of the evidence."""

    title: str
    text: str
    kind: Literal["text", "diff"] = "text"
    # For a diff: the iterations whose checkpoints bound it (old, new), if known.
    between: tuple[int, int] | None = None


@dataclass(frozen=True)
class EvidenceView:
    """What the explanation screen shows for one signal."""

    title: str
    explanation: str
    facts: list[str] = field(default_factory=list)
    columns: list[Column] = field(default_factory=list)


def _checks(entry: dict[str, Any]) -> str:
    passing, total = entry.get("passing"), entry.get("total")
    return f"{passing}/{total} passing" if total else ""


def _oscillation(ev: dict[str, Any]) -> tuple[list[str], list[Column]]:
    cycle = list(ev.get("cycle", []))
    same = ev.get("same_tree_iterations") or [c.get("iteration") for c in cycle[:1] + cycle[-1:]]
    tree = str(ev.get("tree", ""))[:7]
    first, last = (same + [0, 0])[:2]
    start = f"after iteration {first}" if first else "at the start"
    facts = [f"iteration {last} left the workspace exactly as it was {start} (tree {tree})"]
    for c in cycle:
        facts.append(
            f"iteration {c.get('iteration')}: tree {str(c.get('tree', ''))[:7]} · "
            f"{_checks(c)} · {c.get('failure') or 'failing'}"
        )
    columns = []
    for before, after in zip(cycle, cycle[1:], strict=False):
        a, b = int(before.get("iteration", 0)), int(after.get("iteration", 0))
        columns.append(
            Column(
                title=f"iteration {a} → {b} · {_checks(after)}",
                text=str(after.get("patch", "")),
                kind="diff",
                between=(a, b),
            )
        )
    return facts, columns[-4:]


def _same_failure(s: SignalRaised, ev: dict[str, Any]) -> tuple[list[str], list[Column]]:
    facts = [f"{iterations_text(s.iterations)}: {ev.get('failure', '')}"]
    if ev.get("unchanged"):
        facts.append("the workspace did not change in between")
    lines = []
    for f in ev.get("failures", []):
        lines.append(f"validator   {f.get('validator', '')}")
        lines += [f"  check     {c}" for c in f.get("check_ids", [])]
        if f.get("error_type"):
            lines.append(f"  error     {f['error_type']}")
        if f.get("message"):
            lines.append(f"  message   {f['message']}")
    text = "\n".join(lines) or str(ev.get("failure", ""))
    return facts, [
        Column(f"what repeats ({len(s.iterations)} times, normalised)", text),
        Column(f"the failure as printed (iteration {s.iteration})", ev.get("failure_text", "")),
    ]


def _edit_undone(s: SignalRaised, ev: dict[str, Any]) -> tuple[list[str], list[Column]]:
    undone = ev.get("undone_iteration")
    paths = ", ".join(ev.get("paths", []))
    facts = [f"iteration {s.iteration} put back what iteration {undone} changed in {paths}"]
    if ev.get("failure"):
        facts.append(f"and fails as before that change: {ev['failure']}")
    pairs = ev.get("reverted", [])
    return facts, [
        Column(
            f"iteration {undone} changed",
            "\n\n".join(p.get("change", "") for p in pairs),
            "diff",
        ),
        Column(
            f"iteration {s.iteration} undid it",
            "\n\n".join(p.get("undone_by", "") for p in pairs),
            "diff",
        ),
    ]


def _no_progress(s: SignalRaised, ev: dict[str, Any]) -> tuple[list[str], list[Column]]:
    if ev.get("reason") == "unchanged":
        facts = [
            f"the workspace tree {str(ev.get('tree', ''))[:7]} did not change in "
            f"{iterations_text(s.iterations)}"
        ]
        return facts, []
    points = ev.get("passing", [])
    top = max((int(p.get("total") or 0) for p in points), default=0) or 1
    chart = "\n".join(
        f"{p.get('iteration'):>4}  {'█' * round(20 * int(p.get('passing', 0)) / top):<20} "
        f"{p.get('passing')}/{p.get('total')}"
        for p in points
    )
    seen = "\n\n".join(
        f"{iterations_text(f.get('iterations', []))}:\n  {f.get('failure', '')}"
        for f in ev.get("failures", [])
    )
    facts = [
        f"no passing check gained since iteration {ev.get('since_iteration')} "
        f"(best: {ev.get('best_passing')})"
    ]
    return facts, [
        Column("passing checks per iteration (the plateau)", chart),
        Column("failures on the plateau, all seen before", seen),
    ]


def _repeated_actions(s: SignalRaised, ev: dict[str, Any]) -> tuple[list[str], list[Column]]:
    call = ev.get("call", {})
    scope = "in the run" if ev.get("scope") == "run" else f"in iteration {s.iterations[0]}"
    facts = [f"the same {call.get('name', 'call')} {ev.get('count')} times {scope}"]
    seen = ev.get("seen")
    if seen is not None:
        facts.append("and the same result each time (timestamps, durations, addresses set aside)")
    columns = [Column("the call", json.dumps(call.get("input", {}), indent=2, ensure_ascii=False))]
    if seen is not None:
        columns.append(Column("what it returned each time (normalised)", str(seen) or "(nothing)"))
    return facts, columns


def _false_done(s: SignalRaised, ev: dict[str, Any]) -> tuple[list[str], list[Column]]:
    facts = [f"the agent said it was done in {iterations_text(s.iterations)}"]
    return facts, [
        Column("what the agent said", str(ev.get("said", ""))),
        Column("what the validators said", str(ev.get("failure", ""))),
    ]


def evidence_view(signal: SignalRaised) -> EvidenceView:
    """The facts and side-by-side columns for ``signal``."""
    ev = signal.evidence
    kind = signal.kind
    title = f"{kind.replace('_', ' ')}: {KIND_TITLES.get(kind, 'a thrash signal')}"
    title += f" · {iterations_text(signal.iterations)}"
    if kind == "oscillation":
        facts, columns = _oscillation(ev)
    elif kind == "same_failure":
        facts, columns = _same_failure(signal, ev)
    elif kind == "edit_undone":
        facts, columns = _edit_undone(signal, ev)
    elif kind == "no_progress":
        facts, columns = _no_progress(signal, ev)
    elif kind == "repeated_actions":
        facts, columns = _repeated_actions(signal, ev)
    elif kind == "false_done":
        facts, columns = _false_done(signal, ev)
    else:
        rest = {k: v for k, v in ev.items() if k != "key"}
        facts, columns = [], [Column("evidence", json.dumps(rest, indent=2, default=str))]
    return EvidenceView(title, signal.explanation, facts, columns)
