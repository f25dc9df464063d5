"""The agent can ask: ask_human through the real SDK against the fake Messages API."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest

from tests.anthropic_harness import KEY, use_key
from tests.fake_messages_server import FakeMessagesServer, text, tool_use, turn
from tests.test_anthropic_loop import loopconsole, write_claude_loop
from tests.test_runner import _until
from tui.engine.commands import Answer
from tui.engine.journal import read_journal
from tui.engine.rundir import create_run
from tui.engine.runner import Runner
from tui.events import IterationStarted, Paused
from tui.spec import load_spec

ASKING = [
    turn(
        text("Two ways to fix this; I need a decision."),
        tool_use("ask_human", {"question": "Keep a - b as sub()?", "choices": ["yes", "no"]}),
    ),
    turn(text("Understood.")),
]


def test_headless_a_question_exits_3_and_prints_it(tmp_path: Path) -> None:
    spec = write_claude_loop(tmp_path / "loop")
    with FakeMessagesServer(ASKING, api_key=KEY) as server:
        env = {**os.environ, "ANTHROPIC_API_KEY": KEY, "ANTHROPIC_BASE_URL": server.url}
        env.pop("ANTHROPIC_AUTH_TOKEN", None)
        proc = loopconsole("run", spec, "--headless", "--run-dir", tmp_path / "run", env=env)
    assert proc.returncode == 3, proc.stdout + proc.stderr
    assert "Keep a - b as sub()?" in proc.stdout + proc.stderr
    events = read_journal(tmp_path / "run" / "journal.jsonl").events
    # The question ended the iteration: the second turn was never requested.
    assert [e.name for e in events if e.type == "tool_call"] == ["ask_human"]


async def test_the_answer_goes_into_the_next_prompt(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    spec = load_spec(write_claude_loop(tmp_path / "loop", budget="max_iterations = 2"))
    with FakeMessagesServer(ASKING, api_key=KEY) as server:
        use_key(monkeypatch)
        monkeypatch.setenv("ANTHROPIC_BASE_URL", server.url)
        runner = Runner(spec, create_run(spec, tmp_path / "run"))
        task = asyncio.create_task(runner.run())
        await _until(lambda: runner.status == "paused")
        paused = [
            e for e in read_journal(runner.run_dir.journal_path).events if isinstance(e, Paused)
        ]
        assert paused[-1].question == "Keep a - b as sub()? (choices: yes / no)"
        assert not paused[-1].by_human
        reply = await runner.handle(Answer(text="No: fix add() itself."))
        assert reply.ok
        await task
    prompts = [e.prompt for e in read_journal(runner.run_dir.journal_path).events
               if isinstance(e, IterationStarted)]  # fmt: skip
    assert "Their answer: No: fix add() itself." in prompts[1]
    assert "Keep a - b as sub()?" in prompts[1]
