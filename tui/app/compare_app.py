"""CompareApp: ``loopconsole compare BRANCH --console``, the compare screen on its own."""

from __future__ import annotations

from pathlib import Path

from textual.app import App

from tui.app.config import config_dir, load_config
from tui.app.screens.compare import CompareScreen
from tui.app.themes import DEFAULT_THEME, STATUS_VARIABLES, load_themes


class CompareApp(App[int]):
    """One fork group's compare screen; closing it ends the app."""

    TITLE = "loopconsole compare"

    def __init__(self, run_dir: Path, fork: int | None = None, *, theme: str | None = None) -> None:
        super().__init__()
        # Raises ForkError (one sentence) before anything is drawn.
        self.screen_to_show = CompareScreen(run_dir, fork)
        config, _problem = load_config()
        for loaded in load_themes(config_dir() / "themes").themes:
            self.register_theme(loaded)
        wanted = theme or config.theme or DEFAULT_THEME
        self.theme = wanted if wanted in self.available_themes else DEFAULT_THEME
        self.set_keymap(config.keymap)

    def get_theme_variable_defaults(self) -> dict[str, str]:
        return dict(STATUS_VARIABLES)

    async def on_mount(self) -> None:
        await self.push_screen(self.screen_to_show, lambda _result: self.exit(0))
