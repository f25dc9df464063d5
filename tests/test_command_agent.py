"""The command backend: real processes (fake CLIs in tests/fixtures/bin)."""

from __future__ import annotations

import asyncio
import json
import os
import time
from pathlib import Path

import pytest

from tui.agents import command_agent
from tui.agents.base import AgentConfigError, AgentContext
from tui.agents.command_agent import CommandAgent, _LineReader, resolve_command
from tui.engine.budget import Budget
from tui.events import AgentText, AgentTurn, Notice, ToolCall, ToolResult, Usage
from tui.pricing import cost_usd, price_for
from tui.process import STREAM_CAPPED_MARKER
from tui.spec import LoopSpec, load_spec

BIN = Path(__file__).parent / "fixtures" / "bin"
PROMPT = "Fix fizzbuzz\nThe tests are in tests/."


class Run:
    """One iteration's context, with the events and the budget it fed."""

    def __init__(self, spec: LoopSpec, run_dir: Path, iteration: int = 1) -> None:
        self.events: list = []
        self.budget = Budget(spec.budget, spec.prices)
        self.ctx = AgentContext(
            iteration=iteration,
            prompt=PROMPT,
            system="",
            workspace=spec.workspace,
            run_dir=run_dir,
            spec=spec,
            tools=None,  # type: ignore[arg-type]  # a CLI uses its own tools
            emit=self.events.append,
            charge=self.budget.charge,
            over_budget=self.budget.over_budget,
            memories=run_dir / "memories",
        )

    def of(self, kind: type) -> list:
        return [e for e in self.events if isinstance(e, kind)]

    def text(self, kind: str = "text") -> str:
        return "".join(e.text for e in self.of(AgentText) if e.kind == kind)


def make_spec(
    folder: Path,
    command: str,
    *,
    fmt: str = "text",
    timeout_s: float = 30,
    extra: str = "",
    workspace: str = "workspace",
) -> LoopSpec:
    (folder / workspace).mkdir(parents=True, exist_ok=True)
    (folder / "loop.toml").write_text(
        f'name = "t"\ngoal = "g"\nworkspace = {json.dumps(workspace)}\n'
        f'[agent]\nbackend = "command"\ncommand = {json.dumps(command)}\n'
        f'format = "{fmt}"\ntimeout_s = {timeout_s}\n{extra}\n'
    )
    return load_spec(folder)


async def run_once(spec: LoopSpec, tmp_path: Path, iteration: int = 1):
    run = Run(spec, tmp_path / "run", iteration)
    agent = CommandAgent(spec)
    agent.prepare()
    result = await agent.run_iteration(run.ctx)
    await agent.aclose()
    return run, result


def alive(pid: int) -> bool:
    """Whether ``pid`` is a running (not zombie) process."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


async def wait_for_file(path: Path, timeout: float = 10) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if path.exists() and path.read_text().strip():
            return path.read_text()
        await asyncio.sleep(0.02)
    raise AssertionError(f"{path} never appeared")


# -- claude-stream-json ---------------------------------------------------------
async def test_claude_run_fills_transcript_tools_and_budget(tmp_path: Path) -> None:
    spec = make_spec(tmp_path, str(BIN / "fake-claude"), fmt="claude-stream-json")
    run, result = await run_once(spec, tmp_path)

    assert result.stop == "end_turn"
    assert result.final_text == "I fixed the modulo order. All tests pass now."
    assert result.claims_done is True
    assert (result.turns, result.tool_calls) == (3, 2)
    # The prompt went in on stdin: the fake echoes its first line.
    assert run.text().startswith("Working on: Fix fizzbuzz\n")
    assert [(c.call_id, c.name) for c in run.of(ToolCall)] == [
        ("toolu_01Edit", "Edit"),
        ("toolu_02Bash", "Bash"),
    ]
    assert [r.call_id for r in run.of(ToolResult)] == ["toolu_01Edit", "toolu_02Bash"]
    assert "[warn] telemetry disabled" in run.text("raw")
    (turn,) = run.of(AgentTurn)
    assert turn.cost_usd == pytest.approx(0.0537125)
    assert turn.model == "claude-sonnet-4-5-20250929"
    assert turn.usage.cache_read_tokens == 42426
    assert run.budget.cost_usd == pytest.approx(0.0537125)
    assert run.budget.usage == turn.usage


async def test_prompt_file_placeholder_keeps_the_workspace_clean(tmp_path: Path) -> None:
    command = f"{BIN / 'fake-claude'} --prompt-file {{prompt_file}}"
    spec = make_spec(tmp_path, command, fmt="claude-stream-json")
    run, result = await run_once(spec, tmp_path, iteration=7)

    assert run.text().startswith("Working on: Fix fizzbuzz\n")
    prompt_file = tmp_path / "run" / "prompts" / "iteration-0007.md"
    assert prompt_file.read_text() == PROMPT
    assert list(spec.workspace.iterdir()) == []


async def test_claude_exit_without_result_charges_an_estimate(tmp_path: Path) -> None:
    command = f"{BIN / 'fake-claude'} --exit 2"
    spec = make_spec(tmp_path, command, fmt="claude-stream-json")
    run, result = await run_once(spec, tmp_path)

    assert result.stop == "exit 2"
    assert result.claims_done is False
    assert any("status 2" in n.message for n in run.of(Notice))
    (turn,) = run.of(AgentTurn)
    assert turn.cost_source == "estimated"
    assert turn.usage.input_tokens == 3 and turn.usage.cache_read_tokens == 11292
    # Priced at the model Claude Code reported, which the table knows.
    price = price_for("claude-sonnet-4-5-20250929")
    assert price is not None
    assert turn.cost_usd == pytest.approx(cost_usd(turn.usage, price))
    assert run.budget.cost_sources == {"estimated": pytest.approx(turn.cost_usd)}
    assert any("estimate" in n.message for n in run.of(Notice))
    # The Edit the session reported before it died has its (interrupted) result.
    assert [r.call_id for r in run.of(ToolResult)] == ["toolu_01Edit"]


async def test_claude_max_turns_result_is_reported(tmp_path: Path) -> None:
    command = f"{BIN / 'fake-claude'} --error"
    spec = make_spec(tmp_path, command, fmt="claude-stream-json")
    run, result = await run_once(spec, tmp_path)
    # The exit status says more than the result subtype.
    assert result.stop == "exit 1"
    assert result.claims_done is False
    assert any("--max-turns" in n.message for n in run.of(Notice))
    assert run.budget.cost_usd == pytest.approx(0.0421)
    assert run.budget.cost_sources == {"reported": pytest.approx(0.0421)}


# -- codex-json -------------------------------------------------------------------
async def test_codex_tokens_are_priced_with_the_spec_model(tmp_path: Path) -> None:
    spec = make_spec(
        tmp_path,
        f"{BIN / 'fake-codex'} exec --json -",
        fmt="codex-json",
        extra='model = "gpt-test"\n[prices."gpt-test"]\ninput = 1.0\noutput = 10.0\n'
        "cache_read = 0.1",
    )
    run, result = await run_once(spec, tmp_path)

    assert result.stop == "end_turn"
    assert result.claims_done is True  # "The tests should now pass."
    assert "**Reading the task** Fix fizzbuzz" in run.text("thinking")
    (turn,) = run.of(AgentTurn)
    assert turn.usage == Usage(input_tokens=315, output_tokens=122, cache_read_tokens=24448)
    assert turn.model == "gpt-test"
    assert turn.cost_usd == pytest.approx((315 * 1.0 + 122 * 10.0 + 24448 * 0.1) / 1e6)
    assert run.budget.usage.total == 315 + 122 + 24448


async def test_codex_failed_turn_pauses_and_charges_an_estimate(tmp_path: Path) -> None:
    spec = make_spec(tmp_path, f"{BIN / 'fake-codex'} --fail", fmt="codex-json")
    run, result = await run_once(spec, tmp_path)
    assert result.stop == "api_error"
    assert result.pause_reason and "stream disconnected" in result.pause_reason
    (turn,) = run.of(AgentTurn)
    assert turn.cost_source == "estimated"
    assert run.budget.cost_usd > 0


# -- text, placeholders, environment ----------------------------------------------
async def test_text_agent_reads_stdin_and_runs_in_the_workspace(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAKE_NO_NEWLINE", "1")
    spec = make_spec(tmp_path, str(BIN / "fake-text"), workspace="my ws")
    run, result = await run_once(spec, tmp_path, iteration=4)

    text = run.text()
    assert "prompt (stdin): Fix fizzbuzz\nprompt (stdin): The tests are in tests/.\n" in text
    assert f"iteration 4 in {spec.workspace}\n" in text
    assert "oops on stderr\n" in text  # stderr is part of the transcript
    assert "\x1b" not in text
    # The last line had no newline and still arrived, whole.
    assert text.endswith("All tests pass now.\n")
    assert result.stop == "end_turn"
    assert result.claims_done is True
    assert run.of(AgentTurn) == []  # a CLI reporting nothing costs nothing here


async def test_nonzero_exit_is_a_stop_reason_not_a_crash(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAKE_EXIT", "3")
    spec = make_spec(tmp_path, str(BIN / "fake-text"))
    run, result = await run_once(spec, tmp_path)
    assert result.stop == "exit 3"
    assert result.claims_done is False
    assert result.pause_reason is None  # a failing agent is the validators' business
    (notice,) = run.of(Notice)
    assert notice.level == "warning"
    assert "exited with status 3" in notice.message


async def test_a_program_the_shell_cannot_find_pauses_for_a_human(tmp_path: Path) -> None:
    spec = make_spec(tmp_path, "true && no-such-agent-program-xyz --go")
    run, result = await run_once(spec, tmp_path)
    assert result.stop == "exit 127"
    assert result.pause_reason is not None and "fix agent.command" in result.pause_reason
    assert "no-such-agent-program-xyz" in run.text()  # the shell's own complaint
    assert "(command not found)" in run.of(Notice)[0].message


async def test_placeholders_are_filled_and_quoted(tmp_path: Path) -> None:
    command = (
        "printf '%s|%s|%s\\n' {iteration} {workspace} {spec_dir} && "
        f"{BIN / 'fake-text'} {{prompt_file}}"
    )
    spec = make_spec(tmp_path / "a folder", command, workspace="my ws")
    run, _ = await run_once(spec, tmp_path, iteration=12)
    text = run.text()
    assert f"12|{spec.workspace}|{spec.folder}\n" in text
    assert "prompt (file): Fix fizzbuzz\n" in text


async def test_agent_cli_gets_the_api_key_and_loop_variables(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-test-123")
    command = (
        'echo "key=$ANTHROPIC_API_KEY it=$LOOPCONSOLE_ITERATION"; cat "$LOOPCONSOLE_PROMPT_FILE"'
    )
    spec = make_spec(tmp_path, command)
    run, _ = await run_once(spec, tmp_path, iteration=2)
    assert run.text().startswith(f"key=sk-test-123 it=2\n{PROMPT}\n")


async def test_spec_system_prompt_goes_before_the_prompt(tmp_path: Path) -> None:
    spec = make_spec(tmp_path, "cat", extra='system = "Only touch fizzbuzz.py."')
    run, _ = await run_once(spec, tmp_path)
    assert run.text() == f"Only touch fizzbuzz.py.\n\n{PROMPT}\n"


# -- time limit and cancellation ----------------------------------------------------
async def test_time_limit_kills_the_whole_group(tmp_path: Path) -> None:
    pidfile = tmp_path / "pids"
    spec = make_spec(tmp_path, f"{BIN / 'fake-hang'} {pidfile}", timeout_s=1)
    started = time.monotonic()
    run, result = await run_once(spec, tmp_path)
    elapsed = time.monotonic() - started

    assert result.stop == "timeout"
    assert elapsed < 4
    assert "thinking very hard...\n" in run.text()
    assert any("agent.timeout_s" in n.message for n in run.of(Notice))
    pids = [int(p) for p in pidfile.read_text().split()]
    assert len(pids) == 2
    await asyncio.sleep(0.2)  # let init reap the orphaned child
    assert [p for p in pids if alive(p)] == []


async def test_cancellation_kills_the_group(tmp_path: Path) -> None:
    pidfile = tmp_path / "pids"
    spec = make_spec(tmp_path, f"{BIN / 'fake-hang'} {pidfile}", timeout_s=60)
    run = Run(spec, tmp_path / "run")
    agent = CommandAgent(spec)
    agent.prepare()
    task = asyncio.create_task(agent.run_iteration(run.ctx))
    pids = [int(p) for p in (await wait_for_file(pidfile)).split()]
    assert all(alive(p) for p in pids)

    started = time.monotonic()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert time.monotonic() - started < 2
    deadline = time.monotonic() + 3
    while any(alive(p) for p in pids) and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    assert [p for p in pids if alive(p)] == []


# -- lines from chunks ------------------------------------------------------------
def test_lines_survive_any_chunking() -> None:
    text = 'first\r\n{"type": "x"}\n\nlast without newline'
    for size in (1, 2, 3, 7, len(text)):
        lines: list[str] = []
        reader = _LineReader(lines.append)
        for i in range(0, len(text), size):
            reader.chunk(text[i : i + size])
        reader.flush()
        assert lines == ["first", '{"type": "x"}', "", "last without newline"], size


def test_an_endless_line_is_handed_over_in_pieces(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(command_agent, "MAX_LINE_CHARS", 100)
    lines: list[str] = []
    reader = _LineReader(lines.append)
    for _ in range(50):
        reader.chunk("x" * 30)
    assert [len(line) for line in lines] == [120] * 12
    # The capped marker flushes what is left and is not itself a line.
    reader.chunk(STREAM_CAPPED_MARKER)
    assert reader.capped
    assert [len(line) for line in lines[12:]] == [60]


# -- prepare: finding the program ---------------------------------------------------
def test_missing_program_is_one_clear_sentence(tmp_path: Path) -> None:
    spec = make_spec(tmp_path, "no-such-agent-cli -p --verbose")
    with pytest.raises(AgentConfigError) as err:
        CommandAgent(spec).prepare()
    message = str(err.value)
    assert "'no-such-agent-cli' was not found on PATH" in message
    assert str(tmp_path) in message
    assert "\n" not in message


def test_program_path_that_does_not_exist(tmp_path: Path) -> None:
    spec = make_spec(tmp_path, "./bin/agent.sh {iteration}")
    with pytest.raises(AgentConfigError, match=r"'\./bin/agent\.sh' was not found at "):
        CommandAgent(spec).prepare()


def test_program_that_is_not_executable(tmp_path: Path) -> None:
    (tmp_path / "agent.sh").write_text("echo hi\n")
    spec = make_spec(tmp_path, "./agent.sh")
    with pytest.raises(AgentConfigError, match="is not executable; run chmod"):
        CommandAgent(spec).prepare()


async def test_program_in_the_spec_folder_runs_from_the_workspace(tmp_path: Path) -> None:
    script = tmp_path / "agent.sh"
    script.write_text('#!/bin/sh\necho "ran in $(pwd) with $1"\n')
    script.chmod(0o755)
    for command in ("./agent.sh {iteration}", "agent.sh {iteration}", "FOO=1 exec ./agent.sh 5"):
        spec = make_spec(tmp_path, command)
        run, result = await run_once(spec, tmp_path)
        assert result.stop == "end_turn", command
        assert run.text().startswith(f"ran in {spec.workspace} with "), command


def test_resolve_command_leaves_path_programs_and_shell_syntax_alone(tmp_path: Path) -> None:
    for command in (
        "python3 -c 'print(1)'",
        "cd sub && ./x",
        "{workspace}/agent",
        "$HOME/bin/agent",
        "(cd x; y)",
        "echo hi | cat",
    ):
        assert resolve_command(command, tmp_path) == command
