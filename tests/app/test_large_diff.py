"""The diff view of an iteration that changed many files: list at once, patches on demand."""

from __future__ import annotations

from pathlib import Path

from textual.app import App
from textual.widgets import OptionList

from tests.app.helpers import wait_for
from tui.app.checkpoint_reader import CheckpointReader
from tui.app.screens.diff import WHOLE_DIFF_FILES, DiffScreen, diff_targets
from tui.app.themes import STATUS_VARIABLES
from tui.app.widgets.diff_view import DiffView
from tui.engine.checkpoints import Checkpoints

FILES = WHOLE_DIFF_FILES + 100


class _Host(App[None]):
    def __init__(self, screen: DiffScreen) -> None:
        super().__init__()
        self.diff_screen = screen

    def get_theme_variable_defaults(self) -> dict[str, str]:
        return dict(STATUS_VARIABLES)

    def on_mount(self) -> None:
        self.push_screen(self.diff_screen)


class _CountingReader(CheckpointReader):
    """The real reader, counting what the screen asked for."""

    def __init__(self, run_dir: Path) -> None:
        super().__init__(run_dir)
        self.whole = 0
        self.patches: list[str] = []

    def diff(self, old, new):  # type: ignore[no-untyped-def]
        self.whole += 1
        return super().diff(old, new)

    def file_diff(self, old, new, path, old_path=None):  # type: ignore[no-untyped-def]
        self.patches.append(path)
        return super().file_diff(old, new, path, old_path)


def _run(tmp_path: Path) -> tuple[Path, list]:
    ws, run = tmp_path / "ws", tmp_path / "run"
    ws.mkdir()
    run.mkdir()
    for i in range(FILES):
        (ws / f"f{i:03d}.py").write_text(f"x = {i}\n")
    with Checkpoints.open(run, ws) as cps:
        start = cps.commit(0, "start").event()
        for i in range(1, FILES):
            (ws / f"f{i:03d}.py").write_text(f"x = {i + 1000}\n")
        (ws / "f000.py").rename(ws / "moved.py")
        agent = cps.commit(1, "agent").event()
    return run, [start, agent]


async def test_a_large_diff_lists_its_files_and_loads_each_patch_on_demand(tmp_path: Path) -> None:
    run, events = _run(tmp_path)
    reader = _CountingReader(run)
    screen = DiffScreen(
        reader, 1, lambda n: diff_targets(n, [e for e in events if e.iteration == n]), [0, 1]
    )
    for e in events:
        e.iteration = 0 if e.kind == "start" else 1
    async with _Host(screen).run_test(size=(110, 32)) as pilot:
        files = screen.query_one("#diff-files", OptionList)
        view = screen.query_one(DiffView)
        await wait_for(pilot, lambda: files.option_count == FILES, "the file list")
        # The list came from the checkpoint's event, counts and all; no whole diff was made.
        assert "+1 -1" in str(files.get_option_at_index(1).prompt)
        assert reader.whole == 0
        await wait_for(pilot, lambda: "+x = 1001" in view.lines, "the first file's patch")
        # Only the highlighted file's patch is loaded.
        assert view.lines[0] == "diff --git a/f001.py b/f001.py"
        assert not any("f005" in line for line in view.lines)
        files.highlighted = 4
        await wait_for(pilot, lambda: "+x = 1005" in view.lines, "the fifth file's patch")
        # A rename is one file.
        renamed = next(
            i for i in range(FILES) if "moved.py" in str(files.get_option_at_index(i).prompt)
        )
        files.highlighted = renamed
        await wait_for(pilot, lambda: "rename from f000.py" in view.lines, "the rename")
        assert view.lines[0] == "diff --git a/f000.py b/moved.py"
        assert reader.patches == ["f001.py", "f005.py", "moved.py"]
        # The start checkpoint carries no per-file list: it comes from the repository.
        await pilot.press("p")
        await wait_for(pilot, lambda: files.option_count == FILES, "the start's file list")
        await wait_for(pilot, lambda: "+x = 0" in view.lines, "the start's first patch")
        assert reader.whole == 0
    reader.close()
