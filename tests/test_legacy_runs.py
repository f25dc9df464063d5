"""Old `.loopconsole/runs` folders are found near the current folder, never by walking it whole."""

from __future__ import annotations

from pathlib import Path

from tui.engine.rundir import legacy_roots


def test_legacy_run_folders_are_looked_for_a_few_levels_down_only(tmp_path: Path) -> None:
    near = tmp_path / "loops" / "demo" / ".loopconsole" / "runs"
    deep = tmp_path / "a" / "b" / "c" / "d" / "e" / ".loopconsole" / "runs"
    hidden = tmp_path / "node_modules" / "pkg" / ".loopconsole" / "runs"
    for folder in (near, deep, hidden):
        folder.mkdir(parents=True)
    (tmp_path / "link").symlink_to(tmp_path)  # a loop back up is not followed
    assert legacy_roots(tmp_path) == [near]
