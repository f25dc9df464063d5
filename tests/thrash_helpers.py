"""Builders for thrash-detection tests: validator results, records, patches, calls."""

from __future__ import annotations

import difflib
from typing import Any

from tui.engine.thrash import IterationRecord, ThrashDetector
from tui.events import SignalRaised, ValidatorResult
from tui.spec import ThrashSpec

TEST = "test_pages.PageCountTest."


def failing(
    *tests: str,
    error: str = "AssertionError: 3 != 2",
    passed: int = 3,
    name: str = "tests",
    required: bool = True,
) -> ValidatorResult:
    """A unittest run where ``tests`` (short names) fail with ``error``."""
    ids = [TEST + t for t in tests]
    blocks = [
        "=" * 70
        + f"\nFAIL: {t} ({TEST}{t})\n"
        + "-" * 70
        + "\nTraceback (most recent call last):\n"
        f'  File "/tmp/run-{len(t)}/workspace/tests/test_pages.py", line 8, in {t}\n'
        f"{error}\n"
        for t in tests
    ]
    return ValidatorResult(
        name=name,
        command="python -m unittest",
        required=required,
        passed=False,
        exit_code=1,
        output="\n".join(blocks) + f"\nRan {passed + len(ids)} tests in 0.002s\n\nFAILED",
        reason=f"exit 1: {len(ids)} failed, {passed} passed",
        tests_passed=passed,
        tests_failed=len(ids),
        tests_errors=0,
        failing_ids=ids,
    )


def passed(count: int = 5, name: str = "tests") -> ValidatorResult:
    return ValidatorResult(
        name=name,
        command="python -m unittest",
        passed=True,
        exit_code=0,
        output=f"Ran {count} tests in 0.001s\n\nOK",
        tests_passed=count,
        tests_failed=0,
        tests_errors=0,
    )


def record(
    iteration: int,
    *results: ValidatorResult,
    tree: str | None = None,
    calls: list[tuple[str, dict[str, Any]]] | None = None,
    done: bool = False,
    patch: str = "",
    said: str = "",
) -> IterationRecord:
    return IterationRecord(
        iteration=iteration,
        tree=tree,
        results=list(results),
        tool_calls=calls or [],
        claims_done=done,
        patch=patch,
        final_text=said,
    )


def diff(path: str, before: str, after: str) -> str:
    """A git-style unified diff of one file."""
    lines = difflib.unified_diff(
        before.splitlines(keepends=True),
        after.splitlines(keepends=True),
        f"a/{path}",
        f"b/{path}",
    )
    return f"diff --git a/{path} b/{path}\n" + "".join(lines)


def view(path: str) -> tuple[str, dict[str, Any]]:
    return ("str_replace_based_edit_tool", {"command": "view", "path": path})


def replace(path: str, old: str, new: str) -> tuple[str, dict[str, Any]]:
    return (
        "str_replace_based_edit_tool",
        {"command": "str_replace", "path": path, "old_str": old, "new_str": new},
    )


def bash(command: str) -> tuple[str, dict[str, Any]]:
    return ("bash", {"command": command})


def observe_all(
    records: list[IterationRecord], spec: ThrashSpec | None = None
) -> dict[int, list[SignalRaised]]:
    """Feed records in order; the signals raised after each iteration, by iteration."""
    detector = ThrashDetector(spec or ThrashSpec())
    return {r.iteration: detector.observe(r) for r in records}


def kinds(raised: dict[int, list[SignalRaised]]) -> dict[int, list[str]]:
    """Only the iterations that raised something, with the kinds raised."""
    return {i: [s.kind for s in signals] for i, signals in raised.items() if signals}
