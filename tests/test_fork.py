"""`loopconsole fork`, `compare` and `adopt`: best-of-N branches of a real run."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pygit2

from tests.loops import write_loop
from tui.cli import main
from tui.engine.fork import Branch

# A shell agent that does what its prompt's hint says: "write X" puts X into
# state.txt; with no hint it writes "meh". The validator wants "good".
AGENT = textwrap.dedent(
    """\
    #!/bin/sh
    prompt=$(cat)
    word=$(printf '%s\\n' "$prompt" | sed -n 's/.*write \\([a-z]*\\).*/\\1/p' | head -n 1)
    echo "${word:-meh}" > state.txt
    echo "wrote ${word:-meh}"
    """
)


def _loop(folder: Path) -> Path:
    spec = write_loop(
        folder,
        budget="max_iterations = 2\nmax_cost_usd = 3.0",
        files={"state.txt": "bad\n", "other.txt": "kept\n"},
    )
    (folder / "agent.sh").write_text(AGENT)
    (folder / "agent.sh").chmod(0o755)
    text = spec.read_text().replace(
        'backend = "scripted"\nscript = "agent_script.toml"',
        f'backend = "command"\ncommand = "{folder / "agent.sh"}"\nformat = "text"',
    )
    spec.write_text(text)
    return spec


def test_three_branches_ranked_adopted_and_landed(tmp_path: Path, capsys) -> None:
    repo = pygit2.init_repository(str(tmp_path / "repo"))
    spec = _loop(tmp_path / "repo" / "loop")
    repo.index.add_all()
    repo.index.write()
    sig = pygit2.Signature("user", "user@example.com")
    repo.create_commit("HEAD", sig, sig, "init", repo.index.write_tree(), [])
    head_before = (tmp_path / "repo" / ".git" / "HEAD").read_bytes()
    index_before = (tmp_path / "repo" / ".git" / "index").read_bytes()

    runs = tmp_path / "runs"
    source = runs / "src"
    assert main(["run", str(spec), "--headless", "--run-dir", str(source)]) == 1  # never met
    journal_before = (source / "journal.jsonl").read_bytes()
    capsys.readouterr()

    code = main(
        [
            "fork",
            str(source),
            "--from",
            "1",
            "-n",
            "3",
            "--hint",
            "write good",
            "--hint",
            "write bad",
            "--split-budget",
            "--wait",
        ]
    )
    out = capsys.readouterr().out
    assert code == 0  # the best branch met the goal
    table = out[out.index(" #  branch") :].splitlines()
    assert "src-fork1-1" in table[1] and "goal met" in table[1] and "1/1" in table[1]
    assert {"src-fork1-2", "src-fork1-3"} == {line.split()[1] for line in table[2:4]}
    assert (source / "journal.jsonl").read_bytes() == journal_before  # the source untouched

    b1 = runs / "src-fork1-1"
    assert (b1 / "workspace" / "other.txt").read_text() == "kept\n"  # iteration 1's tree
    assert json.loads((runs / "src-fork1-3" / "fork.json").read_text())["variant"]["hint"] == ""
    events = [json.loads(line) for line in (b1 / "journal.jsonl").read_text().splitlines()]
    assert any(e["type"] == "hint_added" and e["text"] == "write good" for e in events)
    started = next(e for e in events if e["type"] == "run_started")
    assert started["budget"]["max_cost_usd"] == 1.0  # a third of the source's $3

    assert main(["compare", str(b1)]) == 0
    assert capsys.readouterr().out.splitlines()[1].split()[1] == "src-fork1-1"

    assert main(["adopt", str(b1)]) == 0
    assert Branch.load(b1).status == "adopted"
    assert Branch.load(runs / "src-fork1-2").status == "discarded"
    assert (runs / "src-fork1-2" / "journal.jsonl").is_file()  # records stay

    assert main(["report", str(source)]) == 0
    report = (source / "report.md").read_text()
    ranking = report[report.index("Fork branches, best first") :]
    assert ranking.index("src-fork1-1") < ranking.index("src-fork1-2")

    assert main(["land", str(b1), "--branch", "best"]) == 0
    again = pygit2.Repository(str(tmp_path / "repo"))
    tip = again.revparse_single("best")
    assert (tip.tree / "loop/workspace/state.txt").data == b"good\n"
    # The branch's work is the source's iteration 1, then its own: both land, in order.
    runs_of = []
    commit = tip.peel(pygit2.Commit)
    while commit.parents:
        runs_of.append(commit.message.split("Loopconsole-Run: ")[1].split()[0])
        commit = commit.parents[0]
    assert runs_of == ["src-fork1-1", "src"]
    assert (commit.tree / "loop/workspace/state.txt").data == b"bad\n"  # the user's HEAD
    assert (tip.parents[0].tree / "loop/workspace/state.txt").data == b"meh\n"  # src it 1

    # The source run adopted that branch: landing the source lands the same history.
    assert main(["land", str(source), "--branch", "via-source"]) == 0
    again = pygit2.Repository(str(tmp_path / "repo"))
    assert again.revparse_single("via-source").tree.id == tip.tree.id
    assert (tmp_path / "repo" / ".git" / "HEAD").read_bytes() == head_before
    assert (tmp_path / "repo" / ".git" / "index").read_bytes() == index_before


def test_fork_refuses_an_iteration_the_run_never_finished(tmp_path: Path, capsys) -> None:
    spec = _loop(tmp_path / "loop")
    main(["run", str(spec), "--headless", "--run-dir", str(tmp_path / "src")])
    capsys.readouterr()
    assert main(["fork", str(tmp_path / "src"), "--from", "7", "-n", "2", "--wait"]) == 2
    err = capsys.readouterr().err
    assert "has no checkpoint of iteration 7" in err
    assert not list(tmp_path.glob("src-fork*"))


def test_a_branch_lacks_files_over_the_size_limit_and_says_so(tmp_path: Path, capsys) -> None:
    spec = _loop(tmp_path / "loop")
    (tmp_path / "loop" / "workspace" / "big.bin").write_text("x" * 3000)
    spec.write_text(spec.read_text() + "\n[checkpoints]\nmax_file_mb = 0.001\n")
    main(["run", str(spec), "--headless", "--run-dir", str(tmp_path / "src")])
    capsys.readouterr()
    assert main(["fork", str(tmp_path / "src"), "--from", "1", "-n", "1", "--wait"]) in (0, 1)
    assert "lack 1 file(s) over the checkpoint size limit" in capsys.readouterr().err
    branch = tmp_path / "src-fork1-1"
    assert not (branch / "workspace" / "big.bin").exists()  # no placeholder pretending
    assert Branch.load(branch).missing == ["big.bin"]
