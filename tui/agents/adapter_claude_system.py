"""Claude Code's ``system`` lines and its final report's wording.

``system`` lines are Claude Code talking about itself, not the model: the
session start, API retries, sub-agent (task) progress, compaction, hooks. Each
subtype becomes a notice or nothing (chatter such as thinking-token counts);
a subtype this version does not know is shown raw, once.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

from tui.agents.adapter_base import ApiFailure, Item, as_int, clip, raw_once
from tui.events import Notice

if TYPE_CHECKING:
    from tui.agents.adapter_claude import ClaudeStreamAdapter

# Progress whose outcome arrives in a later line, or counters for a status bar.
_QUIET = {"thinking_tokens", "task_progress", "task_updated", "status", "hook_started"}
_AUTH_ERRORS = {"authentication_failed", "permission_denied", "invalid_api_key"}
KEY_ADVICE = "check ANTHROPIC_API_KEY (or log Claude Code in) and start the run again"
RESUME_ADVICE = "the loop waits for you: resume when the API is back"


def model_name(model: Any) -> str:
    """A model id as priced: Claude Code's context suffix (``[1m]``) removed."""
    text = str(model or "")
    return text.split("[", 1)[0]


def system_line(adapter: ClaudeStreamAdapter, data: dict[str, Any], line: str) -> list[Item]:
    """What one ``system`` line becomes."""
    subtype = str(data.get("subtype") or "")
    if subtype == "init":
        return _init(adapter, data)
    if subtype == "api_retry":
        return _api_retry(adapter, data)
    if subtype in _QUIET:
        return []
    if subtype.startswith("hook_"):
        return _hook(data, subtype)
    if subtype == "task_started":
        what = data.get("description") or data.get("prompt") or "a task"
        kind = data.get("subagent_type") or "sub-agent"
        return [Notice(message=f"sub-agent {kind} started: {clip(str(what), 200)}")]
    if subtype == "task_notification":
        usage = data.get("usage")
        usage = usage if isinstance(usage, dict) else {}
        tokens, tools = as_int(usage.get("total_tokens")), as_int(usage.get("tool_uses"))
        status = data.get("status") or "finished"
        what = clip(str(data.get("summary") or "its task"), 200)
        plural = "" if tools == 1 else "s"
        return [
            Notice(message=f"sub-agent {status}: {what} ({tokens:,} tokens, {tools} tool{plural})")
        ]
    if subtype == "compact_boundary":
        meta = data.get("compact_metadata")
        meta = meta if isinstance(meta, dict) else {}
        before = as_int(meta.get("pre_tokens"))
        size = f" at {before:,} tokens" if before else ""
        return [Notice(message=f"Claude Code compacted its conversation{size}.")]
    if subtype == "model_fallback":
        old = model_name(data.get("from_model") or data.get("original_model") or adapter.model)
        new = model_name(data.get("to_model") or data.get("fallback_model") or data.get("model"))
        if new:
            adapter.model = new
        return [Notice(level="warning", message=f"Claude Code fell back from {old} to {new}.")]
    if subtype == "notification":
        text = data.get("message") or data.get("text") or ""
        return [Notice(message=f"Claude Code: {clip(str(text), 300)}")] if text else []
    return raw_once(adapter, f"system/{subtype}", line)


def _init(adapter: ClaudeStreamAdapter, data: dict[str, Any]) -> list[Item]:
    adapter.model = model_name(data.get("model")) or adapter.model
    # A session with no API key is billed to the logged-in plan.
    adapter.plan = data.get("apiKeySource") == "none"
    version = data.get("claude_code_version")
    parts = [f"Claude Code {version}" if version else "Claude Code"]
    if adapter.model:
        parts.append(f"model {adapter.model}")
    if data.get("permissionMode"):
        parts.append(f"permissions {data['permissionMode']}")
    if adapter.plan:
        parts.append("billed to a subscription plan")
    return [Notice(message=" · ".join(parts) + " started")]


def _api_retry(adapter: ClaudeStreamAdapter, data: dict[str, Any]) -> list[Item]:
    status = data.get("error_status")
    error = str(data.get("error") or "unknown")
    attempt, most = as_int(data.get("attempt")), as_int(data.get("max_retries"))
    what = describe_error(status, error)
    if adapter.abort:
        return []  # already said, and the session is being ended
    if error in _AUTH_ERRORS or status in (401, 403):
        # Retrying a rejected key cannot help: end the session now.
        message = f"Claude Code's API rejected the key ({what}); {KEY_ADVICE}."
        adapter.failure = ApiFailure("auth", message)
        adapter.abort = message
        return [Notice(level="error", message=message)]
    adapter.retries += 1
    level: Literal["warning", "info"] = "warning" if attempt <= 1 else "info"
    tries = f"attempt {attempt} of {most}" if most else f"attempt {attempt}"
    return [Notice(level=level, message=f"Claude Code is retrying its API ({what}): {tries}.")]


def describe_error(status: Any, error: str) -> str:
    """'529 overloaded', 'connection failed', '401 authentication_failed'."""
    if isinstance(status, int) and not isinstance(status, bool):
        return f"{status} {error}" if error and error != "unknown" else str(status)
    return "connection failed" if error in ("unknown", "") else error


def _hook(data: dict[str, Any], subtype: str) -> list[Item]:
    outcome = str(data.get("outcome") or "")
    code = data.get("exit_code")
    if outcome in ("error", "blocked") or (isinstance(code, int) and code not in (0, None)):
        name = data.get("hook_name") or data.get("hook_event") or subtype
        detail = clip(str(data.get("stderr") or data.get("output") or ""), 200)
        return [Notice(level="warning", message=f"Claude Code hook {name} failed: {detail}")]
    return []


def api_failure(data: dict[str, Any], text: str) -> ApiFailure:
    """The failure a result with ``api_error_status`` (or is_error on "success") reports."""
    status = data.get("api_error_status")
    # "API Error: 529 overloaded_error. This is a server-side issue, ..." -> its first sentence.
    first = text.removeprefix("API Error:").strip().split(". ", 1)[0].rstrip(".")
    detail = clip(first, 200) if first else "no message"
    if status in (401, 403):
        return ApiFailure("auth", f"Claude Code's API rejected the key ({status}); {KEY_ADVICE}.")
    if isinstance(status, int) and not isinstance(status, bool):
        message = f"Claude Code's API failed past its retries ({detail})"
        message += f"; {RESUME_ADVICE}."
    else:
        message = f"Claude Code could not reach its API ({detail}); {RESUME_ADVICE}."
    return ApiFailure("unavailable", message)


def limit_notice(subtype: str, data: dict[str, Any]) -> Notice | None:
    """The notice for a session Claude Code ended on one of its own limits, if it did."""
    errors = data.get("errors")
    said = "; ".join(str(e) for e in errors) if isinstance(errors, list) and errors else ""
    if subtype == "error_max_turns":
        return Notice(
            message="Claude Code used all its turns (--max-turns) before finishing; "
            "the validators run now."
        )
    if subtype == "error_max_budget_usd":
        cost = data.get("total_cost_usd")
        spent = f" after ${cost:.2f}" if isinstance(cost, int | float) else ""
        return Notice(
            level="warning",
            message=f"Claude Code stopped at its --max-budget-usd limit{spent}"
            + (f" ({clip(said, 200)})" if said else "")
            + "; the validators run now.",
        )
    if subtype.startswith("error"):
        detail = f": {clip(said, 300)}" if said else ""
        return Notice(level="error", message=f"Claude Code ended with {subtype}{detail}")
    return None


def denial_notices(data: dict[str, Any]) -> list[Item]:
    """One notice per tool Claude Code refused to run for the agent."""
    denials = data.get("permission_denials")
    if not isinstance(denials, list):
        return []
    seen: dict[str, list[str]] = {}
    for denial in denials:
        if not isinstance(denial, dict):
            continue
        name = str(denial.get("tool_name") or "tool")
        tool_input = denial.get("tool_input")
        what = ""
        if isinstance(tool_input, dict):
            what = str(tool_input.get("command") or tool_input.get("file_path") or "")
        seen.setdefault(name, []).append(what)
    notices: list[Item] = []
    for name, whats in seen.items():
        shown = ", ".join(clip(w, 80) for w in whats if w)
        detail = f" ({shown})" if shown else ""
        notices.append(
            Notice(
                level="warning",
                message=f"the agent was denied tool {name}{detail}: "
                "widen --allowedTools if it needs it",
            )
        )
    return notices
