"""Benchmark: the compare screen's look at a fork group (prints figures against targets).

Eight branches, each with a synthetic journal of 100 iterations and about
6 MiB (make_journal.py), as a long fork group would have once its branches
ran for a while. The compare screen looks at the group every two seconds:

- cold: the first look, every journal read and folded into its record
  (target < 2 s, so the screen fills within a refresh);
- warm: a look when no journal changed, as while finished branches sit there
  (target < 50 ms: the refresh costs nothing when nothing moves);
- one changed: a look when one branch's journal grew (target < 500 ms).

Run: python tests/benchmarks/bench_compare.py [ITERATIONS] [MB]
"""

from __future__ import annotations

import shutil
import sys
import tempfile
import time
from pathlib import Path

if not __package__:  # run as a script: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.benchmarks.make_journal import make_journal  # noqa: E402
from tui.engine.fork import Branch  # noqa: E402
from tui.engine.fork_compare import RecordCache, look  # noqa: E402

BRANCHES = 8
TARGETS = {"cold": 2.0, "warm": 0.05, "one changed": 0.5}


def main(argv: list[str]) -> int:
    iterations = int(argv[0]) if argv else 100
    mb = float(argv[1]) if len(argv) > 1 else 6.0
    with tempfile.TemporaryDirectory() as tmp:
        runs = Path(tmp) / "runs"
        source = runs / "src"
        journal = make_journal(source / "journal.jsonl", iterations, mb)
        branches = []
        for i in range(1, BRANCHES + 1):
            path = runs / f"src-fork1-{i}"
            path.mkdir(parents=True)
            shutil.copyfile(journal, path / "journal.jsonl")
            branch = Branch(path, str(source), 1, "src-fork1", i)
            branch.save()
            branches.append(branch)
        size = journal.stat().st_size / 2**20
        print(f"{BRANCHES} branches x {iterations} iterations, {size:.1f} MiB each")
        cache: RecordCache = {}
        figures = {}
        started = time.perf_counter()
        view = look(branches, cache)
        figures["cold"] = time.perf_counter() - started
        assert len(view.results) == BRANCHES and view.results[0].record is not None
        started = time.perf_counter()
        look(branches, cache)
        figures["warm"] = time.perf_counter() - started
        with open(branches[3].path / "journal.jsonl", "a") as f:
            f.write("\n")
        started = time.perf_counter()
        look(branches, cache)
        figures["one changed"] = time.perf_counter() - started
    for name, seconds in figures.items():
        target = TARGETS[name]
        verdict = "OK" if seconds < target else "OVER"
        print(f"{name:<12} {seconds * 1000:8.1f} ms  (target < {target * 1000:.0f} ms) {verdict}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
