"""Theme files: ``themes/*.toml`` validated by pydantic, turned into Textual themes.

The package ships its themes as ``tui.themes``; a user may add more in
``<config dir>/themes``. A file that does not validate is reported (one line
naming the file and the key) and skipped, never a crash.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib.resources import files
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from textual.color import Color, ColorParseError
from textual.theme import Theme

DEFAULT_THEME = "dark"

# The app variables every loopconsole theme defines; panes use them as
# $passed, $failed, ... These defaults serve Textual's built-in themes.
STATUS_VARIABLES: dict[str, str] = {
    "passed": "#4ebf71",
    "failed": "#e0505b",
    "paused": "#e0a030",
    "signal": "#c678dd",
    "running": "#3fa0e0",
}


def _check_color(value: str | None) -> str | None:
    if value is None:
        return None
    try:
        Color.parse(value)
    except ColorParseError:
        raise ValueError(f"{value!r} is not a colour") from None
    return value


class ThemeVariables(BaseModel):
    """Status colours (required) plus any other Textual theme variable."""

    model_config = ConfigDict(extra="allow")

    passed: str
    failed: str
    paused: str
    signal: str
    running: str = STATUS_VARIABLES["running"]

    @field_validator("passed", "failed", "paused", "signal", "running")
    @classmethod
    def _colour(cls, value: str) -> str:
        return _check_color(value) or value


class ThemeFile(BaseModel):
    """One ``themes/NAME.toml``."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, pattern=r"^[a-z0-9][a-z0-9-]*$")
    dark: bool = True
    primary: str
    secondary: str | None = None
    accent: str | None = None
    warning: str | None = None
    error: str | None = None
    success: str | None = None
    foreground: str | None = None
    background: str | None = None
    surface: str | None = None
    panel: str | None = None
    boost: str | None = None
    luminosity_spread: float = 0.15
    text_alpha: float = 0.95
    variables: ThemeVariables

    @field_validator(
        "primary",
        "secondary",
        "accent",
        "warning",
        "error",
        "success",
        "foreground",
        "background",
        "surface",
        "panel",
        "boost",
    )
    @classmethod
    def _colour(cls, value: str | None) -> str | None:
        return _check_color(value)

    def to_theme(self) -> Theme:
        data = self.model_dump(exclude={"variables"})
        return Theme(**data, variables={k: str(v) for k, v in self.variables.model_dump().items()})


@dataclass
class LoadedThemes:
    """The themes that loaded and one line per file that did not."""

    themes: list[Theme] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def _where(loc: tuple) -> str:
    return ".".join(str(p) for p in loc) or "(top level)"


def _problem(err: Mapping[str, Any]) -> str:
    if err["type"] == "extra_forbidden":
        return "unknown key"
    if err["type"] == "missing":
        return "missing"
    return str(err.get("ctx", {}).get("error") or err["msg"])


def read_theme(path: Traversable | Path) -> Theme:
    """Read one theme file; raise ValueError with one readable line."""
    label = getattr(path, "name", str(path))
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ValueError(f"theme file {label}: not valid TOML ({exc})") from None
    try:
        return ThemeFile.model_validate(data).to_theme()
    except ValidationError as exc:
        parts = [f"{_where(e['loc'])}: {_problem(e)}" for e in exc.errors()]
        raise ValueError(f"theme file {label}: {'; '.join(parts)}") from None


def _toml_files(folder: Traversable | Path) -> list[Traversable | Path]:
    try:
        entries = list(folder.iterdir())
    except (FileNotFoundError, NotADirectoryError):
        return []
    return sorted((e for e in entries if e.name.endswith(".toml")), key=lambda e: e.name)


def load_themes(user_folder: Path | None = None) -> LoadedThemes:
    """The bundled themes, then the user's (a user theme may replace a bundled one)."""
    loaded = LoadedThemes()
    folders: list[Traversable | Path] = [files("tui.themes")]
    if user_folder is not None:
        folders.append(user_folder)
    for folder in folders:
        for path in _toml_files(folder):
            try:
                loaded.themes.append(read_theme(path))
            except (ValueError, OSError) as exc:
                loaded.problems.append(str(exc))
    return loaded
