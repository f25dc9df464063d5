"""The loop runner: prompt -> agent -> validators -> checkpoint -> decision.

The runner is UI-free and async. Views subscribe to its events; humans steer
it through the controls (tui/engine/controls.py), which are safe to call from
the same event loop at any time and take effect at the next safe point.
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import traceback
from collections.abc import Callable
from dataclasses import replace
from functools import partial
from typing import Literal

from tui.agents.base import Agent, AgentContext, AgentFatal, AgentResult
from tui.agents.registry import create_agent
from tui.agents.tools import Toolbox
from tui.confinement import Confinement
from tui.engine.budget import Budget
from tui.engine.call_ids import CallIds
from tui.engine.checkpoints import CheckpointError, CheckpointInfo, Checkpoints
from tui.engine.controls import ControlError, Controls
from tui.engine.decide import Verdict, decide, policy_of, summarize_checks
from tui.engine.journal import (
    JournalWriter,
    is_environment_fault,
    journaled_answer,
    run_folder_fault,
)
from tui.engine.prompt import (
    IterationSummary,
    PromptInputs,
    build_prompt,
    read_notes,
    system_prompt,
)
from tui.engine.recovery import RecoveryLog
from tui.engine.reload import SpecReload
from tui.engine.resume import INTERRUPTED_OUTPUT, ResumeState, WorkspacePrep
from tui.engine.rundir import RunDir, lock_run, unlock_run
from tui.engine.signal_text import recovery_note
from tui.engine.thrash import IterationRecord, ThrashDetector, corrective_hint
from tui.engine.toolcalls import CallLog
from tui.engine.trust import (
    TamperCheck,
    confinement_for,
    protected_paths,
    secrets_in_patch,
    tampered_verdict,
)
from tui.engine.validators import run_validators
from tui.engine.watch import WorkspaceWatch
from tui.events import (
    EXIT_CODES,
    AgentFinished,
    AgentTurn,
    BudgetState,
    BudgetUpdated,
    Decided,
    Event,
    IterationStarted,
    Notice,
    Outcome,
    Paused,
    Resumed,
    RunFinished,
    RunStarted,
    SignalRaised,
    ToolCall,
    ToolResult,
    Usage,
    ValidatorResult,
)
from tui.redaction import scrub_process_environ
from tui.spec import LoopSpec

Status = Literal["idle", "running", "validating", "pausing", "paused", "stopping", "finished"]
Subscriber = Callable[[Event], None]


class Runner(Controls, SpecReload, WorkspaceWatch):
    """Runs one loop, publishing every step as an event."""

    def __init__(
        self,
        spec: LoopSpec,
        run: RunDir,
        agent: Agent | None = None,
        *,
        interactive: bool = True,
        start_paused: bool = False,
        step: bool = False,
        watch_spec: bool = False,
        resume: ResumeState | None = None,
        prep: WorkspacePrep | None = None,
    ) -> None:
        self.spec = spec
        self.run_dir = run
        self.run_id = run.run_id
        self.agent = agent or create_agent(spec)
        self.interactive = interactive
        self.budget = Budget(spec.budget, spec.prices)
        self.thrash = ThrashDetector(spec.thrash)
        self.checkpoints: Checkpoints | None = None
        self.goal = spec.goal
        self.hints: list[str] = []
        self.instruction: str | None = None
        self.human_changes: list[str] = []
        self.iteration = 0
        self.status: Status = "idle"
        self.last_results: list[ValidatorResult] = []
        # Set by finish_goal_met: the paused run ends with the goal met.
        self._goal_met_while_paused = False
        self._finish_offered = False  # a resume paused to offer finishing
        self.results_by_iteration: dict[int, list[ValidatorResult]] = {}
        self.summaries: list[IterationSummary] = []
        self._calls = CallLog()
        self.recovery = RecoveryLog()  # where a thrash recovery goes back to
        # The highest turn number reported in this iteration (AgentTurn).
        self._turns = 0
        self._resume = resume
        self._prep = prep
        self._subscribers: list[Subscriber] = []
        self._call_ids = CallIds(resume.call_ids if resume is not None else ())
        self._journal_fault: str | None = None
        self._journal = JournalWriter(run.journal_path, on_fault=self._journal_failed)
        self._subscribers.append(self._journal)
        self._pause_requested = start_paused
        self._pause_reason = "started paused" if start_paused else "paused by the human"
        self._paused_by_human = True
        self._stepping = step
        self._stop_requested = False
        self._stop_now = False
        self._interrupted = False
        self._wake = asyncio.Event()
        self._work: asyncio.Task | None = None
        self._workspace_lock = asyncio.Lock()
        self._watch_spec = watch_spec and spec.path is not None
        self._pending_spec: LoopSpec | None = None
        self._watch_stop = asyncio.Event()
        self._tamper_signal: SignalRaised | None = None
        self.protected = protected_paths(spec, run)
        # Raises SandboxUnavailable (one sentence) when bwrap cannot start here.
        self.confinement: Confinement = confinement_for(spec, run, self.protected)
        self.redactor = self.confinement.redactor
        self.tamper = TamperCheck(self.protected)
        self.toolbox = Toolbox(
            run.workspace,
            timeout_s=spec.agent.tool_timeout_s,
            confinement=self.confinement,
            protected=self.protected.matches,
        )
        if resume is not None:
            self._seed(resume)

    @property
    def resumed(self) -> bool:
        return self._resume is not None

    def _seed(self, state: ResumeState) -> None:
        self.iteration = state.last_iteration
        self.budget.restore(state.budget)
        self.goal = state.goal or self.spec.goal
        self.hints = list(state.hints)
        self.last_results = list(state.last_results)
        self.summaries = list(state.summaries)
        self.results_by_iteration = dict(state.results_by_iteration)
        self.recovery = replace(state.recovery, origins=dict(state.recovery.origins))
        if self._prep is not None:
            self.human_changes = list(self._prep.human_changes)

    # -- events -----------------------------------------------------------
    def subscribe(self, callback: Subscriber) -> None:
        """Call ``callback`` with every event from now on, in order."""
        self._subscribers.append(callback)

    def publish(self, event: Event) -> None:
        """Stamp an event with the run and (unless set) the iteration; hand it out."""
        self.redactor.value(event)  # no secret value is journaled, shown or sent on
        event.run_id = self.run_id
        if not event.iteration:
            event.iteration = self.iteration
        self._call_ids.stamp(event)
        if isinstance(event, ToolCall | ToolResult):
            self._calls.see(event)
        elif isinstance(event, AgentTurn):
            self._turns = max(self._turns, event.turn)
        self.recovery.see(event)
        for callback in self._subscribers:
            callback(event)

    def budget_state(self) -> BudgetState:
        return self.budget.state()

    # -- the loop ---------------------------------------------------------
    async def run(self) -> RunFinished:
        """Run the loop to its end and return the final event."""
        lock_run(self.run_dir.path)
        scrub_process_environ(self.spec.env.redact)  # children cannot read them from /proc
        self.publish(
            RunStarted(
                name=self.spec.name,
                goal=self.goal,
                spec_path=str(self.spec.path or ""),
                run_dir=str(self.run_dir.path),
                workspace=str(self.run_dir.workspace),
                backend=self.spec.agent.backend,
                model=self.spec.agent.model,
                budget=self.budget.state(),
                validators=[v.name for v in self.spec.validators],
                resumed=self.resumed,
                sandbox="off" if self.confinement.sandbox is None else "bwrap",
            )
        )
        if self.confinement.sandbox is None:
            self.publish(Notice(level="warning", message=SANDBOX_OFF))
        watcher = self._start_watcher()
        try:
            await self._open_checkpoints()
            outcome, reason = await self._loop()
        except AgentFatal as exc:
            self.publish(Notice(level="error", message=str(exc)))
            outcome, reason = "error", str(exc)
        except CheckpointError as exc:
            self.publish(Notice(level="error", message=str(exc)))
            outcome, reason = "error", f"checkpoints failed: {exc}"
        except asyncio.CancelledError:
            return self._finish("interrupted", "the run was cancelled")
        except OSError as exc:
            if self._journal_fault is None and not is_environment_fault(exc):
                self._internal_error(exc)
                raise
            # The run folder cannot be written (disk full, read-only): a fault, not a bug.
            outcome, reason = "paused", self._journal_fault or run_folder_fault(exc)
            self.publish(Notice(level="error", message=reason))
        except Exception as exc:  # a bug: record it, keep the journal whole, then re-raise
            self._internal_error(exc)
            raise
        finally:
            self.stop_watch()
            self._watch_stop.set()
            if watcher is not None:
                watcher.cancel()
            await self.agent.aclose()
            if self.checkpoints is not None:
                self.checkpoints.close()
            unlock_run(self.run_dir.path)
        if self._journal_fault is not None:
            outcome, reason = "paused", self._journal_fault
        return self._finish(outcome, reason)

    def _internal_error(self, exc: BaseException) -> None:
        with contextlib.suppress(OSError):
            (self.run_dir.path / "error.log").write_text(traceback.format_exc())
        self._finish("error", f"internal error: {exc!r} (details in error.log)")

    def _journal_failed(self, sentence: str) -> None:
        """The journal cannot be written: stop at once, resumable (see journal.py)."""
        self._journal_fault = sentence
        self.publish(Notice(level="error", message=sentence))
        # As stop(now=True), without a "stop" control: no human asked for it.
        self._stop_requested = self._stop_now = True
        if self._work is not None:
            self._work.cancel()
        self._wake.set()

    async def _open_checkpoints(self) -> None:
        self.checkpoints = await asyncio.to_thread(
            partial(
                Checkpoints.open,
                self.run_dir.path,
                self.run_dir.workspace,
                max_file_bytes=self.spec.checkpoints.max_file_bytes,
            )
        )
        await asyncio.to_thread(self.tamper.start)
        for lock in self.checkpoints.recovered:
            self.publish(Notice(level="warning", message=f"removed a stale lock: {lock}"))
        state = self._resume
        if state is None:
            info = await asyncio.to_thread(self.checkpoints.commit, 0, "start")
            self.publish(info.event())
            self._checkpoint_notes(info)
            self.thrash.start(info.tree, None)
            return
        for call in state.interrupted_calls:
            self.publish(
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
            self.publish(info.event())
        for line in state.warnings + prep.notes:
            self.publish(Notice(level="warning", message=line))
        for line in state.notes:
            self.publish(Notice(level="info", message=line))
        if state.spec_edits is not None:
            self._spec_edited(state.spec_edits)
        self.thrash.start(state.checkpoint_tree, state.last_results)
        self._offer_finish_on_resume()
        for dismissed in state.dismissed:
            if dismissed.whole_kind:
                self.thrash.disable(dismissed.kind)
            else:
                self.thrash.dismiss_key(dismissed.key)
        for raised in state.signals:
            self.thrash.remember(raised)
        for threshold in state.thresholds:
            self.thrash.raise_threshold(threshold.kind, threshold.threshold)

    def _offer_finish_on_resume(self) -> None:
        """A resumed run whose last results already pass: no agent iteration is needed.

        In the console it waits for the human to finish it (or carry on);
        headless it finishes with the goal met.
        """
        if not self.goal_met_now():
            return
        if self.interactive:
            self._finish_offered = True
            self._pause_requested = True
            self._pause_reason = (
                "every required validator passed when the run stopped: "
                "finish with the goal met, or resume for another iteration"
            )
            self._paused_by_human = False
        else:
            self._goal_met_while_paused = True
            self._stop_requested = True

    def _finish(self, outcome: Outcome, reason: str) -> RunFinished:
        self.budget.stop_clock()
        self.status = "finished"
        event = RunFinished(
            outcome=outcome,
            reason=reason,
            exit_code=EXIT_CODES[outcome],
            budget=self.budget.state(),
        )
        self.publish(event)
        self._journal.close()
        return event

    async def _loop(self) -> tuple[Outcome, str]:
        self.budget.start_clock()
        while True:
            if self._stop_requested:
                return self._stopped_outcome()
            if not self._pause_requested:
                # A budget raised in loop.toml (while stopped, or just now) counts before
                # the limit is checked, not only once the next iteration has started.
                self._apply_pending_spec()
            limit = self.budget.exhausted()
            if limit:
                return "budget", self.budget.describe(limit)
            if self._pause_requested:
                if not self.interactive:
                    return "paused", self._pause_reason
                await self._wait_while_paused()
                continue
            verdict = await self._iteration()
            if verdict.action == "stop":
                return verdict.outcome or "stopped", verdict.reason
            if verdict.action == "pause":
                self._pause_requested = True
                self._pause_reason = verdict.reason
                self._paused_by_human = verdict.by_human

    def _stopped_outcome(self) -> tuple[Outcome, str]:
        if self._journal_fault is not None:
            return "paused", self._journal_fault
        if self._goal_met_while_paused:
            return "goal_met", "every required validator passes (re-checked while paused)"
        if self._interrupted:
            return "interrupted", "interrupted (Ctrl-C)"
        return "stopped", "stopped by the human"

    async def _wait_while_paused(self) -> None:
        self.status = "paused"
        self.budget.stop_clock()
        self.publish(
            Paused(
                reason=self._pause_reason,
                by_human=self._paused_by_human,
                goal_met=self._finish_offered and self.goal_met_now(),
            )
        )
        self._journal.sync()
        while self._pause_requested and not self._stop_requested:
            self._wake.clear()
            await self._wake.wait()
        if not self._stop_requested:
            self.budget.start_clock()
            self.status = "running"
            self.publish(Resumed(stepping=self._stepping))

    async def _iteration(self) -> Verdict:
        async with self._workspace_lock:
            self.status = "stopping" if self._stop_requested else "running"
            self._apply_pending_spec()
            self.iteration += 1
            self._calls = CallLog()
            self._turns = 0
            notes = read_notes(self.run_dir.memories, self.spec.memory.max_note_chars)
            prompt = self._next_prompt(notes)
            system = system_prompt(self.spec)
            # A CLI agent keeps its own system prompt: record what it was sent.
            system_for = getattr(self.agent, "system_for", None)
            if system_for is not None:
                system = system_for(system)
            self.publish(
                IterationStarted(goal=self.goal, prompt=prompt, system=system, notes=notes)
            )
            result = await self._agent_part(prompt, system)
            self.budget.iterations += 1
            self.publish(
                AgentFinished(
                    stop=result.stop,
                    final_text=journaled_answer(result.final_text),
                    claims_done=result.claims_done,
                    turns=result.turns,
                    tool_calls=result.tool_calls,
                )
            )
            # Protected paths changed any other way are put back before anyone judges.
            self._tamper_signal = await asyncio.to_thread(self.tamper.check, self.iteration)
            # An API that failed past its retries changed nothing worth judging.
            if not self._stop_now and result.stop != API_ERROR:
                if self.status == "running":
                    self.status = "validating"
                results = await self._phase(
                    run_validators(
                        self.spec.validators,
                        self.run_dir.workspace,
                        self.publish,
                        self.confinement,
                    )
                )
                if results is not None:
                    self.last_results = results
            self.results_by_iteration[self.iteration] = list(self.last_results)
            self.publish(BudgetUpdated(budget=self.budget.state()))
            verdict = await self._conclude(result)
            self._remember(result, verdict)
            if verdict.recover is not None:
                verdict = await self._recover_policy(verdict)
            if self.status in ("running", "validating"):
                self.status = "pausing" if verdict.action == "pause" else "running"
            return verdict

    async def _conclude(self, result: AgentResult) -> Verdict:
        """Checkpoint, look for thrash, decide; publish all three."""
        assert self.checkpoints is not None
        tree, patch = await asyncio.to_thread(self.checkpoints.snapshot)
        for line in secrets_in_patch(self.redactor, patch):
            self.publish(Notice(level="warning", message=line))
        tamper, self._tamper_signal = self._tamper_signal, None
        if tamper is not None:
            tamper.action = self.thrash.action_for(tamper.kind)
        signals: list[SignalRaised] = [] if tamper is None else [tamper]
        if not self._stop_now and result.stop != API_ERROR:
            record = IterationRecord(
                iteration=self.iteration,
                tree=tree,
                results=self.last_results,
                tool_calls=self._calls.calls,
                claims_done=result.claims_done,
                patch=patch,
                final_text=result.final_text,
                observations=self._calls.observations(),
            )
            signals += self.thrash.observe(record)
        for signal in signals:
            # signal.action is the policy it met (the detector sets it; "ignore"
            # once the human switched its kind off): the console announces it
            # unless it is "ignore".
            self.publish(signal)
        verdict = decide(
            result,
            self.last_results,
            self.budget,
            stop_requested=self._stop_requested,
            interrupted=self._interrupted,
            stepping=self._stepping,
            pause_requested=self._pause_requested,
            signals=signals,
            thrash=self.spec.thrash,
            recoveries_used=self.recovery.used,
        )
        if tamper is not None:
            verdict = tampered_verdict(verdict, tamper, self.spec.thrash)
        if self._journal_fault is not None:
            verdict = Verdict("stop", self._journal_fault, "paused")
        if verdict.action == "continue":
            for signal in signals:
                if policy_of(signal, self.spec.thrash) == "hint":
                    self.hints.append(corrective_hint(signal))
        info = await asyncio.to_thread(
            self.checkpoints.commit, self.iteration, "agent", verdict.action, tree=tree
        )
        self.publish(info.event())
        self._checkpoint_notes(info)
        self._snapshot_memories()
        passing, total = summarize_checks(self.last_results)
        self.publish(
            Decided(
                action=verdict.action,
                outcome=verdict.outcome,
                reason=verdict.reason,
                passing_checks=passing,
                total_checks=total,
            )
        )
        return verdict

    async def _recover_policy(self, verdict: Verdict) -> Verdict:
        """The "recover" policy: back to before the evidence, the note queued."""
        assert verdict.recover is not None
        try:
            await self._recover(verdict.recover, recovery_note(verdict.recover), by_human=False)
        except ControlError as exc:
            return Verdict("pause", f"could not recover from the signal: {exc}")
        return verdict

    def _checkpoint_notes(self, info: CheckpointInfo) -> None:
        """Say what a checkpoint did not store as usual (files over the size limit)."""
        for note in info.notes():
            self.publish(Notice(level="warning", message=note))

    async def _phase(self, coro):  # type: ignore[no-untyped-def]
        """Run one phase as a task that stop(now=True) can cancel."""
        self._work = asyncio.ensure_future(coro)
        try:
            return await self._work
        except asyncio.CancelledError:
            if self._stop_now and not _current_task_cancelling():
                return None
            raise
        finally:
            self._work = None

    async def _agent_part(self, prompt: str, system: str) -> AgentResult:
        ctx = AgentContext(
            iteration=self.iteration,
            prompt=prompt,
            system=system,
            workspace=self.run_dir.workspace,
            run_dir=self.run_dir.path,
            spec=self.spec,
            tools=self.toolbox,
            emit=self.publish,
            charge=self._charge,
            over_budget=self.budget.over_budget,
            memories=self.run_dir.memories,
        )
        left = self.budget.wall_left()
        try:
            result = await asyncio.wait_for(self._phase(self.agent.run_iteration(ctx)), left)
        except TimeoutError:
            # The agent part is bounded by the time left (a hung API, a silent CLI).
            self.publish(Notice(level="warning", message=WALL_CUT.format(left=left or 0)))
            return AgentResult(
                stop="budget", final_text="", turns=self._turns, tool_calls=len(self._calls)
            )
        if result is None:
            # Stopped midway: count what was reported before the stop.
            return AgentResult(
                stop="interrupted", final_text="", turns=self._turns, tool_calls=len(self._calls)
            )
        return result

    def _charge(
        self, model: str, usage: Usage, reported_cost: float | None = None, source: str = ""
    ) -> float:
        known = set(self.budget.unpriced)
        cost = self.budget.charge(model, usage, reported_cost, source)
        if self.budget.unpriced - known:
            self.publish(
                Notice(
                    level="warning",
                    message=f"no price is known for model {model!r}: its cost counts as $0; "
                    f'add [prices."{model}"] to the spec',
                )
            )
        self.publish(BudgetUpdated(budget=self.budget.state()))
        return cost

    def _next_prompt(self, notes: str) -> str:
        hints, self.hints = self.hints, []
        changes, self.human_changes = self.human_changes, []
        instruction, self.instruction = self.instruction, None
        failures = [r for r in self.last_results if not r.passed]
        mem = self.spec.memory
        inputs = PromptInputs(
            goal=self.goal,
            iteration=self.iteration,
            summaries=self.summaries[-mem.summaries :] if mem.summaries else [],
            failures=failures,
            hints=hints,
            notes=notes,
            human_changes=changes,
            instruction=instruction,
        )
        return self.redactor.text(build_prompt(inputs, mem.failure_chars))

    def _snapshot_memories(self) -> None:
        """Keep the agent's notes as of this iteration, so a rewind can bring them back."""
        memories = self.run_dir.memories
        if memories.is_dir():
            target = self.run_dir.path / "memory-snapshots" / str(self.iteration)
            shutil.rmtree(target, ignore_errors=True)
            shutil.copytree(memories, target)

    def _remember(self, result: AgentResult, verdict: Verdict) -> None:
        self.summaries.append(
            IterationSummary.of(
                self.iteration, self.last_results, verdict.reason, result.final_text
            )
        )


WALL_CUT = (
    "the agent was stopped after {left:.0f} s: the run reached budget.max_wall_s during its turn"
)
# AgentResult.stop when the agent's API failed past its retries (the agent
# sets pause_reason): no validators run, no thrash is looked for.
API_ERROR = "api_error"


SANDBOX_OFF = (
    'the sandbox is off ([sandbox] mode = "off"): the agent\'s commands and the validators '
    "run unconfined, with your permissions; protected paths are still checked after "
    "each iteration"
)


def _current_task_cancelling() -> bool:
    task = asyncio.current_task()
    return bool(task and task.cancelling())
