"""Finding a run from what the user typed: its folder, its id, or a unique prefix of the id.

``replay``, ``resume`` (and ``attach``) take any of the three. Runs are looked
for in the user's state folder and under the current folder's
``.loopconsole/runs`` folders (where earlier versions kept them).
"""

from __future__ import annotations

from pathlib import Path

import platformdirs

from tui.engine.rundir import RUNS_FOLDER, RunDirError

JOURNAL = "journal.jsonl"


def known_run_dirs(here: Path | None = None) -> list[Path]:
    """Every run folder this machine's user has, oldest name first."""
    here = here or Path.cwd()
    roots = [Path(platformdirs.user_state_dir("loopconsole", appauthor=False)) / "runs"]
    roots += [p for p in here.glob(f"**/{RUNS_FOLDER}") if p.is_dir()]
    found = {
        d.resolve() for r in roots if r.is_dir() for d in r.iterdir() if (d / JOURNAL).exists()
    }
    return sorted(found, key=lambda d: d.name)


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
