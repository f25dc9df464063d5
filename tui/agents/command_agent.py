"""The ``command`` backend: any agent CLI, run once per iteration.

Each iteration runs ``agent.command`` through the shell in the workspace, in
its own process group, under ``agent.timeout_s``. The prompt goes on stdin,
or, when the command holds ``{prompt_file}``, in a file whose path replaces
it. ``{iteration}``, ``{workspace}`` and ``{spec_dir}`` are replaced too
(already shell-quoted: write them bare). ``agent.system``, when set, goes
before the prompt, since the CLI keeps its own system prompt. The output is
read line by line and turned into events by the adapter ``agent.format``
names.

The CLI gets the user's environment as it is, API keys included: it is the
agent, and calling its model is its job (``claude`` needs ANTHROPIC_API_KEY
or its login, ``codex`` its OpenAI key). The scrubbing DESIGN.md asks for is
about what the agent runs: validators and the shared tools never see keys.
With ``[agent] sandbox = true`` the CLI runs in the run's sandbox instead
(network on), with the allow-listed environment plus its model's variables.

Stop, pause-now and Ctrl-C cancel :meth:`CommandAgent.run_iteration`; the
cancellation reaches :func:`tui.process.run_command`, which kills the whole
process group before the CancelledError goes on.

When the CLI reports its API failing past its own retries the iteration ends
with a pause reason (the runner runs no validators and waits for a human); a
rejected key ends the run (AgentFatal). A CLI retrying a rejected key is
ended at once rather than at ``timeout_s``. A JSON CLI that exits non-zero
before printing any JSON refused its command line: the run pauses with what
it said.
"""

from __future__ import annotations

import asyncio
import os
import re
import shlex
import shutil
import signal
from collections.abc import Awaitable, Callable
from pathlib import Path

from tui.agents.adapters import Item, OutputAdapter, Spend, TextAdapter, make_adapter
from tui.agents.base import AgentConfigError, AgentContext, AgentFatal, AgentResult, claims_done
from tui.events import AgentTurn, Notice
from tui.pricing import price_for
from tui.process import STREAM_CAPPED_MARKER, CommandResult, run_command
from tui.spec import LoopSpec

# What is streamed from one run of the CLI. Output past it is not read into
# events (a notice says so); long Claude Code sessions print a few MB.
STREAM_CAP_BYTES = 64 * 1024 * 1024
# What is kept in memory of that output: the events carry the stream already.
OUTPUT_KEPT_BYTES = 100_000
# A "line" longer than this with no newline is handed over in pieces, so a
# CLI printing binary junk cannot grow the buffer without bound.
MAX_LINE_CHARS = 8 * 1024 * 1024

_CANNOT_RUN = {
    126: "the agent command could not be executed (exit 126); fix agent.command",
    127: "the agent command was not found by the shell (exit 127); fix agent.command",
}
# One shell word: unquoted characters, backslash escapes and quoted strings.
_WORD = re.compile(r"""\s*((?:[^\s'"\\;&|<>()]|\\.|'[^']*'|"(?:[^"\\]|\\.)*")+)""")
_ASSIGNMENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*=")
# Words that run the next word: look past them for the program.
_PREFIX_WORDS = {"exec", "command", "time", "builtin"}
# Shell syntax and builtins: nothing on PATH to check.
_SHELL_WORDS = {
    "!", "{", "(", "[", "[[", ".", ":", "if", "for", "while", "until", "case",
    "cd", "eval", "export", "set", "source", "test", "true", "false", "echo",
    "printf", "read", "ulimit", "umask", "unset", "trap", "wait",
}  # fmt: skip


def resolve_command(command: str, folder: Path) -> str:
    """``command`` with its program made absolute when it lives in ``folder``.

    Raises AgentConfigError when the program is neither on PATH nor in the
    spec's folder, or is there but cannot be executed.
    """
    pos = 0
    while match := _WORD.match(command, pos):
        word = match.group(1)
        pos = match.end()
        if _ASSIGNMENT.match(word) or word in _PREFIX_WORDS:
            continue
        try:
            program = shlex.split(word)[0]
        except (ValueError, IndexError):
            return command
        if program in _SHELL_WORDS or "{" in program or "$" in program:
            return command
        found = _find_program(program, folder)
        if found is None:
            return command
        start, end = match.span(1)
        return command[:start] + shlex.quote(str(found)) + command[end:]
    return command


def _find_program(program: str, folder: Path) -> Path | None:
    """The absolute path to use instead of ``program``, or None to keep it."""
    if "/" not in program and shutil.which(program):
        return None
    path = Path(program).expanduser()
    candidate = path if path.is_absolute() else folder / path
    if candidate.is_file():
        if not os.access(candidate, os.X_OK):
            raise AgentConfigError(
                f"agent.command: {candidate} is not executable; run chmod +x on it."
            )
        return candidate.resolve()
    where = f"on PATH or in {folder}" if "/" not in program else f"at {candidate}"
    raise AgentConfigError(
        f"agent.command: the program {program!r} was not found {where}; "
        "install it or fix the command."
    )


def fill_placeholders(command: str, values: dict[str, str]) -> str:
    """Replace each ``{name}`` placeholder with its value, shell-quoted."""
    for name, value in values.items():
        command = command.replace("{" + name + "}", shlex.quote(value))
    return command


# The variables a CLI gets from the loop (see CommandAgent._loop_vars).
LOOP_VARS = (
    "LOOPCONSOLE_ITERATION",
    "LOOPCONSOLE_WORKSPACE",
    "LOOPCONSOLE_RUN_DIR",
    "LOOPCONSOLE_PROMPT_FILE",
    "LOOPCONSOLE_SPEC_DIR",
)


class _LineReader:
    """Turns output chunks into complete lines for the adapter."""

    def __init__(self, on_line: Callable[[str], None]) -> None:
        self._on_line = on_line
        # The unfinished last line, in pieces: joined once, when it ends.
        self._parts: list[str] = []
        self._size = 0
        self.capped = False

    def chunk(self, text: str) -> None:
        if text == STREAM_CAPPED_MARKER:
            self.flush()
            self.capped = True
            return
        first, *rest = text.split("\n")
        self._parts.append(first)
        self._size += len(first)
        if rest:
            self.flush(always=True)
            *complete, last = rest
            for line in complete:
                self._on_line(line.removesuffix("\r"))
            self._parts, self._size = [last], len(last)
        if self._size > MAX_LINE_CHARS:
            self.flush()

    def flush(self, *, always: bool = False) -> None:
        line = "".join(self._parts)
        self._parts, self._size = [], 0
        if line or always:
            self._on_line(line.removesuffix("\r"))


class CommandAgent:
    """Runs an agent CLI per iteration and reports what it printed."""

    name = "command"

    def __init__(self, spec: LoopSpec) -> None:
        self.spec = spec
        self._command: str | None = None

    def prepare(self) -> None:
        """Check that the command's program exists and can be run."""
        if not self.spec.agent.command:
            raise AgentConfigError("agent.command: the command backend needs a command to run.")
        self._command = resolve_command(self.spec.agent.command, self.spec.folder)

    async def run_iteration(self, ctx: AgentContext) -> AgentResult:
        """Run the CLI once with this iteration's prompt and report what it did."""
        if self._command is None:
            self.prepare()
        assert self._command is not None
        agent = self.spec.agent
        prompt = ctx.prompt
        if agent.system:
            # A CLI keeps its own system prompt; the spec's goes first in
            # the prompt so what the user wrote still reaches the model.
            prompt = f"{agent.system.strip()}\n\n{prompt}"
        prompt_file = self._write_prompt(ctx.run_dir, ctx.iteration, prompt)
        command = fill_placeholders(
            self._command,
            {
                "prompt_file": str(prompt_file),
                "iteration": str(ctx.iteration),
                "workspace": str(ctx.workspace),
                "spec_dir": str(self.spec.folder),
            },
        )
        adapter = make_adapter(agent.format, ctx.workspace)
        adapter.prompt_chars = len(prompt)
        abort = asyncio.Event()

        def handle(items: list[Item]) -> None:
            for item in items:
                if isinstance(item, Spend):
                    self._charge(ctx, adapter, item)
                else:
                    ctx.emit(item)
            if adapter.abort:
                abort.set()

        reader = _LineReader(lambda line: handle(adapter.feed(line)))
        try:
            result = await self._run(
                command,
                ctx,
                abort,
                on_output=reader.chunk,
                env=self._env(ctx, prompt_file),
                stdin=None if "{prompt_file}" in self._command else prompt.encode(),
            )
        except OSError as exc:
            raise AgentFatal(f"could not start the agent command: {exc.strerror or exc}") from exc
        finally:
            # Whatever ended the run, what was read still counts (a killed
            # Claude Code has reported tokens but no result line).
            reader.flush()
            handle(adapter.finish())
            self._uncharged_retries(ctx, adapter)
        if reader.capped:
            ctx.emit(
                Notice(
                    level="warning",
                    message=f"The agent printed more than {STREAM_CAP_BYTES // 2**20} MB; "
                    "the rest of its output was not read.",
                )
            )
        return self._result(ctx, result, adapter)

    async def _run(
        self, command: str, ctx: AgentContext, abort: asyncio.Event, **kwargs
    ) -> CommandResult | None:
        """Run the CLI to its end, or until the adapter asks to end it (then None)."""
        if self.spec.agent.sandbox:
            running = self._sandboxed(command, ctx, **kwargs)
        else:
            running = run_command(
                command,
                ctx.workspace,
                timeout_s=self.spec.agent.timeout_s,
                output_cap=OUTPUT_KEPT_BYTES,
                stream_cap=STREAM_CAP_BYTES,
                **kwargs,
            )
        task = asyncio.ensure_future(running)
        aborted = asyncio.ensure_future(abort.wait())
        try:
            await asyncio.wait({task, aborted}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            aborted.cancel()
            if not task.done():
                # Stopped from outside, or aborted: run_command kills the
                # process group when cancelled, and is waited for here so
                # the child is gone before this returns.
                task.cancel()
                await asyncio.wait({task})
        if task.cancelled():
            if not abort.is_set():
                raise asyncio.CancelledError
            return None
        return task.result()

    def _result(
        self, ctx: AgentContext, result: CommandResult | None, adapter: OutputAdapter
    ) -> AgentResult:
        failure = adapter.failure
        if failure is not None and failure.kind == "auth":
            raise AgentFatal(failure.message)
        pause_reason = None
        if result is None:
            stop = "api_error"
        else:
            stop = self._stop(ctx, result.timed_out, result.exit_code, adapter)
            # The shell could not run the program at all: looping again
            # changes nothing until a human fixes the command.
            pause_reason = _CANNOT_RUN.get(result.exit_code or 0)
            refused = self._refused_command_line(result, adapter)
            if refused:
                ctx.emit(Notice(level="error", message=refused))
                stop, pause_reason = "usage_error", refused
        if failure is not None:
            stop, pause_reason = "api_error", failure.message
        final = adapter.final_text
        return AgentResult(
            stop=stop,
            final_text=final,
            claims_done=stop == "end_turn" and claims_done(final),
            turns=adapter.turns,
            tool_calls=adapter.tool_calls,
            pause_reason=pause_reason,
        )

    def system_for(self, default: str) -> str:
        """The system prompt the CLI gets from loopconsole: never ``default``.

        A CLI keeps its own system prompt; the spec's ``agent.system``, when
        set, goes before the prompt (and is recorded as what was sent).
        """
        return self.spec.agent.system.strip() if self.spec.agent.system else ""

    async def aclose(self) -> None:
        """Nothing to release: each iteration's process group ends with it."""

    # -- helpers -----------------------------------------------------------
    def _sandboxed(
        self,
        command: str,
        ctx: AgentContext,
        *,
        env: dict[str, str],
        on_output: Callable[[str], None],
        stdin: bytes | None,
    ) -> Awaitable[CommandResult]:
        """``[agent] sandbox = true``: the run's sandbox, network on, the allow-listed env."""
        confinement = getattr(ctx.tools, "confinement", None)
        if confinement is None:
            raise AgentFatal("[agent] sandbox = true needs the run's sandbox; none was set up.")
        cli_env = confinement.agent_cli_env()
        # The loop's own variables only: other LOOPCONSOLE_* of the user's stay outside.
        cli_env.update({k: env[k] for k in LOOP_VARS})
        prompt_folder = Path(env["LOOPCONSOLE_PROMPT_FILE"]).parent
        return confinement.run(
            command,
            ctx.workspace,
            timeout_s=self.spec.agent.timeout_s,
            output_cap=OUTPUT_KEPT_BYTES,
            stream_cap=STREAM_CAP_BYTES,
            on_output=on_output,
            replace_env=cli_env,
            stdin=stdin,
            network=True,
            readable=[prompt_folder],
        )

    def _loop_vars(self, ctx: AgentContext, prompt_file: Path) -> dict[str, str]:
        """What the CLI is told of the loop (the names are :data:`LOOP_VARS`)."""
        return dict(
            LOOPCONSOLE_ITERATION=str(ctx.iteration),
            LOOPCONSOLE_WORKSPACE=str(ctx.workspace),
            LOOPCONSOLE_RUN_DIR=str(ctx.run_dir),
            LOOPCONSOLE_PROMPT_FILE=str(prompt_file),
            LOOPCONSOLE_SPEC_DIR=str(self.spec.folder),
        )

    def _write_prompt(self, run_dir: Path, iteration: int, prompt: str) -> Path:
        # In the run directory, not the workspace: the prompt is not the
        # agent's work and must not show up in checkpoints or validators.
        folder = run_dir / "prompts"
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"iteration-{iteration:04d}.md"
        path.write_text(prompt, encoding="utf-8")
        return path

    def _env(self, ctx: AgentContext, prompt_file: Path) -> dict[str, str]:
        env = dict(os.environ)
        env.update(self._loop_vars(ctx, prompt_file))
        return env

    def _charge(self, ctx: AgentContext, adapter: OutputAdapter, spend: Spend) -> None:
        # Tokens the CLI gave no cost for are priced at the model it said it
        # used when that model has a price, else at the spec's model.
        model = self.spec.agent.model
        if spend.model and price_for(spend.model, self.spec.prices) is not None:
            model = spend.model
        source = "estimated" if spend.estimated else "plan" if spend.plan else ""
        cost = ctx.charge(model, spend.usage, spend.cost_usd, source)
        source = source or ("reported" if spend.cost_usd is not None else "priced")
        # The retries the CLI reported since its last charge (their tokens are in its total).
        retries, adapter.retries = adapter.retries, 0
        if spend.estimated:
            ctx.emit(
                Notice(
                    level="warning",
                    message=f"The agent's session was cut short before it reported its usage: "
                    f"{spend.usage.total:,} tokens (${cost:.4f} at {model}) are an estimate "
                    "from what it streamed.",
                )
            )
        ctx.emit(
            AgentTurn(
                turn=max(adapter.turns, 1),
                stop_reason=spend.stop_reason,
                model=spend.model or model,
                usage=spend.usage,
                cost_usd=cost,
                cost_source=source,
                retries=retries,
            )
        )

    def _uncharged_retries(self, ctx: AgentContext, adapter: OutputAdapter) -> None:
        """Retries the CLI reported after its last charge (or in a session that reported
        no usage): journaled for the receipt, with no tokens, as the CLI gave none."""
        if adapter.retries:
            retries, adapter.retries = adapter.retries, 0
            model = getattr(adapter, "model", "") or self.spec.agent.model
            ctx.emit(
                AgentTurn(
                    turn=max(adapter.turns, 1),
                    stop_reason="api_retries",
                    model=model,
                    cost_source="reported",
                    retries=retries,
                )
            )

    def _refused_command_line(self, result: CommandResult, adapter: OutputAdapter) -> str | None:
        """What a JSON CLI said when it exited non-zero before printing any JSON."""
        if result.timed_out or not result.exit_code or result.exit_code in _CANNOT_RUN:
            return None
        if isinstance(adapter, TextAdapter) or adapter.objects_seen or not adapter.stray_lines:
            return None
        said = next((line.strip() for line in adapter.stray_lines if line.strip()), "")
        return (
            f"The agent command failed before it started (exit {result.exit_code}): "
            f"{said[:300]}; fix agent.command, then resume."
        )

    def _stop(
        self, ctx: AgentContext, timed_out: bool, code: int | None, adapter: OutputAdapter
    ) -> str:
        if timed_out:
            ctx.emit(
                Notice(
                    level="warning",
                    message=f"The agent command ran past its {self.spec.agent.timeout_s:g} s "
                    "limit (agent.timeout_s) and was stopped with everything it started.",
                )
            )
            return "timeout"
        if code is not None and code < 0:
            name = signal.Signals(-code).name if -code in signal.valid_signals() else str(-code)
            ctx.emit(Notice(level="warning", message=f"The agent command was killed by {name}."))
            return f"exit {code}"
        if code:
            hint = " (command not found)" if code == 127 else ""
            ctx.emit(
                Notice(
                    level="warning",
                    message=f"The agent command exited with status {code}{hint}.",
                )
            )
            return f"exit {code}"
        return adapter.error or "end_turn"
