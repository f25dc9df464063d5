"""The loop runner: prompt -> agent -> validators -> checkpoint -> decision.

The runner is UI-free and async. Views subscribe to its events; humans steer
it with commands (tui/engine/commands.py) handed to :meth:`Runner.handle`,
which the controls (tui/engine/controls.py) apply at the next safe point.
Everything the runner knows about the run it reads from ``self.state``, the
fold of the events it published (tui/engine/run_state.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import traceback
from collections.abc import Callable, Coroutine
from functools import partial
from typing import Any, TypeVar

from tui.agents.base import Agent, AgentContext, AgentFatal, AgentResult
from tui.agents.registry import create_agent
from tui.agents.tools import Toolbox
from tui.confinement import Confinement
from tui.engine.budget import Budget
from tui.engine.call_ids import CallIds
from tui.engine.checkpoints import CheckpointError, CheckpointInfo, Checkpoints, RestoreReport
from tui.engine.commands import (
    AddHint,
    Command,
    DismissSignal,
    Drive,
    FinishGoalMet,
    Interrupt,
    Pause,
    RaiseThreshold,
    Recover,
    Reply,
    Resume,
    SetGoal,
    Step,
    Stop,
)
from tui.engine.controls import ControlError, Controls
from tui.engine.decide import Verdict, decide, policy_of, summarize_checks
from tui.engine.flow import LoopFlow
from tui.engine.journal import (
    JournalWriter,
    is_environment_fault,
    journaled_answer,
    run_folder_fault,
)
from tui.engine.notify import NotifyCommand, notify_command
from tui.engine.prompt import (
    IterationSummary,
    PromptInputs,
    build_prompt,
    read_notes,
    system_prompt,
)
from tui.engine.receipt import ReceiptTally
from tui.engine.reload import SpecReload
from tui.engine.resume import INTERRUPTED_OUTPUT, ResumeState, WorkspacePrep
from tui.engine.run_state import RunState, RunStatus
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
    ChangesRecorded,
    Decided,
    Event,
    HintAdded,
    IterationStarted,
    Notice,
    Outcome,
    Paused,
    Resumed,
    RunFinished,
    RunStarted,
    SignalRaised,
    SignalRecovered,
    ThresholdRaised,
    ToolCall,
    ToolResult,
    Usage,
    ValidatorResult,
)
from tui.redaction import scrub_process_environ
from tui.spec import LoopSpec

Status = RunStatus
Subscriber = Callable[[Event], None]
T = TypeVar("T")


class Runner:
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
        # The run's state: a fold of every event published (resume: of the journal too).
        self.state = resume.fold if resume is not None else RunState(goal=spec.goal)
        self.flow = LoopFlow(stepping=step)
        if start_paused:
            self.flow.request_pause("started paused", by_human=True)
        self.controls = Controls(self)
        self.take_over_revalidate = False
        self.watch = WorkspaceWatch(self)
        self._calls = CallLog()
        # The highest turn number reported in this iteration (AgentTurn).
        self._turns = 0
        # What this iteration's agent part spent (its receipt).
        self._receipt = ReceiptTally()
        self._resume = resume
        self._prep = prep
        self._subscribers: list[Subscriber] = []
        self._call_ids = CallIds(resume.call_ids if resume is not None else ())
        self._journal_fault: str | None = None
        self._journal = JournalWriter(run.journal_path, on_fault=self._journal_failed)
        self._subscribers.append(self._journal)
        self.workspace_lock = asyncio.Lock()
        self.reload = SpecReload(self, watch_spec)
        self.notify: NotifyCommand | None = None
        command = notify_command(spec)
        if command:
            self.notify = NotifyCommand(
                command, name=spec.name, run_dir=run.path, publish=self.publish
            )
            self._subscribers.append(self.notify)
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
            self.budget.restore(resume.budget)
            self.state.goal = self.state.goal or spec.goal

    @property
    def resumed(self) -> bool:
        return self._resume is not None

    # -- what the run state says (read-only) -----------------------------------
    @property
    def status(self) -> RunStatus:
        return self.state.status

    @property
    def iteration(self) -> int:
        """The iteration in flight, else the last one decided."""
        return self.state.in_flight or self.state.last_iteration

    @property
    def goal(self) -> str:
        return self.state.goal

    @property
    def hints(self) -> list[str]:
        return list(self.state.hints)

    @property
    def instruction(self) -> str | None:
        return self.state.instruction

    @property
    def human_changes(self) -> list[str]:
        return list(self.state.human_changes)

    @property
    def last_results(self) -> list[ValidatorResult]:
        return self.state.last_results

    @property
    def summaries(self) -> list[IterationSummary]:
        return self.state.summaries

    def goal_met_now(self) -> bool:
        """Every required validator passed in the latest results (a re-run counts)."""
        return self.state.goal_met_now()

    def finish_goal_met(self) -> Reply:
        return self.controls.now(FinishGoalMet())

    # -- watch mode (the take-over's) ------------------------------------------
    def start_watch(self, revalidate: bool = False, debounce_ms: int = 400) -> None:
        """Report the human's edits as events; optionally re-run validators on save."""
        self.watch.start(revalidate, debounce_ms)

    def stop_watch(self) -> None:
        self.watch.stop()

    @property
    def watching(self) -> bool:
        return self.watch.watching

    # -- commands ---------------------------------------------------------------
    async def handle(self, command: Command) -> Reply:
        """Apply one command (see tui/engine/controls.py); the reply says how it went."""
        return await self.controls.handle(command)

    # Shorthands for synchronous callers (signal handlers, tests): each builds
    # the command and hands it to the controls.
    def pause(self) -> Reply:
        return self.controls.now(Pause())

    def resume(self) -> Reply:
        return self.controls.now(Resume())

    def step(self) -> Reply:
        return self.controls.now(Step())

    def stop(self, now: bool = False) -> Reply:
        return self.controls.now(Stop(now=now))

    def interrupt(self) -> Reply:
        return self.controls.now(Interrupt())

    def set_goal(self, goal: str) -> Reply:
        return self.controls.now(SetGoal(goal=goal))

    def add_hint(self, text: str) -> Reply:
        return self.controls.now(AddHint(text=text))

    def drive(self, instruction: str) -> Reply:
        return self.controls.now(Drive(instruction=instruction))

    def dismiss_signal(self, signal: SignalRaised, whole_kind: bool = False) -> Reply:
        key = str(signal.evidence.get("key", ""))
        return self.controls.now(DismissSignal(kind=signal.kind, key=key, whole_kind=whole_kind))

    def raise_threshold(self, kind: str) -> ThresholdRaised:
        reply = self.controls.now(RaiseThreshold(kind=kind))
        if not reply.ok:
            raise ControlError(reply.message)
        return self.state.thresholds[-1]

    async def recover(self, signal: SignalRaised, note: str) -> SignalRecovered:
        key = str(signal.evidence.get("key", ""))
        reply = await self.handle(Recover(kind=signal.kind, key=key, note=note))
        if not reply.ok:
            raise ControlError(reply.message)
        return SignalRecovered.model_validate(reply.data["event"])

    async def revalidate(self) -> list[ValidatorResult]:
        return await self.controls.revalidate()

    async def rewind(self, iteration: int) -> RestoreReport:
        return await self.controls.rewind(iteration)

    async def record_human_changes(self) -> list[str]:
        return await self.controls.record_changes()

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
            self._receipt.add(event)
        self.state.apply(event)
        for callback in self._subscribers:
            callback(event)

    def journal_offset(self) -> int:
        """How many bytes of the journal are written (every event published so far)."""
        self._journal.flush()
        try:
            return self.run_dir.journal_path.stat().st_size
        except OSError:
            return 0

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
        watcher = self.reload.start()
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
            self.reload.stopped.set()
            if watcher is not None:
                watcher.cancel()
            await self.agent.aclose()
            if self.checkpoints is not None:
                self.checkpoints.close()
            unlock_run(self.run_dir.path)
        if self._journal_fault is not None:
            outcome, reason = "paused", self._journal_fault
        finished = self._finish(outcome, reason)
        if self.notify is not None:
            await self.notify.settle()  # the "finished" command runs before we exit
        return finished

    def _internal_error(self, exc: BaseException) -> None:
        with contextlib.suppress(OSError):
            (self.run_dir.path / "error.log").write_text(traceback.format_exc())
        self._finish("error", f"internal error: {exc!r} (details in error.log)")

    def _journal_failed(self, sentence: str) -> None:
        """The journal cannot be written: stop at once, resumable (see journal.py)."""
        self._journal_fault = sentence
        self.publish(Notice(level="error", message=sentence))
        # As stop(now=True), without a "stop" control: no human asked for it.
        self.flow.request_stop(now=True)

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
        if prep.human_changes:
            self.publish(ChangesRecorded(changes=prep.human_changes))
        for line in state.notes:
            self.publish(Notice(level="info", message=line))
        if state.spec_edits is not None:
            self.reload.edited(state.spec_edits)
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
        if not self.state.goal_met_now():
            return
        if self.interactive:
            self.flow.finish_offered = True
            self.flow.request_pause(
                "every required validator passed when the run stopped: "
                "finish with the goal met, or resume for another iteration",
                by_human=False,
            )
        else:
            self.flow.goal_met_while_paused = True
            self.flow.stop_requested = True

    def _finish(self, outcome: Outcome, reason: str) -> RunFinished:
        self.budget.stop_clock()
        self.stop_watch()
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
        flow = self.flow
        while True:
            if flow.stop_requested:
                return self._stopped_outcome()
            if not flow.pause_requested:
                # A budget raised in loop.toml (while stopped, or just now) counts before
                # the limit is checked, not only once the next iteration has started.
                self.reload.apply_pending()
            limit = self.budget.exhausted()
            if limit:
                return "budget", self.budget.describe(limit)
            if flow.pause_requested:
                if not self.interactive:
                    return "paused", flow.pause_reason
                await self._wait_while_paused()
                continue
            verdict = await self._iteration()
            if verdict.action == "stop":
                return verdict.outcome or "stopped", verdict.reason
            if verdict.action == "pause":
                flow.request_pause(verdict.reason, verdict.by_human)

    def _stopped_outcome(self) -> tuple[Outcome, str]:
        if self._journal_fault is not None:
            return "paused", self._journal_fault
        if self.flow.goal_met_while_paused:
            return "goal_met", "every required validator passes (re-checked while paused)"
        if self.flow.interrupted:
            return "interrupted", "interrupted (Ctrl-C)"
        return "stopped", "stopped by the human"

    async def _wait_while_paused(self) -> None:
        flow = self.flow
        self.budget.stop_clock()
        question, flow.question = flow.question, ""
        self.publish(
            Paused(
                reason=flow.pause_reason,
                by_human=flow.paused_by_human,
                question=question,
                goal_met=flow.finish_offered and self.state.goal_met_now(),
            )
        )
        self._journal.sync()
        if flow.take_over_pending:
            self.controls.begin_take_over()
        while flow.pause_requested and not flow.stop_requested:
            flow.wake.clear()
            await flow.wake.wait()
        if not flow.stop_requested:
            self.budget.start_clock()
            self.publish(Resumed(stepping=flow.stepping))

    async def _iteration(self) -> Verdict:
        async with self.workspace_lock:
            self.reload.apply_pending()
            number = self.state.last_iteration + 1
            self._calls = CallLog()
            self._turns = 0
            self._receipt = ReceiptTally()
            notes = read_notes(self.run_dir.memories, self.spec.memory.max_note_chars)
            prompt = self._next_prompt(number, notes)
            system = system_prompt(self.spec)
            # A CLI agent keeps its own system prompt: record what it was sent.
            system_for = getattr(self.agent, "system_for", None)
            if system_for is not None:
                system = system_for(system)
            self.publish(
                IterationStarted(
                    iteration=number, goal=self.goal, prompt=prompt, system=system, notes=notes
                )
            )
            result = await self._agent_part(prompt, system)
            if result.stop == "asked_human" and result.pause_reason:
                self.flow.question = result.pause_reason.removeprefix("the agent asks: ")
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
            self.publish(self._receipt.receipt())
            # Protected paths changed any other way are put back before anyone judges.
            self._tamper_signal = await asyncio.to_thread(self.tamper.check, self.iteration)
            # An API that failed past its retries changed nothing worth judging.
            if not self.flow.stop_now and result.stop != API_ERROR:
                # The run state collects the batch's results as they finish.
                await self._phase(
                    run_validators(
                        self.spec.validators,
                        self.run_dir.workspace,
                        self.publish,
                        self.confinement,
                    )
                )
            self.publish(BudgetUpdated(budget=self.budget.state()))
            verdict = await self._conclude(result)
            if verdict.recover is not None:
                verdict = await self._recover_policy(verdict)
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
        # The batch just run; the run state takes it as the last results on Decided.
        results = self.state.batch_or_last()
        if not self.flow.stop_now and result.stop != API_ERROR:
            record = IterationRecord(
                iteration=self.iteration,
                tree=tree,
                results=results,
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
        flow = self.flow
        verdict = decide(
            result,
            results,
            self.budget,
            stop_requested=flow.stop_requested,
            interrupted=flow.interrupted,
            stepping=flow.stepping,
            pause_requested=flow.pause_requested,
            signals=signals,
            thrash=self.spec.thrash,
            recoveries_used=self.state.recovery.used,
        )
        if tamper is not None:
            verdict = tampered_verdict(verdict, tamper, self.spec.thrash)
        if self._journal_fault is not None:
            verdict = Verdict("stop", self._journal_fault, "paused")
        if verdict.action == "continue":
            for signal in signals:
                if policy_of(signal, self.spec.thrash) == "hint":
                    self.publish(HintAdded(text=corrective_hint(signal), by="engine"))
        info = await asyncio.to_thread(
            self.checkpoints.commit, self.iteration, "agent", verdict.action, tree=tree
        )
        self.publish(info.event())
        self._checkpoint_notes(info)
        self._snapshot_memories()
        passing, total = summarize_checks(results)
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
            # The iteration holds the workspace lock already.
            await self.controls.recover_locked(
                verdict.recover, recovery_note(verdict.recover), by_human=False
            )
        except ControlError as exc:
            return Verdict("pause", f"could not recover from the signal: {exc}")
        return verdict

    def _checkpoint_notes(self, info: CheckpointInfo) -> None:
        """Say what a checkpoint did not store as usual (files over the size limit)."""
        for note in info.notes():
            self.publish(Notice(level="warning", message=note))

    async def _phase(self, coro: Coroutine[Any, Any, T]) -> T | None:
        """Run one phase as a task that stop(now=True) can cancel."""
        flow = self.flow
        flow.work = asyncio.ensure_future(coro)
        try:
            return await flow.work
        except asyncio.CancelledError:
            if flow.stop_now and not _current_task_cancelling():
                return None
            raise
        finally:
            flow.work = None

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
        if self.flow.stop_requested:
            ctx.stopping.set()
        self.flow.agent = ctx
        left = self.budget.wall_left()
        try:
            result = await asyncio.wait_for(self._phase(self.agent.run_iteration(ctx)), left)
        except TimeoutError:
            # The agent part is bounded by the time left (a hung API, a silent CLI).
            self.publish(Notice(level="warning", message=WALL_CUT.format(left=left or 0)))
            return AgentResult(
                stop="budget", final_text="", turns=self._turns, tool_calls=len(self._calls)
            )
        finally:
            self.flow.agent = None
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

    def _next_prompt(self, number: int, notes: str) -> str:
        # What is queued is used up by the IterationStarted this prompt goes into.
        queued = self.state.queue
        failures = [r for r in self.last_results if not r.passed]
        mem = self.spec.memory
        inputs = PromptInputs(
            goal=self.goal,
            iteration=number,
            summaries=self.summaries[-mem.summaries :] if mem.summaries else [],
            failures=failures,
            hints=list(queued.hints),
            notes=notes,
            human_changes=list(queued.human_changes),
            instruction=queued.instruction,
        )
        return self.redactor.text(build_prompt(inputs, mem.failure_chars))

    def _snapshot_memories(self) -> None:
        """Keep the agent's notes as of this iteration, so a rewind can bring them back."""
        memories = self.run_dir.memories
        if memories.is_dir():
            target = self.run_dir.path / "memory-snapshots" / str(self.iteration)
            shutil.rmtree(target, ignore_errors=True)
            shutil.copytree(memories, target)


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
