"""Live runs: figures against the targets of the engine process, attach and the fleet.

Prints, does not assert (not a timed test):

- event latency from an engine process to two attached clients while it
  streams 20,000 text deltas a second (targets p50 < 20 ms, p99 < 100 ms);
- attaching to a 1,000-iteration, 50 MB run until the console has painted it
  (target < 1 s);
- the fleet with 200 runs, 20 of them live, until its list is painted
  (target < 500 ms);
- CPU of an idle live engine and of the fleet while nothing happens
  (target < 2% of a core each).

Run: python tests/benchmarks/bench_live.py [--quick] [--fleet (the fleet's figures only)]
"""

from __future__ import annotations

import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from tests.app import sample_events as sample  # noqa: E402
from tests.benchmarks.make_journal import make_journal  # noqa: E402
from tui.engine.client import SocketConnection  # noqa: E402
from tui.engine.commands import Command, Reply  # noqa: E402
from tui.engine.journal import JournalWriter  # noqa: E402
from tui.engine.protocol import EngineInfo, write_engine_info  # noqa: E402
from tui.engine.server import RunServer  # noqa: E402
from tui.events import AgentText, Event, RunStarted, dump_event  # noqa: E402


class StreamingRun:
    """A stand-in runner that publishes text deltas at a fixed rate (in the engine process)."""

    run_id = "bench"

    def __init__(self, journal: Path) -> None:
        self.journal = journal
        self.writer = JournalWriter(journal)
        self.subscribers = [self.writer]

    def subscribe(self, callback) -> None:  # type: ignore[no-untyped-def]
        self.subscribers.append(callback)

    async def handle(self, command: Command) -> Reply:
        return Reply(id=command.id)

    def journal_offset(self) -> int:
        return self.journal.stat().st_size

    def publish(self, event: Event) -> None:
        for callback in self.subscribers:
            callback(event)

    async def stream(self, rate: int, seconds: float) -> None:
        self.publish(RunStarted(name="bench", goal="g", spec_path="", run_dir="", workspace="",
                                backend="scripted"))  # fmt: skip
        per_tick = rate // 1000
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            for _ in range(per_tick):
                self.publish(AgentText(text="token ", iteration=1))
            await asyncio.sleep(0.001)


def engine_process(folder: Path, rate: int, seconds: float) -> None:
    async def main() -> None:
        run = StreamingRun(folder / "journal.jsonl")
        server = RunServer(run, folder, run.journal, folder / "e.sock")  # type: ignore[arg-type]
        await server.start()
        while len(server.clients) < 2:
            await asyncio.sleep(0.01)
        await run.stream(rate, seconds)
        await asyncio.sleep(0.5)
        await server.close()

    asyncio.run(main())


async def latency(rate: int, seconds: float) -> list[float]:
    folder = Path(tempfile.mkdtemp(prefix="lcb"))
    engine = subprocess.Popen([sys.executable, __file__, "--engine", str(folder), str(rate),
                               str(seconds)])  # fmt: skip
    while not (folder / "e.sock").exists():
        await asyncio.sleep(0.01)
    delays: list[float] = []

    def timer(event: Event) -> None:
        if isinstance(event, AgentText):
            delays.append(time.time() - event.ts)

    clients = [await SocketConnection.open(folder / "e.sock") for _ in range(2)]
    for client in clients:
        client.subscribe(timer)
    await asyncio.gather(*(c.follow() for c in clients))
    engine.wait()
    return delays


async def attach_first_paint(journal: Path, iterations: int, *, indexed: bool = True) -> float:
    """Seconds from connecting to the console painted with the newest iteration.

    ``indexed``: the console reads the journal through its index (as ``attach``
    does on the run's machine); else the engine sends every event (``--via``).
    """
    from tui.app.app import ConsoleApp

    folder = journal.parent

    class Finished:
        run_id = "bench"

        def subscribe(self, callback) -> None:  # type: ignore[no-untyped-def]
            pass

        async def handle(self, command: Command) -> Reply:
            return Reply(id=command.id)

        def journal_offset(self) -> int:
            return journal.stat().st_size

    server = RunServer(Finished(), folder, journal, folder / "e.sock")  # type: ignore[arg-type]
    await server.start()
    started = time.perf_counter()
    connection = await SocketConnection.open(
        folder / "e.sock", journal=journal if indexed else None
    )
    app = ConsoleApp(connection=connection)
    async with app.run_test(size=(120, 40)) as pilot:
        while app.main.store.current < iterations:
            await pilot.pause(0.01)
        await pilot.pause()
        painted = time.perf_counter() - started
    await server.close()
    return painted


def make_fleet(count: int, live: int) -> Path:
    from tui.engine.live import register

    base = Path(tempfile.mkdtemp(prefix="lcb"))
    os.environ["LOOPCONSOLE_STATE_DIR"] = str(base / "state")
    kinds = [sample.succeeded, sample.oscillating, sample.over_budget, sample.running]
    for n in range(count):
        folder = base / "runs" / f"run-{n:03}"
        folder.mkdir(parents=True)
        events = kinds[n % len(kinds)]()
        (folder / "journal.jsonl").write_text("".join(dump_event(e) + "\n" for e in events))
        if n < live:
            write_engine_info(folder, EngineInfo(pid=os.getpid(), socket=str(folder / "s")))
        register(f"run-{n:03}", folder)
    return base


async def fleet_first_paint(count: int, idle_s: float = 10.0) -> tuple[float, float]:
    """First paint of the fleet screen, then its CPU while nothing happens.

    The idle window starts a second after the paint (the screen's own settling
    is part of painting, not of idling) and spans several looks at the runs.
    """
    from textual.widgets import DataTable

    from tui.app.fleet_app import FleetApp
    from tui.engine.fleet import Fleet

    started = time.perf_counter()
    app = FleetApp(Fleet())
    async with app.run_test(size=(140, 40)) as pilot:
        table = app.query_one(DataTable)
        while table.row_count < count:
            await pilot.pause(0.005)
        await pilot.pause()
        painted = time.perf_counter() - started
        await asyncio.sleep(1.0)
        cpu0 = time.process_time()
        await asyncio.sleep(idle_s)
        idle = (time.process_time() - cpu0) / idle_s
    return painted, idle


def fleet_look_ms(looks: int = 20) -> float:
    """One look at every run when nothing changed (what the fleet does every 2 s)."""
    from tui.engine.fleet import Fleet

    fleet = Fleet()
    fleet.rows()
    cpu0 = time.process_time()
    for _ in range(looks):
        fleet.rows()
    return (time.process_time() - cpu0) / looks * 1000


def fleet_via_cpu(*, follow: bool, looks: int = 5, every: float = 2.0) -> float:
    """CPU (here and there) of ``fleet --via`` looking every 2 s while nothing happens;
    ``env`` stands in for ssh. ``follow=False``: a process per look, as before --follow."""
    import resource

    from tui.bridge import RemoteFleet

    os.environ["PATH"] = f"{Path(sys.executable).parent}:{os.environ['PATH']}"
    remote = RemoteFleet("env")
    remote._follows = follow

    def used() -> float:
        mine = resource.getrusage(resource.RUSAGE_SELF)
        gone = resource.getrusage(resource.RUSAGE_CHILDREN)
        total = mine.ru_utime + mine.ru_stime + gone.ru_utime + gone.ru_stime
        if remote._followed is not None:
            fields = Path(f"/proc/{remote._followed.process.pid}/stat").read_text()
            ticks = fields.rsplit(")", 1)[1].split()
            total += (int(ticks[11]) + int(ticks[12])) / os.sysconf("SC_CLK_TCK")
        return total

    remote.rows()  # the first (cold) look
    time.sleep(1.0)
    before, started = used(), time.monotonic()
    for _ in range(looks):
        time.sleep(every)
        remote.rows()
    spent = (used() - before) / (time.monotonic() - started)
    remote.close()
    return spent


def engine_idle_cpu(seconds: float = 5.0) -> float:
    """CPU of a real engine process, paused, while nothing happens."""
    loop = Path(tempfile.mkdtemp(prefix="lcb"))
    run_dir = loop / "run"
    env = dict(os.environ)
    done = subprocess.run(
        [sys.executable, "-m", "tui.cli", "run", str(REPO / "sample_loops" / "fizzbuzz"),
         "--detach", "--paused", "--run-dir", str(run_dir)],
        capture_output=True, text=True, cwd=REPO, env=env, check=True,
    )  # fmt: skip
    pid = int(done.stdout.split("engine pid ")[1].split(")")[0])
    time.sleep(1.0)

    def cpu() -> float:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    before = cpu()
    time.sleep(seconds)
    used = (cpu() - before) / seconds
    os.kill(pid, 15)
    return used


def main() -> None:
    quick = "--quick" in sys.argv
    if "--fleet" not in sys.argv:
        rate, seconds = 20_000, (2.0 if quick else 5.0)
        delays = asyncio.run(latency(rate, seconds))
        ms = sorted(d * 1000 for d in delays)
        p50, p99 = statistics.median(ms), ms[int(len(ms) * 0.99)]
        print(f"latency, {rate:,} deltas/s, 2 clients: {len(ms):,} deliveries, "
              f"p50 {p50:.1f} ms (target < 20), p99 {p99:.1f} ms (target < 100)")  # fmt: skip
        mb, iterations = (10.0, 200) if quick else (50.0, 1000)
        folder = Path(tempfile.mkdtemp(prefix="lcb"))
        journal = make_journal(folder / "journal.jsonl", iterations=iterations, mb=mb)
        for indexed, how in ((True, "through the journal index"), (False, "every event sent")):
            painted = asyncio.run(attach_first_paint(journal, iterations, indexed=indexed))
            print(f"attach to a {iterations}-iteration {mb:.0f} MB run, {how}, first paint: "
                  f"{painted:.2f} s (target < 1 s)")  # fmt: skip
    make_fleet(200, 20)
    idle_s = 5.0 if quick else 10.0
    fleet_paint, fleet_cpu = asyncio.run(fleet_first_paint(200, idle_s))
    print(f"fleet of 200 runs (20 live), first paint: {fleet_paint * 1000:.0f} ms "
          "(target < 500 ms)")  # fmt: skip
    print(f"fleet idle CPU over {idle_s:.0f} s: {fleet_cpu * 100:.2f}% of a core (target < 2%); "
          f"one look at the 200 runs: {fleet_look_ms():.1f} ms every 2 s")  # fmt: skip
    print(f"fleet --via (env for ssh), idle, here and there: "
          f"{fleet_via_cpu(follow=True) * 100:.2f}% of a core following one process; "
          f"{fleet_via_cpu(follow=False) * 100:.1f}% with a process per look")  # fmt: skip
    if "--fleet" not in sys.argv:
        print(f"idle live engine CPU: {engine_idle_cpu() * 100:.2f}% of a core (target < 2%)")
    print(f"(load average: {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores)")


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--engine":
        engine_process(Path(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4]))
    else:
        main()
