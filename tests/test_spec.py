"""Spec loading: every user mistake is one readable line naming file and key, exit 2."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from tests.loops import SAMPLES
from tui.cli import main
from tui.spec import SpecError, load_spec

GOOD = """
name = "x"
goal = "do it"
workspace = "ws"
[agent]
backend = "scripted"
script = "s.toml"
[[validators]]
name = "t"
run = "true"
"""


def _write(tmp_path: Path, text: str) -> Path:
    (tmp_path / "ws").mkdir(exist_ok=True)
    (tmp_path / "s.toml").write_text("")
    spec = tmp_path / "loop.toml"
    spec.write_text(textwrap.dedent(text))
    return spec


def _errors(tmp_path: Path, text: str) -> list[str]:
    with pytest.raises(SpecError) as info:
        load_spec(_write(tmp_path, text))
    return info.value.messages


def test_good_spec_resolves_paths_against_its_folder(tmp_path: Path) -> None:
    spec = load_spec(_write(tmp_path, GOOD))
    assert spec.workspace == (tmp_path / "ws").resolve()
    assert spec.agent.script == (tmp_path / "s.toml").resolve()
    assert spec.validators[0].timeout_s == 120
    assert spec.budget.max_iterations == 10


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda t: t.replace('goal = "do it"', 'goal = "do it'), "TOML syntax error"),
        (lambda t: t.replace('goal = "do it"\n', ""), "goal: missing"),
        (lambda t: t + "\n[budget]\nmax_iteratons = 3\n", "did you mean 'max_iterations'"),
        (lambda t: t.replace('name = "x"', 'name = "x"\ngaol = 1'), "did you mean 'goal'"),
        (lambda t: t + "\n[budget]\nmax_iterations = 'ten'\n", "budget.max_iterations"),
        (lambda t: t + "\n[budget]\nmax_cost_usd = -1\n", "must be greater than 0"),
        (lambda t: t + "\n[budget]\nmax_iterations = 0\n", "must be greater than 0"),
        (lambda t: t.replace('workspace = "ws"', 'workspace = "nope"'), "does not exist"),
        (lambda t: t.replace('workspace = "ws"', 'workspace = "s.toml"'), "not a directory"),
        (lambda t: t.replace('run = "true"', ""), "validators[1].run: missing"),
        (lambda t: t.replace('"scripted"', '"openai"'), "agent.backend: 'openai' is not one of"),
        (lambda t: t.replace('script = "s.toml"', ""), "the scripted backend needs a script"),
        (lambda t: t.replace('"s.toml"', '"missing.toml"'), "agent.script"),
        (lambda t: t.replace("[agent]", '[agent]\nmax_turns = "many"'), "agent.max_turns"),
    ],
    ids=[
        "toml-syntax",
        "missing-goal",
        "unknown-key-nested",
        "unknown-key-top",
        "wrong-type",
        "negative-budget",
        "zero-budget",
        "missing-workspace",
        "workspace-not-dir",
        "validator-without-command",
        "unknown-backend",
        "scripted-without-script",
        "script-missing",
        "wrong-type-agent",
    ],
)
def test_each_mistake_is_one_clear_line(tmp_path: Path, change, expected: str) -> None:
    messages = _errors(tmp_path, change(GOOD))
    assert any(expected in m for m in messages), messages
    assert all(m.startswith(str(tmp_path / "loop.toml")) for m in messages)


def test_toml_syntax_error_names_the_line(tmp_path: Path) -> None:
    (msg,) = _errors(tmp_path, GOOD.replace('goal = "do it"', 'goal = "do it'))
    assert "line 3" in msg


def test_check_exits_2_with_one_line_and_no_traceback(tmp_path: Path, capsys) -> None:
    spec = _write(tmp_path, GOOD + "\n[budget]\nmax_iteratons = 3\n")
    assert main(["check", str(spec)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "Traceback" not in err
    assert "budget.max_iteratons: unknown key (did you mean 'max_iterations'?)" in err


def test_check_missing_file(tmp_path: Path, capsys) -> None:
    assert main(["check", str(tmp_path / "nope.toml")]) == 2
    assert "no such file" in capsys.readouterr().err


def test_check_summarises_a_sample(capsys) -> None:
    assert main(["check", str(SAMPLES / "fizzbuzz")]) == 0
    out = capsys.readouterr().out
    assert "fizzbuzz" in out and "is valid" in out
    assert "tests: `python -m unittest" in out
    assert "5 iterations" in out
