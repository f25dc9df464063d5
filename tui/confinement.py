"""How one run's commands are confined: the sandbox, the environment, the redaction.

The bash tool, the validators and (optionally) the agent CLI all run their
commands through one :class:`Confinement`, so the three agree on what a child
can reach and see, and every output is redacted before anyone reads it.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from tui.process import CommandResult, run_command
from tui.redaction import Redactor
from tui.sandbox import Sandbox

# What an agent CLI needs to reach its model, passed to it even when sandboxed.
AGENT_CLI_NAMES = (
    "ANTHROPIC_API_KEY",
    "ANTHROPIC_AUTH_TOKEN",
    "ANTHROPIC_BASE_URL",
    "OPENAI_API_KEY",
    "OPENAI_BASE_URL",
)


@dataclass
class Confinement:
    """The sandbox (None: unconfined), the children's environment and the redactor."""

    sandbox: Sandbox | None
    env: dict[str, str]
    redactor: Redactor = field(default_factory=lambda: Redactor({}))

    async def run(
        self,
        command: str,
        cwd: Path,
        *,
        timeout_s: float,
        output_cap: int = 100_000,
        on_output: Callable[[str], None] | None = None,
        extra_env: dict[str, str] | None = None,
        stdin: bytes | None = None,
        stream_cap: int | None = None,
        network: bool | None = None,
        writable: list[Path] | None = None,
        readable: list[Path] | None = None,
        replace_env: dict[str, str] | None = None,
    ) -> CommandResult:
        """Run ``command`` confined; what it printed comes back (and streams) redacted.

        ``replace_env`` replaces the children's environment (an agent CLI's own);
        ``extra_env`` adds to it.
        """
        env = dict(self.env if replace_env is None else replace_env)
        env.update(extra_env or {})
        if self.sandbox is None:
            # Unconfined, HOME must exist: keep one per run, never the user's.
            Path(env["HOME"]).mkdir(parents=True, exist_ok=True)
        redact = self.redactor.text
        streamed = None if on_output is None else (lambda text: on_output(redact(text)))
        result = await run_command(
            command,
            cwd,
            timeout_s=timeout_s,
            output_cap=output_cap,
            on_output=streamed,
            env=env,
            stdin=stdin,
            stream_cap=stream_cap,
            sandbox=self.sandbox,
            network=network,
            writable=writable,
            readable=readable,
        )
        result.output = redact(result.output)
        return result

    def agent_cli_env(self) -> dict[str, str]:
        """The environment of a sandboxed agent CLI: the children's, plus what reaches
        its model (:data:`AGENT_CLI_NAMES`, from loopconsole's own environment)."""
        env = dict(self.env)
        for name in AGENT_CLI_NAMES:
            if name in os.environ:
                env[name] = os.environ[name]
        return env
