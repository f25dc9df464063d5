"""What one run trusts its children with: the sandbox, the environment, the protected paths.

Built once when a runner starts, from the spec and the run folder; the bash
tool, the validators and (with ``[agent] sandbox = true``) the agent CLI share it.
"""

from __future__ import annotations

from pathlib import Path

from tui.confinement import Confinement
from tui.engine.decide import Verdict
from tui.engine.protect import (
    FileState,
    ProtectedPaths,
    spec_patterns,
    spec_tables,
    tamper_evidence,
)
from tui.engine.protocol import socket_path
from tui.engine.rundir import RunDir, state_runs_root
from tui.events import SignalRaised
from tui.redaction import Redactor, allowed_env
from tui.sandbox import SANDBOX_HOME, Sandbox, require_bwrap
from tui.spec import LoopSpec, ThrashSpec


def protected_paths(spec: LoopSpec, run: RunDir) -> ProtectedPaths:
    """The run workspace's protected paths (the spec's globs and the always-protected)."""
    return ProtectedPaths(run.workspace, spec_patterns(spec), spec_tables(spec))


def confinement_for(spec: LoopSpec, run: RunDir, protected: ProtectedPaths) -> Confinement:
    """The confinement of a run's commands; raises SandboxUnavailable when bwrap cannot start."""
    redactor = Redactor.from_environ(extra_names=spec.env.redact)
    if spec.sandbox.mode == "off":
        home = str(run.path / "home")
        return Confinement(None, _env(spec, home), redactor)
    hidden_files = [f for f in (spec.path, spec.agent.script) if f is not None]
    sandbox = Sandbox(
        bwrap=require_bwrap(),
        workspace=run.workspace,
        # The run's record, every run's, and the engines' control sockets (a socket
        # on a read-only mount still takes a connection: the agent could command the run).
        hidden_dirs=[run.path, state_runs_root(), socket_path(run.path).parent],
        hidden_files=hidden_files,
        read_only=protected.read_only(),
        network=spec.sandbox.network,
        exposed=[Path(p).expanduser().resolve() for p in spec.sandbox.readable],
    )
    return Confinement(sandbox, _env(spec, SANDBOX_HOME), redactor)


def _env(spec: LoopSpec, home: str) -> dict[str, str]:
    return allowed_env(home, list(spec.env.pass_), spec.env.set)


class TamperCheck:
    """Compares the protected paths with the run's start after each iteration."""

    def __init__(self, protected: ProtectedPaths) -> None:
        self.protected = protected
        self._start: dict[str, FileState] | None = None

    def start(self) -> None:
        """Remember the protected paths as they are now (the run's start)."""
        self._start = self.protected.snapshot()

    def check(self, iteration: int = 0) -> SignalRaised | None:
        """A ``tamper`` signal (changes restored, diff as evidence), or None if untouched."""
        if self._start is None:
            return None
        changes, now = self.protected.compare(self._start)
        if not changes:
            return None
        diff = tamper_evidence(self._start, now, changes)
        failed = self.protected.restore(self._start, changes)
        shown = ", ".join(f"{c.path} ({c.what})" for c in changes[:6])
        if len(changes) > 6:
            shown += f" and {len(changes) - 6} more"
        explanation = (
            f"protected paths were changed: {shown}; they were restored before the "
            "validators ran, and this iteration cannot meet the goal"
        )
        if failed:
            explanation += f" (could not restore: {', '.join(failed)})"
        return SignalRaised(
            kind="tamper",
            iterations=[iteration] if iteration else [],
            explanation=explanation,
            evidence={
                "key": f"tamper:{iteration}",
                "paths": [c.path for c in changes],
                "changes": {c.path: c.what for c in changes},
                "diff": diff,
                "not_restored": failed,
            },
        )


def tampered_verdict(verdict: Verdict, tamper: SignalRaised, thrash: ThrashSpec) -> Verdict:
    """A tampered iteration never meets the goal: what to do instead, by the thrash policy."""
    if verdict.outcome != "goal_met":
        return verdict
    reason = f"the goal is not met on a tampered iteration: {tamper.explanation}"
    action = thrash.action_for("tamper")
    if action == "stop":
        return Verdict("stop", reason, "stopped")
    if action == "pause":
        return Verdict("pause", reason)
    return Verdict("continue", reason)


def secrets_in_patch(redactor: Redactor, patch: str) -> list[str]:
    """One warning per workspace file the patch writes a secret value into."""
    if not redactor.secrets or not patch:
        return []
    added: dict[str, list[str]] = {}
    current = ""
    for line in patch.splitlines():
        if line.startswith("diff --git "):
            current = line.rsplit(" b/", 1)[-1]
        elif line.startswith("+") and not line.startswith("+++"):
            added.setdefault(current, []).append(line[1:])
    warnings = []
    for file, lines in added.items():
        names = redactor.found_in("\n".join(lines))
        if names:
            warnings.append(
                f"{file} now holds the value of {', '.join(names)}, and the checkpoint "
                "stores it in checkpoints.git; remove it from the workspace (and rotate "
                "the secret if the run folder is shared)"
            )
    return warnings


__all__ = [
    "Confinement",
    "TamperCheck",
    "confinement_for",
    "protected_paths",
    "secrets_in_patch",
    "tampered_verdict",
]
