"""Benchmark: replay of a 1,000-iteration, 50 MB journal (not a timed test; prints figures).

- time to first paint: from indexing the journal (what ``loopconsole
  replay`` does first) until the console has drawn the last iteration, its
  transcript rendered (target: under 2 s);
- time to jump to a distant iteration (iteration 1 from iteration 1000,
  then a few others): from the request until every pane shows it (target:
  under 200 ms, the worst of them);
- peak RSS of the replaying process (target: under 400 MB). The journal is
  written by a separate process first, so its making is not counted.

The app runs headless (``run_test``) at 120x40. The journal is made with
``tests.benchmarks.make_journal`` and kept in the temp folder between runs.

Run: python tests/benchmarks/bench_replay.py [--iterations 1000] [--mb 50]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TARGETS = {"first paint s": 2.0, "jump ms": 200.0, "rss MB": 400.0}
REPO = Path(__file__).resolve().parents[2]


async def painted(app) -> None:  # type: ignore[no-untyped-def]
    """Until the screen has refreshed once more (as bench_console measures it)."""
    done = asyncio.get_running_loop().create_future()
    app.screen.call_after_refresh(lambda: done.done() or done.set_result(None))
    await done


async def settled(app, screen) -> None:  # type: ignore[no-untyped-def]
    """Until the transcript has mounted what it was asked to, then one more paint."""
    from tui.app.widgets.transcript import TranscriptPane

    pane = screen.query_one(TranscriptPane)
    await asyncio.sleep(0)
    while not pane.idle:
        await asyncio.sleep(0.001)
    await painted(app)


async def measure(run_dir: Path) -> dict[str, float]:
    """First paint, jumps and RSS, in this process."""
    from tui.app.replay import replay_app
    from tui.app.screens.replay import ReplayScreen

    started = time.perf_counter()
    app = replay_app(run_dir)  # what `loopconsole replay` runs
    figures: dict[str, float] = {"index s": time.perf_counter() - started}
    async with app.run_test(size=(120, 40)) as pilot:
        screen = app.screen
        assert isinstance(screen, ReplayScreen)
        await settled(app, screen)
        figures["first paint s"] = time.perf_counter() - started
        rows = screen.source.rows
        figures["iterations"] = len(rows)
        last = rows[-1].iteration
        jumps = []
        for target in (1, last // 2, last - 1, 2, last):
            t0 = time.perf_counter()
            screen.show_iteration(target)
            await settled(app, screen)
            jumps.append((time.perf_counter() - t0) * 1000)
            assert screen.replay.shown == target
        figures["jump ms"] = max(jumps)
        figures["jump ms median"] = sorted(jumps)[len(jumps) // 2]
        # The key path: j and a number typed, then timed from enter.
        await pilot.press("j", *str(last // 3))
        t0 = time.perf_counter()
        app.simulate_key("enter")
        while screen.replay.shown != last // 3:
            await asyncio.sleep(0.001)
        await settled(app, screen)
        figures["jump by key ms"] = (time.perf_counter() - t0) * 1000
    figures["rss MB"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    figures["journal MB"] = (run_dir / "journal.jsonl").stat().st_size / 1024 / 1024
    return figures


def journal_for(iterations: int, mb: float) -> Path:
    """A run folder holding the synthetic journal, made once (in a child process)."""
    run_dir = Path(tempfile.gettempdir()) / f"loopconsole-bench-replay-{iterations}-{mb:g}"
    journal = run_dir / "journal.jsonl"
    if not journal.is_file():
        run_dir.mkdir(parents=True, exist_ok=True)
        code = (
            "import sys; from pathlib import Path; "
            "from tests.benchmarks.make_journal import make_journal; "
            f"make_journal(Path(sys.argv[1]), iterations={iterations}, mb={mb})"
        )
        subprocess.run([sys.executable, "-c", code, str(journal)], cwd=REPO, check=True)
    return run_dir


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--iterations", type=int, default=1000)
    parser.add_argument("--mb", type=float, default=50.0)
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child is not None:
        print(json.dumps(asyncio.run(measure(args.child))))
        return 0
    run_dir = journal_for(args.iterations, args.mb)
    # A fresh process, so peak RSS is the replay's alone.
    out = subprocess.run(
        [sys.executable, __file__, "--child", str(run_dir)],
        cwd=REPO,
        check=True,
        capture_output=True,
        text=True,
    )
    figures = json.loads(out.stdout.strip().splitlines()[-1])
    ok = True
    for name, value in figures.items():
        target = TARGETS.get(name)
        if target is None:
            print(f"{name:>16}: {value:,.2f}")
            continue
        good = value <= target
        ok &= good
        print(f"{name:>16}: {value:,.2f}   target <= {target:,}   {'ok' if good else 'MISSED'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
