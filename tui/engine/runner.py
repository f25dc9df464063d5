"""The loop runner: prompt -> agent -> validators -> checkpoint -> decision.

The runner is UI-free and async. Views subscribe to its events; humans steer
it with commands (tui/engine/commands.py) handed to :meth:`Runner.handle`,
which the controls (tui/engine/controls.py) apply at the next safe point.
Everything the runner knows about the run it reads from ``self.state``, the
fold of the events it published (tui/engine/run_state.py).

:class:`Runner` is the entry point: it puts the run's parts together, publishes
events and takes commands. The run from start to finish is
tui/engine/run_loop.py; one iteration's body is tui/engine/iteration.py.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from tui.agents.base import Agent
from tui.agents.registry import create_agent
from tui.agents.tools import Toolbox
from tui.confinement import Confinement
from tui.engine.budget import Budget
from tui.engine.call_ids import CallIds
from tui.engine.checkpoints import CheckpointInfo, Checkpoints, RestoreReport
from tui.engine.commands import (
    AddHint,
    Command,
    DismissSignal,
    Drive,
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
from tui.engine.flow import LoopFlow
from tui.engine.iteration import AgentTally
from tui.engine.journal import JournalWriter
from tui.engine.notify import NotifyCommand, notify_command
from tui.engine.prompt import IterationSummary
from tui.engine.reload import SpecReload
from tui.engine.resume import ResumeState, WorkspacePrep
from tui.engine.run_loop import RunLoop
from tui.engine.run_state import RunState, RunStatus
from tui.engine.rundir import RunDir
from tui.engine.thrash import ThrashDetector
from tui.engine.trust import TamperCheck, confinement_for, protected_paths
from tui.engine.watch import WorkspaceWatch
from tui.events import (
    BudgetState,
    Event,
    Notice,
    RunFinished,
    SignalRaised,
    SignalRecovered,
    ThresholdRaised,
    ValidatorResult,
)
from tui.spec import LoopSpec

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
        # What the current iteration's agent part reported (counted as published).
        self.tally = AgentTally()
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
        self._run_loop = RunLoop(self, self._journal, resume, prep)

    @property
    def resumed(self) -> bool:
        return self._run_loop.resume is not None

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
    def human_changes(self) -> list[str]:
        return list(self.state.human_changes)

    @property
    def last_results(self) -> list[ValidatorResult]:
        return self.state.last_results

    @property
    def summaries(self) -> list[IterationSummary]:
        return self.state.summaries

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
        self.tally.see(event)
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

    def publish_checkpoint(self, info: CheckpointInfo) -> None:
        """Publish a checkpoint, and what it did not store as usual (files over the limit)."""
        self.publish(info.event())
        for note in info.notes():
            self.publish(Notice(level="warning", message=note))

    # -- the journal ------------------------------------------------------
    @property
    def journal_fault(self) -> str | None:
        """Why the journal cannot be written, once it cannot (the run stops, resumable)."""
        return self._journal_fault

    def _journal_failed(self, sentence: str) -> None:
        """The journal cannot be written: stop at once, resumable (see journal.py)."""
        self._journal_fault = sentence
        self.publish(Notice(level="error", message=sentence))
        # As stop(now=True), without a "stop" control: no human asked for it.
        self.flow.request_stop(now=True)

    # -- the loop ---------------------------------------------------------
    async def run(self) -> RunFinished:
        """Run the loop to its end and return the final event (see tui/engine/run_loop.py)."""
        return await self._run_loop.run()

    async def _open_checkpoints(self) -> None:
        # What run() does first; tests take up a resumed run's state this way.
        await self._run_loop.open_checkpoints()
