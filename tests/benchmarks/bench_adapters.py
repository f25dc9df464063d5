"""Benchmark: how fast the CLI adapters read real output (not a timed test; prints figures).

Feeds every recording in tests/fixtures/cli (Claude Code 2.1.197 and Codex CLI
0.169.0 sessions) through its adapter many times over and reports lines and
megabytes per second. A long Claude Code session prints a few MB; the adapter
must never be what a loop waits for. Target: over 20,000 lines/s and 20 MB/s
on a 2-core machine.

Run: python tests/benchmarks/bench_adapters.py [rounds]
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from tui.agents.adapters import make_adapter

RECORDINGS = Path(__file__).resolve().parents[1] / "fixtures" / "cli"
TARGET_LINES_S = 20_000
TARGET_MB_S = 20.0


def main(rounds: int = 200) -> int:
    sessions = []
    for path in sorted(RECORDINGS.glob("*.json")):
        rec = json.loads(path.read_text())
        fmt = "claude-stream-json" if rec["cli"] == "claude" else "codex-json"
        text = "".join(line for _at, _stream, line in rec["lines"])
        sessions.append((fmt, text.replace("{workspace}", "/ws").splitlines()))
    lines = sum(len(s) for _f, s in sessions) * rounds
    size = sum(len(line) for _f, s in sessions for line in s) * rounds
    started = time.perf_counter()
    for _ in range(rounds):
        for fmt, session in sessions:
            adapter = make_adapter(fmt, Path("/ws"))
            for line in session:
                adapter.feed(line)
            adapter.finish()
    elapsed = time.perf_counter() - started
    per_s, mb_s = lines / elapsed, size / elapsed / 1e6
    print(f"{len(sessions)} recordings x {rounds}: {lines:,} lines, {size / 1e6:.1f} MB")
    print(f"  {per_s:,.0f} lines/s (target > {TARGET_LINES_S:,})  "
          f"{mb_s:.1f} MB/s (target > {TARGET_MB_S:g})")  # fmt: skip
    return 0 if per_s > TARGET_LINES_S and mb_s > TARGET_MB_S else 1


if __name__ == "__main__":
    sys.exit(main(*(int(a) for a in sys.argv[1:])))
