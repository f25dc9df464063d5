"""The real Claude Code and Codex CLIs against local stand-ins of their APIs.

Skipped unless ``claude`` / ``codex`` are on PATH (``npm install
@anthropic-ai/claude-code @openai/codex``). They reach only 127.0.0.1:
tests/fake_messages_server.py and tests/fake_responses_server.py, with a
throwaway HOME and telemetry, updates and error reports switched off.
Run them with ``pytest -m realcli``.
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import pytest

from tests import fake_messages_server as fm
from tests import fake_responses_server as fr
from tests.fixtures import record_clis
from tests.test_cli_loops import of, runner_for, write_cli_loop
from tui.agents.adapters import Spend, make_adapter
from tui.events import AgentText, ToolCall, ToolResult, ValidatorStarted

pytestmark = pytest.mark.realcli
needs_claude = pytest.mark.skipif(shutil.which("claude") is None, reason="claude not on PATH")
needs_codex = pytest.mark.skipif(shutil.which("codex") is None, reason="codex not on PATH")


def adapter_on(name: str):
    """Run recording case ``name`` with the real CLI and feed what it printed to its adapter."""
    rec = record_clis.record(name, record_clis.CASES[name])
    adapter = make_adapter(
        "claude-stream-json" if rec["cli"] == "claude" else "codex-json", Path("/ws")
    )
    items = []
    text = "".join(line for _at, _stream, line in rec["lines"])
    for line in text.replace("{workspace}", "/ws").splitlines():
        items.extend(adapter.feed(line))
    items.extend(adapter.finish())
    return rec, adapter, items


def quiet_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    (tmp_path / "home").mkdir()
    for key, value in record_clis.QUIET_ENV.items():
        monkeypatch.setenv(key, value)


@pytest.mark.parametrize("name", ["claude-clean-1", "codex-clean-1"])
def test_real_session_has_no_raw_lines(name: str) -> None:
    if shutil.which(name.split("-")[0]) is None:
        pytest.skip(f"{name.split('-')[0]} not on PATH")
    rec, adapter, items = adapter_on(name)
    assert rec["exit_code"] == 0
    assert [i for i in items if isinstance(i, AgentText) and i.kind == "raw"] == []
    assert adapter.tool_calls == 3
    calls = {i.call_id for i in items if isinstance(i, ToolCall)}
    assert calls == {i.call_id for i in items if isinstance(i, ToolResult)}
    (spend,) = [i for i in items if isinstance(i, Spend)]
    assert spend.usage.total > 0


@needs_claude
def test_real_claude_without_verbose_is_a_usage_error() -> None:
    rec, adapter, _ = adapter_on("claude-no-verbose")
    assert rec["exit_code"] == 1
    assert adapter.objects_seen == 0 and "requires --verbose" in adapter.stray_lines[0]


async def run_stops_early_on_a_rejected_key(tmp_path: Path, command: str, adapter: str) -> None:
    """Run ``command`` against an API that rejects the key: an error within 30 s, no validator."""
    spec = write_cli_loop(tmp_path / "loop", command, adapter, timeout_s=300)
    runner, seen = runner_for(spec, tmp_path, interactive=False)
    started = time.monotonic()
    finished = await runner.run()
    assert time.monotonic() - started < 30
    assert finished.outcome == "error" and "rejected the key" in finished.reason
    assert of(seen, ValidatorStarted) == []


@needs_claude
async def test_real_claude_with_a_rejected_key_stops_the_run_early(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    quiet_env(monkeypatch, tmp_path)
    with fm.FakeMessagesServer(lambda _body: fm.status_error(401)) as server:
        monkeypatch.setenv("ANTHROPIC_BASE_URL", server.url)
        monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-wrong")
        command = " ".join(record_clis.CLAUDE[:5]) + " --permission-mode acceptEdits"
        await run_stops_early_on_a_rejected_key(tmp_path, command, "claude-stream-json")


@needs_codex
async def test_real_codex_with_a_rejected_key_stops_the_run_early(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    quiet_env(monkeypatch, tmp_path)
    monkeypatch.setenv("CODEX_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("LOCAL_API_KEY", "sk-wrong")
    with fr.FakeResponsesServer(lambda _body: fr.status_error(401, "invalid api key")) as server:
        args = " ".join(record_clis.CODEX + fr.codex_provider_args(server.url))
        await run_stops_early_on_a_rejected_key(tmp_path, f"{args} -", "codex-json")


@needs_claude
async def test_real_claude_loop_reaches_its_goal(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    quiet_env(monkeypatch, tmp_path)
    command = " ".join(record_clis.CLAUDE[:-1]) + " 'Read,Edit,Bash(python3:*)'"
    spec = write_cli_loop(tmp_path / "loop", command, "claude-stream-json", timeout_s=120)
    runner, seen = runner_for(spec, tmp_path, interactive=False)
    fix = record_clis.claude_fix(
        runner.run_dir.workspace, "return a - b", "return a + b", "Fixed add(). All tests pass now."
    )
    with fm.FakeMessagesServer(fix) as server:
        monkeypatch.setenv("ANTHROPIC_BASE_URL", server.url)
        monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-test")
        finished = await runner.run()
    assert finished.outcome == "goal_met" and finished.budget.iterations == 1
    assert [t for t in of(seen, AgentText) if t.kind == "raw"] == []
    assert {c.input.get("path") for c in of(seen, ToolCall)} == {"calc.py", None}
    assert finished.budget.cost_sources.keys() == {"reported"}


@needs_codex
async def test_real_codex_loop_reaches_its_goal(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    quiet_env(monkeypatch, tmp_path)
    monkeypatch.setenv("CODEX_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("LOCAL_API_KEY", "sk-test")
    fix = record_clis.codex_fix("    return a - b", "    return a + b", "Fixed.")(tmp_path)
    with fr.FakeResponsesServer(fix) as server:
        args = " ".join(record_clis.CODEX + fr.codex_provider_args(server.url))
        spec = write_cli_loop(tmp_path / "loop", f"{args} -", "codex-json", timeout_s=120)
        runner, seen = runner_for(spec, tmp_path, interactive=False)
        finished = await runner.run()
    assert finished.outcome == "goal_met" and finished.budget.iterations == 1
    assert [t for t in of(seen, AgentText) if t.kind == "raw"] == []
    change = next(c for c in of(seen, ToolCall) if c.name == "file_change")
    assert change.input["path"] == "calc.py"
