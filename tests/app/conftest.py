"""Fixtures for the console tests: a private config dir, fast scripted runs."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.loops import SAMPLES
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
