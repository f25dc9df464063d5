"""`loopconsole land`: a real run's checkpoints as a branch of a real repository."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
from pathlib import Path

import pygit2
import pytest

from tests.loops import edit, write_loop
from tui.cli import main
from tui.engine.checkpoints import parse_trailers

SCRIPT = "[[iteration]]\n" + edit("almost\\n") + "\n[[iteration]]\n" + edit("good\\n")


def _user_repo(root: Path, script: str = SCRIPT) -> tuple[Path, pygit2.Repository]:
    """A repository with a loop under loops/demo and one unrelated file, committed."""
    repo = pygit2.init_repository(str(root))
    spec = write_loop(root / "loops" / "demo", script=script)
    (root / "README").write_text("the user's project\n")
    repo.index.add_all()
    repo.index.write()
    sig = pygit2.Signature("user", "user@example.com")
    tree = repo.index.write_tree()
    first = repo.create_commit("HEAD", sig, sig, "init", tree, [])
    repo.create_branch("feature", repo[first])  # type: ignore[arg-type]
    assert spec.is_file()
    return spec, repo


def _fingerprint(gitdir: Path) -> dict[str, str]:
    """Hashes of what land must never change: HEAD, index, config, every existing ref."""
    out = {}
    for name in ("HEAD", "index", "config", "packed-refs"):
        if (gitdir / name).exists():
            out[name] = hashlib.sha256((gitdir / name).read_bytes()).hexdigest()
    for ref in (gitdir / "refs").rglob("*"):
        if ref.is_file():
            out[str(ref.relative_to(gitdir))] = ref.read_text()
    return out


def _run(spec: Path, run_dir: Path) -> None:
    assert main(["run", str(spec), "--headless", "--run-dir", str(run_dir)]) == 0


def test_a_run_lands_as_one_commit_per_iteration(tmp_path: Path, capsys) -> None:
    spec, repo = _user_repo(tmp_path / "repo")
    run_dir = tmp_path / "run"
    _run(spec, run_dir)
    (tmp_path / "repo" / "README").write_text("uncommitted work of the user\n")
    before = _fingerprint(tmp_path / "repo" / ".git")
    capsys.readouterr()

    assert main(["land", str(run_dir), "--branch", "loop/demo"]) == 0
    out, err = capsys.readouterr()

    assert _fingerprint(tmp_path / "repo" / ".git") == {**before, "refs/heads/loop/demo": ANY}
    assert (tmp_path / "repo" / "README").read_text() == "uncommitted work of the user\n"
    again = pygit2.Repository(str(tmp_path / "repo"))
    tip = again.revparse_single("loop/demo")
    commits = list(again.walk(tip.id, pygit2.enums.SortMode.TOPOLOGICAL))
    assert [c.message.splitlines()[0] for c in commits] == [
        "t, iteration 2: goal met",
        "t, iteration 1: the agent's changes",
        "init",
    ]
    assert commits[-1].id == again.head.target  # the branch starts at the user's HEAD
    assert (commits[0].tree / "loops/demo/workspace/state.txt").data == b"good\n"
    assert (commits[1].tree / "loops/demo/workspace/state.txt").data == b"almost\n"
    assert (commits[0].tree / "README").data == b"the user's project\n"  # not the uncommitted
    trailers = parse_trailers(commits[0].message)
    assert trailers["Loopconsole-Run"] == "run"
    assert trailers["Loopconsole-Iteration"] == "2"
    assert trailers["Loopconsole-Validators"] == "check passed"
    assert trailers["Loopconsole-Cost"].startswith("$")
    assert "| Outcome | goal met" in out and "| Iterations | 2 |" in out
    assert "landed 2 commit(s) as branch loop/demo" in err
    if shutil.which("git"):
        log = subprocess.run(
            ["git", "log", "--format=%s", "loop/demo"],
            cwd=tmp_path / "repo",
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        assert log.splitlines()[0] == "t, iteration 2: goal met"


def test_squash_lands_one_commit(tmp_path: Path) -> None:
    spec, repo = _user_repo(tmp_path / "repo")
    _run(spec, tmp_path / "run")
    assert main(["land", str(tmp_path / "run"), "--squash"]) == 0
    tip = pygit2.Repository(str(tmp_path / "repo")).revparse_single("loopconsole/run")
    assert tip.message.startswith("t: goal met in 2 iterations")
    assert tip.parents[0].message == "init"
    assert (tip.tree / "loops/demo/workspace/state.txt").data == b"good\n"


@pytest.mark.parametrize(
    ("setup", "said"),
    [
        ("not_a_repo", "is not inside a git repository; pass --repo"),
        ("branch_exists", "branch 'feature' already exists"),
        ("no_change", "changed nothing in its workspace; nothing to land"),
        ("bad_name", "is not a valid branch name"),
        ("not_a_run", "is not a run folder"),
    ],
)
def test_land_refuses_in_one_sentence(tmp_path: Path, capsys, setup: str, said: str) -> None:
    branch = {"branch_exists": "feature", "bad_name": "no..dots"}.get(setup)
    if setup == "not_a_repo":
        spec = write_loop(tmp_path / "plain", script=SCRIPT)
    else:
        script = "[[iteration]]\n" if setup == "no_change" else SCRIPT
        spec, _repo = _user_repo(tmp_path / "repo", script=script)
    run_dir = tmp_path / "run"
    if setup != "not_a_run":
        main(["run", str(spec), "--headless", "--run-dir", str(run_dir)])
    else:
        run_dir.mkdir()
    capsys.readouterr()
    args = ["land", str(run_dir)] + (["--branch", branch] if branch else [])
    assert main(args) == 2
    err = capsys.readouterr().err
    assert said in err
    assert len(err.strip().splitlines()) == 1


class _Any:
    def __eq__(self, other: object) -> bool:
        return True


ANY = _Any()


def test_a_file_over_the_size_limit_is_not_landed_and_said(tmp_path: Path, capsys) -> None:
    big = "[[iteration]]\n" + edit("x" * 3000 + "\\n", "big.bin") + edit("good\\n")
    spec, _repo = _user_repo(tmp_path / "repo", script=big)
    spec.write_text(spec.read_text() + "\n[checkpoints]\nmax_file_mb = 0.001\n")
    _run(spec, tmp_path / "run")
    capsys.readouterr()
    assert main(["land", str(tmp_path / "run"), "--branch", "b"]) == 0
    err = capsys.readouterr().err
    assert "1 file(s) over the checkpoint size limit were not landed" in err and "big.bin" in err
    tip = pygit2.Repository(str(tmp_path / "repo")).revparse_single("b")
    assert (tip.tree / "loops/demo/workspace/state.txt").data == b"good\n"
    with pytest.raises(KeyError):
        tip.tree / "loops/demo/workspace/big.bin"  # noqa: B018 - the lookup is the check
