"""What ``check`` says about an agent CLI's command line before a run.

Mistakes a CLI only reveals when it runs (and then on every iteration):
Claude Code's stream-json without ``--verbose``, skipping permissions as root
without ``IS_SANDBOX``, a format that does not match the CLI's output option.
"""

from __future__ import annotations

import os
import re
import shlex

from tui.spec import LoopSpec


def _words(command: str) -> list[str]:
    try:
        return shlex.split(command)
    except ValueError:
        return command.split()


def _has_option(words: list[str], option: str, value: str | None = None) -> bool:
    for i, word in enumerate(words):
        if value is None and word == option:
            return True
        if value is not None and (
            word == f"{option}={value}" or (word == option and words[i + 1 : i + 2] == [value])
        ):
            return True
    return False


def command_warnings(spec: LoopSpec) -> list[str]:
    """One sentence per likely mistake in ``agent.command`` (none when it looks right)."""
    agent = spec.agent
    if agent.backend != "command" or not agent.command:
        return []
    words = _words(agent.command)
    names = {os.path.basename(w) for w in words}
    warnings: list[str] = []
    if "claude" in names and (_has_option(words, "-p") or _has_option(words, "--print")):
        stream = _has_option(words, "--output-format", "stream-json")
        if stream and not _has_option(words, "--verbose"):
            warnings.append(
                "agent.command: Claude Code refuses `-p --output-format stream-json` "
                "without --verbose (it exits at once); add --verbose."
            )
        if stream and agent.format != "claude-stream-json":
            warnings.append(
                f'agent.format is "{agent.format}" but the command prints stream-json; '
                'set format = "claude-stream-json".'
            )
        if (
            _has_option(words, "--dangerously-skip-permissions")
            and hasattr(os, "geteuid")
            and os.geteuid() == 0
            and not re.search(r"\bIS_SANDBOX=1\b", agent.command)
            and os.environ.get("IS_SANDBOX") != "1"
        ):
            warnings.append(
                "agent.command: Claude Code refuses --dangerously-skip-permissions as root; "
                "run as another user, or prefix the command with IS_SANDBOX=1 inside a sandbox."
            )
    if "codex" in names and _has_option(words, "--json") and agent.format != "codex-json":
        warnings.append(
            f'agent.format is "{agent.format}" but `codex exec --json` prints JSON lines; '
            'set format = "codex-json".'
        )
    return warnings
