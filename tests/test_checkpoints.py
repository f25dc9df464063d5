"""Checkpoints in a real shadow repository, read back by pygit2 and the git CLI."""

from __future__ import annotations

import hashlib
import os
import shutil
import struct
import subprocess
from pathlib import Path

import pygit2
import pytest

from tui.engine.checkpoints import CheckpointError, Checkpoints, parse_trailers
from tui.engine.shadow import ShadowError


def git(cwd: Path, *args: str, home: Path | None = None) -> str:
    """Run the git CLI with a clean configuration (no user or system config)."""
    env = {
        "PATH": os.environ["PATH"],
        "HOME": str(home or cwd),
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_AUTHOR_NAME": "User",
        "GIT_AUTHOR_EMAIL": "user@example.com",
        "GIT_COMMITTER_NAME": "User",
        "GIT_COMMITTER_EMAIL": "user@example.com",
    }
    done = subprocess.run(["git", *args], cwd=cwd, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return done.stdout


def write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        p = root / name
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text)


def listing(root: Path) -> dict[str, bytes]:
    """Every file under ``root`` (symlinks as their target text), by relative path."""
    out = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in filenames + [d for d in dirnames if os.path.islink(os.path.join(dirpath, d))]:
            p = Path(dirpath) / name
            rel = p.relative_to(root).as_posix()
            out[rel] = b"-> " + os.fsencode(os.readlink(p)) if p.is_symlink() else p.read_bytes()
    return out


def hash_tree(root: Path) -> dict[str, str]:
    """A hash of every file under ``root``, with its mode (for byte-identity checks)."""
    out = {}
    for p in sorted(root.rglob("*")):
        st = p.lstat()
        data = (
            os.readlink(p).encode() if p.is_symlink() else (p.read_bytes() if p.is_file() else b"")
        )
        out[p.relative_to(root).as_posix()] = f"{st.st_mode:o}:{hashlib.sha256(data).hexdigest()}"
    return out


def tree_paths(cps: Checkpoints, commit: str) -> set[str]:
    repo = pygit2.Repository(str(cps.path))
    out = set()
    stack = [(repo[commit].peel(pygit2.Tree), "")]
    while stack:
        tree, prefix = stack.pop()
        for entry in tree:
            if entry.type_str == "tree":
                stack.append((entry, f"{prefix}{entry.name}/"))
            else:
                out.add(prefix + entry.name)
    return out


@pytest.fixture
def ws(tmp_path: Path) -> Path:
    path = tmp_path / "ws"
    write(path, {"a.txt": "1\n2\n3\n", "src/m.py": "x = 1\ny = 2\n", "gone.txt": "bye\nnow\n"})
    return path


@pytest.fixture
def run(tmp_path: Path) -> Path:
    path = tmp_path / "run"
    path.mkdir()
    return path


def test_shadow_repository_is_bare_and_writes_nothing_into_the_workspace(
    ws: Path, run: Path
) -> None:
    before = listing(ws)
    with Checkpoints.open(run, ws) as cps:
        info = cps.commit(0, "start")
        (ws / "a.txt").write_text("changed\n")
        cps.commit(1, "agent", "continue", "The agent fixed a.txt.")
    after = listing(ws)
    assert not (ws / ".git").exists()
    assert set(after) == set(before)  # no .git file, no index, nothing new
    assert info.parent is None and info.stat is not None and info.stat.baseline
    # The git CLI reads what pygit2 wrote: fixed identity, subject, body, trailers.
    gitdir = run / "checkpoints.git"
    assert git(run, "--git-dir", str(gitdir), "config", "core.bare").strip() == "true"
    log = git(run, "--git-dir", str(gitdir), "log", "--format=%an <%ae>%n%B%x00", "checkpoints")
    newest, oldest = [m.strip() for m in log.split("\x00") if m.strip()]
    assert newest.splitlines()[0] == "loopconsole <loopconsole@localhost>"
    assert "Iteration 1: the agent's changes\n\nThe agent fixed a.txt." in newest
    assert newest.endswith(
        "Loopconsole-Iteration: 1\nLoopconsole-Kind: agent\nLoopconsole-Decision: continue"
    )
    assert "Loopconsole-Kind: start" in oldest
    trailers = git(run, "--git-dir", str(gitdir), "log", "-1", "--format=%(trailers:only)")
    assert parse_trailers("x\n\n" + trailers.strip())["Loopconsole-Iteration"] == "1"
    fsck = subprocess.run(
        ["git", "--git-dir", str(gitdir), "fsck", "--strict"], capture_output=True
    )
    assert fsck.returncode == 0, fsck.stderr


def test_diffstat_per_file_and_totals(ws: Path, run: Path) -> None:
    cps = Checkpoints.open(run, ws)
    start = cps.commit(0, "start")
    assert start.stat is not None and start.stat.files_changed == 3
    (ws / "a.txt").write_text("1\ntwo\n3\n4\n")  # 1 line changed, 1 added: +2 -1
    (ws / "new.py").write_text("a\nb\nc\n")  # +3
    (ws / "gone.txt").unlink()  # -2
    (ws / "blob.bin").write_bytes(bytes(range(256)) * 4)  # binary: no line counts
    info = cps.commit(1, "agent")
    assert info.parent == start.commit
    stat = info.stat
    assert stat is not None
    by_path = {f.path: f for f in stat.files}
    assert set(by_path) == {"a.txt", "new.py", "gone.txt", "blob.bin"}
    assert (by_path["a.txt"].status, by_path["a.txt"].insertions, by_path["a.txt"].deletions) == (
        "modified",
        2,
        1,
    )
    assert (by_path["new.py"].status, by_path["new.py"].insertions) == ("added", 3)
    assert (by_path["gone.txt"].status, by_path["gone.txt"].deletions) == ("deleted", 2)
    assert by_path["blob.bin"].binary and by_path["blob.bin"].insertions == 0
    assert (stat.files_changed, stat.insertions, stat.deletions) == (4, 5, 3)
    assert stat.summary() == "4 files changed, +5 -3"
    event = info.event()
    assert (event.kind, event.commit, event.tree) == ("agent", info.commit, info.tree)
    assert (event.files_changed, event.insertions, event.deletions) == (4, 5, 3)

    # A rename is one entry, not an addition and a deletion.
    (ws / "src" / "m.py").rename(ws / "src" / "moved.py")
    renamed = cps.commit(2, "agent").stat
    assert renamed is not None
    assert [(f.status, f.old_path, f.path) for f in renamed.files] == [
        ("renamed", "src/m.py", "src/moved.py")
    ]
    # The same numbers come back from the git CLI.
    numstat = git(
        run,
        "--git-dir",
        str(run / "checkpoints.git"),
        "diff",
        "--numstat",
        start.commit,
        info.commit,
    )
    rows = {line.split("\t")[2]: line.split("\t")[:2] for line in numstat.splitlines()}
    assert rows["a.txt"] == ["2", "1"] and rows["new.py"] == ["3", "0"]
    assert rows["gone.txt"] == ["0", "2"] and rows["blob.bin"] == ["-", "-"]


def test_every_iteration_gets_a_commit_even_without_changes(ws: Path, run: Path) -> None:
    cps = Checkpoints.open(run, ws)
    first = cps.commit(1, "agent", "continue")
    second = cps.commit(2, "agent", "pause")
    assert second.commit != first.commit and second.parent == first.commit
    assert second.tree == first.tree
    assert (
        second.stat is not None
        and second.stat.files == ()
        and second.stat.summary() == "no changes"
    )
    log = cps.log()
    assert [(c.iteration, c.kind, c.decision) for c in log] == [
        (1, "agent", "continue"),
        (2, "agent", "pause"),
    ]
    assert cps.find(2) == log[1] and cps.find(2, "human") is None and cps.find(3) is None
    assert cps.head() == log[1]


def _index_entries(index_file: Path) -> dict[str, tuple[int, int]]:
    """(mtime seconds, size) per path, read from a version 2 git index file."""
    data = index_file.read_bytes()
    assert data[:4] == b"DIRC"
    version, count = struct.unpack(">II", data[4:12])
    assert version == 2
    out, pos = {}, 12
    for _ in range(count):
        (mtime,) = struct.unpack(">I", data[pos + 8 : pos + 12])
        (size,) = struct.unpack(">I", data[pos + 36 : pos + 40])
        flags = struct.unpack(">H", data[pos + 60 : pos + 62])[0]
        name = data[pos + 62 : pos + 62 + (flags & 0xFFF)].decode()
        out[name] = (mtime, size)
        pos += (62 + len(name) + 8) & ~7
    return out


def test_index_is_kept_so_later_checkpoints_are_incremental(ws: Path, run: Path) -> None:
    past = 1_600_000_000
    for p in ws.rglob("*"):
        os.utime(p, (past, past))
    cps = Checkpoints.open(run, ws)
    cps.commit(0, "start")
    cps.close()
    # The index in the shadow repository holds each file's stat data: a later
    # scan compares those and reads only the files whose data changed.
    entries = _index_entries(run / "checkpoints.git" / "index")
    assert entries == {
        p: (past, (ws / p).stat().st_size) for p in ("a.txt", "gone.txt", "src/m.py")
    }
    # Reopened (as on resume), the next checkpoint carries on from that index.
    (ws / "a.txt").write_text("changed\n")
    cps = Checkpoints.open(run, ws)
    info = cps.commit(1, "agent")
    assert info.stat is not None and [f.path for f in info.stat.files] == ["a.txt"]
    assert len(cps.log()) == 2


def test_gitignore_loopconsole_and_inner_run_dir_are_not_checkpointed(tmp_path: Path) -> None:
    ws = tmp_path / "project"
    write(
        ws,
        {
            ".gitignore": "*.log\nbuild/\n",
            "main.py": "print(1)\n",
            "debug.log": "noise\n",
            "build/out.o": "obj\n",
            ".loopconsole/runs/old/journal.jsonl": "{}\n",
            "sub/.loopconsole/x": "y\n",
        },
    )
    run = ws / "runs-here" / "r1"  # a run directory inside the workspace
    run.mkdir(parents=True)
    cps = Checkpoints.open(run, ws)
    info = cps.commit(0, "start")
    (run / "journal.jsonl").write_text("{}\n")
    info = cps.commit(1, "agent")
    assert tree_paths(cps, info.commit) == {".gitignore", "main.py"}


def test_nested_repository_is_excluded_and_left_alone(ws: Path, run: Path, tmp_path: Path) -> None:
    nested = ws / "vendor" / "lib"
    write(nested, {"lib.py": "v = 1\n"})
    git(nested, "init", "-q")
    git(nested, "add", "-A")
    git(nested, "commit", "-q", "-m", "lib")
    nested_git = hash_tree(nested / ".git")
    cps = Checkpoints.open(run, ws)
    start = cps.commit(0, "start")  # libgit2's add_all would abort on vendor/lib
    assert tree_paths(cps, start.commit) == {"a.txt", "gone.txt", "src/m.py"}
    (nested / "lib.py").write_text("v = 2\n")
    (ws / "a.txt").write_text("edited\n")
    info = cps.commit(1, "agent")
    assert info.stat is not None and [f.path for f in info.stat.files] == ["a.txt"]
    # A second nested repository appearing later is found too.
    other = ws / "tools"
    other.mkdir()
    git(other, "init", "-q")
    (other / "t.sh").write_text("echo\n")
    assert tree_paths(cps, cps.commit(2, "agent").commit) == {"a.txt", "gone.txt", "src/m.py"}
    # Restoring leaves both repositories as they are.
    cps.restore(start.commit)
    assert (nested / "lib.py").read_text() == "v = 2\n" and (other / "t.sh").exists()
    assert hash_tree(nested / ".git") == nested_git
    assert (ws / "a.txt").read_text() == "1\n2\n3\n"


@pytest.mark.parametrize("where", ["root", "subfolder"])
def test_the_users_own_repository_is_never_touched(tmp_path: Path, run: Path, where: str) -> None:
    repo = tmp_path / "user-repo"
    write(repo, {"app.py": "v = 1\n", "lib/util.py": "u = 1\n", ".gitignore": "*.pyc\n"})
    git(repo, "init", "-q", "-b", "main")
    hook = repo / ".git" / "hooks" / "pre-commit"
    hook.write_text(f"#!/bin/sh\ntouch {tmp_path / 'hook-ran'}\n")
    hook.chmod(0o755)
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "one")
    git(repo, "branch", "feature")
    (repo / "app.py").write_text("v = 2\n")
    git(repo, "stash", "-q")
    (repo / "lib" / "util.py").write_text("u = 2\n")  # an unstaged change
    (repo / "staged.py").write_text("s\n")
    git(repo, "add", "staged.py")  # a staged change
    (repo / "untracked.txt").write_text("t\n")
    (tmp_path / "hook-ran").unlink()  # the user's own commit ran it
    ws = repo if where == "root" else repo / "lib"
    # git status may refresh the user's index, so it runs before the hashing.
    status = git(repo, "status", "--porcelain=v2", "--branch")
    stash = git(repo, "stash", "list")
    dot_git = hash_tree(repo / ".git")

    cps = Checkpoints.open(run, ws)
    start = cps.commit(0, "start")
    (ws / "added.py").write_text("new\n")
    (ws / "util.py" if where == "subfolder" else ws / "app.py").write_text("agent\n")
    cps.commit(1, "agent")
    cps.diff(None, cps.head().commit)  # type: ignore[union-attr]
    cps.pending()
    cps.restore(start.commit, iteration=1)
    cps.commit(2, "agent")
    cps.log(stats=True)
    cps.close()

    assert hash_tree(repo / ".git") == dot_git
    assert git(repo, "status", "--porcelain=v2", "--branch") == status
    assert git(repo, "stash", "list") == stash
    assert not (tmp_path / "hook-ran").exists()
    assert ".git" not in tree_paths(Checkpoints.open(run, ws), start.commit)


def test_restore_removes_added_brings_back_deleted_and_leaves_ignored(ws: Path, run: Path) -> None:
    (ws / ".gitignore").write_text("*.log\n")
    (ws / "tool.sh").write_text("#!/bin/sh\n")
    (ws / "tool.sh").chmod(0o755)
    cps = Checkpoints.open(run, ws)
    start = cps.commit(1, "agent")
    original = listing(ws)
    # The agent's next iterations: add, delete, modify, chmod, turn a file into a folder.
    (ws / "a.txt").unlink()
    write(ws, {"added.py": "new\n", "deep/er/file.txt": "x\n", "a.txt/inner.txt": "folder now\n"})
    (ws / "gone.txt").unlink()
    (ws / "src" / "m.py").write_text("broken\n")
    (ws / "tool.sh").chmod(0o644)
    (ws / "run.log").write_text("ignored output\n")
    later = cps.commit(2, "agent")
    (ws / "half-done.py").write_text("unsaved work\n")  # not yet checkpointed

    report = cps.restore(start.commit, iteration=3, reason="rewound by the engineer")
    assert {p: v for p, v in listing(ws).items() if p != "run.log"} == original
    assert (ws / "run.log").read_text() == "ignored output\n"  # ignored: left alone
    assert not (ws / "deep").exists()  # folders left empty are gone
    assert os.access(ws / "tool.sh", os.X_OK)
    assert report.exact
    assert set(report.removed) == {
        "added.py",
        "deep/er/file.txt",
        "a.txt/inner.txt",
        "half-done.py",
    }
    assert set(report.brought_back) == {"gone.txt", "a.txt"}
    assert set(report.reverted) == {"src/m.py", "tool.sh"}
    # Nothing is lost: the unsaved work was committed first, then the rewind.
    assert report.saved is not None and report.saved.parent == later.commit
    assert "half-done.py" in tree_paths(cps, report.saved.commit)
    assert report.checkpoint is not None and report.checkpoint.parent == report.saved.commit
    assert report.checkpoint.tree == start.tree and report.checkpoint.restored == start.commit
    assert [c.kind for c in report.checkpoints] == ["rewind", "rewind"]
    assert report.checkpoint.iteration == 3
    assert "rewind to iteration 1" in report.checkpoint.subject
    # The next checkpoint's diffstat is relative to the restored state.
    (ws / "a.txt").write_text("1\n2\n3\nfour\n")
    nxt = cps.commit(4, "agent")
    assert nxt.stat is not None and [(f.path, f.insertions) for f in nxt.stat.files] == [
        ("a.txt", 1)
    ]


def test_restore_to_the_current_checkpoint_with_a_clean_workspace_does_nothing(
    ws: Path, run: Path
) -> None:
    cps = Checkpoints.open(run, ws)
    head = cps.commit(1, "agent")
    report = cps.restore(head.commit)
    assert report.saved is None and report.checkpoint is None and report.checkpoints == []
    assert len(cps.log()) == 1


def test_restore_never_writes_through_a_symlinked_folder(
    ws: Path, run: Path, tmp_path: Path
) -> None:
    outside = tmp_path / "outside"
    write(outside, {"sentinel": "do not touch\n", "m.py": "outside's own m.py\n"})
    (tmp_path / "elsewhere.txt").write_text("outside file\n")
    before_outside = hash_tree(outside)
    cps = Checkpoints.open(run, ws)
    start = cps.commit(1, "agent")
    # The agent swaps the folder for a symlink pointing outside the workspace,
    # and a file for a symlink to a file outside.
    shutil.rmtree(ws / "src")
    (ws / "src").symlink_to(outside, target_is_directory=True)
    (ws / "a.txt").unlink()
    (ws / "a.txt").symlink_to(tmp_path / "elsewhere.txt")
    swapped = cps.commit(2, "agent")
    assert "src/m.py" not in tree_paths(cps, swapped.commit)  # the link is stored, not followed

    cps.restore(start.commit)
    assert hash_tree(outside) == before_outside
    assert (tmp_path / "elsewhere.txt").read_text() == "outside file\n"
    assert (ws / "src").is_dir() and not (ws / "src").is_symlink()
    assert (ws / "src" / "m.py").read_text() == "x = 1\ny = 2\n"
    assert not (ws / "a.txt").is_symlink() and (ws / "a.txt").read_text() == "1\n2\n3\n"


def test_restore_never_writes_through_ignored_links_or_hard_links(
    ws: Path, run: Path, tmp_path: Path
) -> None:
    outside = tmp_path / "outside"
    write(outside, {"sentinel": "s\n", "out.txt": "theirs\n", "linked.txt": "shared\n"})
    write(ws, {"gen/out.txt": "generated\n"})
    before_outside = hash_tree(outside)
    cps = Checkpoints.open(run, ws)
    start = cps.commit(1, "agent")
    # gen/ becomes an ignored symlink to outside; a.txt a hard link to a file outside.
    shutil.rmtree(ws / "gen")
    (ws / "gen").symlink_to(outside, target_is_directory=True)
    (ws / ".gitignore").write_text("gen\n")
    (ws / "a.txt").unlink()
    os.link(outside / "linked.txt", ws / "a.txt")
    cps.commit(2, "agent")

    report = cps.restore(start.commit)
    assert hash_tree(outside) == before_outside
    assert (ws / "gen" / "out.txt").read_text() == "generated\n" and not (ws / "gen").is_symlink()
    assert (ws / "a.txt").read_text() == "1\n2\n3\n" and (ws / "a.txt").stat().st_nlink == 1
    assert not (ws / ".gitignore").exists()
    assert "gen" in report.unlinked and report.exact


def test_stale_locks_are_recovered_on_open(ws: Path, run: Path) -> None:
    cps = Checkpoints.open(run, ws)
    cps.commit(1, "agent")
    cps.close()
    gitdir = run / "checkpoints.git"
    # A process killed mid-checkpoint leaves its lock files behind.
    (gitdir / "index.lock").write_bytes(b"partial")
    (gitdir / "refs" / "heads" / "checkpoints.lock").write_text("0" * 40 + "\n")
    with pytest.raises(pygit2.GitError):  # libgit2 refuses to work past them
        stale = pygit2.Repository(str(gitdir))
        stale.workdir = str(ws)
        stale.index.add("a.txt")
        stale.index.write()
    cps = Checkpoints.open(run, ws)
    assert sorted(cps.recovered) == ["index.lock", "refs/heads/checkpoints.lock"]
    (ws / "a.txt").write_text("after the crash\n")
    info = cps.commit(2, "agent")
    assert info.stat is not None and [f.path for f in info.stat.files] == ["a.txt"]
    assert not (gitdir / "index.lock").exists()


def test_diff_defaults_to_the_parent_and_carries_the_patch(ws: Path, run: Path) -> None:
    cps = Checkpoints.open(run, ws)
    start = cps.commit(0, "start")
    (ws / "a.txt").write_text("1\n2\nthree\n")
    (ws / "bad.txt").write_bytes(b"caf\xe9\n")  # not UTF-8
    info = cps.commit(1, "agent")
    diff = cps.diff(None, info.commit)
    assert diff.old == start.commit and diff.new == info.commit
    assert diff.stat == cps.diff(start.commit, info.commit[:10]).stat
    assert "-3\n+three\n" in diff.patch and "+caf\ufffd\n" in diff.patch
    first = cps.diff(None, start.commit)
    assert first.old is None and {f.status for f in first.stat.files} == {"added"}
    assert "+++ b/src/m.py" in first.patch
    assert cps.get(info.commit[:8]).stat == info.stat
    pending = cps.pending()
    assert pending.files == ()
    (ws / "a.txt").write_text("typed by a human\n")
    assert [f.path for f in cps.pending().files] == ["a.txt"]


def test_errors_are_one_sentence(ws: Path, run: Path, tmp_path: Path) -> None:
    cps = Checkpoints.open(run, ws)
    cps.commit(1, "agent")
    with pytest.raises(CheckpointError, match="no checkpoint 'deadbeef'"):
        cps.restore("deadbeef")
    with pytest.raises(CheckpointError, match="no checkpoint"):
        cps.diff(None, "not-a-commit")
    with pytest.raises(ShadowError, match="is not a directory"):
        Checkpoints.open(run, tmp_path / "missing")
    with pytest.raises(ValueError, match="unknown checkpoint kind"):
        cps.commit(2, "robot")
