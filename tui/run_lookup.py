"""Finding a run from what the user typed: its folder, its id, or a unique prefix of the id.

``replay``, ``resume`` (and ``attach``) take any of the three. Runs are looked
for in the user's state folder and under the current folder's
``.loopconsole/runs`` folders (where earlier versions kept them).
"""

from __future__ import annotations

from pathlib import Path

from tui.engine.rundir import RunDirError, legacy_roots, state_runs_root

JOURNAL = "journal.jsonl"


def _runs_in(roots: list[Path]) -> list[Path]:
    found = set()
    for root in roots:
        try:
            found |= {d.resolve() for d in root.iterdir() if (d / JOURNAL).exists()}
        except OSError:
            continue
    return sorted(found, key=lambda d: d.name)


def known_run_dirs(here: Path | None = None) -> list[Path]:
    """Every run folder this machine's user has, oldest name first."""
    return _runs_in([state_runs_root(), *legacy_roots(here or Path.cwd())])


def resolve_run(run: Path | str, here: Path | None = None) -> Path:
    """The run folder ``run`` names (a folder, a run id or a unique prefix of one).

    Raises :class:`RunDirError` with one sentence when none or several match.
    """
    path = Path(run).expanduser()
    if path.is_dir():
        return path.resolve()
    text = str(run)
    if "/" in text:
        raise RunDirError(f"{text} does not exist; give a run folder, a run id or its prefix")
    # The state folder first: the current folder is walked only when it has no match.
    runs = _runs_in([state_runs_root()])
    if not any(d.name.startswith(text) for d in runs):
        runs = known_run_dirs(here)
    exact = [d for d in runs if d.name == text]
    matches = exact or [d for d in runs if d.name.startswith(text)]
    if len(matches) == 1:
        return matches[0]
    if not matches:
        raise RunDirError(
            f"no run folder or run id matches {text!r}; `loopconsole runs` lists the runs"
        )
    names = ", ".join(d.name for d in matches[:5]) + (" …" if len(matches) > 5 else "")
    raise RunDirError(f"{text!r} matches {len(matches)} runs ({names}); give more of the run id")
