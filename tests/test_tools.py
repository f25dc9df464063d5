"""The shared agent tools: workspace confinement, the text editor, bash."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from tui.agents import text_editor as editor_module
from tui.agents.tools import EDITOR_TOOL, PathEscape, Toolbox, ToolOutcome, confine


@pytest.fixture
def ws(tmp_path: Path) -> Path:
    workspace = tmp_path / "ws"
    workspace.mkdir()
    (workspace / "app.py").write_text("line one\nline two\nline three\nline four\n")
    return workspace


@pytest.fixture
def box(ws: Path) -> Toolbox:
    return Toolbox(ws, timeout_s=5, output_cap=2000)


async def edit(box: Toolbox, **tool_input: object) -> ToolOutcome:
    return await box.call(EDITOR_TOOL, dict(tool_input))


# -- confinement --------------------------------------------------------------


def test_confine_accepts_paths_inside(ws: Path) -> None:
    real = ws.resolve()
    assert confine(ws, "app.py") == real / "app.py"
    assert confine(ws, str(ws / "app.py")) == real / "app.py"
    assert confine(ws, "sub/../app.py") == real / "app.py"
    assert confine(ws, "new/dir/file.txt") == real / "new/dir/file.txt"
    assert confine(ws, ".") == real
    assert confine(ws, str(ws)) == real
    (ws / "inner_link").symlink_to(ws / "app.py")
    assert confine(ws, "inner_link") == real / "app.py"


@pytest.mark.parametrize(
    ("path", "words"),
    [
        ("../x", "climbs out of the workspace"),
        ("a/../../x", "climbs out of the workspace"),
        ("/etc/passwd", "is outside the workspace"),
        ("app\x00.py", "NUL byte"),
    ],
)
def test_confine_refuses_escapes(ws: Path, path: str, words: str) -> None:
    with pytest.raises(PathEscape, match=words):
        confine(ws, path)


def test_confine_refuses_symlinks_pointing_outside(ws: Path, tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("secret")
    (ws / "linked_dir").symlink_to(outside)
    (ws / "linked_file").symlink_to(outside / "secret.txt")
    for path in ("linked_dir/secret.txt", "linked_dir", "linked_file", "linked_dir/new.txt"):
        with pytest.raises(PathEscape, match="symlink that points outside"):
            confine(ws, path)


async def test_editor_refuses_escapes_without_touching_anything(
    box: Toolbox, ws: Path, tmp_path: Path
) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (ws / "linked_dir").symlink_to(outside)
    (ws / "linked_file").symlink_to(outside / "target.txt")
    for path in ("../escaped.txt", str(tmp_path / "escaped.txt"), "linked_dir/x.txt"):
        outcome = await edit(box, command="create", path=path, file_text="pwned")
        assert outcome.is_error, path
    outcome = await edit(box, command="create", path="linked_file", file_text="pwned")
    assert outcome.is_error
    assert "outside the workspace" in outcome.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["outside", "ws"]
    assert list(outside.iterdir()) == []
    view = await edit(box, command="view", path="/etc/passwd")
    assert view.is_error
    assert "root:" not in view.output


# -- view -----------------------------------------------------------------------


async def test_view_file_with_line_numbers(box: Toolbox) -> None:
    outcome = await edit(box, command="view", path="app.py")
    assert not outcome.is_error
    assert outcome.output == (
        "Here's the result of running `cat -n` on app.py:\n"
        "     1\tline one\n     2\tline two\n     3\tline three\n     4\tline four\n"
    )


async def test_view_range(box: Toolbox) -> None:
    middle = await edit(box, command="view", path="app.py", view_range=[2, 3])
    assert middle.output.splitlines()[1:] == ["     2\tline two", "     3\tline three"]
    to_end = await edit(box, command="view", path="app.py", view_range=[3, -1])
    assert to_end.output.splitlines()[1:] == ["     3\tline three", "     4\tline four"]
    for bad in ([0, 2], [9, -1], [3, 2]):
        outcome = await edit(box, command="view", path="app.py", view_range=bad)
        assert outcome.is_error
        assert "Invalid view_range" in outcome.output


async def test_view_directory_two_levels_without_hidden(box: Toolbox, ws: Path) -> None:
    (ws / "pkg" / "deep" / "deeper").mkdir(parents=True)
    (ws / "pkg" / "mod.py").write_text("")
    (ws / "pkg" / "deep" / "too_deep.py").write_text("")
    (ws / ".git").mkdir()
    (ws / ".git" / "HEAD").write_text("")
    (ws / ".env").write_text("")
    outcome = await edit(box, command="view", path=".")
    assert outcome.output.splitlines() == [
        "Here's the files and directories up to 2 levels deep in ., excluding hidden items:",
        "app.py",
        "pkg/",
        "pkg/deep/",
        "pkg/mod.py",
    ]
    sub = await edit(box, command="view", path="pkg")
    assert sub.output.splitlines()[1:] == [
        "pkg/deep/",
        "pkg/deep/deeper/",
        "pkg/deep/too_deep.py",
        "pkg/mod.py",
    ]


async def test_view_truncates_at_max_characters(ws: Path) -> None:
    (ws / "big.txt").write_text("".join(f"row {i}\n" for i in range(1000)))
    box = Toolbox(ws, max_characters=200)
    outcome = await edit(box, command="view", path="big.txt")
    assert "<response clipped" in outcome.output
    assert "use view_range" in outcome.output
    assert len(outcome.output) < 400


async def test_view_errors(box: Toolbox, ws: Path) -> None:
    (ws / "blob.bin").write_bytes(b"\xff\xfe\x00binary")
    missing = await edit(box, command="view", path="nope.py")
    assert missing.is_error
    assert missing.output == "The path nope.py does not exist."
    binary = await edit(box, command="view", path="blob.bin")
    assert binary.is_error
    assert "not UTF-8 text" in binary.output


# -- create ---------------------------------------------------------------------


async def test_create_makes_parents_and_overwrites(box: Toolbox, ws: Path) -> None:
    created = await edit(box, command="create", path="src/pkg/new.py", file_text="x = 1\n")
    assert created == ToolOutcome("File created successfully at: src/pkg/new.py")
    assert (ws / "src/pkg/new.py").read_text() == "x = 1\n"
    again = await edit(box, command="create", path=str(ws / "src/pkg/new.py"), file_text="y\n")
    assert not again.is_error
    assert "overwritten" in again.output
    assert (ws / "src/pkg/new.py").read_text() == "y\n"
    folder = await edit(box, command="create", path="src", file_text="z")
    assert folder.is_error
    assert "is a directory" in folder.output


async def test_writes_are_atomic_and_keep_the_mode(
    box: Toolbox, ws: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    script = ws / "run.sh"
    script.write_text("echo old\n")
    script.chmod(0o755)
    inode = script.stat().st_ino
    outcome = await edit(box, command="str_replace", path="run.sh", old_str="old", new_str="new")
    assert not outcome.is_error
    # A new file was renamed over the old one, and it is still executable.
    assert script.stat().st_ino != inode
    assert stat.S_IMODE(script.stat().st_mode) == 0o755
    assert script.read_text() == "echo new\n"

    def broken_replace(src: str, dst: object, **_dir_fds: object) -> None:
        raise OSError(28, "No space left on device", str(dst))

    monkeypatch.setattr(editor_module.os, "replace", broken_replace)
    failed = await edit(box, command="create", path="run.sh", file_text="half")
    assert failed.is_error
    assert "No space left on device" in failed.output
    assert script.read_text() == "echo new\n"
    assert sorted(p.name for p in ws.iterdir()) == ["app.py", "run.sh"]


async def test_new_files_follow_the_umask(box: Toolbox, ws: Path) -> None:
    await edit(box, command="create", path="plain.txt", file_text="x")
    umask = os.umask(0o022)
    os.umask(umask)
    assert stat.S_IMODE((ws / "plain.txt").stat().st_mode) == 0o666 & ~umask


# -- str_replace ----------------------------------------------------------------


async def test_str_replace_exactly_one_match(box: Toolbox, ws: Path) -> None:
    outcome = await edit(
        box, command="str_replace", path="app.py", old_str="line two", new_str="LINE 2\nextra"
    )
    assert not outcome.is_error
    assert (ws / "app.py").read_text() == "line one\nLINE 2\nextra\nline three\nline four\n"
    assert outcome.output.startswith("The file app.py has been edited.")
    assert "     2\tLINE 2\n     3\textra\n" in outcome.output


async def test_str_replace_without_new_str_deletes(box: Toolbox, ws: Path) -> None:
    outcome = await edit(box, command="str_replace", path="app.py", old_str="line three\n")
    assert not outcome.is_error
    assert (ws / "app.py").read_text() == "line one\nline two\nline four\n"


async def test_str_replace_no_match(box: Toolbox, ws: Path) -> None:
    before = (ws / "app.py").read_text()
    outcome = await edit(box, command="str_replace", path="app.py", old_str="line 9", new_str="x")
    assert outcome.is_error
    assert outcome.output == (
        "No replacement was performed: old_str did not appear verbatim in app.py."
    )
    assert (ws / "app.py").read_text() == before


async def test_str_replace_two_matches(box: Toolbox, ws: Path) -> None:
    before = (ws / "app.py").read_text()
    outcome = await edit(box, command="str_replace", path="app.py", old_str="line t", new_str="x")
    assert outcome.is_error
    assert "occurs 2 times in app.py (lines 2, 3)" in outcome.output
    assert "include more context" in outcome.output
    assert (ws / "app.py").read_text() == before


# -- insert -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (0, "NEW\nline one\nline two\nline three\nline four\n"),
        (2, "line one\nline two\nNEW\nline three\nline four\n"),
        (4, "line one\nline two\nline three\nline four\nNEW\n"),
    ],
)
async def test_insert(box: Toolbox, ws: Path, line: int, expected: str) -> None:
    outcome = await edit(box, command="insert", path="app.py", insert_line=line, insert_text="NEW")
    assert not outcome.is_error, outcome.output
    assert (ws / "app.py").read_text() == expected
    assert f"{line + 1:6}\tNEW" in outcome.output


async def test_insert_accepts_new_str_and_files_without_final_newline(
    box: Toolbox, ws: Path
) -> None:
    (ws / "short.txt").write_text("a\nb")
    outcome = await edit(box, command="insert", path="short.txt", insert_line=2, new_str="c\n")
    assert not outcome.is_error
    assert (ws / "short.txt").read_text() == "a\nb\nc\n"


async def test_insert_errors(box: Toolbox) -> None:
    out_of_range = await edit(box, command="insert", path="app.py", insert_line=9, insert_text="x")
    assert out_of_range.is_error
    assert "between 0 and 4" in out_of_range.output
    no_text = await edit(box, command="insert", path="app.py", insert_line=1)
    assert no_text.is_error
    assert "insert_text" in no_text.output


# -- malformed calls --------------------------------------------------------------


@pytest.mark.parametrize(
    ("tool_input", "words"),
    [
        ({"command": "delete", "path": "app.py"}, "does not match any of the expected tags"),
        ({"command": "create", "path": "a.py"}, "file_text"),
        ({"command": "view"}, "path"),
        ({"command": "view", "path": "app.py", "bogus": 1}, "bogus"),
        ({"command": "undo_edit", "path": "app.py"}, "undo_edit is not available"),
        ({"path": "app.py"}, "command"),
    ],
)
async def test_malformed_editor_input(box: Toolbox, tool_input: dict, words: str) -> None:
    outcome = await box.call(EDITOR_TOOL, tool_input)
    assert outcome.is_error
    assert words in outcome.output


async def test_unknown_tool_and_bad_input_type(box: Toolbox) -> None:
    unknown = await box.call("browser", {})
    assert unknown.is_error
    assert unknown.output == (
        "Unknown tool 'browser'; the tools are: bash, str_replace_based_edit_tool."
    )
    not_a_dict = await box.call("bash", ["ls"])  # type: ignore[arg-type]
    assert not_a_dict.is_error


async def test_register_adds_a_tool(box: Toolbox) -> None:
    seen: list[dict] = []

    async def memory(tool_input: dict) -> ToolOutcome:
        seen.append(tool_input)
        return ToolOutcome("remembered")

    box.register("memory", memory)
    assert box.names == ["bash", "memory", "str_replace_based_edit_tool"]
    assert await box.call("memory", {"command": "view"}) == ToolOutcome("remembered")
    assert seen == [{"command": "view"}]


# -- bash -------------------------------------------------------------------------


async def test_bash_runs_in_the_workspace(box: Toolbox, ws: Path) -> None:
    outcome = await box.call("bash", {"command": "pwd && ls"})
    assert outcome == ToolOutcome(f"{ws}\napp.py", exit_code=0)


async def test_bash_reports_exit_code(box: Toolbox) -> None:
    outcome = await box.call("bash", {"command": "echo failing >&2; exit 3"})
    assert not outcome.is_error
    assert outcome.exit_code == 3
    assert outcome.output == "failing\n[exit code 3]"
    silent = await box.call("bash", {"command": "true"})
    assert silent.output == "(no output)"


async def test_bash_timeout(ws: Path) -> None:
    box = Toolbox(ws, timeout_s=0.5)
    outcome = await box.call("bash", {"command": "echo started; sleep 30"})
    assert outcome.is_error
    assert outcome.output.startswith("started\n[timed out after 0.5 s;")


async def test_bash_output_is_capped(ws: Path) -> None:
    box = Toolbox(ws, output_cap=1000)
    outcome = await box.call("bash", {"command": "seq 1 100000"})
    assert len(outcome.output) < 1200
    assert outcome.output.startswith("1\n2\n3\n")
    assert outcome.output.endswith("99999\n100000")
    assert "cut from the middle" in outcome.output


async def test_bash_env_has_no_secrets(box: Toolbox, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GITHUB_TOKEN", "ghp-hidden-7731")
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-hidden-7731")
    monkeypatch.setenv("LOOP_VISIBLE", "yes")
    outcome = await box.call("bash", {"command": "env"})
    assert "LOOP_VISIBLE=yes" in outcome.output
    assert "hidden-7731" not in outcome.output


async def test_bash_restart_and_bad_input(box: Toolbox) -> None:
    restarted = await box.call("bash", {"restart": True})
    assert not restarted.is_error
    assert restarted.output.startswith("tool has been restarted.")
    for bad in ({}, {"command": "  "}, {"command": 3}):
        outcome = await box.call("bash", bad)
        assert outcome.is_error, bad
        assert outcome.output.startswith("Invalid input for bash:")


async def test_bash_in_a_missing_workspace(tmp_path: Path) -> None:
    outcome = await Toolbox(tmp_path / "gone").call("bash", {"command": "true"})
    assert outcome.is_error
    assert "No such file or directory" in outcome.output
