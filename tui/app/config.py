"""The user's console settings: ``config.toml`` in the user config dir.

```toml
theme = "light"

[keymap]          # binding id = keys (comma separated), see the help screen
pause = "p"
step = "n,s"
```

``LOOPCONSOLE_CONFIG_DIR`` overrides the folder (tests, portable setups).
A broken file gives defaults and one readable problem, never a crash.
"""

from __future__ import annotations

import json
import os
import tomllib
from pathlib import Path

import platformdirs
from pydantic import BaseModel, ConfigDict, ValidationError

from tui.spec import NotifySpec

APP_NAME = "loopconsole"
CONFIG_ENV = "LOOPCONSOLE_CONFIG_DIR"


def config_dir() -> Path:
    """Where config.toml and user themes live."""
    override = os.environ.get(CONFIG_ENV)
    if override:
        return Path(override)
    return Path(platformdirs.user_config_dir(APP_NAME, appauthor=False))


class UserConfig(BaseModel):
    """What the console remembers between runs."""

    model_config = ConfigDict(extra="forbid")

    theme: str | None = None
    keymap: dict[str, str] = {}
    notify: NotifySpec = NotifySpec()  # the engine reads it too (tui/engine/notify.py)


def config_path() -> Path:
    return config_dir() / "config.toml"


def load_config() -> tuple[UserConfig, str | None]:
    """The config and a problem line (None when the file was fine or absent)."""
    path = config_path()
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return UserConfig(), None
    except OSError as exc:
        return UserConfig(), f"{path}: cannot be read ({exc.strerror}); using defaults"
    try:
        return UserConfig.model_validate(tomllib.loads(text)), None
    except tomllib.TOMLDecodeError as exc:
        return UserConfig(), f"{path}: TOML syntax error ({exc}); using defaults"
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"])
        return UserConfig(), f"{path}: {where}: {err['msg']}; using defaults"


def _toml_str(value: str) -> str:
    # A JSON string is a valid TOML basic string.
    return json.dumps(value, ensure_ascii=False)


def save_theme(theme: str) -> str | None:
    """Set ``theme`` in config.toml, keeping every other line, comment and layout as it was.

    Returns a problem line instead of raising.
    """
    import tomlkit

    path = config_path()
    try:
        text = path.read_text(encoding="utf-8") if path.exists() else ""
        document = tomlkit.parse(text)
    except OSError as exc:
        return f"cannot read {path} ({exc.strerror}); the theme is not remembered"
    except tomlkit.exceptions.ParseError as exc:
        return f"{path}: TOML syntax error ({exc}); the theme is not remembered"
    if "theme" in document:
        document["theme"] = theme
    else:
        # A top-level key must come before the first table.
        document.body.insert(0, (tomlkit.key("theme"), tomlkit.item(theme)))
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".toml.tmp")
        tmp.write_text(tomlkit.dumps(document), encoding="utf-8")
        tmp.replace(path)
    except OSError as exc:
        return f"cannot save settings to {path} ({exc.strerror})"
    return None


def save_config(config: UserConfig) -> str | None:
    """Write the config; return a problem line instead of raising."""
    path = config_path()
    lines = []
    if config.theme is not None:
        lines.append(f"theme = {_toml_str(config.theme)}")
    if config.notify.command:
        lines += ["", "[notify]", f"command = {_toml_str(config.notify.command)}"]
    if config.keymap:
        lines += ["", "[keymap]"]
        lines += [f"{_toml_str(k)} = {_toml_str(v)}" for k, v in sorted(config.keymap.items())]
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".toml.tmp")
        tmp.write_text("\n".join(lines) + "\n", encoding="utf-8")
        tmp.replace(path)
    except OSError as exc:
        return f"cannot save settings to {path} ({exc.strerror})"
    return None
