"""Themes, user config and budget arithmetic: the console's pure parts."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

import pytest

from tui.app.config import UserConfig, config_path, load_config, save_config
from tui.app.forecast import burn_rate, meters, projection, tokens_text
from tui.app.themes import STATUS_VARIABLES, load_themes, read_theme
from tui.events import BudgetState, Usage

BUNDLED = {"dark", "light", "high-contrast", "colorblind"}


def test_bundled_themes_load_from_the_package() -> None:
    folder = files("tui.themes")
    assert {p.name for p in folder.iterdir() if p.name.endswith(".toml")} >= {
        f"{n}.toml" for n in BUNDLED
    }
    loaded = load_themes()
    assert loaded.problems == []
    themes = {t.name: t for t in loaded.themes}
    assert set(themes) == BUNDLED
    for theme in themes.values():
        assert set(STATUS_VARIABLES) <= set(theme.variables)
    assert themes["light"].dark is False


def test_bad_theme_files_are_reported_and_skipped(tmp_path: Path) -> None:
    (tmp_path / "typo.toml").write_text('name = "typo"\nprimary = "#123456"\ncolour = "red"\n')
    (tmp_path / "badcolour.toml").write_text(
        'name = "badcolour"\nprimary = "not-a-colour"\n'
        '[variables]\npassed = "#0f0"\nfailed = "#f00"\npaused = "#ff0"\nsignal = "#f0f"\n'
    )
    (tmp_path / "broken.toml").write_text("name = \n")
    (tmp_path / "mine.toml").write_text(
        'name = "mine"\nprimary = "#336699"\n'
        '[variables]\npassed = "#0f0"\nfailed = "#f00"\npaused = "#ff0"\nsignal = "#f0f"\n'
    )
    loaded = load_themes(tmp_path)
    assert "mine" in {t.name for t in loaded.themes}
    by_file = {p.split(":")[0]: p for p in loaded.problems}
    assert set(by_file) == {
        "theme file badcolour.toml",
        "theme file broken.toml",
        "theme file typo.toml",
    }
    assert "not a colour" in by_file["theme file badcolour.toml"]
    assert "not valid TOML" in by_file["theme file broken.toml"]
    assert "colour" in by_file["theme file typo.toml"]


def test_a_theme_must_define_the_status_colours(tmp_path: Path) -> None:
    path = tmp_path / "plain.toml"
    path.write_text('name = "plain"\nprimary = "#336699"\n[variables]\npassed = "#0f0"\n')
    with pytest.raises(ValueError, match="plain.toml: variables.failed"):
        read_theme(path)


def test_config_round_trip(config_home: Path) -> None:
    assert load_config() == (UserConfig(), None)
    assert save_config(UserConfig(theme="light", keymap={"step": "n", "pause": "p"})) is None
    assert config_path() == config_home / "config.toml"
    config, problem = load_config()
    assert problem is None
    assert config.theme == "light" and config.keymap == {"pause": "p", "step": "n"}


def test_a_broken_config_gives_defaults_and_one_line(config_home: Path) -> None:
    config_home.mkdir()
    (config_home / "config.toml").write_text("theme = 3\n")
    config, problem = load_config()
    assert config == UserConfig()
    assert problem is not None and "theme" in problem and "\n" not in problem
    (config_home / "config.toml").write_text("theme = [\n")
    assert "TOML syntax error" in (load_config()[1] or "")


def test_meters_levels_and_text() -> None:
    b = BudgetState(
        iterations=3,
        usage=Usage(input_tokens=40_000),
        cost_usd=0.85,
        wall_s=65,
        max_iterations=10,
        max_tokens=2_000_000,
        max_cost_usd=1.0,
        max_wall_s=None,
    )
    by_key = {m.key: m for m in meters(b)}
    assert by_key["iterations"].text == "3/10" and by_key["iterations"].level == "ok"
    assert by_key["tokens"].text == "40k/2M"
    assert by_key["cost"].text == "$0.85/$1.00" and by_key["cost"].level == "near"
    assert by_key["time"].text == "1m05s (no limit)" and by_key["time"].fraction == 0.0
    over = meters(b.model_copy(update={"cost_usd": 1.02}))
    assert {m.key: m.level for m in over}["cost"] == "over"
    assert tokens_text(1_500_000) == "1.5M"


def test_projection_names_the_first_limit_reached() -> None:
    b = BudgetState(
        iterations=2,
        usage=Usage(input_tokens=20_000),
        cost_usd=0.4,
        wall_s=20,
        max_iterations=10,
        max_tokens=2_000_000,
        max_cost_usd=1.0,
        max_wall_s=3600,
    )
    assert projection(b) == "cost limit reached in about 3 iterations at this rate"
    assert burn_rate(b) == "$0.20 · 10k tok · 10s /iter"
    first = BudgetState(max_iterations=5, max_cost_usd=1.0)
    assert projection(first) == "iteration limit reached after 5 more iterations"
    assert burn_rate(first) == "rate known after iteration 1"
    assert projection(b.model_copy(update={"cost_usd": 1.0})) == "cost limit reached"
    assert projection(BudgetState()) == "no limits set"
