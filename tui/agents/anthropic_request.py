"""What the anthropic backend sends: tools, system prompt, messages, cache breakpoints.

Prompt caching works on prefixes in the order tools -> system -> messages. A
``cache_control`` breakpoint goes on the last tool and on the system prompt
(the same for every request of a run, so every iteration after the first
reads them from the cache), and one on the newest message of each turn, so
every turn of an iteration reads the turns before it from the cache. The
conversation itself is stored without breakpoints; they are added to a copy
at request time, so there are never more than the API's four.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tui.agents.memory_tool import MEMORY_TOOL
from tui.agents.tools import BASH_TOOL, EDITOR_TOOL
from tui.spec import AgentSpec

Block = dict[str, Any]
Message = dict[str, Any]

EPHEMERAL: dict[str, str] = {"type": "ephemeral"}

# Thinking blocks cannot carry cache_control themselves.
_UNMARKABLE = {"thinking", "redacted_thinking"}

WORKSPACE_NOTE = """\
Your workspace is {workspace}. Give tool paths relative to it (absolute paths \
inside it work too). Each bash command runs in a fresh shell in the workspace, \
so `cd` and variables do not carry over between commands. The memory tool's \
/memories folder is kept between iterations: note there what you tried, what \
you learned and what is left, briefly."""


def tool_definitions(view_chars: int | None = None) -> list[Block]:
    """Anthropic's client tools, with a cache breakpoint after the last one."""
    editor: Block = {"type": "text_editor_20250728", "name": EDITOR_TOOL}
    if view_chars:
        # Tells the model how much of a file one `view` shows (the toolbox clips there).
        editor["max_characters"] = view_chars
    return [
        editor,
        {"type": "bash_20250124", "name": BASH_TOOL},
        ASK_HUMAN_DEFINITION,
        {"type": "memory_20250818", "name": MEMORY_TOOL, "cache_control": EPHEMERAL},
    ]


ASK_HUMAN = "ask_human"
# A question to the engineer supervising the loop: the iteration ends, the run
# pauses with the question as its reason, and the answer reaches the next prompt.
ASK_HUMAN_DEFINITION: Block = {
    "type": "custom",
    "name": ASK_HUMAN,
    "description": (
        "Ask the engineer supervising this loop a question when you cannot go on without "
        "them (a decision only they can make, missing access or information). This ends "
        "the iteration and pauses the loop; their answer comes in the next prompt. Do not "
        "use it for what you can find out yourself."
    ),
    "input_schema": {
        "type": "object",
        "properties": {
            "question": {"type": "string", "description": "One clear question."},
            "choices": {
                "type": "array",
                "items": {"type": "string"},
                "description": "Optional answers to pick from.",
            },
        },
        "required": ["question"],
    },
}


def system_blocks(system: str, workspace: Path) -> list[Block]:
    """The iteration's system prompt plus how the tools behave here, cached."""
    note = WORKSPACE_NOTE.format(workspace=workspace)
    text = f"{system.rstrip()}\n\n{note}" if system.strip() else note
    return [{"type": "text", "text": text, "cache_control": EPHEMERAL}]


def user_message(*blocks: Block) -> Message:
    """A user message holding ``blocks``."""
    return {"role": "user", "content": list(blocks)}


def with_breakpoint(messages: list[Message]) -> list[Message]:
    """``messages`` with a cache breakpoint on the newest message's last markable block.

    Only the newest message is copied; the stored conversation is not changed.
    """
    if not messages:
        return messages
    newest = messages[-1]
    content = list(newest["content"])
    for i in range(len(content) - 1, -1, -1):
        if content[i].get("type") not in _UNMARKABLE:
            content[i] = {**content[i], "cache_control": EPHEMERAL}
            break
    return [*messages[:-1], {**newest, "content": content}]


def request_params(
    agent: AgentSpec,
    system: list[Block],
    tools: list[Block],
    messages: list[Message],
) -> dict[str, Any]:
    """Keyword arguments for ``client.messages.stream`` for one turn."""
    params: dict[str, Any] = {
        "model": agent.model,
        "max_tokens": agent.max_tokens,
        "system": system,
        "tools": tools,
        "messages": with_breakpoint(messages),
    }
    if agent.thinking_budget:
        params["thinking"] = {"type": "enabled", "budget_tokens": agent.thinking_budget}
    if agent.effort:
        params["output_config"] = {"effort": agent.effort}
    return params


def thinking_problem(agent: AgentSpec) -> str | None:
    """Why ``agent.thinking_budget`` cannot work with ``agent.max_tokens``, or None."""
    budget = agent.thinking_budget
    if budget is None:
        return None
    if budget < 1024:
        return f"agent.thinking_budget is {budget}; the API needs at least 1024 thinking tokens"
    if budget >= agent.max_tokens:
        return (
            f"agent.thinking_budget ({budget}) must be below agent.max_tokens "
            f"({agent.max_tokens}); raise max_tokens or lower the budget"
        )
    return None
