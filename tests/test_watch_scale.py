"""Watch mode at scale: only the checkpointed folders are watched, new folders join in."""

from __future__ import annotations

import asyncio
from pathlib import Path

from tests.test_runner import _until
from tests.test_takeover import _runner
from tui.engine.checkpoints import Checkpoints
from tui.engine.watch import MAX_PATHS
from tui.events import WorkspaceEdited


def test_folders_come_from_the_index_not_a_walk(tmp_path: Path) -> None:
    ws, run = tmp_path / "ws", tmp_path / "run"
    for rel in ("a.py", "src/pkg/m.py", "src/n.py", "node_modules/x/y.js", "docs/empty/.keep"):
        (ws / rel).parent.mkdir(parents=True, exist_ok=True)
        (ws / rel).write_text("x\n")
    (ws / ".gitignore").write_text("node_modules/\n")
    run.mkdir()
    with Checkpoints.open(run, ws) as cps:
        cps.commit(0, "start")
        assert cps.folders() == ["", "docs", "docs/empty", "src", "src/pkg"]
        assert cps.is_ignored("node_modules/") and not cps.is_ignored("src/")


async def test_watch_skips_ignored_folders_follows_new_ones_and_caps_a_batch(
    tmp_path: Path,
) -> None:
    runner, seen = _runner(tmp_path, step=True)
    task = asyncio.create_task(runner.run())
    await _until(lambda: runner.status == "paused")
    ws = runner.run_dir.workspace
    (ws / ".gitignore").write_text("node_modules/\n")
    (ws / "node_modules").mkdir()
    await runner.record_human_changes()  # a checkpoint that knows the ignore rule
    runner.start_watch(debounce_ms=100)
    await asyncio.sleep(0.3)

    def edits() -> list[WorkspaceEdited]:
        return [e for e in seen if isinstance(e, WorkspaceEdited)]

    (ws / "node_modules" / "dep.js").write_text("ignored\n")
    (ws / "state.txt").write_text("edited\n")
    await _until(lambda: edits())
    assert edits()[-1].paths == ["state.txt"]
    # A new folder (with a file written at once) is reported, then watched.
    (ws / "pkg").mkdir()
    (ws / "pkg" / "first.py").write_text("1\n")
    await _until(lambda: any("pkg/first.py" in e.paths for e in edits()))
    await asyncio.sleep(0.3)
    (ws / "pkg" / "second.py").write_text("2\n")
    await _until(lambda: any("pkg/second.py" in e.paths for e in edits()))
    # A huge batch (a folder of files moved in at once) is cut short and counted.
    many = tmp_path / "generated"
    many.mkdir()
    for i in range(MAX_PATHS + 50):
        (many / f"gen{i}.py").write_text("g\n")
    many.rename(ws / "generated")
    await _until(lambda: any(e.more for e in edits()), timeout=20)
    big = next(e for e in edits() if e.more)
    assert len(big.paths) == MAX_PATHS
    assert not any("node_modules" in p for e in edits() for p in e.paths)
    runner.stop_watch()
    runner.stop()
    await task
