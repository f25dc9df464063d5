"""The run from start to finish: open the checkpoints, iterate, pause, finish.

:class:`RunLoop` is what :meth:`Runner.run` does. It announces the run, opens
the checkpoints (a new run's first one; for a resumed run, what the journal
said handed back to the thrash detector and the flow), then iterates: between
iterations it checks the stop and pause requests and the budget, and waits
while paused; each iteration is an :class:`~tui.engine.iteration.Iteration`.
Whatever happens, the run ends with one ``RunFinished``: a fault a user can
cause becomes its reason, a bug is written to error.log and re-raised.
"""

from __future__ import annotations

import asyncio
import contextlib
import traceback
from functools import partial
from typing import TYPE_CHECKING

from tui.agents.base import AgentFatal
from tui.engine.checkpoints import CheckpointError, Checkpoints
from tui.engine.iteration import Iteration
from tui.engine.journal import JournalWriter, is_environment_fault, run_folder_fault
from tui.engine.resume import INTERRUPTED_OUTPUT, ResumeState, WorkspacePrep
from tui.engine.rundir import lock_run, unlock_run
from tui.events import (
    EXIT_CODES,
    ChangesRecorded,
    Notice,
    Outcome,
    Paused,
    Resumed,
    RunFinished,
    RunStarted,
    ToolResult,
)
from tui.redaction import scrub_process_environ

if TYPE_CHECKING:
    from tui.engine.runner import Runner

SANDBOX_OFF = (
    'the sandbox is off ([sandbox] mode = "off"): the agent\'s commands and the validators '
    "run unconfined, with your permissions; protected paths are still checked after "
    "each iteration"
)


class RunLoop:
    """Runs one runner's loop from start to finish (see the module doc)."""

    def __init__(
        self,
        runner: Runner,
        journal: JournalWriter,
        resume: ResumeState | None,
        prep: WorkspacePrep | None,
    ) -> None:
        self.runner = runner
        self.resume = resume
        self._journal = journal
        self._prep = prep

    async def run(self) -> RunFinished:
        """Run the loop to its end and return the final event."""
        runner = self.runner
        spec = runner.spec
        lock_run(runner.run_dir.path)
        scrub_process_environ(spec.env.redact)  # children cannot read them from /proc
        runner.publish(
            RunStarted(
                name=spec.name,
                goal=runner.goal,
                spec_path=str(spec.path or ""),
                run_dir=str(runner.run_dir.path),
                workspace=str(runner.run_dir.workspace),
                backend=spec.agent.backend,
                model=spec.agent.model,
                budget=runner.budget.state(),
                validators=[v.name for v in spec.validators],
                resumed=self.resume is not None,
                sandbox="off" if runner.confinement.sandbox is None else "bwrap",
            )
        )
        if runner.confinement.sandbox is None:
            runner.publish(Notice(level="warning", message=SANDBOX_OFF))
        watcher = runner.reload.start()
        try:
            await self.open_checkpoints()
            outcome, reason = await self._iterate()
        except AgentFatal as exc:
            runner.publish(Notice(level="error", message=str(exc)))
            outcome, reason = "error", str(exc)
        except CheckpointError as exc:
            runner.publish(Notice(level="error", message=str(exc)))
            outcome, reason = "error", f"checkpoints failed: {exc}"
        except asyncio.CancelledError:
            return self._finish("interrupted", "the run was cancelled")
        except OSError as exc:
            if runner.journal_fault is None and not is_environment_fault(exc):
                self._internal_error(exc)
                raise
            # The run folder cannot be written (disk full, read-only): a fault, not a bug.
            outcome, reason = "paused", runner.journal_fault or run_folder_fault(exc)
            runner.publish(Notice(level="error", message=reason))
        except Exception as exc:  # a bug: record it, keep the journal whole, then re-raise
            self._internal_error(exc)
            raise
        finally:
            runner.stop_watch()
            runner.reload.stopped.set()
            if watcher is not None:
                watcher.cancel()
            await runner.agent.aclose()
            if runner.checkpoints is not None:
                runner.checkpoints.close()
            unlock_run(runner.run_dir.path)
        if runner.journal_fault is not None:
            outcome, reason = "paused", runner.journal_fault
        finished = self._finish(outcome, reason)
        if runner.notify is not None:
            await runner.notify.settle()  # the "finished" command runs before we exit
        return finished

    def _internal_error(self, exc: BaseException) -> None:
        with contextlib.suppress(OSError):
            (self.runner.run_dir.path / "error.log").write_text(traceback.format_exc())
        self._finish("error", f"internal error: {exc!r} (details in error.log)")

    async def open_checkpoints(self) -> None:
        """Open the run's checkpoints; start a new run's, or take up a resumed run's state."""
        runner = self.runner
        runner.checkpoints = await asyncio.to_thread(
            partial(
                Checkpoints.open,
                runner.run_dir.path,
                runner.run_dir.workspace,
                max_file_bytes=runner.spec.checkpoints.max_file_bytes,
            )
        )
        await asyncio.to_thread(runner.tamper.start)
        for lock in runner.checkpoints.recovered:
            runner.publish(Notice(level="warning", message=f"removed a stale lock: {lock}"))
        state = self.resume
        if state is None:
            info = await asyncio.to_thread(runner.checkpoints.commit, 0, "start")
            runner.publish_checkpoint(info)
            runner.thrash.start(info.tree, None)
            return
        for call in state.interrupted_calls:
            runner.publish(
                ToolResult(
                    iteration=call.iteration,
                    call_id=call.call_id,
                    name=call.name,
                    output=INTERRUPTED_OUTPUT,
                    is_error=True,
                    interrupted=True,
                )
            )
        prep = self._prep or WorkspacePrep()
        for info in prep.checkpoints:
            runner.publish(info.event())
        for line in state.warnings + prep.notes:
            runner.publish(Notice(level="warning", message=line))
        if prep.human_changes:
            runner.publish(ChangesRecorded(changes=prep.human_changes))
        for line in state.notes:
            runner.publish(Notice(level="info", message=line))
        if state.spec_edits is not None:
            runner.reload.edited(state.spec_edits)
        thrash = runner.thrash
        thrash.start(state.checkpoint_tree, state.last_results)
        self._offer_finish_on_resume()
        for dismissed in state.dismissed:
            if dismissed.whole_kind:
                thrash.disable(dismissed.kind)
            else:
                thrash.dismiss_key(dismissed.key)
        for raised in state.signals:
            thrash.remember(raised)
        for threshold in state.thresholds:
            thrash.raise_threshold(threshold.kind, threshold.threshold)

    def _offer_finish_on_resume(self) -> None:
        """A resumed run whose last results already pass: no agent iteration is needed.

        In the console it waits for the human to finish it (or carry on);
        headless it finishes with the goal met.
        """
        runner = self.runner
        if not runner.state.goal_met_now():
            return
        if runner.interactive:
            runner.flow.finish_offered = True
            runner.flow.request_pause(
                "every required validator passed when the run stopped: "
                "finish with the goal met, or resume for another iteration",
                by_human=False,
            )
        else:
            runner.flow.goal_met_while_paused = True
            runner.flow.stop_requested = True

    def _finish(self, outcome: Outcome, reason: str) -> RunFinished:
        runner = self.runner
        runner.budget.stop_clock()
        runner.stop_watch()
        event = RunFinished(
            outcome=outcome,
            reason=reason,
            exit_code=EXIT_CODES[outcome],
            budget=runner.budget.state(),
        )
        runner.publish(event)
        self._journal.close()
        return event

    async def _iterate(self) -> tuple[Outcome, str]:
        """Iterate until the run ends: stopped, out of budget, decided, or paused headless."""
        runner = self.runner
        runner.budget.start_clock()
        flow = runner.flow
        while True:
            if flow.stop_requested:
                return self._stopped_outcome()
            if not flow.pause_requested:
                # A budget raised in loop.toml (while stopped, or just now) counts before
                # the limit is checked, not only once the next iteration has started.
                runner.reload.apply_pending()
            limit = runner.budget.exhausted()
            if limit:
                return "budget", runner.budget.describe(limit)
            if flow.pause_requested:
                if not runner.interactive:
                    return "paused", flow.pause_reason
                await self._wait_while_paused()
                continue
            verdict = await Iteration(runner).run()
            if verdict.action == "stop":
                return verdict.outcome or "stopped", verdict.reason
            if verdict.action == "pause":
                flow.request_pause(verdict.reason, verdict.by_human)

    def _stopped_outcome(self) -> tuple[Outcome, str]:
        runner = self.runner
        if runner.journal_fault is not None:
            return "paused", runner.journal_fault
        if runner.flow.goal_met_while_paused:
            return "goal_met", "every required validator passes (re-checked while paused)"
        if runner.flow.interrupted:
            return "interrupted", "interrupted (Ctrl-C)"
        return "stopped", "stopped by the human"

    async def _wait_while_paused(self) -> None:
        runner = self.runner
        flow = runner.flow
        runner.budget.stop_clock()
        question, flow.question = flow.question, ""
        runner.publish(
            Paused(
                reason=flow.pause_reason,
                by_human=flow.paused_by_human,
                question=question,
                goal_met=flow.finish_offered and runner.state.goal_met_now(),
            )
        )
        self._journal.sync()
        if flow.take_over_pending:
            runner.controls.begin_take_over()
        while flow.pause_requested and not flow.stop_requested:
            flow.wake.clear()
            await flow.wake.wait()
        if not flow.stop_requested:
            runner.budget.start_clock()
            runner.publish(Resumed(stepping=flow.stepping))
