"""Building the prompt for an iteration.

Each iteration starts a fresh conversation, so the prompt carries everything
the agent needs: the goal, its notes, short summaries of earlier iterations,
the last validators' failures (head and tail), and the human's hints. Its size
stays flat however long the run grows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from tui.events import ValidatorResult
from tui.spec import LoopSpec

SYSTEM = """\
You are a coding agent working inside a supervised loop run by loopconsole.
You change files in the workspace with the tools you are given. When you
stop, validators you do not control ({validators}) run in the workspace and
decide whether the goal is met; a human may be watching and may add hints.
Work in small verified steps: read before you edit, run the checks yourself
when you can, and finish with a short summary of what you changed and why.
Do not edit the validators or the tests unless the goal says so."""


@dataclass
class IterationSummary:
    """What the prompt remembers of an earlier iteration."""

    iteration: int
    checks: str
    decision: str
    agent_said: str = ""

    @classmethod
    def of(
        cls, iteration: int, results: list[ValidatorResult], reason: str, final_text: str
    ) -> IterationSummary:
        """The summary of a finished iteration, the agent's last words cut to 200 chars."""
        said = " ".join(final_text.split())
        return cls(
            iteration=iteration,
            checks=checks_line(results),
            decision=reason,
            agent_said=said[:200] + ("…" if len(said) > 200 else ""),
        )


@dataclass
class PromptInputs:
    """Everything that goes into one prompt."""

    goal: str
    iteration: int
    summaries: list[IterationSummary] = field(default_factory=list)
    failures: list[ValidatorResult] = field(default_factory=list)
    hints: list[str] = field(default_factory=list)
    notes: str = ""
    human_changes: list[str] = field(default_factory=list)
    instruction: str | None = None


def head_tail(text: str, limit: int) -> str:
    """``text`` cut to about ``limit`` characters, keeping its head and tail."""
    if len(text) <= limit:
        return text
    head = limit // 3
    tail = limit - head
    cut = len(text) - head - tail
    return f"{text[:head]}\n[... {cut:,} characters cut ...]\n{text[-tail:]}"


def read_notes(memories: Path, limit: int) -> str:
    """The agent's memory files (newest last), cut to ``limit`` characters."""
    if not memories.is_dir():
        return ""
    parts = []
    for file in sorted(p for p in memories.rglob("*") if p.is_file()):
        try:
            text = file.read_text(errors="replace").strip()
        except OSError:
            continue
        if text:
            parts.append(f"## {file.relative_to(memories)}\n{text}")
    return head_tail("\n\n".join(parts), limit)


def system_prompt(spec: LoopSpec) -> str:
    """The system prompt: the spec's own, or loopconsole's default."""
    if spec.agent.system:
        return spec.agent.system
    names = ", ".join(v.name for v in spec.validators) or "none configured"
    return SYSTEM.format(validators=names)


def _failure_block(result: ValidatorResult, chars: int) -> str:
    lines = [f"## {result.name}: {result.reason or 'failed'}", f"Command: `{result.command}`"]
    if result.failing_ids:
        shown = result.failing_ids[:20]
        more = len(result.failing_ids) - len(shown)
        lines.append("Failing: " + ", ".join(shown) + (f" and {more} more" if more else ""))
    if result.output.strip():
        lines += ["```", head_tail(result.output.strip(), chars), "```"]
    return "\n".join(lines)


def build_prompt(inputs: PromptInputs, failure_chars: int = 4_000) -> str:
    """The user message that opens an iteration's conversation."""
    out = [f"# Goal\n{inputs.goal.strip()}"]
    if inputs.instruction:
        out.append(f"# Instruction from the engineer for this iteration\n{inputs.instruction}")
    if inputs.summaries:
        rows = [
            f"- Iteration {s.iteration}: {s.checks}; {s.decision}"
            + (f'. You said: "{s.agent_said}"' if s.agent_said else "")
            for s in inputs.summaries
        ]
        out.append(
            f"# Earlier iterations\nThis is iteration {inputs.iteration}.\n" + "\n".join(rows)
        )
    if inputs.failures:
        per = max(500, failure_chars // len(inputs.failures))
        blocks = [_failure_block(r, per) for r in inputs.failures]
        out.append("# What failed after the last iteration\n" + "\n\n".join(blocks))
    if inputs.human_changes:
        out.append(
            "# The engineer changed the workspace\n"
            + "\n".join(f"- {c}" for c in inputs.human_changes)
        )
    if inputs.hints:
        out.append("# Hints from the engineer\n" + "\n".join(f"- {h}" for h in inputs.hints))
    if inputs.notes:
        out.append(f"# Your notes from earlier iterations\n{inputs.notes}")
    return "\n\n".join(out) + "\n"


def checks_line(results: list[ValidatorResult]) -> str:
    """'tests FAILED (2 failed, 5 passed), lint passed' for summaries."""
    if not results:
        return "no validators"
    parts = []
    for r in results:
        mark = "passed" if r.passed else "FAILED"
        parts.append(f"{r.name} {mark}" + (f" ({r.counts})" if r.counts else ""))
    return ", ".join(parts)
