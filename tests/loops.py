"""Helpers that write small scripted loops into temp folders."""

from __future__ import annotations

import textwrap
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SAMPLES = REPO / "sample_loops"


def write_loop(
    folder: Path,
    *,
    script: str | None = None,
    files: dict[str, str] | None = None,
    extra: str = "",
    validators: str | None = None,
    budget: str = "max_iterations = 5",
    goal: str = "Make check.py exit 0.",
) -> Path:
    """Write a loop.toml with a scripted agent and a workspace; return the spec path."""
    ws = folder / "workspace"
    ws.mkdir(parents=True, exist_ok=True)
    for name, text in (files or {"state.txt": "bad\n"}).items():
        p = ws / name
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text)
    (folder / "agent_script.toml").write_text(textwrap.dedent(script or ""))
    if validators is None:
        validators = """
        [[validators]]
        name = "check"
        run = "grep -q good state.txt"
        timeout_s = 10
        """
    spec = folder / "loop.toml"
    spec.write_text(
        textwrap.dedent(
            f'''
            name = "t"
            goal = "{goal}"
            workspace = "workspace"
            copy_workspace = true
            {extra}
            [agent]
            backend = "scripted"
            script = "agent_script.toml"
            '''
        )
        + textwrap.dedent(validators)
        + f"\n[budget]\n{budget}\n"
    )
    return spec


def edit(text: str, path: str = "state.txt") -> str:
    """A script step writing ``text`` to ``path``."""
    return (
        "[[iteration.step]]\n"
        'tool = "str_replace_based_edit_tool"\n'
        f'input = {{ command = "create", path = "{path}", file_text = "{text}" }}\n'
    )
