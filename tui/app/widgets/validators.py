"""ValidatorsPane: a row per validator, the chosen one's output, and what changed."""

from __future__ import annotations

from collections.abc import Sequence

from textual import on
from textual.app import ComposeResult
from textual.content import Content
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from tui.app.failures import Failure, parse_failures, without_internals
from tui.app.store import RunStore, ValidatorRun
from tui.app.widgets.output_log import OutputLog
from tui.app.widgets.pane import Pane
from tui.app.widgets.steady import show_line
from tui.events import Event, ValidatorFinished, ValidatorOutput, ValidatorStarted

# Failing test ids listed under the rows.
SHOWN_IDS = 6


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
    again = " [$text-muted](re-run)[/]" if run.rerun else ""
    return Content.from_markup(
        f"{glyph} $name{optional}{again}  [$text-muted]{r.duration_s:.1f}s[/]  $detail",
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
        self.failures: list[Failure] = []

    def compose(self) -> ComposeResult:
        yield OptionList(id="validator-rows")
        yield Static(id="validator-changes")
        yield OptionList(id="validator-failures")
        yield OutputLog(id="validator-log")

    @property
    def output_log(self) -> OutputLog:
        return self.query_one("#validator-log", OutputLog)

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
        """Redraw the rows, the comparison and the failures from the store."""
        rows = self.query_one("#validator-rows", OptionList)
        names = self._names()
        if self.chosen not in names:
            self.chosen = names[0] if names else None
        highlighted = names.index(self.chosen) if self.chosen in names else None
        rows.set_options([Option(row_text(self._run(n), n), id=n) for n in names])
        if highlighted is not None:
            rows.highlighted = highlighted
        label = f"iteration {self.iteration}" if self.iteration else "no run yet"
        rec = self.store.record(self.iteration) if self.iteration else None
        if rec is not None and rec.rechecked:
            label += " · re-run"
        self.border_subtitle = label + (self.history_mark if self.pinned is not None else "")
        self._show_changes()
        self._show_failures()

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
                if cmp.newly_failing or cmp.newly_passing:
                    lines[-1] = lines[-1].append(
                        Content.styled(f"  (vs {cmp.against})", "$text-muted")
                    )
                if cmp.validator_changed and not (cmp.newly_failing or cmp.newly_passing):
                    lines.append(Content(f"{cmp.validator_changed} (vs {cmp.against})"))
        changes = self.query_one("#validator-changes", Static)
        show_line(changes, Content("\n").join(lines), layout=True)
        changes.display = bool(lines)

    def _show_failures(self) -> None:
        """One row per failing test: its assertion line and the head of its traceback."""
        run = self._run(self.chosen) if self.chosen else None
        result = run.result if run is not None else None
        ids = result.failing_ids if result is not None else []
        listing = self.query_one("#validator-failures", OptionList)
        listing.display = bool(ids)
        found = parse_failures(self._shown_output(run), ids) if run is not None and ids else []
        if [f.test_id for f in found] == [f.test_id for f in self.failures] and found:
            self.failures = found
            return
        self.failures = found
        listing.set_options(Option(failure_text(f), id=str(i)) for i, f in enumerate(found))
        if found:
            listing.highlighted = 0
        listing.border_title = f"{len(found)} failing · enter: show in output" if found else ""

    def _reload_log(self) -> None:
        run = self._run(self.chosen) if self.chosen else None
        self.output_log.reset(run.output if run is not None else "")

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
        finished: list[ValidatorFinished] = []
        out: list[str] = []
        for e in events:
            if isinstance(e, ValidatorStarted):
                if e.iteration != self.iteration or e.name == self.chosen:
                    # A new iteration, or a re-run replacing the earlier output.
                    self.iteration = e.iteration
                    self.output_log.reset()
                    out = []
                # Rows first, so the output filter below knows the chosen one.
                self.refresh_rows()
            elif isinstance(e, ValidatorOutput):
                if e.iteration == self.iteration and e.name == self.chosen:
                    out.append(e.text)
            elif isinstance(e, ValidatorFinished):
                finished.append(e)
        if out:
            self.output_log.add("".join(out))
        if finished:
            self.refresh_rows()
            for e in finished:
                if e.iteration != self.iteration or e.result.name != self.chosen:
                    continue
                if e.result.output_truncated_bytes:
                    # The stream stopped at the cap; the result has the tail too.
                    self._reload_log()
                else:
                    self.output_log.finish()

    @on(OptionList.OptionHighlighted, "#validator-rows")
    def _chosen(self, event: OptionList.OptionHighlighted) -> None:
        name = event.option.id
        if name is not None and name != self.chosen:
            self.chosen = name
            self._show_changes()
            self._reload_log()
            self._show_failures()

    @on(OptionList.OptionSelected, "#validator-failures")
    def _failure_chosen(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        failure = self.failures[int(event.option.id or 0)]
        run = self._run(self.chosen) if self.chosen else None
        if failure.line is not None and run is not None:
            total = self._shown_output(run).count("\n") + 1
            self.output_log.scroll_to_source_line(failure.line, total)

    @staticmethod
    def _shown_output(run: ValidatorRun) -> str:
        return without_internals(run.output)


def failure_text(f: Failure) -> Content:
    """``✗ test_15  tests/test_x.py:10`` then the assertion and the failing line."""
    where = f"  [$text-muted]{f.location}[/]" if f.location else ""
    parts = [Content.from_markup(f"[$failed]✗[/] [b]$name[/b]{where}", name=short_id(f.test_id))]
    if f.assertion:
        parts.append(Content.from_markup("  [$failed]E[/] $line", line=f.assertion))
    for line in f.traceback[-2:]:
        parts.append(Content.styled("  " + line.strip(), "$text-muted"))
    if len(parts) == 1:
        parts.append(Content.styled("  (no details found in the output)", "$text-muted"))
    return Content("\n").join(parts)
