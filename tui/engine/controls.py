"""The human's controls: every command handled in one place.

:meth:`Controls.handle` takes any :mod:`tui.engine.commands` command, checks
it against the run's state (the rules live here, not in a console: revalidate
and rewind only while paused, nothing once the run is over...), applies it,
announces its effect as events and answers with a :class:`Reply`. Commands
that touch the workspace wait for it to be free (between iterations), so they
never race the agent or the validators.

Take-over is the engine's too: ``TakeOver`` pauses (after the current step
when running) and hands the workspace to the human; ``RecordChanges`` and
``HandBack`` checkpoint what they changed for the next prompt; resuming or
stepping during a take-over hands back first, whoever asks. A human on
another machine edits through ``ListFiles``, ``ReadFile`` and ``WriteFile``
(:mod:`tui.engine.take_over_files`), refused as the agent's editor refuses.
"""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from tui.engine.checkpoints import CheckpointError, RestoreReport
from tui.engine.commands import (
    AddHint,
    Answer,
    Command,
    DismissSignal,
    Drive,
    FinishGoalMet,
    HandBack,
    Interrupt,
    ListFiles,
    Pause,
    RaiseThreshold,
    ReadFile,
    RecordChanges,
    Recover,
    ReloadSpec,
    Reply,
    Resume,
    Revalidate,
    Rewind,
    SetGoal,
    Step,
    Stop,
    TakeOver,
    Watch,
    WriteFile,
    refused,
)
from tui.engine.decide import recovery_start
from tui.engine.take_over_files import FileCommands
from tui.engine.validators import run_validators
from tui.events import (
    ChangesRecorded,
    ControlApplied,
    GoalChanged,
    HandedBack,
    HintAdded,
    InstructionSet,
    Notice,
    QuestionAnswered,
    SignalDismissed,
    SignalRaised,
    SignalRecovered,
    TakeOverStarted,
    ThresholdRaised,
    ValidatorResult,
)

if TYPE_CHECKING:
    from tui.engine.runner import Runner


class ControlError(Exception):
    """A control that cannot be applied now; the message says why, in one sentence."""


NowHandler = Callable[[Any], Reply]
LaterHandler = Callable[[Any], Awaitable[Reply]]


class Controls:
    """Handles the commands of one run (see the module doc)."""

    def __init__(self, runner: Runner) -> None:
        self.runner = runner
        self.files = FileCommands(runner)
        # Commands applied at once, without waiting for anything.
        self._now: dict[type, NowHandler] = {
            Pause: self._pause,
            Stop: self._stop,
            Interrupt: self._interrupt,
            FinishGoalMet: self._finish_goal_met,
            SetGoal: self._set_goal,
            AddHint: self._add_hint,
            Drive: self._drive,
            DismissSignal: self._dismiss,
            ReloadSpec: self._reload_spec,
            RaiseThreshold: self._raise_threshold,
        }
        # Commands that wait: for the workspace, or to hand it back first.
        self._later: dict[type, LaterHandler] = {
            Resume: self._resume,
            Step: self._step,
            Answer: self._answer,
            Recover: self._recover,
            Revalidate: self._revalidate,
            Rewind: self._rewind,
            TakeOver: self._take_over,
            HandBack: self._hand_back,
            RecordChanges: self._record_changes,
            Watch: self._watch,
            ListFiles: self.files.list,
            ReadFile: self.files.read,
            WriteFile: self.files.write,
        }

    async def handle(self, command: Command) -> Reply:
        """Apply one command; the reply says whether it was done, and if not why."""
        later = self._later.get(type(command))
        if later is None:
            return self.now(command)
        refusal = self._refusal(command)
        if refusal is not None:
            return refusal
        try:
            reply = await later(command)
        except ControlError as exc:
            reply = refused(str(exc))
        reply.id = command.id
        return reply

    def now(self, command: Command) -> Reply:
        """Apply a command that needs no waiting (pause, stop, goal, hint...) at once.

        Resume and step go through here too when nothing is taken over (from
        synchronous code: a signal handler, a test).
        """
        refusal = self._refusal(command)
        if refusal is not None:
            return refusal
        handler = self._now.get(type(command))
        try:
            if handler is not None:
                reply = handler(command)
            elif isinstance(command, Resume | Step) and not self.runner.state.taking_over:
                reply = self._go_on(stepping=isinstance(command, Step))
            else:
                raise ControlError(f"the {command.type} command has to wait; send it with handle")
        except ControlError as exc:
            reply = refused(str(exc))
        reply.id = command.id
        return reply

    def _refusal(self, command: Command) -> Reply | None:
        if self.runner.state.finished is None or isinstance(command, Stop | Interrupt):
            return None
        return Reply(id=command.id, ok=False, message="the run is over; nothing can change it now")

    # -- the loop's flow ----------------------------------------------------
    def _pause(self, _cmd: Pause) -> Reply:
        state, flow = self.runner.state, self.runner.flow
        if state.status == "paused" or flow.pause_requested:
            return Reply(message="already paused")
        self.runner.publish(ControlApplied(control="pause"))
        flow.request_pause("paused by the human", by_human=True)
        return Reply()

    async def _resume(self, _cmd: Resume) -> Reply:
        await self._hand_back_if_taking_over()
        return self._go_on(stepping=False)

    async def _step(self, _cmd: Step) -> Reply:
        await self._hand_back_if_taking_over()
        return self._go_on(stepping=True)

    async def _answer(self, cmd: Answer) -> Reply:
        question = self.runner.state.question
        if question is None:
            raise ControlError("the agent has not asked anything")
        text = cmd.text.strip()
        if not text:
            raise ControlError("the answer is empty")
        self.runner.publish(QuestionAnswered(question=question, answer=text))
        if cmd.resume:
            await self._hand_back_if_taking_over()
            return self._go_on(stepping=False)
        return Reply()

    def _go_on(self, stepping: bool) -> Reply:
        self.runner.publish(ControlApplied(control="step" if stepping else "resume"))
        self.runner.flow.go_on(stepping=stepping)
        return Reply()

    def _stop(self, cmd: Stop) -> Reply:
        if self.runner.state.finished is not None:
            return Reply(message="the run is over")
        self.runner.publish(ControlApplied(control="stop", detail="now" if cmd.now else ""))
        self.runner.stop_watch()
        self.runner.flow.request_stop(now=cmd.now)
        return Reply()

    def _interrupt(self, _cmd: Interrupt) -> Reply:
        self.runner.flow.interrupted = True
        return self._stop(Stop(now=True))

    def _finish_goal_met(self, _cmd: FinishGoalMet) -> Reply:
        state = self.runner.state
        if state.status != "paused":
            raise ControlError("the run can be finished with the goal met only while paused")
        if not state.goal_met_now():
            raise ControlError("not every required validator passes; re-run them (r) first")
        self.runner.publish(ControlApplied(control="stop", detail="goal met"))
        self.runner.stop_watch()
        self.runner.flow.goal_met_while_paused = True
        self.runner.flow.request_stop(now=False)
        return Reply()

    # -- what the next prompt carries ---------------------------------------
    def _set_goal(self, cmd: SetGoal) -> Reply:
        goal = cmd.goal.strip()
        if not goal:
            raise ControlError("the goal cannot be empty")
        if goal != self.runner.state.goal:
            self.runner.publish(GoalChanged(goal=goal, previous=self.runner.state.goal))
        return Reply()

    def _add_hint(self, cmd: AddHint) -> Reply:
        text = cmd.text.strip()
        if not text:
            raise ControlError("the hint is empty")
        self.runner.publish(HintAdded(text=text))
        return Reply()

    def _drive(self, cmd: Drive) -> Reply:
        text = cmd.instruction.strip()
        if not text:
            raise ControlError("the instruction is empty")
        self.runner.publish(InstructionSet(text=text))
        return Reply()

    def _dismiss(self, cmd: DismissSignal) -> Reply:
        thrash = self.runner.thrash
        if cmd.whole_kind:
            thrash.disable(cmd.kind)
        elif cmd.key:
            thrash.dismiss_key(cmd.key)
        else:
            raise ControlError("say which signal to dismiss (its key) or switch its kind off")
        self.runner.publish(SignalDismissed(kind=cmd.kind, key=cmd.key, whole_kind=cmd.whole_kind))
        return Reply()

    def _reload_spec(self, _cmd: ReloadSpec) -> Reply:
        # Valid edits apply from the next iteration; the events say what changed.
        self.runner.reload.reload_spec()
        return Reply()

    # -- the workspace --------------------------------------------------------
    async def _revalidate(self, _cmd: Revalidate) -> Reply:
        results = await self.revalidate()
        return Reply(data={"passed": sum(r.passed for r in results), "total": len(results)})

    async def revalidate(self) -> list[ValidatorResult]:
        """Re-run the validators now, while paused (waits for the workspace)."""
        runner = self.runner
        if runner.state.status != "paused":
            raise ControlError("validators can be re-run while the run is paused; pause first")
        runner.publish(ControlApplied(control="revalidate"))
        async with runner.workspace_lock:
            return await run_validators(
                runner.spec.validators, runner.run_dir.workspace, runner.publish, runner.confinement
            )

    async def _rewind(self, cmd: Rewind) -> Reply:
        report = await self.rewind(cmd.iteration)
        return Reply(
            data={
                "removed": report.removed,
                "brought_back": report.brought_back,
                "reverted": report.reverted,
                "exact": report.exact,
            }
        )

    async def rewind(self, iteration: int) -> RestoreReport:
        """Bring the workspace back to how ``iteration`` left it and go on from there.

        Only while paused and not taken over. The current state is
        checkpointed first (nothing is lost); memory, the last failures and
        the summaries go back to that point.
        """
        runner = self.runner
        if runner.state.status != "paused":
            raise ControlError("pause the loop before rewinding")
        if runner.state.taking_over:
            raise ControlError("hand the workspace back (t) before rewinding")
        cps = runner.checkpoints
        if cps is None:
            raise ControlError("this run has no checkpoints to rewind to")
        target = cps.find(iteration, "agent") or cps.find(iteration, "human") or cps.find(iteration)
        if target is None:
            raise ControlError(f"there is no checkpoint of iteration {iteration}")
        runner.publish(ControlApplied(control="rewind", detail=f"to iteration {iteration}"))
        async with runner.workspace_lock:
            return await self._restore_to(
                target.commit, iteration, f"rewind to iteration {iteration}, asked by the human"
            )

    async def _restore_to(self, commit: str, iteration: int, reason: str) -> RestoreReport:
        """Put back checkpoint ``commit``, the end state of ``iteration`` (0: the start),
        with that iteration's failures, summaries and memory. Hold the workspace lock."""
        runner = self.runner
        assert runner.checkpoints is not None
        try:
            report = await asyncio.to_thread(
                runner.checkpoints.restore, commit, iteration=runner.iteration, reason=reason
            )
        except CheckpointError as exc:
            runner.publish(Notice(level="error", message=str(exc)))
            raise ControlError(str(exc)) from None
        for info in report.checkpoints:
            event = info.event()
            if info is report.checkpoint:
                event.restored_iteration = iteration
            runner.publish(event)  # the run state rolls failures and summaries back
        self._restore_memories(iteration)
        runner.thrash.start(report.target.tree, runner.state.last_results)
        runner.publish(
            Notice(
                message=f"rewound to iteration {iteration}: {len(report.removed)} removed, "
                f"{len(report.brought_back)} brought back, {len(report.reverted)} reverted"
            )
        )
        if report.kept_large:
            runner.publish(Notice(level="warning", message=report.large_note()))
        return report

    # -- thrash signals -------------------------------------------------------
    def _raise_threshold(self, cmd: RaiseThreshold) -> Reply:
        """Raise (double) a kind of signal's threshold for the rest of the run."""
        changed = self.runner.thrash.raise_threshold(cmd.kind)
        if changed is None:
            words = cmd.kind.replace("_", " ")
            raise ControlError(f"{words} signals have no threshold to raise; switch them off")
        event = ThresholdRaised(kind=cmd.kind, previous=changed[0], threshold=changed[1])
        self.runner.publish(event)
        return Reply(data={"previous": changed[0], "threshold": changed[1]})

    async def _recover(self, cmd: Recover) -> Reply:
        """Go back to before a signal's evidence began and go on with the note as a hint.

        Only while paused; the loop resumes from the restored workspace.
        """
        runner = self.runner
        if runner.state.status != "paused":
            raise ControlError("pause the loop before recovering from a signal")
        if runner.state.taking_over:
            raise ControlError("hand the workspace back (t) before recovering")
        signal = self._signal(cmd.key, cmd.kind)
        async with runner.workspace_lock:
            event = await self.recover_locked(signal, cmd.note, by_human=True)
        self._go_on(stepping=False)
        return Reply(data={"to_iteration": event.to_iteration, "event": event.model_dump()})

    def _signal(self, key: str, kind: str) -> SignalRaised:
        for signal in reversed(self.runner.state.signals):
            if signal.kind == kind and str(signal.evidence.get("key", "")) == key:
                return signal
        raise ControlError(f"there is no {kind.replace('_', ' ')} signal with that evidence")

    async def recover_locked(
        self, signal: SignalRaised, note: str, by_human: bool
    ) -> SignalRecovered:
        """Restore the workspace as it was when the signal's evidence began; queue the note.

        The caller holds the workspace lock. Journaled as a SignalRecovered
        event after the rewind's checkpoints (the run state queues its note).
        """
        runner = self.runner
        assert runner.checkpoints is not None
        start = recovery_start(signal)
        origin = runner.state.recovery.origin_of(signal)
        if origin is None:
            # Not known (a journal from before origins were kept): the end of the
            # iteration before, else the start of the run.
            before = runner.checkpoints.find(start - 1, "agent") if start > 1 else None
            first = before or runner.checkpoints.find(0, "start")
            if first is None:
                raise ControlError("this run has no start checkpoint to go back to")
            origin = (first.commit, start - 1 if before else 0)
        commit, label = origin
        words = signal.kind.replace("_", " ")
        await self._restore_to(
            commit, label, f"recovering from a {words} signal: back to before iteration {start}"
        )
        event = SignalRecovered(
            kind=signal.kind,
            key=str(signal.evidence.get("key", "")),
            to_iteration=label,
            note=note.strip(),
            by_human=by_human,
            number=runner.state.recovery.used + (0 if by_human else 1),
            limit=runner.spec.thrash.recoveries,
        )
        runner.publish(event)  # the recovery log counts it
        return event

    def _restore_memories(self, iteration: int) -> None:
        run_dir = self.runner.run_dir
        snapshot = run_dir.path / "memory-snapshots" / str(iteration)
        if run_dir.memories.exists():
            shutil.rmtree(run_dir.memories)
        if snapshot.exists():
            shutil.copytree(snapshot, run_dir.memories)

    # -- take-over --------------------------------------------------------------
    async def _take_over(self, cmd: TakeOver) -> Reply:
        runner = self.runner
        state = runner.state
        if state.taking_over:
            return Reply(message="the workspace is already yours")
        runner.flow.take_over_pending = True
        runner.take_over_revalidate = cmd.revalidate
        if state.status == "paused":
            self.begin_take_over()
            return Reply(data={"taking_over": True})
        runner.publish(ControlApplied(control="take_over", detail="after the current step"))
        runner.flow.request_pause("taken over by the human", by_human=True)
        runner.flow.stepping = False
        return Reply(message="taking over after the current step", data={"taking_over": False})

    def begin_take_over(self) -> None:
        """Paused with a take-over asked for: the workspace is the human's now."""
        runner = self.runner
        runner.flow.take_over_pending = False
        runner.publish(TakeOverStarted())
        runner.start_watch(revalidate=runner.take_over_revalidate)

    async def _record_changes(self, _cmd: RecordChanges) -> Reply:
        if not self.runner.state.taking_over:
            raise ControlError("take over the workspace (t) first")
        return Reply(data={"changes": await self.record_changes()})

    async def record_changes(self) -> list[str]:
        """Checkpoint what the human changed (a "human" checkpoint) and queue it for
        the next prompt. Returns the change lines; empty when nothing changed."""
        runner = self.runner
        if runner.checkpoints is None:
            return []
        async with runner.workspace_lock:
            stat = await asyncio.to_thread(runner.checkpoints.pending)
            if not stat.files:
                return []
            info = await asyncio.to_thread(
                runner.checkpoints.commit,
                runner.iteration,
                "human",
                "",
                "changed during a take-over",
            )
        runner.publish(info.event())
        lines = [f.describe() for f in stat.files]
        runner.publish(ChangesRecorded(changes=lines))
        return lines

    async def _hand_back(self, _cmd: HandBack) -> Reply:
        if not self.runner.state.taking_over:
            raise ControlError("the workspace is not taken over")
        return Reply(data={"changes": await self.hand_back()})

    async def hand_back(self) -> list[str]:
        """End the take-over; returns every change made during it."""
        runner = self.runner
        runner.stop_watch()
        await self.record_changes()
        changes = list(runner.state.take_over_changes)
        runner.publish(HandedBack(changes=changes))
        return changes

    async def _hand_back_if_taking_over(self) -> None:
        if self.runner.state.taking_over:
            await self.hand_back()
        self.runner.flow.take_over_pending = False

    async def _watch(self, cmd: Watch) -> Reply:
        if not self.runner.state.taking_over:
            raise ControlError("watch mode is part of a take-over; take over (t) first")
        self.runner.take_over_revalidate = cmd.revalidate
        self.runner.start_watch(revalidate=cmd.revalidate)
        return Reply()
