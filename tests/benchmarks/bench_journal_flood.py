"""Benchmark: what a flood of agent output costs in the journal (prints figures).

Runs the real CLI on a command-backend loop whose "agent" is ``yes`` (short
lines, as fast as a pipe goes), and on one whose agent prints long lines, and
prints journal bytes per byte of output (target: at most 2x; before the
journal batched streamed text, ``yes`` cost about 65x) and the wall time.

Run: python tests/benchmarks/bench_journal_flood.py [MB]
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

TARGET_RATIO = 2.0


def flood(folder: Path, command: str, output_bytes: int) -> tuple[float, float]:
    """(journal bytes / output bytes, seconds) for one run of ``command``."""
    (folder / "ws").mkdir(parents=True)
    (folder / "loop.toml").write_text(
        'name = "flood"\ngoal = "g"\nworkspace = "ws"\n[agent]\nbackend = "command"\n'
        f'command = "{command}"\nformat = "text"\n[budget]\nmax_iterations = 1\n'
    )
    started = time.monotonic()
    subprocess.run(
        [sys.executable, "-m", "tui.cli", "run", str(folder), "--headless",
         "--run-dir", str(folder / "run")],
        capture_output=True, check=False,
    )  # fmt: skip
    took = time.monotonic() - started
    return (folder / "run" / "journal.jsonl").stat().st_size / output_bytes, took


def main() -> int:
    mb = float(sys.argv[1]) if len(sys.argv) > 1 else 20.0
    size = int(mb * 1024 * 1024)
    cases = {
        "yes (2-byte lines)": f"yes | head -c {size}",
        "80-char lines": f"yes {'x' * 79} | head -c {size}",
    }
    print(f"journal cost of {mb:g} MB of agent output (target <= {TARGET_RATIO:g}x)")
    with tempfile.TemporaryDirectory() as tmp:
        for i, (name, command) in enumerate(cases.items()):
            ratio, took = flood(Path(tmp) / str(i), command, size)
            verdict = "ok" if ratio <= TARGET_RATIO else "OVER"
            figures = f"{ratio:5.2f}x journal bytes per output byte  {took:6.1f} s"
            print(f"  {name:<20} {figures}  {verdict}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
