"""Driving the anthropic backend against the fake Messages API, one iteration at a time."""

from __future__ import annotations

from pathlib import Path
from typing import Any, TypeVar

import pytest

from tests.fake_messages_server import FakeMessagesServer
from tui.agents.anthropic_agent import AnthropicAgent
from tui.agents.base import AgentContext, AgentResult
from tui.agents.tools import Toolbox
from tui.events import Event, ToolCall, ToolResult, Usage
from tui.spec import AgentSpec, LoopSpec

KEY = "sk-ant-test-0123456789-SECRET"
MODEL = "claude-test-1"
E = TypeVar("E")


def use_key(monkeypatch: pytest.MonkeyPatch, key: str | None = KEY) -> None:
    """Set (or remove) the API key; no other Anthropic variable leaks in from the shell."""
    for name in ("ANTHROPIC_API_KEY", "ANTHROPIC_AUTH_TOKEN", "ANTHROPIC_BASE_URL"):
        monkeypatch.delenv(name, raising=False)
    if key is not None:
        monkeypatch.setenv("ANTHROPIC_API_KEY", key)


class Harness:
    """A workspace, a run folder, a toolbox and an agent pointed at ``server``.

    ``limit`` makes ``over_budget`` answer that limit once ``charges`` requests
    were charged (``limit_after``), to test budget stops.
    """

    def __init__(
        self,
        tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch,
        server: FakeMessagesServer,
        *,
        files: dict[str, str] | None = None,
        limit: str | None = None,
        limit_after: int = 0,
        **agent: Any,
    ) -> None:
        use_key(monkeypatch)
        self.workspace = tmp_path / "workspace"
        self.run_dir = tmp_path / "run"
        self.workspace.mkdir()
        self.run_dir.mkdir()
        for name, text in (files or {}).items():
            (self.workspace / name).write_text(text)
        settings = {"model": MODEL, "base_url": server.url, "max_tokens": 4096, **agent}
        self.spec = LoopSpec(name="t", goal="Fix it.", workspace=self.workspace,
                             agent=AgentSpec(**settings))  # fmt: skip
        self.server = server
        self.toolbox = Toolbox(self.workspace, timeout_s=10)
        self.events: list[Event] = []
        self.charges: list[tuple[str, Usage]] = []
        self.budget_checks: list[tuple[str, int]] = []
        self.limit = limit
        self.limit_after = limit_after
        self.agent = AnthropicAgent(self.spec, sdk_retries=2, retry_delays=(0.01,))

    def charge(
        self, model: str, usage: Usage, cost: float | None = None, source: str = ""
    ) -> float:
        self.charges.append((model, usage))
        return usage.total / 1_000_000

    def over_budget(self, model: str, max_tokens: int) -> str | None:
        self.budget_checks.append((model, max_tokens))
        if self.limit and len(self.charges) >= self.limit_after:
            return self.limit
        return None

    def context(self, prompt: str = "Fix the bug.", iteration: int = 1) -> AgentContext:
        return AgentContext(
            iteration=iteration,
            prompt=prompt,
            system="You are a careful coding agent.",
            workspace=self.workspace,
            run_dir=self.run_dir,
            spec=self.spec,
            tools=self.toolbox,
            emit=self.events.append,
            charge=self.charge,
            over_budget=self.over_budget,
            memories=self.run_dir / "memories",
        )

    async def iterate(self, prompt: str = "Fix the bug.", iteration: int = 1) -> AgentResult:
        try:
            return await self.agent.run_iteration(self.context(prompt, iteration))
        finally:
            await self.agent.aclose()

    def of(self, kind: type[E]) -> list[E]:
        """The events of one type, in order."""
        return [e for e in self.events if isinstance(e, kind)]

    def text(self, kind: str = "text") -> str:
        """All streamed text of a kind, joined."""
        return "".join(e.text for e in self.events if getattr(e, "type", "") == "agent_text"
                       and e.kind == kind)  # type: ignore[union-attr]  # fmt: skip


def assert_paired(requests: list[dict[str, Any]]) -> None:
    """Every tool_use in a request is answered by exactly one tool_result right after it."""
    for body in requests:
        messages = body["messages"]
        for i, message in enumerate(messages):
            if message["role"] != "assistant":
                continue
            uses = [b["id"] for b in message["content"] if b["type"] == "tool_use"]
            if not uses:
                continue
            assert i + 1 < len(messages), "a tool_use is the last message of a request"
            reply = messages[i + 1]
            assert reply["role"] == "user"
            answered = [b["tool_use_id"] for b in reply["content"] if b["type"] == "tool_result"]
            assert answered == uses, f"tool_use {uses} answered by {answered}"
            first_other = next(
                (k for k, b in enumerate(reply["content"]) if b["type"] != "tool_result"),
                len(reply["content"]),
            )
            assert first_other == len(answered), "tool_result blocks must come first"


def assert_journal_paired(events: list[Event]) -> None:
    """Every ToolCall event has exactly one ToolResult, and no result lacks its call."""
    calls = [e.call_id for e in events if isinstance(e, ToolCall)]
    results = [e.call_id for e in events if isinstance(e, ToolResult)]
    assert sorted(calls) == sorted(results)
    assert len(set(calls)) == len(calls)
