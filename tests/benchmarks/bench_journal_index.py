"""Benchmark: the journal index on a big journal (not a timed test; prints figures).

Writes a synthetic 1,000-iteration journal of 50 MiB (make_journal.py), then,
in a fresh process so the generator's memory does not count:

- build: JournalIndex.build, the one pass that gives every row (target:
  under 1 s, so that replay paints within 2 s);
- jump: events(i) of iterations not loaded yet, far apart (target: well
  under 200 ms);
- RSS: after build, and the peak of the process (target: far under 400 MB,
  which is the whole replay's budget);
- for scale, a full read of the journal (read_journal), which replay avoids.

Run: python tests/benchmarks/bench_journal_index.py [ITERATIONS] [MB]
"""

from __future__ import annotations

import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

if not __package__:  # run as a script: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.benchmarks.make_journal import make_journal  # noqa: E402

TARGETS = {"build s": 1.0, "jump ms": 200.0, "peak rss MB": 400.0}
JUMPS = (1000, 1, 500, 750, 250, 999, 2, 640)


def rss_mb() -> float:
    """The resident set size now (Linux)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def measure(path: Path) -> None:
    """Build the index, jump around, print the figures (runs in a fresh process)."""
    from tui.engine.journal import read_journal
    from tui.engine.journal_index import JournalIndex

    base = rss_mb()
    started = time.perf_counter()
    index = JournalIndex.build(path)
    build = time.perf_counter() - started
    after_build = rss_mb()
    jumps = []
    for n in JUMPS:
        n = min(n, len(index.rows))
        started = time.perf_counter()
        events = index.events(n)
        jumps.append((time.perf_counter() - started) * 1000)
        assert events and events[0].iteration == n
    started = time.perf_counter()
    index.events(JUMPS[0])
    cached = (time.perf_counter() - started) * 1000
    peak_index = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"journal          {path.stat().st_size / 2**20:.1f} MiB, {len(index.rows)} iterations")
    print(f"build            {build:.3f} s        (target < {TARGETS['build s']} s)")
    print(
        f"jump             median {statistics.median(jumps):.1f} ms, max {max(jumps):.1f} ms "
        f"over {len(jumps)} unloaded iterations (target < {TARGETS['jump ms']:.0f} ms)"
    )
    print(f"jump, cached     {cached:.3f} ms")
    print(f"rss              {base:.0f} MB at start, {after_build:.0f} MB after build")
    print(f"peak rss         {peak_index:.0f} MB   (target < {TARGETS['peak rss MB']:.0f} MB)")
    started = time.perf_counter()
    full = read_journal(path)
    print(
        f"for scale: read_journal {time.perf_counter() - started:.2f} s, "
        f"{len(full.events):,} events, peak rss then "
        f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB"
    )


def main(argv: list[str]) -> int:
    if argv[:1] == ["--measure"]:
        measure(Path(argv[1]))
        return 0
    iterations = int(argv[0]) if argv else 1000
    mb = float(argv[1]) if len(argv) > 1 else 50.0
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "journal.jsonl"
        started = time.perf_counter()
        make_journal(path, iterations, mb)
        print(f"make_journal     {time.perf_counter() - started:.1f} s")
        repo = Path(__file__).resolve().parents[2]
        return subprocess.call(
            [sys.executable, "-m", "tests.benchmarks.bench_journal_index", "--measure", str(path)],
            cwd=repo,
        )


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
