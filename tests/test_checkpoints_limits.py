"""Large trees: the size limit, ignored folders never walked, many files in one pack."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pygit2
import pytest

from tests.test_checkpoints import git, tree_paths, write
from tui.engine.checkpoints import Checkpoints
from tui.engine.large_files import MAGIC
from tui.spec import CheckpointSpec

LIMIT = 1_000_000


def shadow_bytes(run: Path) -> int:
    return sum(p.stat().st_size for p in (run / "checkpoints.git").rglob("*") if p.is_file())


def test_files_over_the_limit_are_recorded_by_size_and_hash_only(tmp_path: Path) -> None:
    ws, run = tmp_path / "ws", tmp_path / "run"
    write(ws, {"app.py": "a = 1\n"})
    run.mkdir()
    (ws / "build.bin").write_bytes(os.urandom(3 * LIMIT))
    with Checkpoints.open(run, ws, max_file_bytes=LIMIT) as cps:
        start = cps.commit(0, "start")
        repo = pygit2.Repository(str(cps.path))
        tree = repo[start.commit].peel(pygit2.Tree)
        placeholder = repo[(tree / "build.bin").id].data  # type: ignore[union-attr]
        assert placeholder.startswith(MAGIC) and b"size: 3000000\n" in placeholder
        assert shadow_bytes(run) < LIMIT  # the content never entered the repository
        # The limit is stated in the checkpoint's notes: the event and the commit message.
        assert start.large == (("build.bin", 3 * LIMIT),)
        (note,) = start.event().notes
        assert "build.bin (2.9 MB)" in note and "over the 977 KB limit" in note
        assert "[checkpoints] max_file_mb" in repo[start.commit].message  # type: ignore[union-attr]

        # A change shows in the diff (size and hash), still without the content.
        (ws / "build.bin").write_bytes(os.urandom(2 * LIMIT))
        (ws / "app.py").write_text("a = 2\n")
        changed = cps.commit(1, "agent")
        assert changed.stat is not None
        assert {f.path for f in changed.stat.files} == {"app.py", "build.bin"}
        assert "+size: 2000000" in cps.diff(None, changed.commit).patch
        assert shadow_bytes(run) < LIMIT
        # Unchanged, it is not recorded again.
        assert cps.commit(2, "agent").large == ()

        # A restore brings app.py back and leaves the large file alone, saying so.
        current = (ws / "build.bin").read_bytes()
        report = cps.restore(start.commit, iteration=2)
        assert (ws / "app.py").read_text() == "a = 1\n"
        assert (ws / "build.bin").read_bytes() == current
        assert report.kept_large == ("build.bin",) and not report.exact
        assert "build.bin" not in report.reverted
        assert "cannot be brought back" in report.large_note()

        # A large file added after the target is not removed either.
        (ws / "new.bin").write_bytes(b"x" * (LIMIT + 1))
        cps.commit(3, "agent")
        report = cps.restore(start.commit, iteration=3)
        assert (ws / "new.bin").exists() and "new.bin" in report.kept_large

    # Reopened (resume), the run keeps its limit.
    with Checkpoints.open(run, ws) as cps:
        assert cps.max_file_bytes == LIMIT


def test_the_size_limit_is_a_spec_setting() -> None:
    assert CheckpointSpec().max_file_bytes == 5 * 1024 * 1024
    assert CheckpointSpec(max_file_mb=0.5).max_file_bytes == 512 * 1024
    with pytest.raises(ValueError):
        CheckpointSpec(max_file_mb=0)


def test_a_large_file_tracked_by_git_is_not_borrowed(tmp_path: Path) -> None:
    repo, run = tmp_path / "repo", tmp_path / "run"
    write(repo, {"app.py": "a = 1\n"})
    (repo / "data.bin").write_bytes(b"d" * (2 * LIMIT))
    git(repo, "init", "-q")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "one")
    run.mkdir()
    with Checkpoints.open(run, repo, max_file_bytes=LIMIT) as cps:
        start = cps.commit(0, "start")
        assert cps.borrowed is not None and cps.borrowed.left_out == 1
        assert start.large == (("data.bin", 2 * LIMIT),)


def _atime(path: Path) -> int:
    return path.stat().st_atime_ns


@pytest.mark.parametrize("as_git", [False, True], ids=["plain", "git"])
def test_an_ignored_node_modules_of_50000_files_is_never_walked(
    tmp_path: Path, as_git: bool
) -> None:
    ws, run = tmp_path / "ws", tmp_path / "run"
    write(ws, {".gitignore": "node_modules/\n", "index.js": "x\n"})
    folders = []
    for d in range(50):
        folder = ws / "node_modules" / f"pkg{d}"
        folder.mkdir(parents=True)
        folders.append(folder)
        for i in range(1000):
            os.close(os.open(folder / f"f{i}.js", os.O_CREAT | os.O_WRONLY, 0o644))
    if as_git:
        git(ws, "init", "-q")
        git(ws, "add", "-A")
    # Listing a folder updates its access time when that time is older than its
    # modification time (relatime): set it back, so a walk would show.
    for folder in [ws / "node_modules", *folders]:
        os.utime(folder, ns=(0, folder.stat().st_mtime_ns))
    probe = tmp_path / "probe"
    probe.mkdir()
    os.utime(probe, ns=(0, probe.stat().st_mtime_ns))
    os.listdir(probe)
    if _atime(probe) == 0:
        pytest.skip("this file system does not record folder access times")
    run.mkdir()
    with Checkpoints.open(run, ws) as cps:
        start = cps.commit(0, "start")
        (ws / "index.js").write_text("y\n")
        cps.commit(1, "agent")
    assert tree_paths(cps, start.commit) == {".gitignore", "index.js"}
    assert all(_atime(f) == 0 for f in [ws / "node_modules", *folders])


def test_many_new_files_go_into_one_pack(tmp_path: Path) -> None:
    ws, run = tmp_path / "ws", tmp_path / "run"
    files = {f"d{i % 7}/f{i}.txt": f"file {i}\n" * (i % 5 + 1) for i in range(600)}
    write(ws, files)
    (ws / "tool.sh").write_text("#!/bin/sh\n")
    (ws / "tool.sh").chmod(0o755)
    (ws / "link").symlink_to("tool.sh")
    run.mkdir()
    with Checkpoints.open(run, ws) as cps:
        start = cps.commit(0, "start")
        assert start.stat is not None and start.stat.files_changed == 602
        packs = list((run / "checkpoints.git" / "objects" / "pack").glob("*.pack"))
        assert len(packs) == 1
        # git reads the pack and the tree back byte for byte.
        gitdir = str(run / "checkpoints.git")
        listing = git(run, "--git-dir", gitdir, "ls-tree", "-r", start.commit)
        assert "100755 blob" in listing and "120000 blob" in listing
        assert (
            git(run, "--git-dir", gitdir, "show", f"{start.commit}:d3/f10.txt")
            == files["d3/f10.txt"]
        )
        git(run, "--git-dir", gitdir, "fsck", "--strict")
        # The index kept the stat data: the next checkpoint reads only what changed.
        (ws / "d1/f1.txt").write_text("changed\n")
        info = cps.commit(1, "agent")
        assert info.stat is not None and [f.path for f in info.stat.files] == ["d1/f1.txt"]


def test_a_new_run_of_a_plain_workspace_starts_from_the_previous_runs_index(
    tmp_path: Path,
) -> None:
    ws, runs = tmp_path / "ws", tmp_path / "runs"
    write(ws, {f"d{i % 3}/f{i}.txt": f"{i}\n" for i in range(300)})
    for name in ("1", "2", "3"):
        (runs / name).mkdir(parents=True)
    with Checkpoints.open(runs / "1", ws) as first:
        assert first.reused is None
        first.commit(0, "start")
        (ws / "d0/f0.txt").write_text("agent\n")
        first.commit(1, "agent")
    (ws / "d1/f1.txt").write_text("edited between runs\n")
    with Checkpoints.open(runs / "2", ws) as second:
        assert second.reused is not None and second.reused.entries == 300
        info = second.commit(0, "start")
    message = pygit2.Repository(str(runs / "2" / "checkpoints.git"))[info.commit].message  # type: ignore[union-attr]
    assert "previous run of this workspace" in message
    old = {p.name: p.stat().st_ino for p in (runs / "1").rglob("*.pack")}
    new = {p.name: p.stat().st_ino for p in (runs / "2").rglob("*.pack")}
    assert old and old.items() <= new.items()  # the same files, linked, not copied
    # The old run can go: the new one holds its own links to every object.
    shutil.rmtree(runs / "1")
    git(runs, "--git-dir", str(runs / "2" / "checkpoints.git"), "fsck", "--strict")
    repo = pygit2.Repository(str(runs / "2" / "checkpoints.git"))
    tree = repo[info.commit].peel(pygit2.Tree)
    assert repo[(tree / "d1/f1.txt").id].data == b"edited between runs\n"  # type: ignore[union-attr]
    assert repo[(tree / "d0/f0.txt").id].data == b"agent\n"  # type: ignore[union-attr]
    # Another size limit starts afresh (placeholders would be wrong).
    with Checkpoints.open(runs / "3", ws, max_file_bytes=123_456) as third:
        assert third.reused is None
