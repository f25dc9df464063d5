"""Headless runs: one line per iteration on stdout, or the events as JSON lines."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import Callable
from typing import TextIO

from tui.engine.live import run_served
from tui.engine.runner import Runner
from tui.events import (
    AgentFinished,
    BudgetState,
    BudgetUpdated,
    Checkpointed,
    Decided,
    Event,
    IterationStarted,
    Notice,
    RunFinished,
    RunStarted,
    SignalRaised,
    SignalRecovered,
    ThresholdRaised,
    ValidatorFinished,
    ValidatorResult,
    dump_event,
)
from tui.figures import duration
from tui.spend import cost_sources_text, estimate_note


def _validator_cell(r: ValidatorResult) -> str:
    mark = "✓" if r.passed else "✗"
    extra = f" {r.counts}" if r.counts else ""
    if r.timed_out:
        extra = " timed out"
    return f"{r.name} {mark}{extra}"


class LinePrinter:
    """Prints a run for a person: a header, a line per iteration, a summary."""

    def __init__(self, out: TextIO, err: TextIO) -> None:
        self.out = out
        self.err = err
        self._validators: list[ValidatorResult] = []
        self._agent_stop = ""
        self._journal = ""
        self._budget: BudgetState | None = None
        self._tokens_before = 0
        self._line: str | None = None  # the iteration line, held for a recovery to join it

    def __call__(self, event: Event) -> None:
        if self._line is not None and not isinstance(
            event, Checkpointed | SignalRecovered | Notice
        ):
            self._flush()
        match event:
            case RunStarted():
                self._journal = f"{event.run_dir}/journal.jsonl"
                what = "resumed" if event.resumed else "run"
                self._print(
                    f"{event.name} · {what} {event.run_id} · {event.backend} agent · "
                    f"up to {event.budget.max_iterations} iterations"
                )
            case IterationStarted():
                self._tokens_before = self._budget.usage.total if self._budget else 0
            case BudgetUpdated():
                self._budget = event.budget
            case AgentFinished():
                self._validators = []
                self._agent_stop = event.stop if event.stop != "end_turn" else ""
            case ValidatorFinished():
                self._validators.append(event.result)
            case Decided():
                self._iteration_line(event)
            case Notice() if event.level != "info":
                print(f"  {event.level}: {event.message}", file=self.err, flush=True)
            case SignalRaised():
                quiet = " (ignored: recorded only)" if event.action == "ignore" else ""
                self._print(f"  signal {event.kind}{quiet}: {event.explanation}")
            case SignalRecovered():
                self._recovered(event)
            case ThresholdRaised():
                words = event.kind.replace("_", " ")
                self._print(f"  {words} threshold raised: {event.previous} -> {event.threshold}")
            case RunFinished():
                self._summary(event)

    def _print(self, line: str) -> None:
        print(line, file=self.out, flush=True)

    def _iteration_line(self, event: Decided) -> None:
        checks = "  ".join(_validator_cell(r) for r in self._validators) or "no validators"
        cells = [f"#{event.iteration:<3} {checks}"]
        if self._agent_stop:
            cells.append(f"agent: {self._agent_stop}")
        if self._budget is not None:
            tokens = self._budget.usage.total - self._tokens_before
            cells.append(
                f"{tokens:,} tok · ${self._budget.cost_usd:.2f} total" + estimate_note(self._budget)
            )
        self._line = " · ".join(cells) + f" · {event.action}: {event.reason}"

    def _recovered(self, event: SignalRecovered) -> None:
        where = "the start" if event.to_iteration == 0 else f"iteration {event.to_iteration}"
        note = " ".join(event.note.split())
        note = note if len(note) <= 160 else note[:159] + "…"
        text = f" · rewound to {where} · note: {note}"
        if self._line is not None:
            self._line += text
            self._flush()
        else:
            self._print(" " + text.removeprefix(" · "))

    def _flush(self) -> None:
        line, self._line = self._line, None
        if line is not None:
            self._print(line)

    def _summary(self, event: RunFinished) -> None:
        b = event.budget
        words = {
            "goal_met": "goal met",
            "budget": "stopped on budget",
            "stopped": "stopped",
            "paused": "paused for a human",
            "interrupted": "interrupted",
            "error": "failed",
        }[event.outcome]
        reason = event.reason.removeprefix(f"{words}: ")
        plural = "s" if b.iterations != 1 else ""
        self._print(f"{words} after {b.iterations} iteration{plural}: {reason}")
        self._print(
            f"  {b.usage.total:,} tokens · ${b.cost_usd:.2f} · {duration(b.wall_s)} · "
            f"journal {self._journal}"
        )
        sources = cost_sources_text(b)
        if sources:
            self._print(f"  cost: {sources}")


class JsonPrinter:
    """Writes every event as one JSON line."""

    def __init__(self, out: TextIO) -> None:
        self.out = out

    def __call__(self, event: Event) -> None:
        self.out.write(dump_event(event) + "\n")
        self.out.flush()


class ReaderGone:
    """Wraps a printer: when the reader of stdout goes away (``| head``), stop quietly.

    The rest of the output goes nowhere (no traceback at exit), and the run is
    stopped as if asked to, not recorded as an error.
    """

    def __init__(self, printer: Callable[[Event], None], on_gone: Callable[[], None]) -> None:
        self.printer = printer
        self.on_gone = on_gone
        self.gone = False

    def __call__(self, event: Event) -> None:
        if self.gone:
            return
        try:
            self.printer(event)
        except BrokenPipeError:
            self.gone = True
            silence_stdout()
            self.on_gone()


def silence_stdout() -> None:
    """Point stdout at /dev/null, so the interpreter's last flush cannot fail."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError):  # no real file descriptor (tests capture stdout)
        pass


async def run_headless(runner: Runner, *, json_lines: bool = False) -> int:
    """Run to the end, printing as it goes; return the exit code."""
    printer = JsonPrinter(sys.stdout) if json_lines else LinePrinter(sys.stdout, sys.stderr)
    loop = asyncio.get_running_loop()

    def reader_gone() -> None:
        loop.call_soon(runner.stop, True)  # not from inside the runner's publish

    runner.subscribe(ReaderGone(printer, reader_gone))
    hits = 0

    def on_signal() -> None:
        nonlocal hits
        hits += 1
        if hits == 1:
            print("\ninterrupted: stopping (Ctrl-C again to force)", file=sys.stderr, flush=True)
            runner.interrupt()
        else:
            raise KeyboardInterrupt

    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, on_signal)
    try:
        # Served on its socket: a console can attach while it runs.
        finished = await run_served(runner)
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)
    return finished.exit_code
