"""Fixtures for the console tests: a private config dir, fast scripted runs."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from textual.drivers.headless_driver import HeadlessDriver

from tests.loops import SAMPLES, edit, write_loop
from tui.app.config import CONFIG_ENV
from tui.engine.rundir import create_run
from tui.engine.runner import Runner
from tui.spec import LoopSpec, load_spec


@pytest.fixture(autouse=True)
def config_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test gets its own user config dir (themes, keymap, remembered theme)."""
    home = tmp_path / "config"
    monkeypatch.setenv(CONFIG_ENV, str(home))
    return home


@pytest.fixture
def fizzbuzz() -> LoopSpec:
    """The fizzbuzz sample, read from sample_loops (never written to)."""
    return load_spec(SAMPLES / "fizzbuzz")


@pytest.fixture
def make_runner(fizzbuzz: LoopSpec, tmp_path: Path) -> Callable[..., Runner]:
    """Build a runner on a fresh run directory under tmp_path.

    The sample paces its recording for people to watch; tests replay it at
    ``pace`` seconds per step (a copy of the script in tmp_path), short
    enough to be quick and long enough that a key pressed during iteration 1
    lands inside it.
    """

    def build(pace: float = 0.03, **options: bool) -> Runner:
        assert fizzbuzz.agent.script is not None
        script = fizzbuzz.agent.script.read_text()
        fast = tmp_path / "agent_script.toml"
        fast.write_text(re.sub(r"(?m)^pace_s = .*$", f"pace_s = {pace}", script))
        spec = fizzbuzz.model_copy(deep=True)
        spec.agent.script = fast
        run = create_run(spec, run_dir=tmp_path / "run")
        return Runner(spec, run, **options)

    return build


def _fast(spec: LoopSpec, folder: Path, pace: float) -> LoopSpec:
    """A copy of a scripted spec whose recording plays at ``pace`` seconds a step."""
    assert spec.agent.script is not None
    script = spec.agent.script.read_text()
    folder.mkdir(parents=True, exist_ok=True)
    fast = folder / "agent_script.toml"
    fast.write_text(re.sub(r"(?m)^pace_s = .*$", f"pace_s = {pace}", script))
    spec = spec.model_copy(deep=True)
    spec.agent.script = fast
    return spec


@pytest.fixture
def thrash_runner(tmp_path: Path) -> Callable[..., Runner]:
    """The thrash-demo sample (it pauses after iteration 3 with an oscillation), sped up."""

    def build(pace: float = 0.01, **options: bool) -> Runner:
        spec = _fast(load_spec(SAMPLES / "thrash-demo"), tmp_path / "script", pace)
        return Runner(spec, create_run(spec, run_dir=tmp_path / "run"), **options)

    return build


# Each iteration writes "bad N" into state.txt and adds addedN.txt, so a rewind
# has files to remove and a diff has lines to show.
STEPS = "".join(
    f"[[iteration]]\n{edit(f'bad {i}')}{edit(f'step {i}', f'added{i}.txt')}" for i in range(1, 7)
)


@pytest.fixture
def steps_runner(tmp_path: Path) -> Callable[..., Runner]:
    """A six-iteration scripted loop that never passes (thrash off), in step mode by default."""

    def build(pace: float = 0.0, **options: bool) -> Runner:
        options.setdefault("step", True)
        folder = tmp_path / "loop"
        spec = load_spec(
            write_loop(
                folder,
                script=f"pace_s = {pace}\n" + STEPS,
                extra='[thrash]\naction = "ignore"',
                budget="max_iterations = 6",
            )
        )
        return Runner(spec, create_run(spec, run_dir=tmp_path / "run"), **options)

    return build


@pytest.fixture
def suspendable(monkeypatch: pytest.MonkeyPatch) -> None:
    """Let App.suspend work under run_test, as it does in a real terminal.

    The headless driver says it cannot suspend; its suspend and resume steps
    are no-ops otherwise, so Textual's own suspend path (the app's suspend
    and resume signals, output redirected, the driver restarted) runs.
    """
    monkeypatch.setattr(HeadlessDriver, "can_suspend", property(lambda self: True))


@pytest.fixture
def script(tmp_path: Path) -> Callable[[str, str], str]:
    """Write an executable shell script; return its path (for $SHELL / $EDITOR)."""

    def write(name: str, body: str) -> str:
        path = tmp_path / "bin" / name
        path.parent.mkdir(exist_ok=True)
        path.write_text("#!/bin/sh\n" + body)
        path.chmod(0o755)
        return str(path)

    return write
