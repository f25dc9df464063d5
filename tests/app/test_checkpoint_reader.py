"""CheckpointReader: a run's checkpoints read through Checkpoints.open_readonly."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tui.app.checkpoint_reader import CheckpointReader
from tui.engine.checkpoints import CheckpointError, Checkpoints
from tui.engine.shadow import SHADOW_DIR


def test_diffs_come_from_the_repository_alone_and_nothing_is_written(tmp_path: Path) -> None:
    workspace, run_dir = tmp_path / "ws", tmp_path / "run"
    workspace.mkdir()
    run_dir.mkdir()
    (workspace / "a.txt").write_text("one\n")
    with Checkpoints.open(run_dir, workspace) as cps:
        start = cps.commit(0, "start").commit
        (workspace / "a.txt").write_text("two\n")
        agent = cps.commit(1, "agent").commit
    shutil.rmtree(workspace)  # a replay may outlive the workspace
    gitdir = run_dir / SHADOW_DIR
    (gitdir / "info" / "exclude").unlink()
    config = (gitdir / "config").read_bytes()
    reader = CheckpointReader(run_dir)
    try:
        diff = reader.diff(start, agent)
        assert "-one" in diff.patch and "+two" in diff.patch
        assert [f.path for f in diff.stat.files] == ["a.txt"]
    finally:
        reader.close()
    # Opening to read wrote no exclude file and left the config alone.
    assert not (gitdir / "info" / "exclude").exists()
    assert (gitdir / "config").read_bytes() == config


def test_a_run_without_checkpoints_is_one_sentence(tmp_path: Path) -> None:
    with pytest.raises(CheckpointError, match="this run has no checkpoints"):
        CheckpointReader(tmp_path).diff(None, "0" * 40)
    with pytest.raises(CheckpointError, match="has not started yet"):
        CheckpointReader().diff(None, "0" * 40)
