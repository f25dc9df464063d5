"""The first checkpoint of a git workspace borrows the user's index and objects, read only."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pygit2
import pytest

from tests.test_checkpoints import git, hash_tree, tree_paths, write
from tui.engine.checkpoints import Checkpoints


def blob_text(cps: Checkpoints, commit: str, path: str) -> bytes:
    repo = pygit2.Repository(str(cps.path))
    tree = repo[commit].peel(pygit2.Tree)
    return repo[(tree / path).id].data  # type: ignore[union-attr]


def own_loose_objects(gitdir: Path) -> set[str]:
    """Object ids stored loose in this repository's own objects folder (not its alternates)."""
    out = set()
    for fan in (gitdir / "objects").iterdir():
        if len(fan.name) == 2:
            out |= {fan.name + f.name for f in fan.iterdir()}
    return out


@pytest.fixture
def user_repo(tmp_path: Path) -> Path:
    """A repository with history in a pack, loose objects, a stash and a dirty work tree."""
    repo = tmp_path / "user-repo"
    files = {f"src/m{i}.py": f"v = {i}\n" for i in range(40)}
    write(repo, {**files, "README": "hi\n", ".gitignore": "*.log\n"})
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "one")
    git(repo, "gc", "-q")  # the history now lives in a pack
    (repo / "src" / "m1.py").write_text("v = 'one'\n")
    git(repo, "commit", "-q", "-am", "two")  # and a loose object or two
    (repo / "README").write_text("stashed\n")
    git(repo, "stash", "-q")
    (repo / "src" / "m2.py").write_text("v = 'unstaged'\n")
    (repo / "staged.py").write_text("s = 1\n")
    git(repo, "add", "staged.py")
    (repo / "untracked.txt").write_text("t\n")
    (repo / "debug.log").write_text("ignored\n")
    return repo


def test_a_git_workspace_borrows_index_and_objects_and_leaves_the_repository_untouched(
    user_repo: Path, tmp_path: Path
) -> None:
    status = git(user_repo, "status", "--porcelain=v2", "--branch")
    dot_git = hash_tree(user_repo / ".git")  # every file: packs, index, refs, stash
    assert any(p.endswith(".pack") for p in dot_git) and "index" in dot_git
    run = tmp_path / "run"
    run.mkdir()

    cps = Checkpoints.open(run, user_repo)
    start = cps.commit(0, "start")
    borrowed = cps.borrowed
    assert borrowed is not None and borrowed.entries == 43 and borrowed.left_out == 0
    alternates = (run / "checkpoints.git" / "objects" / "info" / "alternates").read_text()
    assert alternates == f"{user_repo / '.git' / 'objects'}\n"
    # The checkpoint holds the work tree as it is, not the user's index or HEAD.
    assert tree_paths(cps, start.commit) == {
        ".gitignore",
        "README",
        "staged.py",
        "untracked.txt",
        *(f"src/m{i}.py" for i in range(40)),
    }
    assert blob_text(cps, start.commit, "src/m2.py") == b"v = 'unstaged'\n"
    assert blob_text(cps, start.commit, "README") == b"hi\n"
    # Unchanged files were not hashed again: their blobs are the user's, not copied.
    user = pygit2.Repository(str(user_repo))
    same = user.revparse_single("HEAD:src/m7.py").id
    assert str(same) not in own_loose_objects(run / "checkpoints.git")
    assert start.notes() == [] and "Borrowed from the git repository" in (
        pygit2.Repository(str(cps.path))[start.commit].message  # type: ignore[union-attr]
    )
    # The agent works on; restore and diff read the borrowed objects.
    (user_repo / "src" / "m3.py").write_text("v = 'agent'\n")
    (user_repo / "src" / "m4.py").unlink()
    agent = cps.commit(1, "agent")
    assert agent.stat is not None and {f.path for f in agent.stat.files} == {
        "src/m3.py",
        "src/m4.py",
    }
    assert "v = 3" in cps.diff(None, agent.commit).patch
    cps.restore(start.commit, iteration=1)
    assert (user_repo / "src" / "m4.py").read_text() == "v = 4\n"
    cps.close()
    # git itself reads the shadow repository, borrowed objects and all.
    fsck = subprocess.run(
        ["git", "--git-dir", str(run / "checkpoints.git"), "fsck", "--strict"],
        capture_output=True,
    )
    assert fsck.returncode == 0, fsck.stderr
    # The user's repository is byte for byte as it was.
    assert hash_tree(user_repo / ".git") == dot_git
    assert git(user_repo, "status", "--porcelain=v2", "--branch") == status


def test_a_subfolder_workspace_borrows_the_entries_under_it(
    user_repo: Path, tmp_path: Path
) -> None:
    dot_git = hash_tree(user_repo / ".git")
    run = tmp_path / "run"
    run.mkdir()
    with Checkpoints.open(run, user_repo / "src") as cps:
        start = cps.commit(0, "start")
        assert cps.borrowed is not None and cps.borrowed.entries == 40
        assert tree_paths(cps, start.commit) == {f"m{i}.py" for i in range(40)}
        assert blob_text(cps, start.commit, "m1.py") == b"v = 'one'\n"
    assert hash_tree(user_repo / ".git") == dot_git


def test_racily_clean_entries_are_hashed_again(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    write(repo, {"a.txt": "aaaa\n", "b.txt": "bbbb\n"})
    git(repo, "init", "-q")
    git(repo, "add", "-A")
    stamp = (repo / ".git" / "index").stat().st_mtime_ns
    # Same size, same times as the index entry, changed after the index was written:
    # only the "modified in the index's own second" rule catches it.
    (repo / "a.txt").write_text("AAAA\n")
    os.utime(repo / "a.txt", ns=(stamp, stamp))
    run = tmp_path / "run"
    run.mkdir()
    with Checkpoints.open(run, repo) as cps:
        start = cps.commit(0, "start")
        assert blob_text(cps, start.commit, "a.txt") == b"AAAA\n"
        assert cps.borrowed is not None and cps.borrowed.rehash >= 1


def test_submodules_lfs_pointers_sparse_checkout_and_a_worktree(tmp_path: Path) -> None:
    lib = tmp_path / "lib"
    write(lib, {"lib.py": "L = 1\n"})
    git(lib, "init", "-q", "-b", "main")
    git(lib, "add", "-A")
    git(lib, "commit", "-q", "-m", "lib")
    repo = tmp_path / "repo"
    pointer = "version https://git-lfs.github.com/spec/v1\noid sha256:00\nsize 11\n"
    write(
        repo,
        {
            ".gitattributes": "*.bin filter=lfs diff=lfs merge=lfs -text\n",
            "model.bin": "REAL BYTES\n",  # smudged: the blob is the pointer, the file is not
            "pointer.bin": pointer,  # left as a pointer (LFS not installed)
            "app.py": "A = 1\n",
            "docs/guide.md": "# guide\n",
            "docs/more.md": "# more\n",
        },
    )
    git(repo, "init", "-q", "-b", "main")
    (tmp_path / "pointer.txt").write_text(pointer)
    clean = f"sh -c 'cat >/dev/null; cat {tmp_path / 'pointer.txt'}'"
    git(repo, "config", "filter.lfs.clean", clean)
    git(repo, "-c", "protocol.file.allow=always", "submodule", "add", "-q", str(lib), "vendor/lib")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "all")
    assert git(repo, "cat-file", "-p", "HEAD:model.bin") == pointer
    git(repo, "worktree", "add", "-q", str(tmp_path / "wt"), "-b", "side")
    git(repo, "sparse-checkout", "set", "--no-cone", "/*", "!/docs/")
    assert not (repo / "docs").exists()
    main_git = hash_tree(repo / ".git")
    lib_git = hash_tree(lib / ".git")

    run = tmp_path / "run"
    run.mkdir()
    with Checkpoints.open(run, repo) as cps:
        start = cps.commit(0, "start")
        paths = tree_paths(cps, start.commit)
        # The submodule is a nested repository: neither its gitlink nor its files.
        # Sparse-checked-out files are not in the work tree, so not in the checkpoint.
        assert paths == {".gitattributes", ".gitmodules", "app.py", "model.bin", "pointer.bin"}
        assert blob_text(cps, start.commit, "model.bin") == b"REAL BYTES\n"
        assert blob_text(cps, start.commit, "pointer.bin") == pointer.encode()
        assert cps.borrowed is not None and cps.borrowed.left_out == 3  # gitlink, 2 sparse

    # A worktree: ``.git`` is a file; the objects are the main repository's.
    wt = tmp_path / "wt"
    assert (wt / ".git").is_file()
    (wt / "app.py").write_text("A = 'side'\n")
    run2 = tmp_path / "run2"
    run2.mkdir()
    with Checkpoints.open(run2, wt) as cps:
        start = cps.commit(0, "start")
        assert cps.borrowed is not None and cps.borrowed.objects == str(repo / ".git" / "objects")
        assert blob_text(cps, start.commit, "app.py") == b"A = 'side'\n"
        assert blob_text(cps, start.commit, "docs/guide.md") == b"# guide\n"
    assert hash_tree(repo / ".git") == main_git
    assert hash_tree(lib / ".git") == lib_git


def test_an_index_libgit2_cannot_read_falls_back_to_hashing(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    write(repo, {"a.py": "a\n", "b/c.py": "c\n"})
    git(repo, "init", "-q")
    git(repo, "add", "-A")
    git(repo, "update-index", "--split-index")  # a "link" extension: libgit2 refuses it
    dot_git = hash_tree(repo / ".git")
    run = tmp_path / "run"
    run.mkdir()
    with Checkpoints.open(run, repo) as cps:
        start = cps.commit(0, "start")
        assert cps.borrowed is None
        assert tree_paths(cps, start.commit) == {"a.py", "b/c.py"}
        assert not (run / "checkpoints.git" / "objects" / "info" / "alternates").exists()
    assert hash_tree(repo / ".git") == dot_git


def test_a_repository_whose_entries_are_all_left_out_borrows_nothing(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    write(repo, {"docs/a.md": "a\n", "keep.txt": "k\n"})
    git(repo, "init", "-q")
    git(repo, "add", "docs")
    git(repo, "commit", "-q", "-m", "docs")
    git(repo, "sparse-checkout", "set", "--no-cone", "/keep.txt")  # docs/ leaves the work tree
    run = tmp_path / "run"
    run.mkdir()
    with Checkpoints.open(run, repo) as cps:
        start = cps.commit(0, "start")
        assert cps.borrowed is None
        assert tree_paths(cps, start.commit) == {"keep.txt"}


def test_an_index_of_version_4_is_borrowed(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    write(repo, {f"pkg/sub/file{i}.py": f"{i}\n" for i in range(20)})
    git(repo, "init", "-q")
    git(repo, "add", "-A")
    git(repo, "update-index", "--index-version", "4")  # path-compressed entries
    (repo / "pkg/sub/file3.py").write_text("changed\n")
    dot_git = hash_tree(repo / ".git")
    run = tmp_path / "run"
    run.mkdir()
    with Checkpoints.open(run, repo) as cps:
        start = cps.commit(0, "start")
        assert cps.borrowed is not None and cps.borrowed.entries == 20
        assert blob_text(cps, start.commit, "pkg/sub/file3.py") == b"changed\n"
        assert blob_text(cps, start.commit, "pkg/sub/file4.py") == b"4\n"
    assert hash_tree(repo / ".git") == dot_git
