"""The thrash checks: each looks at the iterations so far and may find a signal.

The functions here are pure: they take the history (oldest first, the
iteration just finished last) and return a :class:`Finding` with the
iterations involved, a one-line explanation and the evidence, or None.
:class:`~tui.engine.thrash.ThrashDetector` decides which findings fire.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from tui.engine.decide import summarize_checks
from tui.engine.fingerprint import Fingerprint, failure_excerpt, fingerprint
from tui.engine.hunks import ChangeBlock, change_blocks
from tui.engine.signal_text import describe_call, iterations_text, one_line, times
from tui.engine.toolcalls import Repeat
from tui.events import ValidatorResult

PATCH_CHARS = 3_000
PATCHES = 6  # at most this many patches in an oscillation's evidence
PLATEAU_POINTS = 50  # at most this many passing counts in a plateau's evidence
MAX_BLOCK_LINES = 400  # larger change blocks are not kept to compare (a rewrite, not an edit)


@dataclass
class Observed:
    """One iteration (or the starting point, iteration 0) as the checks see it."""

    iteration: int
    tree: str | None
    fingerprint: Fingerprint | None
    failing: bool  # the goal is not met: a required validator (or, with none, any) fails
    required_failing: bool
    passing: int
    total: int
    results: list[ValidatorResult] = field(default_factory=list)  # the latest iteration's only
    patch: str = ""
    blocks: list[ChangeBlock] = field(default_factory=list)
    agent: bool = True  # False for the starting point

    @property
    def failure(self) -> str:
        return self.fingerprint.summary() if self.fingerprint else "validators fail"


@dataclass
class Finding:
    """A signal the checks found; the detector decides whether it fires."""

    kind: str
    key: str  # what repeats: a dismissed key never fires again
    iterations: list[int]
    explanation: str
    evidence: Callable[[], dict[str, Any]]  # built only for a signal that fires
    cooldown: int  # iterations before the same key may fire again


def observed(
    iteration: int,
    tree: str | None,
    results: list[ValidatorResult],
    patch: str = "",
    *,
    agent: bool = True,
) -> Observed:
    """What the checks need to know about an iteration's end state."""
    required = [r for r in results if r.required]
    required_failing = any(not r.passed for r in required)
    failing = required_failing if required else any(not r.passed for r in results)
    passing, total = summarize_checks(results)
    return Observed(
        iteration=iteration,
        tree=tree,
        fingerprint=fingerprint(results),
        failing=failing,
        required_failing=required_failing,
        passing=passing,
        total=total,
        results=results,
        # Kept for the evidence only, so cut to what evidence shows.
        patch=_clip(patch),
        blocks=[b for b in change_blocks(patch) if b.size <= MAX_BLOCK_LINES] if patch else [],
        agent=agent,
    )


def _digest(*parts: str) -> str:
    return hashlib.sha1("\x00".join(parts).encode()).hexdigest()[:12]


def _clip(text: str, chars: int = PATCH_CHARS) -> str:
    return text if len(text) <= chars else text[: chars - 1] + "…"


def same_failure(history: list[Observed], threshold: int) -> Finding | None:
    """The same fingerprint ``threshold`` times in a row, no passing check gained."""
    state = history[-1]
    fp = state.fingerprint
    if fp is None or not state.failing:
        return None
    streak = [state]
    for earlier in reversed(history[:-1]):
        if not earlier.agent or earlier.fingerprint != fp or streak[-1].passing > earlier.passing:
            break
        streak.append(earlier)
    if len(streak) < threshold:
        return None
    streak.reverse()
    trees = [s.tree for s in streak]
    unchanged = None not in trees and len(set(trees)) == 1
    its = [s.iteration for s in streak]
    why = f"the same failure {len(streak)} times in a row ({iterations_text(its)})"
    if unchanged:
        why += " with the workspace unchanged"
    failures = [
        {
            "validator": f.validator,
            "check_ids": list(f.check_ids),
            "error_type": f.error_type,
            "message": f.message,
        }
        for f in fp.failures
    ]

    def evidence() -> dict[str, Any]:
        return {
            "fingerprint": fp.digest,
            "failure": fp.summary(),
            "failures": failures,
            "failure_text": failure_excerpt(state.results),
            "unchanged": unchanged,
            "trees": trees,
        }

    key = f"same_failure:{fp.digest}"
    return Finding(
        "same_failure", key, its, one_line(f"{why}: {fp.summary()}"), evidence, threshold
    )


def oscillation(history: list[Observed]) -> Finding | None:
    """The tree is back to an earlier one (not just unchanged), and still failing."""
    state = history[-1]
    if state.tree is None or not state.failing or len(history) < 3:
        return None
    if history[-2].tree == state.tree:
        return None  # unchanged is "no progress", not a return
    at = next((i for i in range(len(history) - 3, -1, -1) if history[i].tree == state.tree), None)
    if at is None:
        return None
    cycle = history[at:]
    first = cycle[0]
    where = f"after iteration {first.iteration}" if first.agent else "at the start of the run"
    why = (
        f"iteration {state.iteration} put the workspace back exactly as it was {where} "
        f"(tree {state.tree[:7]}) and it still fails: {state.failure}"
    )

    def evidence() -> dict[str, Any]:
        return {
            "tree": state.tree,
            "same_tree_iterations": [first.iteration, state.iteration],
            "cycle": [
                {
                    "iteration": s.iteration,
                    "tree": s.tree,
                    "fingerprint": s.fingerprint.digest if s.fingerprint else None,
                    "failure": s.fingerprint.summary() if s.fingerprint else "",
                    "passing": s.passing,
                    "total": s.total,
                    # The diffs that made each version (the latest few of a long cycle).
                    "patch": _clip(s.patch) if s is not first and n > len(cycle) - PATCHES else "",
                }
                for n, s in enumerate(cycle, start=1)
            ],
            "failure_text": failure_excerpt(state.results),
        }

    key = "oscillation:" + _digest(*sorted({s.tree for s in cycle if s.tree}))
    its = [s.iteration for s in cycle]
    return Finding("oscillation", key, its, one_line(why), evidence, len(cycle) - 1)


def _undone(history: list[Observed]) -> tuple[int, list[tuple[ChangeBlock, ChangeBlock]]]:
    """The latest earlier iteration (its index) with blocks the last one undoes, and the pairs."""
    state = history[-1]
    for index in range(len(history) - 2, 0, -1):
        earlier = history[index]
        pairs = [(old, new) for new in state.blocks for old in earlier.blocks if new.undoes(old)]
        if earlier.agent and pairs:
            return index, pairs
    return 0, []


def edit_undone(history: list[Observed]) -> Finding | None:
    """This iteration puts back what an earlier one replaced, and fails as before that change.

    The failure must be the one from before the undone change: undoing a
    change along with a new fix that changes the outcome is exploring.
    """
    state = history[-1]
    if not state.failing or not state.blocks:
        return None
    index, pairs = _undone(history)
    if not pairs or history[index - 1].fingerprint != state.fingerprint:
        return None
    earlier = history[index]
    paths = sorted({new.path for _, new in pairs})
    lines = sum(len(new.added) for _, new in pairs)
    why = (
        f"iteration {state.iteration} undid iteration {earlier.iteration}'s change to "
        f"{', '.join(paths)} ({lines} line{'s' if lines != 1 else ''}) and fails as it "
        f"did before that change: {state.failure}"
    )

    def evidence() -> dict[str, Any]:
        return {
            "undone_iteration": earlier.iteration,
            "paths": paths,
            "reverted": [
                {"change": old.as_text(), "undone_by": new.as_text()} for old, new in pairs
            ],
            "fingerprint": state.fingerprint.digest if state.fingerprint else None,
            "failure": state.failure,
            "trees": [earlier.tree, state.tree],
        }

    # The same text toggled again is the same evidence, whichever way it goes.
    key = "edit_undone:" + _digest(
        *sorted(
            "\n".join((new.path, *sorted(("\n".join(new.removed), "\n".join(new.added)))))
            for _, new in pairs
        )
    )
    its = [earlier.iteration, state.iteration]
    cooldown = state.iteration - earlier.iteration
    return Finding("edit_undone", key, its, one_line(why), evidence, cooldown)


def unchanged(history: list[Observed], threshold: int) -> Finding | None:
    """The workspace tree has not changed for ``threshold`` iterations."""
    state = history[-1]
    # The run of unchanged iterations that ends with this one.
    its: list[int] = []
    for i in range(len(history) - 1, 0, -1):
        if history[i].tree is None or history[i].tree != history[i - 1].tree:
            break
        its.insert(0, history[i].iteration)
    if not state.failing or len(its) < threshold:
        return None
    why = f"the workspace has not changed in {len(its)} iterations ({iterations_text(its)})"

    def evidence() -> dict[str, Any]:
        return {"reason": "unchanged", "tree": state.tree}

    return Finding(
        "no_progress", f"no_progress:unchanged:{state.tree}", its, why, evidence, threshold
    )


def plateau(history: list[Observed], progress_at: int, best: int, threshold: int) -> Finding | None:
    """``threshold`` iterations since the last progress (``history[progress_at]``)."""
    state = history[-1]
    flat = history[progress_at + 1 :]
    if not state.failing or len(flat) < threshold:
        return None
    since = history[progress_at]
    its = [s.iteration for s in flat]
    why = (
        f"no progress in {len(its)} iterations ({iterations_text(its)}): "
        f"still {state.passing} of {state.total} checks passing, the best was {best}, "
        "and every failure had been seen before"
    )

    def evidence() -> dict[str, Any]:
        # The failures seen on the plateau, each with the iterations that had it.
        seen: dict[str, dict[str, Any]] = {}
        for s in flat:
            if s.fingerprint is not None:
                entry = seen.setdefault(
                    s.fingerprint.digest,
                    {"fingerprint": s.fingerprint.digest, "failure": s.failure, "iterations": []},
                )
                entry["iterations"].append(s.iteration)
        return {
            "reason": "plateau",
            "since_iteration": since.iteration,
            "best_passing": best,
            "passing": [
                {"iteration": s.iteration, "passing": s.passing, "total": s.total}
                for s in [since, *flat][-PLATEAU_POINTS:]
            ],
            "failures": list(seen.values()),
        }

    key = f"no_progress:{since.iteration}"
    return Finding("no_progress", key, its, one_line(why), evidence, threshold)


def repeated_call(repeat: Repeat) -> Finding:
    """A call repeated often enough to report (see :mod:`tui.engine.toolcalls`)."""
    what = describe_call(repeat.name, repeat.input)
    if repeat.scope == "run":
        why = (
            f"the same edit ({what}) was made {times(repeat.count)} "
            f"({iterations_text(repeat.iterations)})"
        )
    else:
        verb = "read" if repeat.kind == "read" else "ran"
        same = "with the same result and " if repeat.seen is not None else "with "
        why = (
            f"{what} {verb} {times(repeat.count)} in iteration {repeat.iterations[0]} "
            f"{same}nothing changed in between"
        )

    def evidence() -> dict[str, Any]:
        return {
            "call": {"name": repeat.name, "input": repeat.input},
            "count": repeat.count,
            "scope": repeat.scope,
            "call_kind": repeat.kind,
            # What it returned each time, normalised; None when the agent does not say.
            "seen": repeat.seen,
        }

    key = f"repeated_actions:{repeat.key}"
    return Finding("repeated_actions", key, repeat.iterations, one_line(why), evidence, 1)


def false_done(claims: list[int], state: Observed, said: str) -> Finding:
    """The agent said it was done at ``claims`` while required validators failed."""
    why = (
        f"the agent said it was done {times(len(claims))} ({iterations_text(claims)}) "
        f"while required validators failed: {state.failure}"
    )

    def evidence() -> dict[str, Any]:
        return {"failure": state.failure, "said": one_line(said, 300)}

    return Finding("false_done", f"false_done:{claims[0]}", claims, one_line(why), evidence, 1)
