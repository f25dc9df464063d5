"""Benchmark: forking and landing (prints figures against the issue's targets).

1. Fork 8 branches of a run over a 1,000-file workspace from a mid-run
   checkpoint: the time from the call until all 8 branches have started
   (RunStarted published, i.e. spec, workspace and checkpoints ready and the
   agent about to run). Target < 2 s. The branches run 8 at once here
   (``--jobs 8``); by default a fork runs as many at once as there are cores.
2. Land a 50-iteration run as a branch of a git repository. Target < 1 s.

The agent is a shell command (a real subprocess) that changes a few files per
iteration; the validator never passes, so the loop runs its whole budget.

Run: python tests/benchmarks/bench_explore.py
"""

from __future__ import annotations

import asyncio
import contextlib
import tempfile
import time
from pathlib import Path

import pygit2

from tui.cli import main
from tui.engine.fork import Variant, make_branches, run_branches
from tui.engine.land import land
from tui.engine.record import load_record
from tui.events import Event, RunStarted

AGENT = """#!/bin/sh
n=$(cat counter 2>/dev/null || echo 0); n=$((n+1)); echo $n > counter
for k in 1 2 3; do echo "change $n" >> "src/pkg$k/mod$((n % 10)).py"; done
sleep ${SLEEP:-0}
"""


def make_loop(folder: Path, files: int, iterations: int, sleep: float = 0.0) -> Path:
    ws = folder / "workspace"
    for i in range(files):
        p = ws / "src" / f"pkg{i % 20}" / f"mod{i // 20}.py"
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(f"# module {i}\n" + "x = 1\n" * 40)
    agent = folder / "agent.sh"
    agent.write_text(AGENT.replace("${SLEEP:-0}", str(sleep)))
    agent.chmod(0o755)
    spec = folder / "loop.toml"
    spec.write_text(
        f"""name = "bench"
goal = "never met"
workspace = "workspace"
copy_workspace = true
[agent]
backend = "command"
command = "{agent}"
format = "text"
[[validators]]
name = "never"
run = "false"
[budget]
max_iterations = {iterations}
[thrash]
action = "ignore"
"""
    )
    return spec


def commit_all(root: Path) -> None:
    repo = pygit2.init_repository(str(root))
    repo.index.add_all()
    repo.index.write()
    sig = pygit2.Signature("b", "b@localhost")
    repo.create_commit("HEAD", sig, sig, "init", repo.index.write_tree(), [])


def bench_fork(tmp: Path) -> float:
    spec = make_loop(tmp / "fork-src", files=1000, iterations=4)
    source = tmp / "runs" / "source"
    with contextlib.redirect_stdout(None):
        main(["run", str(spec), "--headless", "--run-dir", str(source)])
    # The branches' agent sleeps so they are all alive at once; the clock stops
    # when the eighth has started.
    (tmp / "fork-src" / "agent.sh").write_text(AGENT.replace("${SLEEP:-0}", "3"))
    started: list[float] = []
    all_running = asyncio.Event()

    def on_event(_branch: object, event: Event) -> None:
        if isinstance(event, RunStarted):
            started.append(time.perf_counter())
            if len(started) == 8:
                all_running.set()

    async def go() -> float:
        t0 = time.perf_counter()
        branches = make_branches(source, 2, [Variant(hint=f"try {i}") for i in range(8)])
        made = time.perf_counter()
        task = asyncio.create_task(run_branches(branches, concurrency=8, on_event=on_event))
        await all_running.wait()
        t1 = time.perf_counter()
        print(f"  fork: branch folders made in {made - t0:.2f} s")
        for b in branches:  # stop them: the figure is taken
            (b.path / "stop").touch()
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        return t1 - t0

    return asyncio.run(go())


def bench_land(tmp: Path) -> tuple[float, int]:
    root = tmp / "repo"
    spec = make_loop(root / "loop", files=200, iterations=50)
    commit_all(root)
    run_dir = tmp / "land-run"
    with contextlib.redirect_stdout(None):
        main(["run", str(spec), "--headless", "--run-dir", str(run_dir)])
    record = load_record(run_dir)
    t0 = time.perf_counter()
    result = land(record, branch="bench")
    return time.perf_counter() - t0, len(result.commits)


def bench() -> None:
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        fork_s = bench_fork(tmp)
        print(
            f"fork 8 branches of a 1,000-file workspace: all running after {fork_s:.2f} s "
            f"(target < 2 s) {'OK' if fork_s < 2 else 'MISSED'}"
        )
        land_s, commits = bench_land(tmp)
        print(
            f"land a 50-iteration run: {commits} commits in {land_s * 1000:.0f} ms "
            f"(target < 1 s) {'OK' if land_s < 1 else 'MISSED'}"
        )


if __name__ == "__main__":
    bench()
