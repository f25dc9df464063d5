"""The human's controls: what the console (or a test) may do to a running loop.

Mixed into :class:`tui.engine.runner.Runner`. Every control is recorded as an
event; those that touch the workspace wait for it to be free (between
iterations), so they never race the agent or the validators.
"""

from __future__ import annotations

import asyncio
import shutil
from typing import TYPE_CHECKING

from tui.engine.checkpoints import CheckpointError, RestoreReport
from tui.engine.decide import recovery_start
from tui.engine.validators import run_validators
from tui.events import (
    ControlApplied,
    GoalChanged,
    HintAdded,
    InstructionSet,
    Notice,
    SignalDismissed,
    SignalRaised,
    SignalRecovered,
    ThresholdRaised,
    ValidatorResult,
)

if TYPE_CHECKING:
    from tui.engine.runner import Runner


class ControlError(Exception):
    """A control that cannot be applied now; the message says why, in one sentence."""


class Controls:
    """pause, resume, step, stop, set_goal, add_hint, drive, revalidate, rewind,
    take-over bookkeeping and signal dismissal."""

    def pause(self: Runner) -> None:
        """Pause at the end of the current iteration (or now, when idle)."""
        if self.status in ("finished", "paused"):
            return
        self.publish(ControlApplied(control="pause"))
        self._pause_requested = True
        self._pause_reason = "paused by the human"
        self._paused_by_human = True
        if self.status in ("running", "validating"):
            self.status = "pausing"

    def resume(self: Runner) -> None:
        """Carry on running iterations until something stops or pauses the loop."""
        if self.status == "finished":
            return
        self.publish(ControlApplied(control="resume"))
        self._stepping = False
        self._pause_requested = False
        self._wake.set()

    def step(self: Runner) -> None:
        """Run exactly one iteration, then pause."""
        if self.status == "finished":
            return
        self.publish(ControlApplied(control="step"))
        self._stepping = True
        self._pause_requested = False
        self._wake.set()

    def stop(self: Runner, now: bool = False) -> None:
        """Stop after the current iteration, or at once (cancelling the agent)."""
        if self.status == "finished":
            return
        self.publish(ControlApplied(control="stop", detail="now" if now else ""))
        self._stop_requested = True
        if self.status in ("running", "validating", "pausing"):
            self.status = "stopping"
        if now:
            self._stop_now = True
            if self._work is not None:
                self._work.cancel()
        self._wake.set()

    def interrupt(self: Runner) -> None:
        """Ctrl-C: stop at once with outcome "interrupted"."""
        self._interrupted = True
        self.stop(now=True)

    def set_goal(self: Runner, goal: str) -> None:
        """Change the goal from the next iteration on."""
        goal = goal.strip()
        if not goal or goal == self.goal:
            return
        self.publish(GoalChanged(goal=goal, previous=self.goal))
        self.goal = goal

    def add_hint(self: Runner, text: str) -> None:
        """Add a one-shot hint to the next prompt."""
        text = text.strip()
        if text:
            self.hints.append(text)
            self.publish(HintAdded(text=text))

    def drive(self: Runner, instruction: str) -> None:
        """Write the agent's instruction for the next iteration (one-shot)."""
        instruction = instruction.strip()
        if instruction:
            self.instruction = instruction
            self.publish(InstructionSet(text=instruction))

    def dismiss_signal(self: Runner, signal: SignalRaised, whole_kind: bool = False) -> None:
        """Never raise this signal again on the same evidence, or switch its kind off."""
        if whole_kind:
            self.thrash.disable(signal.kind)
        else:
            self.thrash.dismiss(signal)
        key = str(signal.evidence.get("key", ""))
        self.publish(SignalDismissed(kind=signal.kind, key=key, whole_kind=whole_kind))

    async def revalidate(self: Runner) -> list[ValidatorResult]:
        """Re-run the validators now, between iterations (waits for the workspace)."""
        if self.status == "finished":
            return []
        self.publish(ControlApplied(control="revalidate"))
        async with self._workspace_lock:
            results = await run_validators(
                self.spec.validators, self.run_dir.workspace, self.publish, self.confinement
            )
        self.last_results = results
        return results

    async def record_human_changes(self: Runner) -> list[str]:
        """After a take-over: checkpoint what the human changed, for the next prompt.

        Returns the change lines ("modified fizzbuzz.py (+2 -1)"); empty when
        nothing changed.
        """
        if self.checkpoints is None:
            return []
        async with self._workspace_lock:
            stat = await asyncio.to_thread(self.checkpoints.pending)
            if not stat.files:
                return []
            info = await asyncio.to_thread(
                self.checkpoints.commit, self.iteration, "human", "", "changed during a take-over"
            )
        self.publish(info.event())
        lines = [f.describe() for f in stat.files]
        self.human_changes.extend(lines)
        self.publish(ControlApplied(control="take_over", detail=f"{len(lines)} file(s) changed"))
        return lines

    async def rewind(self: Runner, iteration: int) -> RestoreReport:
        """Bring the workspace back to how ``iteration`` left it and go on from there.

        Only while paused. The current state is checkpointed first (nothing is
        lost); memory, the last failures and the summaries go back to that
        point; the loop's next iteration starts from the restored workspace.
        """
        if self.status != "paused":
            raise ControlError("pause the loop before rewinding")
        if self.checkpoints is None:
            raise ControlError("this run has no checkpoints to rewind to")
        target = (
            self.checkpoints.find(iteration, "agent")
            or self.checkpoints.find(iteration, "human")
            or self.checkpoints.find(iteration)
        )
        if target is None:
            raise ControlError(f"there is no checkpoint of iteration {iteration}")
        self.publish(ControlApplied(control="rewind", detail=f"to iteration {iteration}"))
        async with self._workspace_lock:
            return await self._restore_to(
                target.commit, iteration, f"rewind to iteration {iteration}, asked by the human"
            )

    async def _restore_to(self: Runner, commit: str, iteration: int, reason: str) -> RestoreReport:
        """Put back checkpoint ``commit``, the end state of ``iteration`` (0: the start),
        with that iteration's failures, summaries and memory. Hold the workspace lock."""
        assert self.checkpoints is not None
        try:
            report = await asyncio.to_thread(
                self.checkpoints.restore, commit, iteration=self.iteration, reason=reason
            )
        except CheckpointError as exc:
            self.publish(Notice(level="error", message=str(exc)))
            raise ControlError(str(exc)) from None
        for info in report.checkpoints:
            event = info.event()
            if info is report.checkpoint:
                event.restored_iteration = iteration
            self.publish(event)
        self.last_results = list(self.results_by_iteration.get(iteration, []))
        self.summaries = [s for s in self.summaries if s.iteration <= iteration]
        # Changes the human made before the rewind are gone with it.
        self.human_changes = []
        self._restore_memories(iteration)
        self.thrash.start(report.target.tree, self.last_results)
        self.publish(
            Notice(
                message=f"rewound to iteration {iteration}: {len(report.removed)} removed, "
                f"{len(report.brought_back)} brought back, {len(report.reverted)} reverted"
            )
        )
        if report.kept_large:
            self.publish(Notice(level="warning", message=report.large_note()))
        return report

    def raise_threshold(self: Runner, kind: str) -> ThresholdRaised:
        """Raise (double) a kind of signal's threshold for the rest of the run."""
        changed = self.thrash.raise_threshold(kind)
        if changed is None:
            words = kind.replace("_", " ")
            raise ControlError(f"{words} signals have no threshold to raise; switch them off")
        event = ThresholdRaised(kind=kind, previous=changed[0], threshold=changed[1])
        self.publish(event)
        return event

    async def recover(self: Runner, signal: SignalRaised, note: str) -> SignalRecovered:
        """Go back to before a signal's evidence began and go on with ``note`` as a hint.

        Only while paused; the loop resumes from the restored workspace.
        """
        if self.status != "paused":
            raise ControlError("pause the loop before recovering from a signal")
        async with self._workspace_lock:
            event = await self._recover(signal, note, by_human=True)
        self.resume()
        return event

    async def _recover(
        self: Runner, signal: SignalRaised, note: str, by_human: bool
    ) -> SignalRecovered:
        """Restore the workspace as it was when the signal's evidence began; queue the note.

        Hold the workspace lock. Journaled as a SignalRecovered event after the
        rewind's checkpoints.
        """
        assert self.checkpoints is not None
        start = recovery_start(signal)
        origin = self.recovery.origin_of(signal)
        if origin is None:
            # Not known (a journal from before origins were kept): the end of the
            # iteration before, else the start of the run.
            before = self.checkpoints.find(start - 1, "agent") if start > 1 else None
            first = before or self.checkpoints.find(0, "start")
            if first is None:
                raise ControlError("this run has no start checkpoint to go back to")
            origin = (first.commit, start - 1 if before else 0)
        commit, label = origin
        words = signal.kind.replace("_", " ")
        await self._restore_to(
            commit, label, f"recovering from a {words} signal: back to before iteration {start}"
        )
        note = note.strip()
        if note:
            self.hints.append(note)
        event = SignalRecovered(
            kind=signal.kind,
            key=str(signal.evidence.get("key", "")),
            to_iteration=label,
            note=note,
            by_human=by_human,
            number=self.recovery.used + (0 if by_human else 1),
            limit=self.spec.thrash.recoveries,
        )
        self.publish(event)  # the recovery log counts it
        return event

    def _restore_memories(self: Runner, iteration: int) -> None:
        snapshot = self.run_dir.path / "memory-snapshots" / str(iteration)
        memories = self.run_dir.memories
        if memories.exists():
            shutil.rmtree(memories)
        if snapshot.exists():
            shutil.copytree(snapshot, memories)
