"""The text editor and the memory tool cannot be raced, misused or made to eat memory."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tui.agents.memory_tool import MemoryTool
from tui.agents.tools import PathEscape, Toolbox


async def test_the_editor_refuses_git_and_a_gitdir_target(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    (tmp_path / ".git" / "config").write_text("[core]\n")
    box = Toolbox(tmp_path)
    outcome = await box.call(
        "str_replace_based_edit_tool",
        {"command": "str_replace", "path": ".git/config", "old_str": "[core]", "new_str": "[x]"},
    )
    assert outcome.is_error and "inside .git/" in outcome.output
    sub = tmp_path / "sub"
    (sub / "meta").mkdir(parents=True)
    (sub / ".git").write_text("gitdir: meta\n")
    outcome = await box.call(
        "str_replace_based_edit_tool",
        {"command": "create", "path": "sub/meta/config", "file_text": "x"},
    )
    assert outcome.is_error and "gitdir:" in outcome.output
    assert not (sub / "meta" / "config").exists()
    assert (tmp_path / ".git" / "config").read_text() == "[core]\n"


async def test_a_folder_swapped_for_a_symlink_before_the_write_is_refused(tmp_path: Path) -> None:
    ws, outside = tmp_path / "ws", tmp_path / "outside"
    (ws / "d").mkdir(parents=True)
    outside.mkdir()
    box = Toolbox(ws)
    editor = box.editor
    target = editor._resolve("d/f.txt")  # the check passes: d is a folder
    (ws / "d").rmdir()
    (ws / "d").symlink_to(outside)  # swapped between the check and the write
    outcome = await box.call(  # what a write after the swap does
        "str_replace_based_edit_tool", {"command": "create", "path": "d/g.txt", "file_text": "x"}
    )
    assert outcome.is_error
    with pytest.raises(PathEscape, match="symlink"):
        editor._write(target, "d/f.txt", "x")  # refused, not followed
    assert list(outside.iterdir()) == []


async def test_the_memory_tool_rechecks_its_root_on_every_call(tmp_path: Path) -> None:
    memories, outside = tmp_path / "memories", tmp_path / "outside"
    outside.mkdir()
    tool = MemoryTool(memories)
    box = Toolbox(tmp_path / "ws")
    tool.register(box)
    ok = await box.call("memory", {"command": "create", "path": "/memories/a.md", "file_text": "a"})
    assert not ok.is_error
    (memories / "a.md").unlink()
    memories.rmdir()
    memories.symlink_to(outside)
    swapped = await box.call(
        "memory", {"command": "create", "path": "/memories/b.md", "file_text": "b"}
    )
    assert swapped.is_error and "was replaced" in swapped.output
    assert list(outside.iterdir()) == []


def test_viewing_a_1_gib_file_stays_under_100_mb_and_editing_it_is_refused(tmp_path: Path) -> None:
    big = tmp_path / "big.txt"
    with big.open("wb") as out:
        out.write(b"line one\nline two\nline three\n")
        out.truncate(1024**3)  # sparse: the rest is one very long line of NULs
    code = textwrap.dedent(
        f"""
        import asyncio, resource
        from pathlib import Path
        from tui.agents.tools import Toolbox
        box = Toolbox(Path({str(tmp_path)!r}))
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        async def main():
            view = await box.call("str_replace_based_edit_tool",
                {{"command": "view", "path": "big.txt"}})
            ranged = await box.call("str_replace_based_edit_tool",
                {{"command": "view", "path": "big.txt", "view_range": [2, 3]}})
            edit = await box.call("str_replace_based_edit_tool",
                {{"command": "str_replace", "path": "big.txt", "old_str": "one", "new_str": "1"}})
            return view, ranged, edit
        view, ranged, edit = asyncio.run(main())
        grown = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
        print(grown)
        print("line one" in view.output, "response clipped" in view.output)
        print(ranged.output.count("line t"), "line one" not in ranged.output)
        print(edit.is_error, edit.output)
        """
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    grown_kb, view, ranged, edit = proc.stdout.splitlines()[:4]
    assert int(grown_kb) < 100 * 1024
    assert view == "True True"
    assert ranged == "2 True"
    assert edit.startswith("True big.txt is 1.0 GB; the editor edits files up to 10.0 MB")
