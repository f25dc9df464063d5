"""Benchmark: a checkpoint against ``git add -A && git commit`` (prints figures).

Builds a workspace of N files (default 5,000, about 50 MB in all, in nested
folders), makes an identical copy for the git CLI, and measures in the same
run: the first checkpoint of the tree, then R rounds of "change 3 files,
checkpoint" with pygit2 against the same change committed by the git CLI on
the copy. Targets (issue 5): median checkpoint under 150 ms, and the ratio
pygit2 / git CLI at most 1.0.

Run: python tests/benchmarks/bench_checkpoints.py [files] [rounds]
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tui.engine.checkpoints import Checkpoints

TARGET_MS = 150.0
TOTAL_BYTES = 50_000_000


def build(ws: Path, files: int) -> list[Path]:
    size = TOTAL_BYTES // files
    paths = []
    line = b"x = 'some reasonably long line of python-ish source text'  # padding\n"
    body = (line * (size // len(line) + 1))[:size]
    for i in range(files):
        p = ws / f"pkg{i % 50:02d}" / f"mod{(i // 50) % 10}" / f"file{i:05d}.py"
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(b"# %d\n" % i + body)
        paths.append(p)
    (ws / ".gitignore").write_text("*.log\nbuild/\n")
    return paths


def git(cwd: Path, *args: str) -> None:
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "b",
        "GIT_AUTHOR_EMAIL": "b@localhost",
        "GIT_COMMITTER_NAME": "b",
        "GIT_COMMITTER_EMAIL": "b@localhost",
        "GIT_CONFIG_NOSYSTEM": "1",
    }
    subprocess.run(["git", *args], cwd=cwd, env=env, check=True, capture_output=True)


def change(paths: list[Path], round_: int) -> None:
    for k in range(3):
        p = paths[(round_ * 37 + k * 1013) % len(paths)]
        with open(p, "ab") as f:
            f.write(b"# round %d change %d\n" % (round_, k))


def main(files: int = 5_000, rounds: int = 15) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        ws, copy, run = root / "ws", root / "copy", root / "run"
        ws.mkdir()
        run.mkdir()
        t = time.perf_counter()
        paths = build(ws, files)
        shutil.copytree(ws, copy, symlinks=True)
        copy_paths = [copy / p.relative_to(ws) for p in paths]
        print(f"built {files} files in {time.perf_counter() - t:.1f} s")

        t = time.perf_counter()
        cps = Checkpoints.open(run, ws)
        first = cps.commit(0, "start")
        first_ms = (time.perf_counter() - t) * 1000
        t = time.perf_counter()
        git(copy, "init", "-q")
        git(copy, "add", "-A")
        git(copy, "commit", "-q", "--no-verify", "-m", "start")
        git_first_ms = (time.perf_counter() - t) * 1000
        print(
            f"first checkpoint: pygit2 {first_ms:.0f} ms ({first.stat.summary()}), "
            f"git CLI init+add+commit {git_first_ms:.0f} ms"
        )

        ours, theirs = [], []
        for r in range(1, rounds + 1):
            change(paths, r)
            change(copy_paths, r)
            t = time.perf_counter()
            info = cps.commit(r, "agent")
            ours.append((time.perf_counter() - t) * 1000)
            assert info.stat is not None and info.stat.files_changed == 3, info.stat
            t = time.perf_counter()
            git(copy, "add", "-A")
            git(copy, "commit", "-q", "--no-verify", "-m", f"round {r}")
            theirs.append((time.perf_counter() - t) * 1000)
        cps.close()
        med, gmed = statistics.median(ours), statistics.median(theirs)
        print(
            f"3-file checkpoint, median of {rounds}: pygit2 {med:.1f} ms "
            f"(min {min(ours):.1f}, max {max(ours):.1f}); "
            f"git add -A && git commit {gmed:.1f} ms; ratio {med / gmed:.2f}"
        )
        ok = med < TARGET_MS and med / gmed <= 1.0
        print("targets met" if ok else "targets NOT met", f"(<{TARGET_MS:.0f} ms, ratio <= 1.0)")


if __name__ == "__main__":
    args = [int(a) for a in sys.argv[1:3]]
    main(*args)
