"""The words of thrash signals: short descriptions, and the corrective hint.

The hint is what the "hint" policy puts into the next prompt: it names what
repeats, with the evidence, and says what to try instead. It is written to
the agent (second person), from the evidence a signal carries, so it works
the same on a live signal and on one read back from a journal.
"""

from __future__ import annotations

from typing import Any

from tui.events import SignalRaised


def one_line(text: str, limit: int = 240) -> str:
    """Whitespace collapsed to single spaces, cut to ``limit`` characters."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def iterations_text(iterations: list[int], word: str = "iterations") -> str:
    """``iterations 3–5``, ``iterations 1, 3 and 5``, ``iteration 4``; 0 is the start."""
    its = sorted(set(iterations))
    start = 0 in its
    its = [i for i in its if i != 0]
    if not its:
        return "the start"
    singular = word.removesuffix("s")
    if len(its) == 1:
        text = f"{singular} {its[0]}"
    elif its == list(range(its[0], its[-1] + 1)):
        text = f"{singular}s {its[0]}–{its[-1]}"
    else:
        text = f"{singular}s " + ", ".join(map(str, its[:-1])) + f" and {its[-1]}"
    return f"the start and {text}" if start else text


def times(n: int) -> str:
    """``once``, ``twice``, ``3 times``."""
    return {1: "once", 2: "twice"}.get(n, f"{n} times")


def describe_call(name: str, tool_input: dict[str, Any]) -> str:
    """A tool call in a few words: ``str_replace pages.py``, ```pytest -q```."""
    command = tool_input.get("command") or tool_input.get("cmd")
    path = tool_input.get("path") or tool_input.get("file_path")
    if isinstance(command, str) and isinstance(path, str):
        return f"{command} {path}"
    if isinstance(command, str):
        return f"`{one_line(command, 80)}`"
    if isinstance(path, str):
        return f"{name} {path}"
    first = next((v for v in tool_input.values() if isinstance(v, str)), "")
    return f"{name} {one_line(first, 60)}".strip()


def _same_failure(s: SignalRaised, ev: dict[str, Any]) -> str:
    still = " and the workspace did not change" if ev.get("unchanged") else ""
    return (
        f"The same failure has come back {len(s.iterations)} times in a row "
        f"({iterations_text(s.iterations)}){still}: {ev.get('failure', '')}. "
        "What was tried in those iterations did not change it, so do not try it again. "
        "Re-read the failing check and its whole error, find out what actually produces the "
        "wrong result (run only that check, print the values involved), and take a different "
        "approach (the failure itself is in this prompt, with the validators' output)."
    )


def _version(iterations: list[int]) -> str:
    """``the version after iterations 1 and 3``, ``the starting version (again after ...)``."""
    later = [i for i in iterations if i]
    if len(later) == len(iterations):
        return f"the version after {iterations_text(later)}"
    return "the starting version" + (f" (again after {iterations_text(later)})" if later else "")


def _oscillation(s: SignalRaised, ev: dict[str, Any]) -> str:
    first, last = (ev.get("same_tree_iterations") or [s.iterations[0], s.iterations[-1]])[:2]
    where = f"after iteration {first}" if first else "at the start"
    # One line per version (tree), naming every iteration that left it.
    versions: dict[str, list[int]] = {}
    failures: dict[str, str] = {}
    for c in ev.get("cycle", []):
        tree = str(c.get("tree"))
        versions.setdefault(tree, []).append(int(c["iteration"]))
        failures[tree] = c.get("failure") or "failing"
    # Indented: the prompt lists hints as bullets of their own.
    lines = [f"  - {_version(its)}: {failures[tree]}" for tree, its in versions.items()]
    return (
        f"You are going back and forth: iteration {last} put the workspace back exactly as it "
        f"was {where}, and it still fails. Each version you went between fails:\n"
        + "\n".join(lines)
        + "\nDo not go back to any of these versions. Work out what each one gets right and "
        "what it breaks, then write one change that makes all of these checks pass together."
    )


def _edit_undone(s: SignalRaised, ev: dict[str, Any]) -> str:
    paths = ", ".join(ev.get("paths", [])) or "the code"
    changes = "\n".join(r.get("change", "") for r in ev.get("reverted", []))[:600]
    changes = "\n".join("    " + line for line in changes.splitlines())
    return (
        f"Iteration {s.iterations[-1]} undid the change iteration {ev.get('undone_iteration')} "
        f"made to {paths}, and the failure is the same as before that change "
        f"({ev.get('failure', '')}). Neither version of that code works, so do not switch "
        "between them again: look for the cause elsewhere, or write a third version that "
        f"handles what both missed. The change that was undone:\n{changes}"
    )


def _no_progress(s: SignalRaised, ev: dict[str, Any]) -> str:
    if ev.get("reason") == "unchanged":
        return (
            f"The workspace has not changed in {len(s.iterations)} iterations "
            f"({iterations_text(s.iterations)}). Reading and re-running will not fix it: make "
            "a concrete change to the code (the smallest one that could fix the first failing "
            "check), then run the validators."
        )
    return (
        f"There has been no progress in {len(s.iterations)} iterations "
        f"({iterations_text(s.iterations)}): no check started passing, and every failure "
        "had been seen before. Step back: re-read the goal and the failing checks, write "
        "down the assumption each of your fixes relied on, and test those assumptions "
        "one at a time before editing again."
    )


def _repeated_actions(s: SignalRaised, ev: dict[str, Any]) -> str:
    call = ev.get("call", {})
    what = describe_call(str(call.get("name", "")), dict(call.get("input", {})))
    count = ev.get("count", len(s.iterations))
    if ev.get("scope") == "run":
        return (
            f"You have made the same edit ({what}) {times(count)} "
            f"({iterations_text(s.iterations)}). It keeps being undone or keeps failing, so "
            "do not make it again: look at the file as it is now and try a different change."
        )
    verb = "read" if ev.get("call_kind") == "read" else "ran"
    return (
        f"You {verb} {what} {times(count)} in iteration {s.iterations[0]} without changing "
        "anything in between. The result will not change until something else does: act on "
        "what it already told you."
    )


def _false_done(s: SignalRaised, ev: dict[str, Any]) -> str:
    return (
        f"You said the task was done {times(len(s.iterations))} "
        f"({iterations_text(s.iterations)}) while required validators still failed "
        f"({ev.get('failure', '')}). Do not say you are done until you have run the "
        "validators yourself and they pass."
    )


_HINTS = {
    "same_failure": _same_failure,
    "oscillation": _oscillation,
    "edit_undone": _edit_undone,
    "no_progress": _no_progress,
    "repeated_actions": _repeated_actions,
    "false_done": _false_done,
}


def corrective_hint(signal: SignalRaised) -> str:
    """A note for the agent's next prompt: what repeats, and what to try instead."""
    write = _HINTS.get(signal.kind)
    body = write(signal, signal.evidence) if write else signal.explanation
    return f"The loop is not converging ({signal.kind.replace('_', ' ')}). {body}"


def recovery_note(signal: SignalRaised) -> str:
    """The note a recovery puts into the next prompt: where the workspace went back
    to, then the corrective hint."""
    start = min(signal.iterations, default=signal.iteration)
    where = "the start of the run" if start <= 1 else f"the start of iteration {start}"
    return (
        f"The workspace was put back to how it was at {where}, before this began; "
        f"the work since is set aside. {corrective_hint(signal)}"
    )
