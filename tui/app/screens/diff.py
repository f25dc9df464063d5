"""DiffScreen: what one checkpoint changed, file by file, then the whole diff.

A small diff (up to WHOLE_DIFF_FILES files) is shown whole, the file list
scrolling it. A larger one (an iteration that reformatted 5,000 files, the
start of a monorepo) shows its file list at once, taken from the checkpoint's
event when it carries one, and loads the highlighted file's patch on demand:
no patch of every file is ever made to open the screen.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from typing import ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.content import Content
from textual.screen import Screen
from textual.widgets import Footer, OptionList, Static
from textual.widgets.option_list import Option

from tui.app.checkpoint_reader import CheckpointReader
from tui.app.widgets.diff_view import DiffView
from tui.engine.checkpoints import CheckpointDiff, CheckpointError
from tui.events import Checkpointed, FileStat

_KIND_WORDS = {
    "agent": "the agent's changes",
    "human": "the engineer's changes (take-over)",
    "start": "the workspace at the start",
}
_STATUS_MARKS = {
    "added": "A",
    "deleted": "D",
    "modified": "M",
    "renamed": "R",
    "copied": "C",
    "typechange": "T",
}


WHOLE_DIFF_FILES = 200


@dataclass(frozen=True)
class DiffTarget:
    """One checkpoint to show: its commit, compared with the checkpoint before it."""

    iteration: int
    commit: str
    label: str
    files_changed: int = 0  # from the checkpoint's event; 0 when unknown
    files: tuple[FileStat, ...] = ()  # the event's per-file stats, when it has them
    base: str | None = None  # compared with this checkpoint instead (fork branches)
    title: str = ""  # the heading instead of "Iteration N"

    @property
    def heading(self) -> str:
        return self.title or f"Iteration {self.iteration}"


def diff_targets(iteration: int, checkpoints: list[Checkpointed]) -> list[DiffTarget]:
    """The checkpoints of one iteration worth a diff, agent's first."""
    out = []
    for c in sorted(checkpoints, key=lambda c: c.kind != "agent"):
        if c.kind == "rewind":
            label = (
                f"rewind to iteration {c.restored_iteration}"
                if c.restored_iteration is not None
                else "the workspace before a rewind"
            )
        else:
            label = _KIND_WORDS.get(c.kind, c.kind)
        out.append(DiffTarget(iteration, c.commit, label, c.files_changed, tuple(c.files)))
    return out


def file_line(f: FileStat, counted: bool = True) -> Content:
    """``M pages.py  +1 -1`` (without the counts when they were not ``counted``)."""
    mark = _STATUS_MARKS.get(f.status, "?")
    colour = {"A": "$passed", "D": "$failed"}.get(mark, "$accent")
    name = f"{f.old_path} → {f.path}" if f.old_path else f.path
    counts = "binary" if f.binary else (f"+{f.insertions} -{f.deletions}" if counted else "")
    # assemble, not markup: fifty times faster, for the list of a 5,000-file diff
    return Content.assemble((mark, colour), f" {name}  ", (counts, "$text-muted"))


class DiffScreen(Screen[None]):
    """The diff of one checkpoint; n / p move to the next or previous iteration."""

    CSS_PATH = "diff.tcss"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q,d", "close", "close", id="diff.close"),
        Binding("n", "iteration(1)", "next iteration", id="diff.next"),
        Binding("p", "iteration(-1)", "previous iteration", id="diff.previous"),
        Binding("c", "other", "other checkpoint", id="diff.other"),
        Binding("tab", "app.focus_next", "files / diff", show=False),
    ]

    def __init__(
        self,
        reader: CheckpointReader,
        iteration: int,
        targets_for: Callable[[int], list[DiffTarget]],
        numbers: list[int],
    ) -> None:
        super().__init__()
        self.reader = reader
        self.iteration = iteration
        self.targets_for = targets_for
        self.numbers = numbers
        self.targets: list[DiffTarget] = []
        self.index = 0
        self.diff: CheckpointDiff | None = None
        #: The files of a large diff, whose patches load one at a time (else empty).
        self.large_files: tuple[FileStat, ...] = ()

    def compose(self) -> ComposeResult:
        yield Static(id="diff-title")
        with Horizontal(id="diff-body"):
            yield OptionList(id="diff-files")
            yield DiffView(id="diff-patch")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self._load_iteration(self.iteration)
        self.query_one(DiffView).focus()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "other":
            return len(self.targets) > 1 or None
        if action == "iteration":
            return bool(self.numbers)  # a fork branch's diff has no iterations to move through
        return True

    def _load_iteration(self, iteration: int) -> None:
        self.iteration = iteration
        self.targets = self.targets_for(iteration)
        self.index = 0
        self.refresh_bindings()
        self._load()

    def _load(self) -> None:
        if not self.targets:
            self._show_title(f"Iteration {self.iteration} · no checkpoint recorded")
            self.query_one("#diff-files", OptionList).clear_options()
            self.query_one(DiffView).set_patch("")
            return
        target = self.targets[self.index]
        self._show_title(f"{target.heading} · {target.label} · loading…")
        self.large_files = ()
        if target.files_changed > WHOLE_DIFF_FILES:
            self._fetch_list(target)
        else:
            self._fetch(target)

    @work(exclusive=True, group="diff")
    async def _fetch_list(self, target: DiffTarget) -> None:
        files = target.files
        counted = len(files) == target.files_changed
        if not counted:
            try:
                files = await asyncio.to_thread(self.reader.files, target.base, target.commit)
            except CheckpointError as exc:
                self._show_title(f"{target.heading} · {target.label}")
                self.notify(str(exc), severity="error", timeout=8)
                return
        self.diff = None
        self.large_files = files
        self._show_title(
            f"{target.heading} · {target.label} · {len(files):,} files changed"
            f"{self._more()} · each file's diff loads when highlighted"
        )
        lister = self.query_one("#diff-files", OptionList)
        lister.set_options(Option(file_line(f, counted)) for f in files)
        self.query_one(DiffView).set_patch("")
        if files:
            lister.highlighted = 0

    @work(exclusive=True, group="patch")
    async def _fetch_file(self, commit: str, f: FileStat, base: str | None = None) -> None:
        try:
            _stat, patch = await asyncio.to_thread(
                self.reader.file_diff, base, commit, f.path, f.old_path
            )
        except CheckpointError as exc:
            self.notify(str(exc), severity="error", timeout=8)
            return
        self.query_one(DiffView).set_patch(patch or "(no changes)")

    def _more(self) -> str:
        if len(self.targets) > 1:
            return f" · {self.index + 1} of {len(self.targets)} (c: next)"
        return ""

    @work(exclusive=True, group="diff")
    async def _fetch(self, target: DiffTarget) -> None:
        try:
            diff = await asyncio.to_thread(self.reader.diff, target.base, target.commit)
        except CheckpointError as exc:
            self._show_title(f"{target.heading} · {target.label}")
            self.query_one(DiffView).set_patch("")
            self.notify(str(exc), severity="error", timeout=8)
            return
        self.diff = diff
        self._show(target, diff)

    def _show(self, target: DiffTarget, diff: CheckpointDiff) -> None:
        self._show_title(f"{target.heading} · {target.label} · {diff.stat.summary()}{self._more()}")
        files = self.query_one("#diff-files", OptionList)
        files.set_options(Option(file_line(f), id=f.path) for f in diff.stat.files)
        view = self.query_one(DiffView)
        view.set_patch(diff.patch or "(no changes)")

    def _show_title(self, text: str) -> None:
        self.query_one("#diff-title", Static).update(Content(text))

    @on(OptionList.OptionHighlighted, "#diff-files")
    def _file_chosen(self, event: OptionList.OptionHighlighted) -> None:
        if self.large_files:
            if event.option_index < len(self.large_files) and self.targets:
                target = self.targets[self.index]
                self._fetch_file(target.commit, self.large_files[event.option_index], target.base)
            return
        view = self.query_one(DiffView)
        starts = view.file_starts()
        if event.option_index < len(starts):
            view.scroll_to_line(starts[event.option_index])

    def action_iteration(self, delta: int) -> None:
        if self.iteration not in self.numbers:
            return
        index = self.numbers.index(self.iteration) + delta
        if 0 <= index < len(self.numbers):
            self._load_iteration(self.numbers[index])

    def action_other(self) -> None:
        if len(self.targets) > 1:
            self.index = (self.index + 1) % len(self.targets)
            self._load()

    def action_close(self) -> None:
        self.dismiss(None)
