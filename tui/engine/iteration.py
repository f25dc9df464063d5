"""One iteration of the loop: prompt -> agent -> validators -> checkpoint -> decision.

:class:`Iteration` is the body the run loop (tui/engine/run_loop.py) runs once
per turn, holding the workspace: it builds the prompt, runs the agent part
(bounded by the time left, cut short by ``stop(now=True)``), runs the
validators, then checkpoints, looks for thrash and decides. Every step is
published through the runner. What the agent part reports as it goes (tool
calls, turns, spending) is counted by the runner's :class:`AgentTally` from
the events published.
"""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import Coroutine
from typing import TYPE_CHECKING, Any, TypeVar

from tui.agents.base import AgentContext, AgentResult
from tui.engine.controls import ControlError
from tui.engine.decide import Verdict, decide, policy_of, summarize_checks
from tui.engine.flow import LoopFlow
from tui.engine.journal import journaled_answer
from tui.engine.prompt import PromptInputs, build_prompt, read_notes, system_prompt
from tui.engine.receipt import ReceiptTally
from tui.engine.signal_text import recovery_note
from tui.engine.thrash import IterationRecord, corrective_hint
from tui.engine.toolcalls import CallLog
from tui.engine.trust import secrets_in_patch, tampered_verdict
from tui.engine.validators import run_validators
from tui.events import (
    AgentFinished,
    AgentTurn,
    BudgetUpdated,
    Decided,
    Event,
    HintAdded,
    IterationStarted,
    Notice,
    SignalRaised,
    ToolCall,
    ToolResult,
    Usage,
)

if TYPE_CHECKING:
    from tui.engine.runner import Runner

T = TypeVar("T")

WALL_CUT = (
    "the agent was stopped after {left:.0f} s: the run reached budget.max_wall_s during its turn"
)
# AgentResult.stop when the agent's API failed past its retries (the agent
# sets pause_reason): no validators run, no thrash is looked for.
API_ERROR = "api_error"


class AgentTally:
    """What the current iteration's agent part reported: tool calls, turns, spending."""

    def __init__(self) -> None:
        self.calls = CallLog()
        # The highest turn number reported in this iteration (AgentTurn).
        self.turns = 0
        # What this iteration's agent part spent (its receipt).
        self.receipt = ReceiptTally()

    def start(self) -> None:
        """Count afresh: a new iteration begins."""
        self.calls = CallLog()
        self.turns = 0
        self.receipt = ReceiptTally()

    def see(self, event: Event) -> None:
        """Count one published event (the runner hands over every one)."""
        if isinstance(event, ToolCall | ToolResult):
            self.calls.see(event)
        elif isinstance(event, AgentTurn):
            self.turns = max(self.turns, event.turn)
            self.receipt.add(event)


class Iteration:
    """One turn of the loop, run while holding the workspace (see the module doc)."""

    def __init__(self, runner: Runner) -> None:
        self.runner = runner
        # A protected path changed during the agent part: judged when concluding.
        self._tamper_signal: SignalRaised | None = None

    async def run(self) -> Verdict:
        """Run the iteration to its decision (a recovery applied, if one was decided)."""
        runner = self.runner
        async with runner.workspace_lock:
            runner.reload.apply_pending()
            number = runner.state.last_iteration + 1
            runner.tally.start()
            notes = read_notes(runner.run_dir.memories, runner.spec.memory.max_note_chars)
            prompt = self._next_prompt(number, notes)
            system = system_prompt(runner.spec)
            # A CLI agent keeps its own system prompt: record what it was sent.
            system_for = getattr(runner.agent, "system_for", None)
            if system_for is not None:
                system = system_for(system)
            runner.publish(
                IterationStarted(
                    iteration=number, goal=runner.goal, prompt=prompt, system=system, notes=notes
                )
            )
            result = await self._agent_part(prompt, system)
            if result.stop == "asked_human" and result.pause_reason:
                runner.flow.question = result.pause_reason.removeprefix("the agent asks: ")
            runner.budget.iterations += 1
            runner.publish(
                AgentFinished(
                    stop=result.stop,
                    final_text=journaled_answer(result.final_text),
                    claims_done=result.claims_done,
                    turns=result.turns,
                    tool_calls=result.tool_calls,
                )
            )
            runner.publish(runner.tally.receipt.receipt())
            # Protected paths changed any other way are put back before anyone judges.
            self._tamper_signal = await asyncio.to_thread(runner.tamper.check, runner.iteration)
            # An API that failed past its retries changed nothing worth judging.
            if not runner.flow.stop_now and result.stop != API_ERROR:
                # The run state collects the batch's results as they finish.
                await _phase(
                    runner.flow,
                    run_validators(
                        runner.spec.validators,
                        runner.run_dir.workspace,
                        runner.publish,
                        runner.confinement,
                    ),
                )
            runner.publish(BudgetUpdated(budget=runner.budget.state()))
            verdict = await self._conclude(result)
            if verdict.recover is not None:
                verdict = await self._recover_policy(verdict)
            return verdict

    async def _conclude(self, result: AgentResult) -> Verdict:
        """Checkpoint, look for thrash, decide; publish all three."""
        runner = self.runner
        assert runner.checkpoints is not None
        tree, patch = await asyncio.to_thread(runner.checkpoints.snapshot)
        for line in secrets_in_patch(runner.redactor, patch):
            runner.publish(Notice(level="warning", message=line))
        tamper, self._tamper_signal = self._tamper_signal, None
        if tamper is not None:
            tamper.action = runner.thrash.action_for(tamper.kind)
        signals: list[SignalRaised] = [] if tamper is None else [tamper]
        # The batch just run; the run state takes it as the last results on Decided.
        results = runner.state.batch_or_last()
        if not runner.flow.stop_now and result.stop != API_ERROR:
            calls = runner.tally.calls
            record = IterationRecord(
                iteration=runner.iteration,
                tree=tree,
                results=results,
                tool_calls=calls.calls,
                claims_done=result.claims_done,
                patch=patch,
                final_text=result.final_text,
                observations=calls.observations(),
            )
            signals += runner.thrash.observe(record)
        for signal in signals:
            # signal.action is the policy it met (the detector sets it; "ignore"
            # once the human switched its kind off): the console announces it
            # unless it is "ignore".
            runner.publish(signal)
        flow = runner.flow
        verdict = decide(
            result,
            results,
            runner.budget,
            stop_requested=flow.stop_requested,
            interrupted=flow.interrupted,
            stepping=flow.stepping,
            pause_requested=flow.pause_requested,
            signals=signals,
            thrash=runner.spec.thrash,
            recoveries_used=runner.state.recovery.used,
        )
        if tamper is not None:
            verdict = tampered_verdict(verdict, tamper, runner.spec.thrash)
        if runner.journal_fault is not None:
            verdict = Verdict("stop", runner.journal_fault, "paused")
        if verdict.action == "continue":
            for signal in signals:
                if policy_of(signal, runner.spec.thrash) == "hint":
                    runner.publish(HintAdded(text=corrective_hint(signal), by="engine"))
        info = await asyncio.to_thread(
            runner.checkpoints.commit, runner.iteration, "agent", verdict.action, tree=tree
        )
        runner.publish_checkpoint(info)
        self._snapshot_memories()
        passing, total = summarize_checks(results)
        runner.publish(
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
            await self.runner.controls.recover_locked(
                verdict.recover, recovery_note(verdict.recover), by_human=False
            )
        except ControlError as exc:
            return Verdict("pause", f"could not recover from the signal: {exc}")
        return verdict

    async def _agent_part(self, prompt: str, system: str) -> AgentResult:
        runner = self.runner
        ctx = AgentContext(
            iteration=runner.iteration,
            prompt=prompt,
            system=system,
            workspace=runner.run_dir.workspace,
            run_dir=runner.run_dir.path,
            spec=runner.spec,
            tools=runner.toolbox,
            emit=runner.publish,
            charge=self._charge,
            over_budget=runner.budget.over_budget,
            memories=runner.run_dir.memories,
        )
        flow = runner.flow
        if flow.stop_requested:
            ctx.stopping.set()
        flow.agent = ctx
        left = runner.budget.wall_left()
        tally = runner.tally
        try:
            result = await asyncio.wait_for(_phase(flow, runner.agent.run_iteration(ctx)), left)
        except TimeoutError:
            # The agent part is bounded by the time left (a hung API, a silent CLI).
            runner.publish(Notice(level="warning", message=WALL_CUT.format(left=left or 0)))
            return AgentResult(
                stop="budget", final_text="", turns=tally.turns, tool_calls=len(tally.calls)
            )
        finally:
            flow.agent = None
        if result is None:
            # Stopped midway: count what was reported before the stop.
            return AgentResult(
                stop="interrupted", final_text="", turns=tally.turns, tool_calls=len(tally.calls)
            )
        return result

    def _charge(
        self, model: str, usage: Usage, reported_cost: float | None = None, source: str = ""
    ) -> float:
        runner = self.runner
        budget = runner.budget
        known = set(budget.unpriced)
        cost = budget.charge(model, usage, reported_cost, source)
        if budget.unpriced - known:
            runner.publish(
                Notice(
                    level="warning",
                    message=f"no price is known for model {model!r}: its cost counts as $0; "
                    f'add [prices."{model}"] to the spec',
                )
            )
        runner.publish(BudgetUpdated(budget=budget.state()))
        return cost

    def _next_prompt(self, number: int, notes: str) -> str:
        runner = self.runner
        # What is queued is used up by the IterationStarted this prompt goes into.
        queued = runner.state.queue
        failures = [r for r in runner.last_results if not r.passed]
        mem = runner.spec.memory
        inputs = PromptInputs(
            goal=runner.goal,
            iteration=number,
            summaries=runner.summaries[-mem.summaries :] if mem.summaries else [],
            failures=failures,
            hints=list(queued.hints),
            notes=notes,
            human_changes=list(queued.human_changes),
            instruction=queued.instruction,
        )
        return runner.redactor.text(build_prompt(inputs, mem.failure_chars))

    def _snapshot_memories(self) -> None:
        """Keep the agent's notes as of this iteration, so a rewind can bring them back."""
        run_dir = self.runner.run_dir
        memories = run_dir.memories
        if memories.is_dir():
            target = run_dir.path / "memory-snapshots" / str(self.runner.iteration)
            shutil.rmtree(target, ignore_errors=True)
            shutil.copytree(memories, target)


async def _phase(flow: LoopFlow, coro: Coroutine[Any, Any, T]) -> T | None:
    """Run one phase as a task that stop(now=True) can cancel."""
    flow.work = asyncio.ensure_future(coro)
    try:
        return await flow.work
    except asyncio.CancelledError:
        if flow.stop_now and not _current_task_cancelling():
            return None
        raise
    finally:
        flow.work = None


def _current_task_cancelling() -> bool:
    task = asyncio.current_task()
    return bool(task and task.cancelling())
