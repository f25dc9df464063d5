"""ValidatorsPane: a row per validator, the chosen one's output, and what changed."""

from __future__ import annotations

import time
from collections.abc import Sequence

from textual import on
from textual.app import ComposeResult
from textual.content import Content
from textual.timer import Timer
from textual.widgets import Log, OptionList, Static
from textual.widgets.option_list import Option

from tui.app.store import RunStore, ValidatorRun
from tui.app.widgets.pane import Pane
from tui.events import Event, ValidatorFinished, ValidatorOutput, ValidatorStarted

# Lines of validator output kept on screen; the store keeps the rest.
LOG_LINES = 5_000
# Failing test ids listed under the rows.
SHOWN_IDS = 6
# A flood of output is written to the log at most this often (seconds);
# only its last LOG_LINES lines would survive anyway.
FLUSH_S = 0.1


def tail_lines(text: str, lines: int) -> str:
    """The last ``lines`` lines of ``text`` (cheap for huge outputs)."""
    end = len(text)
    pos = end
    for _ in range(lines + 1):
        pos = text.rfind("\n", 0, pos)
        if pos < 0:
            return text
    return text[pos + 1 :]


def short_id(test_id: str) -> str:
    """'tests/test_x.py::test_a' -> 'test_a'; 'mod.Case.test_a' -> 'test_a'."""
    if "::" in test_id:
        return test_id.rsplit("::", 1)[1]
    if "/" not in test_id and "." in test_id:
        return test_id.rsplit(".", 1)[1]
    return test_id


def _ids(ids: list[str]) -> str:
    more = f" +{len(ids) - SHOWN_IDS}" if len(ids) > SHOWN_IDS else ""
    return ", ".join(short_id(i) for i in ids[:SHOWN_IDS]) + more


def row_text(run: ValidatorRun | None, name: str) -> Content:
    """``✗ tests  1.2s  5/7 passed`` (the failure reason when no test counts)."""
    if run is None:
        return Content.from_markup("[$text-muted]·[/] $name  [$text-muted]waiting", name=name)
    if run.result is None:
        return Content.from_markup("[$running]▶[/] $name  [$text-muted]running…", name=name)
    r = run.result
    glyph = "[$passed]✓[/]" if r.passed else "[$failed]✗[/]"
    if r.tests_passed is not None:
        total = r.tests_passed + (r.tests_failed or 0) + (r.tests_errors or 0)
        detail = f"{r.tests_passed}/{total} passed"
    else:
        detail = r.reason if not r.passed else ""
    if r.timed_out:
        detail = r.reason or "timed out"
    optional = "" if r.required else " [$text-muted](optional)[/]"
    return Content.from_markup(
        f"{glyph} $name{optional}  [$text-muted]{r.duration_s:.1f}s[/]  $detail",
        name=name,
        detail=detail,
    )


class ValidatorsPane(Pane):
    """Validator results of one iteration: the live one, or one picked on the timeline."""

    TITLE = "Validators"

    def __init__(self, store: RunStore, **kwargs) -> None:
        super().__init__(**kwargs)
        self.store = store
        self.pinned: int | None = None  # None: follow the newest validated iteration
        # Said after the iteration number when an earlier one is shown (not in a replay).
        self.history_mark = " (history)"
        self.iteration: int | None = None
        self.chosen: str | None = None
        self._pending: list[str] = []
        self._flushed_at = 0.0
        self._flush_timer: Timer | None = None

    def compose(self) -> ComposeResult:
        yield OptionList(id="validator-rows")
        yield Static(id="validator-changes")
        yield Log(id="validator-log", max_lines=LOG_LINES, highlight=False)

    @property
    def output_log(self) -> Log:
        return self.query_one("#validator-log", Log)

    def _names(self) -> list[str]:
        names = list(self.store.validator_names)
        rec = self.store.record(self.iteration) if self.iteration else None
        for name in rec.validators if rec else ():
            if name not in names:
                names.append(name)
        return names

    def _run(self, name: str) -> ValidatorRun | None:
        rec = self.store.record(self.iteration) if self.iteration else None
        return rec.validators.get(name) if rec else None

    def refresh_rows(self) -> None:
        """Redraw the rows and the comparison from the store."""
        rows = self.query_one("#validator-rows", OptionList)
        names = self._names()
        if self.chosen not in names:
            self.chosen = names[0] if names else None
        highlighted = names.index(self.chosen) if self.chosen in names else None
        rows.set_options([Option(row_text(self._run(n), n), id=n) for n in names])
        if highlighted is not None:
            rows.highlighted = highlighted
        label = f"iteration {self.iteration}" if self.iteration else "no run yet"
        self.border_subtitle = label + (self.history_mark if self.pinned is not None else "")
        self._show_changes()

    def _show_changes(self) -> None:
        run = self._run(self.chosen) if self.chosen else None
        lines: list[Content] = []
        if run is not None and run.result is not None:
            ids = run.result.failing_ids
            if ids:
                lines.append(Content.from_markup("[$failed]failing:[/] $ids", ids=_ids(ids)))
            if self.iteration:
                cmp = self.store.compare(self.iteration, run.name)
                if cmp.newly_failing:
                    lines.append(
                        Content.from_markup(
                            "[$failed]newly failing:[/] $x", x=_ids(cmp.newly_failing)
                        )
                    )
                if cmp.newly_passing:
                    lines.append(
                        Content.from_markup(
                            "[$passed]newly passing:[/] $x", x=_ids(cmp.newly_passing)
                        )
                    )
                if cmp.validator_changed and not (cmp.newly_failing or cmp.newly_passing):
                    lines.append(Content(f"{cmp.validator_changed} since the last iteration"))
        changes = self.query_one("#validator-changes", Static)
        changes.update(Content("\n").join(lines))
        changes.display = bool(lines)

    def _clear_log(self) -> None:
        self._pending.clear()
        self.output_log.clear()

    def _write_log(self, text: str) -> None:
        """Write now, or gather until FLUSH_S has passed since the last write."""
        self._pending.append(text)
        wait = self._flushed_at + FLUSH_S - time.monotonic()
        if wait <= 0:
            self._flush()
        elif self._flush_timer is None:
            self._flush_timer = self.set_timer(wait, self._flush)

    def _flush(self) -> None:
        self._flush_timer = None
        self._flushed_at = time.monotonic()
        if not self._pending:
            return
        text = "".join(self._pending)
        self._pending.clear()
        tail = tail_lines(text, LOG_LINES)
        if len(tail) < len(text):
            self.output_log.clear()  # everything on screen would be pushed out
        self.output_log.write(tail)

    def _reload_log(self) -> None:
        self._clear_log()
        log = self.output_log
        run = self._run(self.chosen) if self.chosen else None
        if run is not None:
            log.write(tail_lines(run.output, LOG_LINES))

    def show(self, number: int | None) -> None:
        """Pin to iteration ``number``, or follow the newest (None)."""
        self.pinned = number
        self.iteration = number if number is not None else self.store.latest_with_validators()
        self.refresh_rows()
        self._reload_log()

    def feed(self, events: Sequence[Event]) -> None:
        """Follow validator events of the iteration on show."""
        if self.pinned is not None:
            return
        finished = False
        out: list[str] = []
        for e in events:
            if isinstance(e, ValidatorStarted):
                if e.iteration != self.iteration or e.name == self.chosen:
                    # A new iteration, or a re-run replacing the earlier output.
                    self.iteration = e.iteration
                    self._clear_log()
                    out = []
                # Rows first, so the output filter below knows the chosen one.
                self.refresh_rows()
            elif isinstance(e, ValidatorOutput):
                if e.iteration == self.iteration and e.name == self.chosen:
                    out.append(e.text)
            elif isinstance(e, ValidatorFinished):
                finished = True
        if finished:
            self.refresh_rows()
        if out:
            self._write_log("".join(out))

    @on(OptionList.OptionHighlighted, "#validator-rows")
    def _chosen(self, event: OptionList.OptionHighlighted) -> None:
        name = event.option.id
        if name is not None and name != self.chosen:
            self.chosen = name
            self._show_changes()
            self._reload_log()
