"""The loop runner: prompt -> agent -> validators -> checkpoint -> decision.

The runner is UI-free and async. Views subscribe to its events; humans steer
it through the control methods (pause, resume, step, stop, set_goal,
add_hint, revalidate), which are safe to call from the same event loop at any
time and take effect at the next safe point.
"""

from __future__ import annotations

import asyncio
import traceback
from collections.abc import Callable
from typing import Literal

from tui.agents.base import Agent, AgentContext, AgentFatal, AgentResult
from tui.agents.registry import create_agent
from tui.agents.tools import Toolbox
from tui.engine.budget import Budget
from tui.engine.decide import Verdict, decide, summarize_checks
from tui.engine.journal import JournalWriter
from tui.engine.prompt import (
    IterationSummary,
    PromptInputs,
    build_prompt,
    read_notes,
    system_prompt,
)
from tui.engine.reload import RELOADABLE, reloadable_changes, watch_spec
from tui.engine.rundir import RunDir
from tui.engine.validators import run_validators
from tui.events import (
    EXIT_CODES,
    AgentFinished,
    BudgetState,
    BudgetUpdated,
    ControlApplied,
    Decided,
    Event,
    GoalChanged,
    HintAdded,
    IterationStarted,
    Notice,
    Outcome,
    Paused,
    Resumed,
    RunFinished,
    RunStarted,
    SpecReloaded,
    Usage,
    ValidatorResult,
)
from tui.spec import LoopSpec

Status = Literal["idle", "running", "validating", "pausing", "paused", "stopping", "finished"]
Subscriber = Callable[[Event], None]


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
    ) -> None:
        self.spec = spec
        self.run_dir = run
        self.run_id = run.run_id
        self.agent = agent or create_agent(spec)
        self.interactive = interactive
        self.budget = Budget(spec.budget, spec.prices)
        self.goal = spec.goal
        self.hints: list[str] = []
        self.iteration = 0
        self.status: Status = "idle"
        self.last_results: list[ValidatorResult] = []
        self.summaries: list[IterationSummary] = []
        self.resumed = False
        self._subscribers: list[Subscriber] = []
        self._journal = JournalWriter(run.journal_path)
        self._subscribers.append(self._journal)
        self._pause_requested = start_paused
        self._pause_reason = "started paused" if start_paused else "paused by the human"
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
        self.toolbox = Toolbox(run.workspace, timeout_s=spec.agent.tool_timeout_s)

    # -- events -----------------------------------------------------------
    def subscribe(self, callback: Subscriber) -> None:
        """Call ``callback`` with every event from now on, in order."""
        self._subscribers.append(callback)

    def publish(self, event: Event) -> None:
        event.run_id = self.run_id
        event.iteration = self.iteration
        for callback in self._subscribers:
            callback(event)

    def budget_state(self) -> BudgetState:
        return self.budget.state()

    # -- controls ---------------------------------------------------------
    def pause(self) -> None:
        """Pause at the end of the current iteration (or now, when idle)."""
        if self.status in ("finished", "paused"):
            return
        self.publish(ControlApplied(control="pause"))
        self._pause_requested = True
        self._pause_reason = "paused by the human"
        if self.status in ("running", "validating"):
            self.status = "pausing"

    def resume(self) -> None:
        """Carry on running iterations until something stops or pauses the loop."""
        if self.status == "finished":
            return
        self.publish(ControlApplied(control="resume"))
        self._stepping = False
        self._pause_requested = False
        self._wake.set()

    def step(self) -> None:
        """Run exactly one iteration, then pause."""
        if self.status == "finished":
            return
        self.publish(ControlApplied(control="step"))
        self._stepping = True
        self._pause_requested = False
        self._wake.set()

    def stop(self, now: bool = False) -> None:
        """Stop after the current iteration, or at once (cancelling the agent)."""
        if self.status == "finished":
            return
        self.publish(ControlApplied(control="stop"))
        self._stop_requested = True
        if self.status in ("running", "validating", "pausing"):
            self.status = "stopping"
        if now:
            self._stop_now = True
            if self._work is not None:
                self._work.cancel()
        self._wake.set()

    def interrupt(self) -> None:
        """Ctrl-C: stop at once with outcome "interrupted"."""
        self._interrupted = True
        self.stop(now=True)

    def set_goal(self, goal: str) -> None:
        """Change the goal from the next iteration on."""
        goal = goal.strip()
        if not goal or goal == self.goal:
            return
        self.publish(GoalChanged(goal=goal, previous=self.goal))
        self.goal = goal

    def add_hint(self, text: str) -> None:
        """Add a one-shot hint to the next prompt."""
        text = text.strip()
        if text:
            self.hints.append(text)
            self.publish(HintAdded(text=text))

    async def revalidate(self) -> list[ValidatorResult]:
        """Re-run the validators now, between iterations (waits for the workspace)."""
        if self.status == "finished":
            return []
        self.publish(ControlApplied(control="revalidate"))
        async with self._workspace_lock:
            results = await run_validators(
                self.spec.validators, self.run_dir.workspace, self.publish
            )
        self.last_results = results
        return results

    # -- the loop ---------------------------------------------------------
    async def run(self) -> RunFinished:
        """Run the loop to its end and return the final event."""
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
            )
        )
        watcher = self._start_watcher()
        try:
            outcome, reason = await self._loop()
        except AgentFatal as exc:
            self.publish(Notice(level="error", message=str(exc)))
            outcome, reason = "error", str(exc)
        except asyncio.CancelledError:
            outcome, reason = "interrupted", "the run was cancelled"
            return self._finish(outcome, reason)
        except Exception as exc:  # a bug: record it, keep the journal whole, then re-raise
            (self.run_dir.path / "error.log").write_text(traceback.format_exc())
            self._finish("error", f"internal error: {exc!r} (details in error.log)")
            raise
        finally:
            self._watch_stop.set()
            if watcher is not None:
                watcher.cancel()
            await self.agent.aclose()
        return self._finish(outcome, reason)

    # -- hot reload -------------------------------------------------------
    def _start_watcher(self) -> asyncio.Task | None:
        if not self._watch_spec or self.spec.path is None:
            return None
        return asyncio.ensure_future(
            watch_spec(self.spec.path, self._spec_edited, self._spec_invalid, stop=self._watch_stop)
        )

    def _spec_edited(self, new: LoopSpec) -> None:
        applied, ignored = reloadable_changes(self._pending_spec or self.spec, new)
        if ignored:
            self.publish(
                Notice(
                    level="warning",
                    message=f"{new.path}: changes to {', '.join(ignored)} need a new run; "
                    "they were not applied",
                )
            )
        if applied:
            self._pending_spec = new
            self.publish(SpecReloaded(changed=applied))

    def _spec_invalid(self, messages: list[str]) -> None:
        self.publish(
            Notice(
                level="error",
                message=f"{messages[0]} (edit not applied; the spec in force is unchanged)",
            )
        )

    def _apply_pending_spec(self) -> None:
        new, self._pending_spec = self._pending_spec, None
        if new is None:
            return
        old = self.spec
        goal_edited = new.goal != old.goal
        for name in RELOADABLE:
            setattr(old, name, getattr(new, name))
        self.budget.limits = old.budget
        self.budget.prices = old.prices
        if goal_edited:
            self.set_goal(new.goal)

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

    def _stopped_outcome(self) -> tuple[Outcome, str]:
        if self._interrupted:
            return "interrupted", "interrupted (Ctrl-C)"
        return "stopped", "stopped by the human"

    async def _wait_while_paused(self) -> None:
        self.status = "paused"
        self.budget.stop_clock()
        self.publish(Paused(reason=self._pause_reason))
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
            prompt = self._next_prompt()
            system = system_prompt(self.spec)
            self.publish(IterationStarted(goal=self.goal, prompt=prompt, system=system))
            result = await self._agent_part(prompt, system)
            self.budget.iterations += 1
            self.publish(
                AgentFinished(
                    stop=result.stop,
                    final_text=result.final_text,
                    claims_done=result.claims_done,
                    turns=result.turns,
                    tool_calls=result.tool_calls,
                )
            )
            if not self._stop_now:
                if self.status == "running":
                    self.status = "validating"
                results = await self._phase(
                    run_validators(self.spec.validators, self.run_dir.workspace, self.publish)
                )
                if results is not None:
                    self.last_results = results
            self.publish(BudgetUpdated(budget=self.budget.state()))
            verdict = decide(
                result,
                self.last_results,
                self.budget,
                stop_requested=self._stop_requested,
                interrupted=self._interrupted,
                stepping=self._stepping,
                pause_requested=self._pause_requested,
            )
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
            self._remember(result, verdict)
            if self.status in ("running", "validating"):
                self.status = "pausing" if verdict.action == "pause" else "running"
            return verdict

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
        )
        result = await self._phase(self.agent.run_iteration(ctx))
        if result is None:
            return AgentResult(stop="interrupted", final_text="")
        return result

    def _charge(self, model: str, usage: Usage, reported_cost: float | None) -> float:
        known = set(self.budget.unpriced)
        cost = self.budget.charge(model, usage, reported_cost)
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

    def _next_prompt(self) -> str:
        hints, self.hints = self.hints, []
        failures = [r for r in self.last_results if not r.passed]
        mem = self.spec.memory
        inputs = PromptInputs(
            goal=self.goal,
            iteration=self.iteration,
            summaries=self.summaries[-mem.summaries :] if mem.summaries else [],
            failures=failures,
            hints=hints,
            notes=read_notes(self.run_dir.memories, mem.max_note_chars),
        )
        return build_prompt(inputs, mem.failure_chars)

    def _remember(self, result: AgentResult, verdict: Verdict) -> None:
        said = " ".join(result.final_text.split())
        self.summaries.append(
            IterationSummary(
                iteration=self.iteration,
                checks=_checks_line(self.last_results),
                decision=verdict.reason,
                agent_said=said[:200] + ("…" if len(said) > 200 else ""),
            )
        )


def _checks_line(results: list[ValidatorResult]) -> str:
    if not results:
        return "no validators"
    parts = []
    for r in results:
        mark = "passed" if r.passed else "FAILED"
        parts.append(f"{r.name} {mark}" + (f" ({r.counts})" if r.counts else ""))
    return ", ".join(parts)


def _current_task_cancelling() -> bool:
    task = asyncio.current_task()
    return bool(task and task.cancelling())
