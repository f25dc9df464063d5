"""Repetition against exploration, and recovering from signals, through the real runner.

Scripted loops run by the real runner on real tools, validators and
checkpoints; each test reads the runner's own journal.
"""

from __future__ import annotations

import asyncio
import re
import subprocess
import sys
from pathlib import Path

from tests.test_thrash_loops import CHECK, bash, edit, iteration, sample_copy, scripted, view
from tui.engine.journal import read_journal
from tui.engine.record import load_record
from tui.engine.resume import load_resume_state, prepare_workspace
from tui.engine.rundir import create_run, open_run
from tui.engine.runner import Runner
from tui.events import (
    Decided,
    Event,
    HintAdded,
    IterationStarted,
    RunFinished,
    SignalRaised,
    SignalRecovered,
    ThresholdRaised,
)
from tui.spec import load_spec

# A job that moves on every time it is looked at: "step 1 of 6" ... "done".
POLL = (
    "import datetime, os\n"
    "os.makedirs('.job', exist_ok=True)\n"
    "try:\n"
    "    n = int(open('.job/count').read()) + 1\n"
    "except OSError:\n"
    "    n = 1\n"
    "open('.job/count', 'w').write(str(n))\n"
    "stamp = datetime.datetime.now().isoformat()\n"
    "print(f'[{stamp}] build: ' + (f'step {n} of 6' if n < 6 else 'done'))\n"
)
# Says the time and that it waits: the same thing each time, once the time is set aside.
WAIT = "import datetime; print(datetime.datetime.now().isoformat(), 'waiting for the server')\n"
# Appends a line to state.txt and prints the file: each run changes what a read sees.
GROW = "open('state.txt', 'a').write('more\\n'); print(open('state.txt').read())\n"


async def run_loop(spec_path: Path, tmp_path: Path, **options: bool) -> tuple[Runner, list[Event]]:
    spec = load_spec(spec_path)
    runner = Runner(spec, create_run(spec, tmp_path / "run"), interactive=False, **options)
    await runner.run()
    return runner, read_journal(runner.run_dir.journal_path).events


def of(events: list[Event], kind: type) -> list:  # type: ignore[type-arg]
    return [e for e in events if isinstance(e, kind)]


def files(**extra: str) -> dict[str, str]:
    return {"state.txt": "bad\n", "check.py": CHECK, **extra}


# -- item 1: the same action and the same observation ------------------------


async def test_polling_a_job_whose_output_changes_is_never_flagged(tmp_path: Path) -> None:
    # Iteration 1 polls the build six times, with nothing else in between; then
    # iteration 2 fixes the state. Before, six runs of one command were a repeat.
    script = iteration(*[bash("python -B poll.py")] * 6) + iteration(edit("good"))
    spec = scripted(tmp_path / "loop", script, None, files=files(**{"poll.py": POLL}), iterations=2)
    runner, events = await run_loop(spec, tmp_path)
    assert of(events, SignalRaised) == []
    (end,) = of(events, RunFinished)
    assert end.outcome == "goal_met"
    assert (runner.run_dir.workspace / ".job" / "count").read_text() == "6"


async def test_a_read_of_a_file_that_changed_in_between_is_not_a_repeat(tmp_path: Path) -> None:
    script = iteration(*[view("state.txt"), bash("python -B grow.py")] * 3) + iteration(
        edit("good")
    )
    spec = scripted(tmp_path / "loop", script, None, files=files(**{"grow.py": GROW}), iterations=2)
    _, events = await run_loop(spec, tmp_path)
    assert of(events, SignalRaised) == []
    assert of(events, RunFinished)[0].outcome == "goal_met"


async def test_a_read_repeated_with_nothing_changed_is_flagged_at_once(tmp_path: Path) -> None:
    script = iteration(view("state.txt"), view("state.txt"), view("state.txt"))
    spec = scripted(tmp_path / "loop", script, None, files=files(), iterations=1)
    _, events = await run_loop(spec, tmp_path)
    (signal,) = of(events, SignalRaised)
    assert (signal.kind, signal.iteration, signal.action) == ("repeated_actions", 1, "pause")
    assert signal.evidence["call_kind"] == "read" and signal.evidence["count"] == 3
    assert "bad" in signal.evidence["seen"]  # what the agent saw each time
    assert of(events, RunFinished)[0].outcome == "paused"


async def test_output_that_differs_only_in_its_timestamp_is_the_same(tmp_path: Path) -> None:
    script = iteration(*[bash("python -B wait.py")] * 3)
    spec = scripted(tmp_path / "loop", script, None, files=files(**{"wait.py": WAIT}), iterations=1)
    _, events = await run_loop(spec, tmp_path)
    (signal,) = of(events, SignalRaised)
    assert signal.kind == "repeated_actions" and signal.evidence["count"] == 3
    assert signal.evidence["seen"].endswith("<time> waiting for the server")


# -- item 3: the recover policy ------------------------------------------------


def recover_loop(folder: Path, recoveries: int = 2, iterations: int = 5) -> Path:
    """Every iteration writes a new state, then reads it three times over."""
    script = "".join(
        iteration(edit(f"bad {i}"), view("state.txt"), view("state.txt"), view("state.txt"))
        for i in range(1, iterations + 1)
    )
    spec = scripted(folder, script, None, files=files(), iterations=iterations)
    spec.write_text(
        spec.read_text() + f'\n[thrash]\naction = "recover"\nrecoveries = {recoveries}\n'
    )
    return spec


async def test_recover_rewinds_twice_with_the_note_then_pauses(tmp_path: Path) -> None:
    runner, events = await run_loop(recover_loop(tmp_path / "loop"), tmp_path)
    signals = of(events, SignalRaised)
    assert [(s.kind, s.iteration, s.action) for s in signals] == [
        ("repeated_actions", 1, "recover"),
        ("repeated_actions", 2, "recover"),
        ("repeated_actions", 3, "recover"),
    ]
    decided = of(events, Decided)
    assert [d.action for d in decided] == ["continue", "continue", "pause"]
    assert "recovering (1 of 2): back to the start" in decided[0].reason
    assert "recovering (2 of 2): back to before iteration 2" in decided[1].reason
    assert "2 recoveries already made, a human decides now" in decided[2].reason
    recovered = of(events, SignalRecovered)
    assert [(r.to_iteration, r.number, r.limit, r.by_human) for r in recovered] == [
        (0, 1, 2, False),
        (0, 2, 2, False),  # iteration 2 started from the start again
    ]
    # The note went into the next prompt, once.
    prompts = {e.iteration: e.prompt for e in of(events, IterationStarted)}
    assert "The workspace was put back to how it was at the start" in prompts[2]
    assert "You read str_replace_based_edit_tool" not in prompts[1]
    assert "without changing anything in between" in prompts[2]
    assert "without changing anything in between" in prompts[3]
    # Each rewind put state.txt back as it was before the iteration's edit.
    rewinds = [e for e in events if getattr(e, "restored_iteration", None) is not None]
    assert [e.iteration for e in rewinds] == [1, 2]
    end = of(events, RunFinished)[0]
    assert end.outcome == "paused" and end.exit_code == 3
    assert (runner.run_dir.workspace / "state.txt").read_text() == "bad 3"
    # The report does not put the policy's rewinds down to the engineer.
    assert load_record(runner.run_dir.path).interventions() == []


async def test_resume_honours_the_recoveries_already_made(tmp_path: Path) -> None:
    spec_path = recover_loop(tmp_path / "loop", recoveries=2)
    # One recovery, then the budget stops the run (it outranks thrash).
    spec_path.write_text(
        re.sub(r"max_iterations = \d+", "max_iterations = 2", spec_path.read_text())
    )
    runner, events = await run_loop(spec_path, tmp_path)
    assert len(of(events, SignalRecovered)) == 1
    assert of(events, RunFinished)[0].outcome == "budget"
    # Raise the budget (in loop.toml and the run's copy of it), then resume.
    for path in (spec_path, runner.run_dir.path / "spec.toml"):
        path.write_text(path.read_text().replace("max_iterations = 2", "max_iterations = 6"))
    state = load_resume_state(runner.run_dir.path)
    assert state.recovery.used == 1
    run = open_run(runner.run_dir.path, state.spec)
    resumed = Runner(
        state.spec,
        run,
        interactive=False,
        resume=state,
        prep=prepare_workspace(state, run.workspace),
    )
    await resumed.run()
    events = read_journal(run.journal_path).events
    # One more recovery (2 of 2) after the resume, then a pause: not a third.
    assert [r.number for r in of(events, SignalRecovered)] == [1, 2]
    last = of(events, Decided)[-1]
    assert last.iteration == 4 and last.action == "pause"
    assert "2 recoveries already made" in last.reason
    assert of(events, RunFinished)[-1].outcome == "paused"


def test_headless_prints_the_decision_the_rewind_and_the_note(tmp_path: Path) -> None:
    target = sample_copy("thrash-demo", tmp_path)
    spec = target / "recover.toml"
    proc = subprocess.run(
        [sys.executable, "-m", "tui.cli", "run", str(spec), "--headless"]
        + ["--run-dir", str(tmp_path / "run")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    (line,) = [ln for ln in proc.stdout.splitlines() if ln.startswith("#3")]
    assert "recovering (1 of 2): back to the start" in line
    assert " · rewound to the start · note: The workspace was put back" in line
    assert "goal met after 4 iterations" in proc.stdout


# -- item 4: honest quiet, and evidence raised once ---------------------------


async def test_an_ignored_kind_is_recorded_but_never_interrupts(tmp_path: Path) -> None:
    script = iteration(view("state.txt"), view("state.txt"), view("state.txt"))
    script += iteration(edit("good"))
    spec = scripted(tmp_path / "loop", script, None, files=files(), iterations=2)
    spec.write_text(spec.read_text() + '\n[thrash]\nactions = { repeated_actions = "ignore" }\n')
    _, events = await run_loop(spec, tmp_path)
    (signal,) = of(events, SignalRaised)
    assert (signal.kind, signal.action) == ("repeated_actions", "ignore")
    assert [d.action for d in of(events, Decided)] == ["continue", "stop"]
    assert of(events, RunFinished)[0].outcome == "goal_met"


async def wait_until(condition, what: str, seconds: float = 30) -> None:  # type: ignore[no-untyped-def]
    for _ in range(int(seconds * 50)):
        if condition():
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}")


async def test_a_human_raises_a_threshold_and_recovers_and_resume_keeps_both(
    tmp_path: Path,
) -> None:
    script = iteration(edit("bad 1"), view("state.txt"), view("state.txt"), view("state.txt"))
    script += iteration(edit("good"))
    spec = load_spec(scripted(tmp_path / "loop", script, None, files=files(), iterations=2))
    runner = Runner(spec, create_run(spec, tmp_path / "run"))
    task = asyncio.create_task(runner.run())
    await wait_until(lambda: runner.status == "paused", "the pause at the signal")
    (signal,) = of(read_journal(runner.run_dir.journal_path).events, SignalRaised)
    raised = runner.raise_threshold("repeated_actions")
    assert (raised.previous, raised.threshold) == (3, 6)
    assert runner.thrash.spec.repeated_actions == 6
    recovered = await runner.recover(signal, "Read it once, then fix it.")
    assert (recovered.to_iteration, recovered.by_human, recovered.number) == (0, True, 0)
    finished = await asyncio.wait_for(task, 30)
    assert finished.outcome == "goal_met"
    events = read_journal(runner.run_dir.journal_path).events
    prompts = {e.iteration: e.prompt for e in of(events, IterationStarted)}
    assert "Read it once, then fix it." in prompts[2]
    assert [(t.kind, t.threshold) for t in of(events, ThresholdRaised)] == [("repeated_actions", 6)]


async def test_resume_keeps_raised_thresholds_and_raised_evidence(tmp_path: Path) -> None:
    script = iteration(view("state.txt"), view("state.txt"), view("state.txt"))
    spec = load_spec(scripted(tmp_path / "loop", script, None, files=files(), iterations=1))
    runner = Runner(spec, create_run(spec, tmp_path / "run"))
    task = asyncio.create_task(runner.run())
    await wait_until(lambda: runner.status == "paused", "the pause at the signal")
    runner.raise_threshold("repeated_actions")
    runner.stop()
    await asyncio.wait_for(task, 30)
    state = load_resume_state(runner.run_dir.path)
    assert [t.threshold for t in state.thresholds] == [6]
    assert [s.kind for s in state.signals] == ["repeated_actions"]
    run = open_run(runner.run_dir.path, state.spec)
    resumed = Runner(
        state.spec,
        run,
        interactive=False,
        resume=state,
        prep=prepare_workspace(state, run.workspace),
    )
    await resumed.run()
    assert resumed.thrash.spec.repeated_actions == 6
    assert not of(read_journal(run.journal_path).events, HintAdded)


def test_the_spec_takes_recover_per_kind_and_a_bound(tmp_path: Path) -> None:
    from tui.spec import SpecError

    spec_path = scripted(
        tmp_path / "loop", iteration(edit("good")), None, files=files(), iterations=1
    )
    base = spec_path.read_text()
    spec_path.write_text(
        base + '\n[thrash]\nactions = { same_failure = "recover" }\nrecoveries = 0\n'
    )
    thrash = load_spec(spec_path).thrash
    assert (
        thrash.action_for("same_failure") == "recover"
        and thrash.action_for("oscillation") == "pause"
    )
    assert thrash.recoveries == 0
    spec_path.write_text(base + "\n[thrash]\nrecoveries = -1\n")
    try:
        load_spec(spec_path)
    except SpecError as exc:
        assert exc.messages == [
            f"{spec_path}: thrash.recoveries: must be greater than or equal to 0, got -1"
        ]
    else:
        raise AssertionError("recoveries = -1 was accepted")


def test_among_signals_to_recover_from_the_earliest_evidence_wins() -> None:
    from tui.engine.decide import strongest_policy
    from tui.spec import ThrashSpec

    def signal(kind: str, its: list[int], action: str) -> SignalRaised:
        return SignalRaised(
            kind=kind, iteration=its[-1], iterations=its, explanation="x", action=action
        )

    late = signal("repeated_actions", [5], "recover")
    early = signal("same_failure", [3, 4, 5], "recover")
    quiet = signal("no_progress", [1, 2, 3, 4, 5], "ignore")
    assert strongest_policy([late, early, quiet], ThrashSpec()) == ("recover", early)
    paused = signal("oscillation", [4, 5], "pause")
    assert strongest_policy([late, paused], ThrashSpec()) == ("pause", paused)
