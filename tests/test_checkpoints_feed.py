"""Huge workspaces: the change feed's quick checkpoints equal full scans, step by step."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.test_checkpoints import write
from tui.engine.change_feed import ChangeFeed
from tui.engine.checkpoints import Checkpoints

pytestmark = pytest.mark.skipif(not ChangeFeed("/").usable, reason="needs Linux inotify")


def full_scan_tree(ws: Path, run: Path) -> str:
    """The tree a fresh run's full scan finds: the reference."""
    run.mkdir(parents=True)
    with Checkpoints.open(run, ws) as ref:
        ref.FEED_MIN_FILES = 10**9
        return ref.commit(0, "start").tree


def test_quick_checkpoints_match_full_scans(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(Checkpoints, "FEED_MIN_FILES", 1)
    ws, run = tmp_path / "ws", tmp_path / "run"
    write(
        ws, {".gitignore": "*.log\nbuild/\n", "a.py": "a\n", "src/b.py": "b\n", "src/c.py": "c\n"}
    )
    refs = iter(range(100))

    def check(cps: Checkpoints, iteration: int, quick: bool = True) -> None:
        snapshot_tree, _patch = cps.snapshot()
        info = cps.commit(iteration, "agent", tree=snapshot_tree)
        assert (cps._quick_pair is not None and cps._quick_pair[1] == info.tree) == quick
        # Each reference run in its own folder: no previous run to start from.
        assert info.tree == full_scan_tree(ws, tmp_path / f"ref{next(refs)}" / "run")
        return info

    with Checkpoints.open(run, ws) as cps:
        cps.commit(0, "start")
        (ws / "a.py").write_text("a2\n")
        (ws / "new.py").write_text("n\n")
        (ws / "debug.log").write_text("ignored\n")
        (ws / "src" / "c.py").chmod(0o755)
        (ws / "link").symlink_to("a.py")
        info = check(cps, 1)
        assert {f.path for f in info.stat.files} == {"a.py", "new.py", "src/c.py", "link"}
        # New folders, ignored ones left out; a file written in them at once.
        write(ws, {"pkg/sub/d.py": "d\n", "build/out.o": "o\n", "pkg/e.py": "e\n"})
        check(cps, 2)
        (ws / "pkg" / "sub" / "f.py").write_text("f\n")  # the new folder is watched now
        check(cps, 3)
        # A deletion; then a rename, whose stat comes from the full diff.
        (ws / "new.py").unlink()
        check(cps, 4)
        (ws / "src" / "b.py").rename(ws / "src" / "b2.py")
        info = check(cps, 5)
        assert [(f.status, f.old_path) for f in info.stat.files] == [("renamed", "src/b.py")]
        # A file over the size limit.
        (ws / "big.bin").write_bytes(os.urandom(cps.max_file_bytes + 1))
        info = check(cps, 6)
        assert [p for p, _n in info.large] == ["big.bin"]
        # A restore, then edits again.
        cps.restore(cps.find(2).commit, iteration=6)  # type: ignore[union-attr]
        (ws / "a.py").write_text("after restore\n")
        check(cps, 7)
        # A removed folder: the feed cannot tell what went, the full scan does.
        for p in (ws / "pkg" / "sub").iterdir():
            p.unlink()
        (ws / "pkg" / "sub").rmdir()
        check(cps, 8, quick=False)
        (ws / "a.py").write_text("quick again\n")
        check(cps, 9)
        # Every FULL_SCAN_EVERY checkpoints, a full scan checks what the feed said.
        cps.FULL_SCAN_EVERY = 1
        (ws / "a.py").write_text("checked\n")
        check(cps, 10, quick=False)
    # The index the quick path kept was saved on close: a reopened run goes on from it.
    with Checkpoints.open(run, ws) as cps:
        cps.FEED_MIN_FILES = 10**9
        assert cps.commit(11, "agent").stat.files == ()


def test_the_feed_after_borrowing_watches_the_folders_found_while_borrowing(
    tmp_path: Path, monkeypatch
) -> None:
    from tests.test_checkpoints import git

    monkeypatch.setattr(Checkpoints, "FEED_MIN_FILES", 1)
    ws, run = tmp_path / "ws", tmp_path / "run"
    write(ws, {"a.py": "a\n", "src/deep/b.py": "b\n"})
    git(ws, "init", "-q")
    git(ws, "add", "-A")
    run.mkdir()
    with Checkpoints.open(run, ws) as cps:
        cps.commit(0, "start")
        assert cps.borrowed is not None and cps.borrowed.folders == ("", "src", "src/deep")
        (ws / "src" / "deep" / "b.py").write_text("edited\n")
        info = cps.commit(1, "agent")
        assert cps._quick_pair is not None and cps._quick_pair[1] == info.tree
        assert [f.path for f in info.stat.files] == ["src/deep/b.py"]
        assert info.tree == full_scan_tree(ws, tmp_path / "ref" / "run")
