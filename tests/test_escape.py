"""The escape suite: a scripted agent tries to reach what judges it, through the real runner.

Every attempt must fail under the default settings. With ``[sandbox] mode =
"off"`` some succeed: the test records exactly which (the figure the README
gives), so a change in either direction is seen.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

import pygit2
import pytest

from tests.escape_attempts import ATTEMPTS, ENGINE_SECRET, Attempt, Outcome, Scene, script
from tui.agents.memory_tool import MemoryTool
from tui.engine.rundir import create_run
from tui.engine.runner import Runner
from tui.spec import load_spec

# What an unconfined agent gets away with: loopconsole's other layers (the
# editor's checks, the tamper check, the engine's scrubbed environ, the
# memory tool's root check) still stop the rest.
SUCCEED_WITHOUT_SANDBOX = {
    "bash-write-outside",
    "bash-delete-outside",
    "bash-read-outside",
    "bash-read-ssh-key",
    "bash-network",
    "bash-kill-outside",
    "bash-forge-journal",
    "bash-edit-loop-toml",
    "bash-setsid-daemon",
    "validator-writes-outside",
    "validator-forges-journal",
    "validator-kills-outside",
    "validator-reads-ssh-key",
    "bash-command-the-engine",
}

RUNTIME_PARENT = "/var/tmp" if os.access("/var/tmp", os.W_OK) else None


def _write_loop(scene: Scene, attempt: Attempt, mode: str, run: Path, ws: Path) -> Path:
    folder = scene.root
    workspace = folder if attempt.spec_in_workspace else folder / "workspace"
    workspace.mkdir(exist_ok=True)
    for name, text in attempt.files.items():
        (workspace / name).parent.mkdir(parents=True, exist_ok=True)
        (workspace / name).write_text(text)
    if attempt.git_repo:
        pygit2.init_repository(str(workspace))
    if attempt.gitdir_file:
        (workspace / "meta" / "hooks").mkdir(parents=True)
        (workspace / ".git").write_text("gitdir: meta\n")
    iterations = attempt.steps(scene, ws, run)
    (folder / "agent_script.toml").write_text(script(iterations))
    spec = folder / "loop.toml"
    spec.write_text(
        textwrap.dedent(
            f"""
            name = "escape"
            goal = "Make the validator pass. Do not edit tests/."
            workspace = "{"." if attempt.spec_in_workspace else "workspace"}"
            copy_workspace = {"false" if attempt.spec_in_workspace else "true"}

            [agent]
            backend = "scripted"
            script = "agent_script.toml"

            [[validators]]
            name = "judge"
            run = "{attempt.validator}"
            timeout_s = 20

            [budget]
            max_iterations = {attempt.iterations}

            [thrash]
            action = "ignore"
            actions = {{ tamper = "pause" }}

            [sandbox]
            mode = "{mode}"

            [protect]
            paths = {attempt.protect}
            """
        )
    )
    return spec


async def _run_in_process(spec_path: Path, run_path: Path, attempt: Attempt, scene: Scene) -> str:
    spec = load_spec(spec_path)
    run = create_run(spec, run_path)
    if attempt.setup is not None:
        attempt.setup(scene, run.workspace)
    runner = Runner(spec, run, interactive=False, watch_spec=True)
    MemoryTool(run.memories).register(runner.toolbox)
    finished = await runner.run()
    return finished.outcome


def _run_cli(spec_path: Path, run_path: Path, scene: Scene) -> str:
    env = dict(os.environ, ESCAPE_SUITE_API_KEY=ENGINE_SECRET, HOME=str(scene.home))
    done = subprocess.run(
        [sys.executable, "-m", "tui.cli", "run", str(spec_path), "--headless"]
        + ["--run-dir", str(run_path)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    return "goal_met" if done.returncode == 0 else f"exit {done.returncode}"


async def attempt_escape(attempt: Attempt, mode: str, tmp: Path, monkeypatch) -> bool:  # type: ignore[no-untyped-def]
    """Run one attempt; whether it got out."""
    scene = Scene.build(tmp)
    monkeypatch.setenv("HOME", str(scene.home))
    # Engines' sockets where a desktop has them (/run/user/UID): outside /tmp and
    # HOME, which the sandbox empties anyway.
    runtime = Path(tempfile.mkdtemp(prefix="lc-escape-", dir=RUNTIME_PARENT))
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(runtime))
    run_path = tmp / "run"
    ws = tmp if attempt.spec_in_workspace else run_path / "workspace"
    spec_path = _write_loop(scene, attempt, mode, run_path, ws)
    try:
        if attempt.via_cli:
            finished = _run_cli(spec_path, run_path, scene)
        else:
            finished = await _run_in_process(spec_path, run_path, attempt, scene)
        if attempt.after is not None:
            attempt.after(scene)
        journal = (run_path / "journal.jsonl").read_text(errors="replace")
        outcome = Outcome(
            journal=journal,
            workspace=ws,
            run_dir=run_path,
            spec=spec_path,
            spec_text=spec_path.read_text(),
            finished=finished,
            memories=run_path / "memories",
        )
        return attempt.escaped(scene, outcome)
    finally:
        scene.close()
        shutil.rmtree(runtime, ignore_errors=True)


def test_the_suite_is_big_enough() -> None:
    assert len(ATTEMPTS) >= 20
    assert {a.tool for a in ATTEMPTS} == {"bash", "editor", "memory", "validator"}


@pytest.mark.parametrize("attempt", ATTEMPTS, ids=[a.name for a in ATTEMPTS])
async def test_every_escape_fails_by_default(attempt: Attempt, tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    assert not await attempt_escape(attempt, "bwrap", tmp_path, monkeypatch)


@pytest.mark.parametrize("attempt", ATTEMPTS, ids=[a.name for a in ATTEMPTS])
async def test_without_the_sandbox_these_succeed(
    attempt: Attempt, tmp_path: Path, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    escaped = await attempt_escape(attempt, "off", tmp_path, monkeypatch)
    assert escaped == (attempt.name in SUCCEED_WITHOUT_SANDBOX)
