"""The claude-api sample, offline: the recorded session through the real SDK over HTTP."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.fake_messages_server import FakeMessagesServer, load_script
from tests.loops import SAMPLES
from tui.engine.journal import read_journal
from tui.events import Checkpointed, RunFinished, ToolCall

SAMPLE = SAMPLES / "claude-api"


def test_offline_session_reaches_the_goal_headless(tmp_path: Path) -> None:
    with FakeMessagesServer(load_script(str(SAMPLE / "offline_turns.json"))) as server:
        env = {**os.environ, "ANTHROPIC_BASE_URL": server.url, "ANTHROPIC_API_KEY": "offline"}
        proc = subprocess.run(
            [sys.executable, "-m", "tui.cli", "run", str(SAMPLE), "--headless"]
            + ["--run-dir", str(tmp_path / "run")],
            capture_output=True,
            text=True,
            timeout=60,
            env=env,
        )
        requests = len(server.requests)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "goal met after 2 iterations" in proc.stdout
    assert requests == 9  # every recorded turn was asked for, none twice
    events = read_journal(tmp_path / "run" / "journal.jsonl").events
    names = [e.name for e in events if isinstance(e, ToolCall)]
    assert names.count("str_replace_based_edit_tool") == 3 and "memory" in names
    notes = (tmp_path / "run" / "memories" / "progress.md").read_text()
    assert "mean() fixed" in notes
    assert sum(isinstance(e, Checkpointed) and e.kind == "agent" for e in events) == 2
    assert isinstance(events[-1], RunFinished) and events[-1].budget.cost_usd > 0
