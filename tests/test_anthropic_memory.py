"""The memory tool: Anthropic's six commands on <run dir>/memories, confined there."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tui.agents.memory_tool import MAX_FILE_CHARS, MemoryTool
from tui.agents.tools import Toolbox, ToolOutcome


@pytest.fixture
def memory(tmp_path: Path) -> Toolbox:
    box = Toolbox(tmp_path / "workspace")
    MemoryTool(tmp_path / "run" / "memories").register(box)
    return box


async def call(box: Toolbox, **tool_input: object) -> ToolOutcome:
    return await box.call("memory", tool_input)


async def test_create_view_and_list(memory: Toolbox, tmp_path: Path):
    made = await call(memory, command="create", path="/memories/notes.md", file_text="a\nb\n")
    assert made.output == "File created successfully at: /memories/notes.md"
    assert (tmp_path / "run" / "memories" / "notes.md").read_text() == "a\nb\n"
    await call(memory, command="create", path="/memories/deep/er/x.txt", file_text="x")
    shown = await call(memory, command="view", path="/memories/notes.md")
    assert shown.output.splitlines() == [
        "Here's the content of /memories/notes.md with line numbers:",
        "     1\ta",
        "     2\tb",
        "     3\t",
    ]
    ranged = await call(memory, command="view", path="/memories/notes.md", view_range=[2, 2])
    assert ranged.output.endswith("     2\tb")
    listing = (await call(memory, command="view", path="/memories")).output.splitlines()
    assert listing[0].startswith("Here're the files and directories up to 2 levels deep")
    paths = [line.split("\t")[1] for line in listing[1:]]
    assert paths == ["/memories", "/memories/deep/", "/memories/deep/er/", "/memories/notes.md"]


async def test_create_refuses_to_overwrite(memory: Toolbox):
    await call(memory, command="create", path="/memories/a.md", file_text="one")
    again = await call(memory, command="create", path="/memories/a.md", file_text="two")
    assert again.is_error and "already exists" in again.output


async def test_str_replace_insert_delete_rename(memory: Toolbox, tmp_path: Path):
    root = tmp_path / "run" / "memories"
    await call(memory, command="create", path="/memories/a.md", file_text="x = 1\ny = 2\n")
    edited = await call(memory, command="str_replace", path="/memories/a.md",
                        old_str="y = 2", new_str="y = 3")  # fmt: skip
    assert edited.output.startswith("The memory file has been edited.")
    assert "     2\ty = 3" in edited.output
    missing = await call(memory, command="str_replace", path="/memories/a.md",
                         old_str="zzz", new_str="")  # fmt: skip
    assert missing.is_error and "did not appear verbatim" in missing.output
    await call(memory, command="insert", path="/memories/a.md", insert_line=1, insert_text="w")
    assert (root / "a.md").read_text() == "x = 1\nw\ny = 3\n"
    bad = await call(memory, command="insert", path="/memories/a.md", insert_line=9,
                     insert_text="w")  # fmt: skip
    assert bad.is_error and "[0, 3]" in bad.output
    moved = await call(memory, command="rename", old_path="/memories/a.md",
                       new_path="/memories/old/a.md")  # fmt: skip
    assert moved.output == "Successfully renamed /memories/a.md to /memories/old/a.md"
    assert (root / "old" / "a.md").exists() and not (root / "a.md").exists()
    gone = await call(memory, command="delete", path="/memories/old")
    assert gone.output == "Successfully deleted /memories/old" and not (root / "old").exists()
    root_delete = await call(memory, command="delete", path="/memories")
    assert root_delete.is_error and root.is_dir()


async def test_duplicate_matches_are_refused(memory: Toolbox):
    await call(memory, command="create", path="/memories/a.md", file_text="k\nk\n")
    twice = await call(memory, command="str_replace", path="/memories/a.md", old_str="k",
                       new_str="v")  # fmt: skip
    assert twice.is_error and "lines: 1, 2" in twice.output


@pytest.mark.parametrize(
    "path",
    ["/memories/../escape.md", "/etc/passwd", "notes.md", "/memoriesX/a.md", "/memories/a\x00b"],
)
async def test_paths_outside_the_folder_are_refused(memory: Toolbox, tmp_path: Path, path: str):
    result = await call(memory, command="create", path=path, file_text="x")
    assert result.is_error
    assert not (tmp_path / "run" / "escape.md").exists()
    assert [p.name for p in (tmp_path / "run").iterdir()] == ["memories"]


async def test_symlinks_out_of_the_folder_are_refused(memory: Toolbox, tmp_path: Path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("secret")
    root = tmp_path / "run" / "memories"
    root.mkdir(parents=True)
    os.symlink(outside, root / "link")
    read = await call(memory, command="view", path="/memories/link/secret.txt")
    assert read.is_error and "secret" not in read.output.replace("secret.txt", "")
    write = await call(memory, command="create", path="/memories/link/new.txt", file_text="x")
    assert write.is_error and not (outside / "new.txt").exists()


async def test_huge_notes_are_refused(memory: Toolbox):
    big = await call(memory, command="create", path="/memories/big.md",
                     file_text="x" * (MAX_FILE_CHARS + 1))  # fmt: skip
    assert big.is_error and "limited to" in big.output


async def test_bad_input_is_an_error_not_an_exception(memory: Toolbox):
    result = await call(memory, command="explode", path="/memories")
    assert result.is_error
