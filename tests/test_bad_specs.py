"""Every bad spec or bad command line: one line naming what is wrong, exit 2.

Each row is run twice through the real entry point, as ``run --headless`` and
as ``check``: both must refuse it with exit 2 and the same sentence, before
anything runs. To add a case, add a row.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tui.cli import main

SCRIPT = """
[[iteration]]
[[iteration.step]]
say = "hello"
"""


def spec(top: str = "", agent: str = "", tail: str = "", name: str = '"t"') -> str:
    """A scripted loop.toml with lines added at the top, in [agent] and at the end."""
    return (
        f'name = {name}\ngoal = "g"\nworkspace = "ws"\n{top}\n'
        f'[agent]\nbackend = "scripted"\nscript = "s.toml"\n{agent}\n{tail}\n'
    )


def anthropic(agent: str) -> str:
    return f'name = "t"\ngoal = "g"\nworkspace = "ws"\n[agent]\nbackend = "anthropic"\n{agent}\n'


VALIDATOR = '[[validators]]\nname = "v"\nrun = "true"\n'


@dataclass
class Case:
    """A spec (or a setup making the path) and what both commands must say."""

    id: str
    text: str | None
    says: str
    args: list[str] = field(default_factory=list)  # {ws}, {tmp} are filled in
    setup: Callable[[Path], Path] | None = None  # returns the PATH to pass
    subprocess: bool = False  # could hang on broken code: run with a timeout


def _fifo(tmp: Path) -> Path:
    os.mkfifo(tmp / "fifo.toml")
    return tmp / "fifo.toml"


def _huge(tmp: Path) -> Path:
    big = tmp / "big.toml"
    big.write_text(spec() + "# " + "x" * (3 * 1024 * 1024) + "\n")
    return big


def _script(text: str) -> Callable[[Path], Path]:
    def setup(tmp: Path) -> Path:
        (tmp / "s.toml").write_text(textwrap.dedent(text))
        return tmp / "loop.toml"

    return setup


CASES = [
    # 1. accepted silently today
    Case("int-as-string", spec(tail='[budget]\nmax_iterations = "2"'), "budget.max_iterations"),
    Case("bool-as-string", spec(top='copy_workspace = "yes"'), "copy_workspace: 'yes' is text"),
    Case(
        "required-as-string",
        spec(tail=VALIDATOR + 'required = "false"'),
        "validators[1].required: 'false' is text",
    ),
    Case("cost-inf", spec(tail="[budget]\nmax_cost_usd = inf"), "budget.max_cost_usd"),
    Case("timeout-inf", spec(tail=VALIDATOR + "timeout_s = inf"), "validators[1].timeout_s"),
    Case("price-inf", spec(tail='[prices."m"]\ninput = inf\noutput = 1.0'), "prices.m.input"),
    Case(
        "blank-validator-command",
        spec(tail='[[validators]]\nname = "v"\nrun = "   "'),
        "validators[1].run: is blank",
    ),
    Case("empty-model", spec(agent='model = ""'), "agent.model"),
    Case("internal-key", spec(top='path = "/etc"'), "path: unknown key"),
    Case(
        "step-calls-unknown-tool",
        spec(),
        "tool 'rm_everything' does not exist",
        setup=_script("[[iteration]]\n[[iteration.step]]\ntool = 'rm_everything'\n"),
    ),
    Case("name-with-slashes", spec(name='"x/../../.."'), "name: may not contain '/'"),
    Case("name-dotdot", spec(name='".."'), "name: may not contain"),
    Case("name-newline", spec(name='"a\\nb"'), "name: contains a control character"),
    Case("name-escape", spec(name='"a\\u001b[2Jb"'), "name: contains a control character"),
    # 2. crashed or hung
    Case("name-nul", spec(name='"a\\u0000b"'), "name: contains a NUL byte"),
    Case("name-5000", spec(name='"' + "n" * 5000 + '"'), "name: is 5000 characters long"),
    Case("spec-fifo", None, "is not a regular file", setup=_fifo, subprocess=True),
    Case(
        "spec-dev-zero",
        None,
        "is not a regular file",
        setup=lambda _: Path("/dev/zero"),
        subprocess=True,
    ),  # fmt: skip
    Case("spec-huge", None, "is larger than 1024 KiB", setup=_huge),
    Case(
        "run-dir-in-copied-workspace",
        spec(top="copy_workspace = true"),
        "is inside the workspace",
        args=["--run-dir", "{ws}/runs/r"],
    ),
    Case("workspace-root", spec().replace('"ws"', '"/"'), "is the whole file system"),
    # 3. check passed what run refused
    Case("script-toml-error", spec(), "TOML syntax error", setup=_script("[[iteration]\n")),
    Case(
        "step-say-and-tool",
        spec(),
        "a step has either `say` or `tool`",
        setup=_script("[[iteration]]\n[[iteration.step]]\nsay = 'x'\ntool = 'bash'\n"),
    ),
    Case("script-etc-passwd", spec().replace('"s.toml"', '"/etc/passwd"'), "/etc/passwd"),
    Case(
        "command-not-found",
        'name = "t"\ngoal = "g"\nworkspace = "ws"\n[agent]\nbackend = "command"\n'
        'command = "no-such-agent-cli-xyz --go"\n',
        "no-such-agent-cli-xyz",
    ),
    Case("thinking-budget-500", anthropic("thinking_budget = 500"), "at least 1024"),
    Case("run-dir-is-workspace", spec(), "is inside the workspace", args=["--run-dir", "{ws}"]),
    Case("run-dir-not-empty", spec(), "not empty", args=["--run-dir", "{tmp}"]),
]


def _invoke(argv: list[str], capsys: pytest.CaptureFixture[str], timeout: bool) -> tuple[int, str]:
    if timeout:
        proc = subprocess.run(
            [sys.executable, "-m", "tui.cli", *argv],
            capture_output=True,
            text=True,
            timeout=30,
        )
        return proc.returncode, proc.stderr
    code = main(argv)
    return code, capsys.readouterr().err


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_spec_is_refused_by_run_and_check_alike(
    case: Case, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    monkeypatch.delenv("ANTHROPIC_AUTH_TOKEN", raising=False)
    (tmp_path / "ws").mkdir()
    (tmp_path / "ws" / "state.txt").write_text("x\n")
    (tmp_path / "s.toml").write_text(SCRIPT)
    if case.text is not None:
        (tmp_path / "loop.toml").write_text(case.text)
    path = case.setup(tmp_path) if case.setup else tmp_path / "loop.toml"
    fill = {"ws": str(tmp_path / "ws"), "tmp": str(tmp_path)}
    args = [a.format(**fill) for a in case.args]
    run_dir = args or ["--run-dir", str(tmp_path.parent / f"{tmp_path.name}-run")]
    said = {}
    for command, argv in (
        ("run", ["run", str(path), "--headless", *run_dir]),
        ("check", ["check", str(path), *args]),
    ):
        code, err = _invoke(argv, capsys, case.subprocess)
        assert code == 2, f"{command} exited {code}: {err}"
        assert "Traceback" not in err
        lines = err.strip().splitlines()
        assert len(lines) == 1, f"{command} said {err!r}"
        assert case.says in lines[0], f"{command} said {lines[0]!r}"
        assert "\x1b" not in err
        said[command] = lines[0]
    assert said["run"] == said["check"]
    # Nothing was started: no run folder inside the workspace, no runs beside the spec.
    assert not (tmp_path / "ws" / "runs").exists()
    assert not (tmp_path / ".loopconsole").exists()


def test_a_missing_key_is_a_note_for_check_and_a_refusal_for_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    monkeypatch.delenv("ANTHROPIC_AUTH_TOKEN", raising=False)
    (tmp_path / "ws").mkdir()
    (tmp_path / "loop.toml").write_text(anthropic(""))
    assert main(["check", str(tmp_path)]) == 0
    assert "note" in capsys.readouterr().out
    assert main(["run", str(tmp_path), "--headless", "--run-dir", str(tmp_path / "r")]) == 2
    assert "ANTHROPIC_API_KEY is not set" in capsys.readouterr().err
