"""Benchmark: what comparing observations costs the thrash detector (prints figures).

Each iteration has 40 tool calls (reads and commands) whose results are
20 KB of log-like output dense with timestamps, durations, addresses and
temp paths, and every call's input comes back (12 distinct actions), so
every result must be normalised: the worst case (an output is normalised
only when its action was seen twice in the iteration). Measured:
normalising one such result, a plain 20 KB test log, and
``ThrashDetector.observe`` for a whole worst-case iteration (its 40
normalisations included; it runs once, at the end of the iteration).
Targets on a 2-core machine: under 10 ms per result, under 500 ms per
worst-case iteration (an iteration with 40 model turns takes minutes).

Run: python tests/benchmarks/bench_thrash.py [iterations]
"""

from __future__ import annotations

import statistics
import sys
import time

from tui.engine.fingerprint import normalize_output
from tui.engine.thrash import IterationRecord, ThrashDetector
from tui.events import ValidatorResult
from tui.spec import ThrashSpec

RESULT_TARGET_MS = 10.0
ITERATION_TARGET_MS = 500.0
CALLS = 40


def log(n: int) -> str:
    lines = [
        f"2026-11-26T00:{i % 60:02d}:{(i * 7) % 60:02d}.{i:03d}Z worker-{i % 4} step {n}/{i} "
        f"took {i * 0.37:.2f}s at 0x7f3a{i:08x} in /tmp/build-{i}/out.o"
        for i in range(220)
    ]
    return "\n".join(lines)[:20_000]


def main(iterations: int) -> None:
    outputs = [log(n) for n in range(CALLS)]
    took = []
    for text in outputs:
        start = time.perf_counter()
        normalize_output(text)
        took.append((time.perf_counter() - start) * 1000)
    per_result = statistics.median(took)
    plain = ("FAILED tests/test_x.py::test_a - AssertionError: assert 1 == 2\n" * 400)[:20_000]
    start = time.perf_counter()
    for _ in range(20):
        normalize_output(plain)
    per_plain = (time.perf_counter() - start) / 20 * 1000

    detector = ThrashDetector(ThrashSpec())
    failing = ValidatorResult(name="tests", command="x", passed=False, output="FAIL: t\n")
    per_iteration = []
    for it in range(1, iterations + 1):
        calls = [
            ("bash", {"command": f"tail -n 200 build-{i % 7}.log"})
            if i % 2
            else ("str_replace_based_edit_tool", {"command": "view", "path": f"f{i % 5}.py"})
            for i in range(CALLS)
        ]
        seen: list[str | None] = [f"ok 0\n{outputs[i]}" for i in range(CALLS)]
        start = time.perf_counter()
        detector.observe(
            IterationRecord(it, f"tree{it}", [failing], calls, False, observations=seen)
        )
        per_iteration.append((time.perf_counter() - start) * 1000)
    median = statistics.median(per_iteration)
    print(
        f"normalise one 20 KB noisy result: median {per_result:.2f} ms; a plain 20 KB test "
        f"log: {per_plain:.2f} ms (target < {RESULT_TARGET_MS})"
    )
    print(
        f"observe an iteration of {CALLS} calls with results: median {median:.2f} ms, "
        f"max {max(per_iteration):.2f} ms over {iterations} iterations "
        f"(target < {ITERATION_TARGET_MS})"
    )


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 200)
