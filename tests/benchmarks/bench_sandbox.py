"""Benchmark: what the sandbox costs (not a timed test; prints figures).

1. Per command: the median wall time of 200 `true` commands through
   run_command, sandboxed (bubblewrap) and not, interleaved; the overhead is
   the difference. Target: under 15 ms.
2. The roman sample's validator (a real pytest run), sandboxed and not,
   interleaved, 7 times each. Target: median ratio at most 1.1.

Run: python tests/benchmarks/bench_sandbox.py [commands]
"""

from __future__ import annotations

import asyncio
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

from tui.engine.rundir import create_run
from tui.engine.trust import confinement_for, protected_paths
from tui.engine.validators import run_validators
from tui.spec import load_spec

ROMAN = Path(__file__).resolve().parents[2] / "sample_loops" / "roman"
TARGET_MS = 15.0
TARGET_RATIO = 1.1


def confinements(folder: Path):  # type: ignore[no-untyped-def]
    """The roman sample's run, confined by bubblewrap and unconfined."""
    loop = folder / "roman"
    shutil.copytree(ROMAN, loop, ignore=shutil.ignore_patterns(".loopconsole"))
    spec = load_spec(loop)
    out = {}
    for mode in ("bwrap", "off"):
        spec.sandbox.mode = mode  # type: ignore[assignment]
        run = create_run(spec, folder / f"run-{mode}")
        out[mode] = (run, confinement_for(spec, run, protected_paths(spec, run)))
    return spec, out


async def per_command(confined, unconfined, count: int) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    times: dict[str, list[float]] = {"bwrap": [], "off": []}
    for _ in range(count):
        for mode, (run, confinement) in (("bwrap", confined), ("off", unconfined)):
            started = time.perf_counter()
            result = await confinement.run("true", run.workspace, timeout_s=10)
            times[mode].append(time.perf_counter() - started)
            assert result.exit_code == 0, result.output
    return statistics.median(times["bwrap"]) * 1000, statistics.median(times["off"]) * 1000


async def validator_time(spec, confined, unconfined, rounds: int) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    times: dict[str, list[float]] = {"bwrap": [], "off": []}
    for _ in range(rounds):
        for mode, (run, confinement) in (("bwrap", confined), ("off", unconfined)):
            started = time.perf_counter()
            await run_validators(spec.validators, run.workspace, lambda _e: None, confinement)
            times[mode].append(time.perf_counter() - started)
    return statistics.median(times["bwrap"]), statistics.median(times["off"])


async def main(count: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        spec, runs = confinements(Path(tmp))
        sandboxed, plain = await per_command(runs["bwrap"], runs["off"], count)
        overhead = sandboxed - plain
        verdict = "ok" if overhead < TARGET_MS else "OVER TARGET"
        print(f"`true` x{count}: median {sandboxed:.2f} ms sandboxed, {plain:.2f} ms not")
        print(
            f"  sandbox overhead per command: {overhead:.2f} ms "
            f"(target < {TARGET_MS:g} ms) {verdict}"
        )
        boxed_s, plain_s = await validator_time(spec, runs["bwrap"], runs["off"], 7)
        ratio = boxed_s / plain_s
        verdict = "ok" if ratio <= TARGET_RATIO else "OVER TARGET"
        print(f"roman validator: median {boxed_s:.3f} s sandboxed, {plain_s:.3f} s not")
        print(f"  ratio {ratio:.3f} (target <= {TARGET_RATIO}) {verdict}")


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 200))
