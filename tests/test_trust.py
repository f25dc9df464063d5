"""Trust: protected paths and the tamper signal, secrets, the sandbox's switches, run folders."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.loops import SAMPLES, write_loop
from tui.engine.rundir import create_run, state_runs_root
from tui.engine.runner import Runner
from tui.events import Notice, SignalRaised, parse_event
from tui.spec import load_spec


def bash_step(command: str) -> str:
    return f"[[iteration.step]]\ntool = \"bash\"\ninput = {{ command = '''{command}''' }}\n"


def cli(*args: str | Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tui.cli", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )


async def run_loop(spec_path: Path, tmp_path: Path) -> tuple[Runner, list]:  # type: ignore[type-arg]
    spec = load_spec(spec_path)
    runner = Runner(spec, create_run(spec, tmp_path / "run"), interactive=False)
    events: list = []  # type: ignore[type-arg]
    runner.subscribe(events.append)
    await runner.run()
    return runner, events


# -- protected paths and the tamper signal -------------------------------------


async def test_a_protected_test_changed_unsandboxed_is_restored_and_never_meets_the_goal(
    tmp_path: Path,
) -> None:
    spec = write_loop(
        tmp_path / "loop",
        script="[[iteration]]\n" + bash_step("echo 'exit 0' > tests/check.sh"),
        files={"tests/check.sh": "exit 1\n"},
        validators='[[validators]]\nname = "tests"\nrun = "sh tests/check.sh"\n',
        extra='[sandbox]\nmode = "off"\n[protect]\npaths = ["tests/**"]\n',
        budget="max_iterations = 1",
    )
    runner, events = await run_loop(spec, tmp_path)
    tamper = [e for e in events if isinstance(e, SignalRaised) and e.kind == "tamper"]
    assert len(tamper) == 1
    assert tamper[0].evidence["paths"] == ["tests/check.sh"]
    assert "-exit 1\n+exit 0" in tamper[0].evidence["diff"]
    assert "restored before the validators ran" in tamper[0].explanation
    # Restored before the validators: they judged the original test.
    assert (runner.run_dir.workspace / "tests/check.sh").read_text() == "exit 1\n"
    assert runner.last_results[0].passed is False


async def test_a_tampered_iteration_cannot_meet_the_goal_even_when_validators_pass(
    tmp_path: Path,
) -> None:
    # The validator passes whatever happens; adding a file under tests/ is still tamper.
    spec = write_loop(
        tmp_path / "loop",
        script="[[iteration]]\n" + bash_step("echo x > tests/new_test.sh"),
        files={"tests/check.sh": "exit 0\n"},
        validators='[[validators]]\nname = "tests"\nrun = "true"\n',
        extra='[sandbox]\nmode = "off"\n[protect]\npaths = ["tests/**"]\n',
        budget="max_iterations = 1",
    )
    runner, events = await run_loop(spec, tmp_path)
    decided = next(e for e in events if e.type == "decision")
    assert decided.outcome != "goal_met" and events[-1].outcome != "goal_met"
    assert "the goal is not met on a tampered iteration" in decided.reason
    assert not (runner.run_dir.workspace / "tests/new_test.sh").exists()


async def test_the_editor_refuses_a_protected_path_with_a_sentence(tmp_path: Path) -> None:
    step = (
        '[[iteration.step]]\ntool = "str_replace_based_edit_tool"\n'
        'input = { command = "create", path = "tests/check.sh", file_text = "exit 0" }\n'
    )
    spec = write_loop(
        tmp_path / "loop",
        script="[[iteration]]\n" + step,
        files={"tests/check.sh": "exit 1\n"},
        extra='[protect]\npaths = ["tests/**"]\n',
        budget="max_iterations = 1",
    )
    _runner, events = await run_loop(spec, tmp_path)
    result = next(e for e in events if e.type == "tool_result")
    assert result.is_error and "tests/check.sh is protected" in result.output


# -- secrets -------------------------------------------------------------------


async def test_children_get_an_allow_list_and_secrets_are_redacted_everywhere(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MY_SERVICE_TOKEN", "tok-1234567890-abcdef")
    monkeypatch.setenv("DATABASE_URL", "postgres://app:hunter2hunter@db:5432/app")
    monkeypatch.setenv("UNRELATED_SETTING", "visible-but-not-passed")
    script = (
        "[[iteration]]\n"
        + bash_step("env | sort")
        + bash_step("echo $MY_SERVICE_TOKEN $DATABASE_URL > leaked.txt; cat leaked.txt")
        + "[[iteration]]\n"
    )
    spec = write_loop(
        tmp_path / "loop",
        script=script,
        validators='[[validators]]\nname = "env"\nrun = "env; cat leaked.txt; false"\n',
        extra='[env]\npass = ["MY_SERVICE_TOKEN", "DATABASE_URL"]\nset = { GREETING = "hi" }\n',
        budget="max_iterations = 2",
    )
    runner, events = await run_loop(spec, tmp_path)
    journal = runner.run_dir.journal_path.read_text()
    assert "tok-1234567890-abcdef" not in journal and "hunter2hunter" not in journal
    assert "[redacted MY_SERVICE_TOKEN] [redacted DATABASE_URL]" in journal
    env_out = next(e for e in events if e.type == "tool_result").output
    names = {line.split("=", 1)[0] for line in env_out.splitlines() if "=" in line}
    assert "UNRELATED_SETTING" not in names
    assert {"PATH", "HOME", "MY_SERVICE_TOKEN", "GREETING"} <= names
    assert "HOME=/tmp/home" in env_out
    prompt_2 = [e for e in events if e.type == "iteration_started"][1].prompt
    assert "hunter2hunter" not in prompt_2 and "[redacted DATABASE_URL]" in prompt_2
    warnings = [e.message for e in events if isinstance(e, Notice) and e.level == "warning"]
    assert any("leaked.txt now holds the value of" in w for w in warnings)


def test_the_engine_key_is_not_readable_from_its_proc_environ(tmp_path: Path) -> None:
    # Sandbox off, so /proc of the engine is visible: its environ has been blanked.
    spec = write_loop(
        tmp_path / "loop",
        script="[[iteration]]\n"
        + bash_step("cat /proc/$PPID/environ | tr '\\\\0' '\\\\n' > environ.txt"),
        extra='[sandbox]\nmode = "off"\n',
        budget="max_iterations = 1",
    )
    env = dict(os.environ, ANTHROPIC_API_KEY="sk-ant-escape-0123456789")
    proc = cli("run", spec, "--headless", "--run-dir", tmp_path / "run", env=env)
    assert proc.returncode in (1, 3), proc.stderr
    environ = (tmp_path / "run" / "workspace" / "environ.txt").read_text(errors="replace")
    assert "ANTHROPIC_API_KEY=" in environ  # the bash tool did read the engine's environ
    assert "sk-ant-escape-0123456789" not in environ


# -- the sandbox's switches ----------------------------------------------------


def test_without_user_namespaces_run_says_so_in_one_sentence(tmp_path: Path) -> None:
    fake = tmp_path / "bwrap"
    fake.write_text("#!/bin/sh\necho 'bwrap: No permissions to create new namespace' >&2\nexit 1\n")
    fake.chmod(0o755)
    spec = write_loop(tmp_path / "loop", script="")
    env = dict(os.environ, LOOPCONSOLE_BWRAP=str(fake))
    proc = cli("run", spec, "--headless", "--run-dir", tmp_path / "run", env=env)
    assert proc.returncode == 2
    assert "user namespaces" in proc.stderr and 'mode = "off"' in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1 and "Traceback" not in proc.stderr
    check = cli("check", spec, env=env)
    assert "cannot start here" in check.stdout


def test_sandbox_off_warns_in_headless_output(tmp_path: Path) -> None:
    spec = write_loop(tmp_path / "loop", script="", extra='[sandbox]\nmode = "off"\n')
    proc = cli("run", spec, "--headless", "--run-dir", tmp_path / "run")
    assert "the sandbox is off" in proc.stderr
    first = parse_event((tmp_path / "run" / "journal.jsonl").read_text().splitlines()[0])
    assert first.sandbox == "off"


def test_check_reports_the_sandbox() -> None:
    proc = cli("check", SAMPLES / "roman")
    assert "sandbox     bubblewrap" in proc.stdout and "no network" in proc.stdout


async def test_the_network_is_on_only_when_the_spec_says_so(tmp_path: Path) -> None:
    probe = "python3 -c 'import socket; print(len(socket.if_nameindex()))'"
    for network, expected in (("false", "1"), ("true", None)):
        folder = tmp_path / network
        spec = write_loop(
            folder,
            script="[[iteration]]\n" + bash_step(probe),
            extra=f"[sandbox]\nnetwork = {network}\n",
            budget="max_iterations = 1",
        )
        _runner, events = await run_loop(spec, folder)
        count = next(e for e in events if e.type == "tool_result").output.strip()
        if expected is not None:
            assert count == expected  # only the loopback of its own namespace
        else:
            assert count == str(len(__import__("socket").if_nameindex()))


# -- where runs live -----------------------------------------------------------


def test_runs_live_in_the_state_folder_and_old_runs_are_still_listed(tmp_path: Path) -> None:
    spec_path = write_loop(tmp_path / "loop", script="")
    spec = load_spec(spec_path)
    run = create_run(spec)
    assert run.path.parent == state_runs_root()
    assert not run.path.is_relative_to(tmp_path / "loop")
    (run.path / "journal.jsonl").write_text(f'{{"type":"run_started","spec_path":"{spec.path}"}}\n')
    old = tmp_path / "loop" / ".loopconsole" / "runs" / "20200101-000000-t"
    old.mkdir(parents=True)
    from tui.engine.rundir import find_runs

    assert find_runs(spec_path) == [old, run.path]
    other = write_loop(tmp_path / "other", script="")
    assert find_runs(other) == []


async def test_the_spec_is_not_watched_when_the_agent_could_write_it(tmp_path: Path) -> None:
    spec_path = write_loop(tmp_path / "loop", script="", extra='[sandbox]\nmode = "off"\n')
    spec = load_spec(spec_path)
    runner = Runner(spec, create_run(spec, tmp_path / "run"), interactive=False, watch_spec=True)
    events: list = []  # type: ignore[type-arg]
    runner.subscribe(events.append)
    await runner.run()
    assert any("is not watched for edits" in getattr(e, "message", "") for e in events)
    assert not runner.reload.spec_out_of_reach()


def test_no_secret_reaches_the_model_provider_or_the_run_folder(tmp_path: Path) -> None:
    from tests.anthropic_harness import KEY
    from tests.fake_messages_server import FakeMessagesServer, text, tool_use, turn
    from tests.test_anthropic_loop import everything_written, write_claude_loop

    secret = "pa55-w0rd-for-the-db-123"
    spec = write_claude_loop(
        tmp_path / "loop", budget="max_iterations = 1", extra='[env]\npass = ["SERVICE_PASSWORD"]\n'
    )
    turns = [
        turn(tool_use("bash", {"command": "echo $SERVICE_PASSWORD > pw.txt; cat pw.txt; env"})),
        turn(text("Done.")),
    ]
    run_dir = tmp_path / "run"
    with FakeMessagesServer(turns, api_key=KEY) as server:
        env = {**os.environ, "ANTHROPIC_API_KEY": KEY, "ANTHROPIC_BASE_URL": server.url}
        env["SERVICE_PASSWORD"] = secret
        proc = cli("run", spec, "--headless", "--run-dir", run_dir, env=env)
        bodies = [r.raw for r in server.requests]
    assert proc.returncode == 1, proc.stderr
    assert len(bodies) == 2 and b"[redacted SERVICE_PASSWORD]" in bodies[1]
    assert not any(secret.encode() in body or KEY.encode() in body for body in bodies)
    written = everything_written(run_dir)
    leaks = [
        name for name, data in written if secret.encode() in data and name != "workspace/pw.txt"
    ]
    # The workspace file holds it (the agent wrote it), and so does its checkpoint: reported.
    assert all(name.startswith("git:") or "objects" in name for name in leaks)
    assert "pw.txt now holds the value of SERVICE_PASSWORD" in proc.stderr


async def test_an_agent_cli_can_run_sandboxed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-for-the-cli-0123")
    monkeypatch.setenv("UNRELATED_SETTING", "not-for-the-cli")
    command = (
        f"cat {{prompt_file}} > seen.txt; echo x > {outside}/written.txt; "
        "env > env.txt; ls $LOOPCONSOLE_RUN_DIR > runs.txt 2>&1; true"
    )
    folder = tmp_path / "loop"
    (folder / "workspace").mkdir(parents=True)
    (folder / "loop.toml").write_text(
        f'name = "cli"\ngoal = "Say hello."\nworkspace = "workspace"\n'
        f"[agent]\nbackend = \"command\"\ncommand = '''{command}'''\nsandbox = true\n"
        "[budget]\nmax_iterations = 1\n"
    )
    runner, _events = await run_loop(folder / "loop.toml", tmp_path)
    ws = runner.run_dir.workspace
    assert "Say hello." in (ws / "seen.txt").read_text()  # its prompt file is readable
    assert not (outside / "written.txt").exists()
    env = (ws / "env.txt").read_text()
    assert "ANTHROPIC_API_KEY=sk-ant-for-the-cli-0123" in env  # it calls its model
    assert "UNRELATED_SETTING" not in env
    assert "journal.jsonl" not in (ws / "runs.txt").read_text()  # the record stays hidden


async def test_home_is_private_unless_a_folder_is_made_readable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path / "home"
    (home / ".cache" / "tool").mkdir(parents=True)
    (home / ".cache" / "tool" / "hit").write_text("cached\n")
    (home / ".aws").mkdir()
    (home / ".aws" / "credentials").write_text("aws-secret\n")
    monkeypatch.setenv("HOME", str(home))
    spec = write_loop(
        tmp_path / "loop",
        script="[[iteration]]\n"
        + bash_step(f"cat {home}/.cache/tool/hit {home}/.aws/credentials 2>&1; true"),
        extra='[sandbox]\nreadable = ["~/.cache/tool"]\n',
        budget="max_iterations = 1",
    )
    _runner, events = await run_loop(spec, tmp_path)
    output = next(e for e in events if e.type == "tool_result").output
    assert "cached" in output and "aws-secret" not in output


def test_a_validator_dies_with_a_killed_engine(tmp_path: Path) -> None:
    import signal
    import time

    spec = write_loop(
        tmp_path / "loop",
        script="",
        validators='[[validators]]\nname = "slow"\nrun = "sleep 2; touch survived"\n',
    )
    run_dir = tmp_path / "run"
    survived = run_dir / "workspace" / "survived"
    engine = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tui.cli",
            "run",
            str(spec),
            "--headless",
            "--run-dir",
            str(run_dir),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 30
    journal = run_dir / "journal.jsonl"
    while time.monotonic() < deadline:
        if journal.exists() and "validator_started" in journal.read_text():
            break
        time.sleep(0.05)
    time.sleep(0.3)
    engine.send_signal(signal.SIGKILL)
    engine.wait()
    time.sleep(3)
    assert not survived.exists()


def test_the_trust_sections_of_the_spec(tmp_path: Path) -> None:
    from tui.spec import SpecError

    spec = load_spec(
        write_loop(
            tmp_path / "ok",
            script="",
            extra='[sandbox]\nnetwork = true\nreadable = ["~/.cache"]\n'
            '[protect]\npaths = ["tests/**"]\n'
            '[env]\npass = ["DATABASE_URL"]\nset = { CI = "1" }\nredact = ["CUSTOMER"]\n',
        )
    )
    assert spec.sandbox.network and spec.sandbox.mode == "bwrap"
    assert spec.protect.paths == ["tests/**"] and spec.env.pass_ == ["DATABASE_URL"]
    with pytest.raises(SpecError) as bad:
        load_spec(write_loop(tmp_path / "bad", script="", extra='[sandbox]\nmode = "docker"\n'))
    assert "sandbox.mode: 'docker' is not one of" in bad.value.messages[0]


async def test_the_run_folder_and_spec_are_hidden_wherever_they_live(tmp_path: Path) -> None:
    import shutil
    import tempfile

    # Outside /tmp and HOME, which the sandbox empties anyway: the hiding itself is tested.
    base = Path(tempfile.mkdtemp(prefix="loopconsole-test-", dir="/var/tmp"))
    try:
        run = base / "run"
        spec = write_loop(
            base / "loop",
            script="[[iteration]]\n"
            + bash_step(
                f"cat {run}/journal.jsonl {base}/loop/loop.toml 2>/dev/null; echo ---; ls -a {run}"
            ),
            budget="max_iterations = 1",
        )
        loaded = load_spec(spec)
        runner = Runner(loaded, create_run(loaded, run), interactive=False)
        events: list = []  # type: ignore[type-arg]
        runner.subscribe(events.append)
        await runner.run()
        output = next(e for e in events if e.type == "tool_result").output
        read, listing = output.split("---\n")
        assert read == ""  # the journal and the spec: nothing to read
        assert listing.split() == [".", "..", "workspace"]  # the run folder looks empty
    finally:
        shutil.rmtree(base, ignore_errors=True)


def test_a_validators_python_is_loopconsoles_own_even_in_a_venv_under_tmp(tmp_path: Path) -> None:
    # The sandbox empties /tmp; loopconsole installed in a venv there (a fresh clone
    # under /tmp, as a user trying it out does) must still be `python` in a validator.
    import site
    import sysconfig

    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    packages = Path(sysconfig.get_path("purelib", vars={"base": str(venv), "platbase": str(venv)}))
    here = Path(__file__).resolve().parents[1]
    (packages / "loopconsole-test.pth").write_text(
        "\n".join([str(here), *site.getsitepackages()]) + "\n"
    )
    spec = write_loop(
        tmp_path / "loop",
        script="[[iteration]]\ndone = true\n",
        validators=(
            '[[validators]]\nname = "py"\nrun = "python -c \'import sys; print(sys.prefix)\'"\n'
        ),
        budget="max_iterations = 1",
    )
    done = subprocess.run(
        [str(venv / "bin" / "python"), "-m", "tui.cli", "run", str(spec), "--headless"]
        + ["--run-dir", str(tmp_path / "run")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    journal = (tmp_path / "run" / "journal.jsonl").read_text()
    assert str(venv) in journal  # the validator's python was the venv's


def test_only_pytests_table_of_pyproject_is_protected(tmp_path: Path) -> None:
    from tui.engine.protect import PYTEST_TABLES, ProtectedPaths

    project = tmp_path / "pyproject.toml"
    project.write_text('[project]\nname = "x"\n\n[tool.pytest.ini_options]\naddopts = "-q"\n')
    protected = ProtectedPaths(tmp_path, [], PYTEST_TABLES)
    start = protected.snapshot()
    project.write_text(project.read_text() + "\n[tool.ruff]\nline-length = 99\n")
    assert protected.compare(start)[0] == []  # the project's own settings: the agent's to edit
    project.write_text(project.read_text().replace('"-q"', '"--collect-only"'))
    changes, _ = protected.compare(start)
    assert [(c.path, c.what) for c in changes] == [("pyproject.toml", "modified")]
    assert protected.restore(start, changes) == []
    assert 'addopts = "-q"' in project.read_text() and "tool.ruff" not in project.read_text()
