"""Benchmark: prompt size and caching of the anthropic backend (prints figures).

A real run (runner, prompt builder, validators, tools, SDK over HTTP) against
the fake Messages API: 20 iterations of 10 turns each. Every turn the model
runs a shell command; once per iteration it updates its memory notes. The
validator always fails, so the loop goes on. For every request we record its
size in bytes, its estimated input tokens (4 characters a token, tools +
system + messages as sent; the API's own tool instructions are not counted),
the share of them behind cache breakpoints, and the share the (simulated)
cache served.

Two ways of keeping notes are measured: "current" (one progress file kept up
to date, as Anthropic's memory guidance suggests) and "append" (a new line
every iteration; the engine caps notes in the prompt at memory.max_note_chars,
so this grows until the cap).

Target (issue 4): the first request of iteration 20 is at most 1.3 times the
first request of iteration 2 -- each iteration is a fresh conversation, so the
prompt stays flat as the run grows. Checked on the "current" run.

Run: python tests/benchmarks/bench_anthropic.py [iterations] [turns]
"""

from __future__ import annotations

import asyncio
import os
import re
import sys
import tempfile
import textwrap
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from tests.fake_messages_server import (  # noqa: E402
    FakeMessagesServer,
    PromptCache,
    RecordedRequest,
    text,
    tool_use,
    turn,
)
from tui.engine.rundir import create_run  # noqa: E402
from tui.engine.runner import Runner  # noqa: E402
from tui.spec import load_spec  # noqa: E402

TARGET = 1.3
NOTES = "/memories/progress.md"
CHECK = "python -c \"print('FAILED check: VALUE is 1, expected 2'); raise SystemExit(1)\""


def _iteration(body: dict[str, Any]) -> int:
    found = re.search(r"This is iteration (\d+)\.", body["messages"][0]["content"][0]["text"])
    return int(found.group(1)) if found else 1


def _note(body: dict[str, Any], style: str) -> dict[str, Any]:
    n = _iteration(body)
    if n == 1:
        return {"command": "create", "path": NOTES, "file_text": "- attempts so far: 1\n"}
    if style == "append":
        line = f"- attempt {n}: tried another variant of the fix; still failing"
        return {"command": "insert", "path": NOTES, "insert_line": 0, "insert_text": line}
    old, new = f"attempts so far: {n - 1}\n", f"attempts so far: {n}\n"
    return {"command": "str_replace", "path": NOTES, "old_str": old, "new_str": new}


def responder(turns: int, style: str) -> Callable[[dict[str, Any]], dict[str, Any]]:
    """A model that works ``turns`` turns per iteration, then stops."""

    def answer(body: dict[str, Any]) -> dict[str, Any]:
        step = (len(body["messages"]) - 1) // 2
        if step == 0:
            return turn(text("Updating my notes."), tool_use("memory", _note(body, style)))
        if step < turns - 1:
            cmd = f"printf 'step {step}: %s\\n' $(seq 1 40)"
            return turn(text(f"Step {step}: checking again."), tool_use("bash", {"command": cmd}))
        return turn(text("I changed what I could; the validator decides."))

    return answer


def write_loop(folder: Path, iterations: int) -> Path:
    (folder / "workspace").mkdir(parents=True)
    (folder / "workspace" / "app.py").write_text("VALUE = 1\n")
    spec = folder / "loop.toml"
    body = f"""
        name = "bench"
        goal = "Make VALUE equal 2 in app.py without editing the check."
        workspace = "workspace"
        copy_workspace = true
        [agent]
        backend = "anthropic"
        model = "claude-sonnet-5-5"
        max_turns = 50
        [[validators]]
        name = "check"
        run = '''{CHECK}'''
        [budget]
        max_iterations = {iterations}
        [thrash]
        action = "ignore"
        """
    spec.write_text(textwrap.dedent(body))
    return spec


@dataclass
class Row:
    """One request: bytes, estimated input tokens, shares behind breakpoints / read."""

    size: int
    tokens: int
    marked: float
    read: float

    @classmethod
    def of(cls, request: RecordedRequest) -> Row:
        # A cold cache writes everything up to the last breakpoint: that is the marked part.
        cold = PromptCache().usage_for(request.body or {})
        tokens = sum(cold.values())
        served = request.usage or {}
        return cls(
            size=len(request.raw),
            tokens=tokens,
            marked=(tokens - cold["input_tokens"]) / tokens,
            read=served.get("cache_read_input_tokens", 0) / tokens,
        )


async def measure(iterations: int, turns: int, style: str) -> list[list[Row]]:
    """Run the loop; the requests' figures, grouped by iteration."""
    with tempfile.TemporaryDirectory() as tmp, FakeMessagesServer(responder(turns, style)) as fake:
        spec = load_spec(write_loop(Path(tmp) / "loop", iterations))
        spec.agent.base_url = fake.url
        runner = Runner(spec, create_run(spec, Path(tmp) / "run"), interactive=False)
        finished = await runner.run()
        requests = [r for r in fake.requests if r.path == "/v1/messages" and r.body]
    print(f"\n== notes kept {style!r}: {finished.outcome} ({finished.reason}), "
          f"{len(requests)} requests")  # fmt: skip
    grouped: list[list[Row]] = []
    for r in requests:
        if len(r.body["messages"]) == 1:
            grouped.append([])
        grouped[-1].append(Row.of(r))
    return grouped


def report(grouped: list[list[Row]], per_turn: bool) -> float | None:
    """Print the figures; return the iteration 20 / iteration 2 ratio when there is one."""
    if per_turn:
        print("iteration 1, per turn:      bytes  est. tokens  behind breakpoints  cache read")
        for n, row in enumerate(grouped[0], 1):
            print(f"  turn {n:2}  {row.size:14,}  {row.tokens:11,}  {row.marked:18.1%}"
                  f"  {row.read:10.1%}")  # fmt: skip
    print("per iteration: first request; share of the iteration's input the cache served")
    for n, rows in enumerate(grouped, 1):
        first = rows[0]
        read = sum(r.tokens * r.read for r in rows) / sum(r.tokens for r in rows)
        print(f"  #{n:2}  first {first.size:7,} B {first.tokens:6,} tok  turns {len(rows):2}"
              f"  cache read {read:6.1%}")  # fmt: skip
    if len(grouped) < 20:
        return None
    ratio = grouped[19][0].tokens / grouped[1][0].tokens
    print(f"first request, iteration 20 / iteration 2: {ratio:.2f}")
    return ratio


async def main(iterations: int = 20, turns: int = 10) -> int:
    os.environ.setdefault("ANTHROPIC_API_KEY", "sk-ant-bench")
    current = report(await measure(iterations, turns, "current"), per_turn=True)
    report(await measure(iterations, turns, "append"), per_turn=False)
    if current is None:
        print("\n(fewer than 20 iterations: no target check)")
        return 0
    verdict = "PASS" if current <= TARGET else "FAIL"
    print(f"\ntarget (notes kept current): {current:.2f} <= {TARGET}: {verdict}")
    return 0 if current <= TARGET else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main(*[int(a) for a in sys.argv[1:3]])))
