"""Benchmark: the console under a flood (not a timed test; prints figures).

The app runs under ``run_test`` and is fed events the way the runner feeds
it (synchronous subscriber calls from a coroutine on the same loop):

- 50,000 assistant text deltas: deltas per second drained until the last
  one is in the transcript (target: at least 20,000/s);
- key-press-to-screen latency while the stream runs: a key posted to the
  app, until its effect is painted (target: under 100 ms, median); the
  pause key (space), and m (maximise), the heaviest one;
- a validator output of 200,000 lines: time until its last line is on
  screen (target: under 1 s);
- peak RSS of the process (target: under 300 MB).

Run: python tests/benchmarks/bench_console.py
"""

from __future__ import annotations

import asyncio
import os
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

if not __package__:  # run as a script: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from textual.widgets import Log, Markdown

from tests.app.helpers import StillConnection
from tui.app.app import ConsoleApp
from tui.app.screens.main import MainScreen
from tui.events import (
    AgentText,
    BudgetState,
    ControlApplied,
    IterationStarted,
    RunStarted,
    ValidatorOutput,
    ValidatorStarted,
)

DELTAS = 50_000
LINES = 200_000
TARGETS = {"deltas/s": 20_000, "validator s": 1.0, "rss MB": 300, "key ms": 100}


def start_events() -> list:
    return [
        RunStarted(
            name="bench",
            goal="benchmark",
            spec_path="",
            run_dir="",
            workspace="",
            backend="scripted",
            budget=BudgetState(max_iterations=10),
            validators=["tests"],
        ),
        IterationStarted(goal="benchmark", prompt="# Goal\nbenchmark", iteration=1),
    ]


def delta(i: int) -> str:
    # Words with a paragraph break now and then, like a model's answer.
    return "\n\n" if i % 60 == 59 else f"word{i % 97} "


async def painted(app: ConsoleApp) -> None:
    """Wait until the screen has refreshed once more."""
    done = asyncio.get_running_loop().create_future()
    app.screen.call_after_refresh(lambda: done.done() or done.set_result(None))
    await done


async def stream(screen: MainScreen, app: ConsoleApp) -> float:
    """Publish the deltas; return the seconds until the last one is on screen."""
    feed = screen.feed
    started = time.perf_counter()
    for i in range(DELTAS):
        feed(AgentText(text=delta(i), iteration=1))
        if i % 250 == 249:
            await asyncio.sleep(0)  # a producer yields while it streams
    feed(AgentText(text="THE-END", iteration=1))
    while True:
        mds = list(screen.query(Markdown))
        if mds and mds[-1].source.rstrip().endswith("THE-END"):
            break
        await asyncio.sleep(0.001)
    await painted(app)
    return time.perf_counter() - started


class Connection(StillConnection):
    """Stands in for the engine: the benchmark measures the console.

    pause publishes what the engine would (a control event), which the event
    strip shows.
    """

    feed = None

    async def send(self, command):  # type: ignore[no-untyped-def]
        if command.type == "pause" and self.feed is not None:
            self.feed(ControlApplied(control="pause", iteration=1))
        return await super().send(command)


async def key_latencies(
    app: ConsoleApp, streaming: asyncio.Task, key: str, times: list[float]
) -> None:
    """While the stream runs, press ``key`` and time it until its effect is painted.

    space (pause) puts a line on the event strip; m maximises or restores a pane, which
    restyles the whole screen (the heaviest key there is).
    """
    screen = app.main

    def state() -> object:
        return screen.event_log.version if key == "space" else screen.maximized

    while not streaming.done():
        before = state()
        t0 = time.perf_counter()
        app.simulate_key(key)
        while state() == before:
            await asyncio.sleep(0.001)
        await painted(app)
        times.append((time.perf_counter() - t0) * 1000)
        await asyncio.sleep(0.05)


async def validator_flood(screen: MainScreen, app: ConsoleApp) -> float:
    feed = screen.feed
    feed(ValidatorStarted(name="tests", command="pytest", iteration=1))
    await asyncio.sleep(0.05)
    started = time.perf_counter()
    chunk = 1_000
    for base in range(0, LINES, chunk):
        lines = range(base, base + chunk)
        text = "".join(f"tests/test_mod.py::test_case_{n} PASSED\n" for n in lines)
        feed(ValidatorOutput(name="tests", text=text, iteration=1))
        await asyncio.sleep(0)
    log = screen.query_one("#validator-log", Log)
    last = f"test_case_{LINES - 1}"  # its line may be folded at the pane's width
    while not any(last in line for line in log.lines[-3:]):
        await asyncio.sleep(0.001)
    await painted(app)
    return time.perf_counter() - started


async def main() -> dict[str, float]:
    os.environ.setdefault("LOOPCONSOLE_CONFIG_DIR", tempfile.mkdtemp())
    connection = Connection()
    app = ConsoleApp(events=start_events(), connection=connection, follow=False)
    connection.feed = app.main.feed
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        screen = app.main
        pause_ms: list[float] = []
        streaming = asyncio.ensure_future(stream(screen, app))
        await key_latencies(app, streaming, "space", pause_ms)
        seconds = streaming.result()
        # A second stream, for the heaviest key.
        await pilot.pause(0.2)
        maximise_ms: list[float] = []
        streaming = asyncio.ensure_future(stream(screen, app))
        await key_latencies(app, streaming, "m", maximise_ms)
        if screen.maximized is not None:
            screen.minimize()
        await pilot.pause(0.2)
        validator_s = await validator_flood(screen, app)
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {
        "deltas/s": DELTAS / seconds,
        "validator s": validator_s,
        "rss MB": rss_mb,
        "key ms": statistics.median(pause_ms),
        "key ms max": max(pause_ms),
        "maximise ms": statistics.median(maximise_ms),
        "maximise ms max": max(maximise_ms),
    }


if __name__ == "__main__":
    figures = asyncio.run(main())
    ok = True
    for name, value in figures.items():
        target = TARGETS.get(name)
        if target is None:
            print(f"{name:>14}: {value:,.1f}")
            continue
        good = value >= target if name == "deltas/s" else value <= target
        ok &= good
        print(
            f"{name:>14}: {value:,.1f}   target {'>=' if name == 'deltas/s' else '<='} "
            f"{target:,}   {'ok' if good else 'MISSED'}"
        )
    sys.exit(0 if ok else 1)
