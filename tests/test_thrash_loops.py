"""Thrash detection on whole scripted loops run by the real runner.

Two layers:

- ``Watcher`` does what the runner's integration does (a real pygit2
  checkpoint after every iteration, its tree and patch, the iteration's
  events into an IterationRecord, then ``ThrashDetector.observe``), on runs
  with ``action = "ignore"``, and records every signal by iteration. It
  checks the detector on real tools, validators and checkpoints whether or
  not the runner calls it yet.
- The ``integrated`` tests run the loops with the default policy (pause) and
  read the runner's own journal: the run must stop at the first signal with
  outcome "paused" (exit 3 from the command line). They run once
  tui/engine/runner.py uses ThrashDetector.
"""

from __future__ import annotations

import inspect
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import tui.engine.runner
from tests.loops import SAMPLES, edit, write_loop
from tui.engine.checkpoints import Checkpoints
from tui.engine.journal import read_journal
from tui.engine.rundir import create_run
from tui.engine.runner import Runner
from tui.engine.thrash import ThrashDetector, record_from_events
from tui.events import Decided, Event, RunFinished, SignalRaised
from tui.spec import load_spec

INTEGRATED = "ThrashDetector" in inspect.getsource(tui.engine.runner)
needs_runner = pytest.mark.skipif(
    not INTEGRATED, reason="tui/engine/runner.py does not call ThrashDetector yet"
)

# A check that names what state.txt holds, as a real check script would.
CHECK = (
    "import sys\n"
    "text = open('state.txt').read().strip()\n"
    "if text != 'good':\n"
    "    print(f'FAIL: state.txt says {text!r}, expected good')\n"
    "    sys.exit(1)\n"
    "print('ok')\n"
)
CHECK_VALIDATOR = """
[[validators]]
name = "check"
run = "python -B check.py"
timeout_s = 30
"""
IGNORE = '[thrash]\naction = "ignore"\n'


class Watcher:
    """Checkpoints each iteration like the runner does and feeds the detector."""

    def __init__(self, runner: Runner, shadow: Path) -> None:
        self.events: list[Event] = []
        self.signals: dict[int, list[SignalRaised]] = {}
        self.detector = ThrashDetector(runner.spec.thrash)
        self.checkpoints = Checkpoints.open(shadow, runner.run_dir.workspace)
        self.detector.start(self.checkpoints.commit(0, "start").tree)
        runner.subscribe(self)

    def __call__(self, event: Event) -> None:
        self.events.append(event)
        if isinstance(event, Decided):
            info = self.checkpoints.commit(event.iteration, "agent")
            record = record_from_events(self.events, event.iteration)
            record.tree = info.tree
            record.patch = self.checkpoints.diff(None, info.commit).patch
            raised = self.detector.observe(record)
            if raised:
                self.signals[event.iteration] = raised

    def kinds(self) -> dict[int, list[str]]:
        return {i: [s.kind for s in signals] for i, signals in self.signals.items()}


def sample_copy(name: str, folder: Path, action: str | None = None) -> Path:
    """A sample loop copied to ``folder``, replayed without pauses, with a thrash action."""
    target = folder / name
    shutil.copytree(SAMPLES / name, target, ignore=shutil.ignore_patterns(".loopconsole"))
    script = target / "agent_script.toml"
    script.write_text(re.sub(r"(?m)^pace_s = .*$", "pace_s = 0", script.read_text()))
    spec = target / "loop.toml"
    text = re.sub(r"(?ms)^\[thrash\].*?(?=^\[|\Z)", "", spec.read_text())
    if action:
        text += f'\n[thrash]\naction = "{action}"\n'
    spec.write_text(text)
    return target


def step(tool: str, **tool_input: object) -> str:
    fields = ", ".join(f"{k} = {_toml(v)}" for k, v in tool_input.items())
    return f'[[iteration.step]]\ntool = "{tool}"\ninput = {{ {fields} }}\n'


def _toml(value: object) -> str:
    return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def replace(path: str, old: str, new: str) -> str:
    return step(
        "str_replace_based_edit_tool", command="str_replace", path=path, old_str=old, new_str=new
    )


def view(path: str) -> str:
    return step("str_replace_based_edit_tool", command="view", path=path)


def bash(command: str) -> str:
    return step("bash", command=command)


def iteration(*steps: str, done: bool | None = None) -> str:
    head = "[[iteration]]\n" + ("" if done is None else f"done = {str(done).lower()}\n")
    return head + "".join(steps)


def scripted(
    folder: Path, script: str, action: str | None, *, files: dict[str, str], iterations: int
) -> Path:
    """A scripted loop. With a pausing policy it gets a spare iteration of budget:
    a signal on the budget's last iteration ends the run as "budget" (the
    budget outranks a pause), and the test is about the pause."""
    spare = 0 if action == "ignore" else 1
    spec = write_loop(
        folder,
        script=script,
        files=files,
        validators=CHECK_VALIDATOR,
        budget=f"max_iterations = {iterations + spare}",
    )
    if action:
        spec.write_text(spec.read_text() + f'\n[thrash]\naction = "{action}"\n')
    return spec


# Each loop: (name, builder(folder, action) -> spec path, signals with "ignore",
# the first signal (kind, iteration) or None for a converging loop).
def same_failure_loop(folder: Path, action: str | None) -> Path:
    script = "".join(
        iteration(view("state.txt"), edit(f"bad {i}"), bash("python -B check.py"))
        for i in range(1, 5)
    )
    files = {"state.txt": "bad\n", "check.py": CHECK}
    return scripted(folder, script, action, files=files, iterations=4)


def edit_undone_loop(folder: Path, action: str | None) -> Path:
    script = iteration(replace("state.txt", "zero", "one"), edit("log 1", "log.txt"))
    script += iteration(replace("state.txt", "one", "two"), edit("log 2", "log.txt"))
    script += iteration(replace("state.txt", "two", "one"), edit("log 3", "log.txt"))
    files = {"state.txt": "zero\n", "check.py": CHECK}
    return scripted(folder, script, action, files=files, iterations=3)


def unchanged_loop(folder: Path, action: str | None) -> Path:
    script = "".join(iteration(view("state.txt"), bash("python -B check.py")) for _ in range(5))
    files = {"state.txt": "bad\n", "check.py": CHECK}
    return scripted(folder, script, action, files=files, iterations=5)


def plateau_loop(folder: Path, action: str | None) -> Path:
    # Two failures take turns in ever-new states (A1, B1, A2...): nothing new, nothing gained.
    states = ["A1", "B1", "A2", "B2", "A3", "B3"]
    script = "".join(iteration(edit(s), bash("python -B check.py")) for s in states)
    files = {"state.txt": "start\n", "check.py": CHECK}
    return scripted(folder, script, action, files=files, iterations=6)


def repeated_loop(folder: Path, action: str | None) -> Path:
    script = iteration(bash("cat state.txt"), bash("cat  state.txt"), bash("cat state.txt"))
    files = {"state.txt": "bad\n", "check.py": CHECK}
    return scripted(folder, script, action, files=files, iterations=1)


def false_done_loop(folder: Path, action: str | None) -> Path:
    script = iteration(edit("bad 1"), step("bash", command="echo fixed"), done=True)
    script += iteration(edit("nearly"), done=True)
    files = {"state.txt": "bad\n", "check.py": CHECK}
    return scripted(folder, script, action, files=files, iterations=2)


def converging_loop(folder: Path, action: str | None) -> Path:
    """Three files to fix, one per iteration; tests run after every edit; new errors each time."""
    check = (
        "import sys\n"
        "bad = [n for n in ('a', 'b', 'c') if open(n + '.txt').read().strip() != 'good']\n"
        "for n in bad:\n"
        "    print(f'FAIL: {n}.txt is not good')\n"
        "sys.exit(1 if bad else 0)\n"
    )
    script = ""
    for name in ("a", "b", "c"):
        script += iteration(
            view("a.txt"),
            bash("python -B check.py"),
            edit("good", f"{name}.txt"),
            bash("python -B check.py"),
            view(f"{name}.txt"),
            bash("python -B check.py"),
        )
    files = {"a.txt": "bad\n", "b.txt": "bad\n", "c.txt": "bad\n", "check.py": check}
    return scripted(folder, script, action, files=files, iterations=4)


def thrash_demo(folder: Path, action: str | None) -> Path:
    return sample_copy("thrash-demo", folder, action)


def fizzbuzz(folder: Path, action: str | None) -> Path:
    return sample_copy("fizzbuzz", folder, action)


def roman(folder: Path, action: str | None) -> Path:
    return sample_copy("roman", folder, action)


LOOPS = [
    ("thrash-demo", thrash_demo, {3: ["oscillation"]}, ("oscillation", 3)),
    ("same-failure", same_failure_loop, {3: ["same_failure"]}, ("same_failure", 3)),
    ("edit-undone", edit_undone_loop, {3: ["edit_undone"]}, ("edit_undone", 3)),
    (
        "unchanged",
        unchanged_loop,
        {3: ["same_failure"], 4: ["no_progress"]},
        ("same_failure", 3),
    ),
    ("plateau", plateau_loop, {6: ["no_progress"]}, ("no_progress", 6)),
    ("repeated", repeated_loop, {1: ["repeated_actions"]}, ("repeated_actions", 1)),
    ("false-done", false_done_loop, {2: ["false_done"]}, ("false_done", 2)),
    ("converging", converging_loop, {}, None),
    ("fizzbuzz", fizzbuzz, {}, None),
    ("roman", roman, {}, None),
]


def _marks(name: str) -> list[pytest.MarkDecorator]:
    # roman runs a real pytest suite three times (about 4 s).
    return [pytest.mark.slow] if name == "roman" else []


@pytest.mark.parametrize(
    ("build", "expected"),
    [
        pytest.param(build, expected, id=name, marks=_marks(name))
        for name, build, expected, _ in LOOPS
    ],
)
async def test_detector_on_a_real_run(build, expected, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    spec = load_spec(build(tmp_path / "loop", "ignore"))
    runner = Runner(spec, create_run(spec, tmp_path / "run"), interactive=False)
    watcher = Watcher(runner, tmp_path / "watch")
    finished = await runner.run()
    watcher.checkpoints.close()
    assert watcher.kinds() == expected
    assert finished.outcome in ("goal_met", "budget")


async def test_the_demo_oscillation_carries_the_evidence_a_person_needs(tmp_path: Path) -> None:
    spec = load_spec(thrash_demo(tmp_path, "ignore"))
    runner = Runner(spec, create_run(spec, tmp_path / "run"), interactive=False)
    watcher = Watcher(runner, tmp_path / "watch")
    await runner.run()
    (signal,) = watcher.signals[3]
    assert signal.iterations == [1, 2, 3]
    assert signal.evidence["same_tree_iterations"] == [1, 3]
    first, second, third = signal.evidence["cycle"]
    assert first["tree"] == third["tree"] == signal.evidence["tree"] != second["tree"]
    assert len(signal.evidence["tree"]) == 40  # a real git tree id
    assert "+    return round(total / per_page)" in second["patch"]
    assert "+    return total // per_page + 1" in third["patch"]
    assert "test_exact_multiple" in first["failure"] and "test_no_items" in first["failure"]
    assert "test_partial_last_page" in second["failure"]
    assert "FAIL: test_exact_multiple" in signal.evidence["failure_text"]
    assert signal.explanation.startswith(
        "iteration 3 put the workspace back exactly as it was after iteration 1 (tree "
    )


# -- through the runner's own integration ------------------------------------


@needs_runner
@pytest.mark.parametrize(
    ("build", "first"),
    [pytest.param(build, first, id=name, marks=_marks(name)) for name, build, _, first in LOOPS],
)
async def test_the_runner_pauses_at_the_first_signal(build, first, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    spec = load_spec(build(tmp_path / "loop", None))
    runner = Runner(spec, create_run(spec, tmp_path / "run"), interactive=False)
    finished = await runner.run()
    events = read_journal(runner.run_dir.journal_path).events
    signals = [e for e in events if isinstance(e, SignalRaised)]
    if first is None:
        assert signals == [] and finished.outcome == "goal_met"
        return
    kind, at = first
    assert [(s.kind, s.iteration) for s in signals][:1] == [(kind, at)]
    assert finished.outcome == "paused" and finished.exit_code == 3
    assert max(e.iteration for e in events if isinstance(e, Decided)) == at


@needs_runner
def test_headless_thrash_demo_exits_3_with_an_oscillation_at_iteration_3(tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    proc = subprocess.run(
        [sys.executable, "-m", "tui.cli", "run", str(SAMPLES / "thrash-demo"), "--headless"]
        + ["--run-dir", str(run_dir)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 3, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr
    events = read_journal(run_dir / "journal.jsonl").events
    (signal,) = [e for e in events if isinstance(e, SignalRaised)]
    assert (signal.kind, signal.iteration, signal.iterations) == ("oscillation", 3, [1, 2, 3])
    (end,) = [e for e in events if isinstance(e, RunFinished)]
    assert end.outcome == "paused"
