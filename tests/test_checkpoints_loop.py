"""A whole loop on a git workspace: the start checkpoint borrows, the size limit holds."""

from __future__ import annotations

from pathlib import Path

import pygit2

from tests.loops import edit, write_loop
from tests.test_checkpoints import git, hash_tree
from tui.engine.journal import read_journal
from tui.engine.rundir import create_run
from tui.engine.runner import Runner
from tui.events import Checkpointed, Notice, RunFinished
from tui.spec import load_spec


async def test_a_loop_on_a_git_workspace_leaves_the_repository_byte_identical(
    tmp_path: Path,
) -> None:
    spec_path = write_loop(
        tmp_path / "loop",
        script=f"[[iteration]]\n{edit('good')}",
        files={"state.txt": "bad\n", "src/app.py": "print(1)\n"},
        extra="[checkpoints]\nmax_file_mb = 1",
    )
    spec_path.write_text(spec_path.read_text().replace("copy_workspace = true", ""))
    ws = tmp_path / "loop" / "workspace"
    (ws / "model.bin").write_bytes(b"m" * 3_000_000)
    git(ws, "init", "-q", "-b", "main")
    git(ws, "add", "-A")
    git(ws, "commit", "-q", "-m", "start")
    git(ws, "gc", "-q")
    status = git(ws, "status", "--porcelain=v2", "--branch")
    dot_git = hash_tree(ws / ".git")

    spec = load_spec(spec_path)
    run = create_run(spec, tmp_path / "run")
    runner = Runner(spec, run)
    finished = await runner.run()
    assert isinstance(finished, RunFinished) and finished.outcome == "goal_met"

    events = [
        e for e in read_journal(run.path / "journal.jsonl").events if isinstance(e, Checkpointed)
    ]
    start, agent = events[0], events[-1]
    assert start.kind == "start" and agent.kind == "agent"
    # The size limit from the spec, stated in the start checkpoint's notes.
    assert len(start.notes) == 1 and "model.bin (2.9 MB)" in start.notes[0]
    assert "over the 1 MB limit" in start.notes[0]
    # The engine says it too, as a warning the console and the headless printer show.
    journal = read_journal(run.path / "journal.jsonl").events
    warned = [e.message for e in journal if isinstance(e, Notice) and e.level == "warning"]
    assert start.notes[0] in warned
    shadow = pygit2.Repository(str(run.path / "checkpoints.git"))
    assert "Borrowed from the git repository" in shadow[start.commit].message  # type: ignore[union-attr]
    alternates = run.path / "checkpoints.git" / "objects" / "info" / "alternates"
    assert alternates.read_text() == f"{ws / '.git' / 'objects'}\n"
    assert [f.path for f in agent.files] == ["state.txt"]
    # The work tree changed (the agent's edit); the repository did not.
    assert (ws / "state.txt").read_text() == "good"
    assert hash_tree(ws / ".git") == dot_git
    assert git(ws, "status", "--porcelain=v2", "--branch") != status  # state.txt modified
    assert git(ws, "diff", "--name-only") == "state.txt\n"
