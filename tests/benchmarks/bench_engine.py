"""Benchmark: engine overhead per iteration (not a timed test; prints figures).

A 200-iteration scripted run whose only validator is `true`. For each
iteration we take the wall time from IterationStarted to Decided and subtract
the validator's own process time, leaving what the engine itself spent:
prompt building, the scripted agent's tool call, events, journal writes and
fsyncs, the decision. Target: median under 15 ms on a 2-core machine.

Run: python tests/benchmarks/bench_engine.py [iterations]
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

from tui.engine.rundir import create_run
from tui.engine.runner import Runner
from tui.events import Decided, Event, IterationStarted, ValidatorFinished
from tui.spec import load_spec

TARGET_MS = 15.0


def write_spec(folder: Path, iterations: int) -> Path:
    ws = folder / "workspace"
    ws.mkdir(parents=True)
    (ws / "notes.txt").write_text("start\n")
    steps = []
    for i in range(iterations):
        steps.append(
            "[[iteration]]\ndone = false\nusage = { input_tokens = 1000, output_tokens = 200 }\n"
            "[[iteration.step]]\nsay = 'working'\n"
            "[[iteration.step]]\ntool = 'str_replace_based_edit_tool'\n"
            f"input = {{ command = 'create', path = 'notes.txt', file_text = 'iteration {i}' }}\n"
        )
    (folder / "script.toml").write_text("\n".join(steps))
    spec = folder / "loop.toml"
    spec.write_text(
        f"""
name = "bench"
goal = "benchmark"
workspace = "workspace"
[agent]
backend = "scripted"
script = "script.toml"
[[validators]]
name = "true"
run = "true"
required = false
[budget]
max_iterations = {iterations}
"""
    )
    return spec


async def measure(iterations: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        spec = load_spec(write_spec(folder, iterations))
        run = create_run(spec, folder / "run")
        runner = Runner(spec, run, interactive=False)
        starts: dict[int, float] = {}
        engine_ms: list[float] = []
        validator_s: dict[int, float] = {}

        def clock(event: Event) -> None:
            now = time.perf_counter()
            if isinstance(event, IterationStarted):
                starts[event.iteration] = now
            elif isinstance(event, ValidatorFinished):
                validator_s[event.iteration] = (
                    validator_s.get(event.iteration, 0) + event.result.duration_s
                )
            elif isinstance(event, Decided):
                wall = now - starts[event.iteration]
                engine_ms.append((wall - validator_s.get(event.iteration, 0)) * 1000)

        runner.subscribe(clock)
        t0 = time.perf_counter()
        finished = await runner.run()
        total = time.perf_counter() - t0
        journal_bytes = run.journal_path.stat().st_size
    assert finished.budget.iterations == iterations, finished
    return {
        "iterations": iterations,
        "median_ms": statistics.median(engine_ms),
        "p90_ms": statistics.quantiles(engine_ms, n=10)[-1],
        "journal_bytes_per_iteration": journal_bytes / iterations,
        "total_s": total,
    }


def main() -> None:
    iterations = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    r = asyncio.run(measure(iterations))
    verdict = "meets" if r["median_ms"] < TARGET_MS else "MISSES"
    print(f"engine benchmark: {r['iterations']} scripted iterations, validator `true`")
    print(f"  engine time per iteration: median {r['median_ms']:.2f} ms, p90 {r['p90_ms']:.2f} ms")
    print(f"  (validator process time excluded; target < {TARGET_MS:.0f} ms: {verdict})")
    print(f"  journal: {r['journal_bytes_per_iteration']:.0f} bytes per iteration")
    print(f"  whole run: {r['total_s']:.1f} s")


if __name__ == "__main__":
    main()
