"""The engine knows nothing of Textual: events are its only way to a view."""

from __future__ import annotations

import ast
from pathlib import Path

from tests.loops import REPO

UI_FREE = [
    "tui/engine",
    "tui/agents",
    "tui/spec.py",
    "tui/events.py",
    "tui/process.py",
    "tui/sandbox.py",
    "tui/confinement.py",
    "tui/redaction.py",
]


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_engine_agents_and_data_do_not_import_textual() -> None:
    files = [
        f
        for part in UI_FREE
        for f in ((REPO / part).rglob("*.py") if (REPO / part).is_dir() else [REPO / part])
    ]
    assert len(files) > 10
    offenders = {
        str(f.relative_to(REPO)): sorted(
            n for n in _imports(f) if n.split(".")[0] == "textual" or n.startswith("tui.app")
        )
        for f in files
    }
    assert {k: v for k, v in offenders.items() if v} == {}
