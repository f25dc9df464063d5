"""Faults from the outside world: each gives one sentence, the documented exit
code, and a journal intact up to its last complete line.

Disks that fill up, run folders that turn read-only, a journal made immutable
or rewritten behind the engine's back, an API that answers garbage or never
answers, two resumes at once, damaged run folders. Cases needing root (mount,
chattr) are skipped where they cannot be set up. To add a case, add a test
here next to its kind.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import resource
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.loops import edit, write_loop
from tui.cli import main
from tui.engine.journal import read_journal
from tui.engine.rundir import running_pid
from tui.events import Decided, RunFinished, ToolCall

CLI = [sys.executable, "-m", "tui.cli"]
NO_THRASH = '[thrash]\naction = "ignore"'
# Iterations that each print ~80 KB through the bash tool (into the journal).
NOISY = "".join(
    "[[iteration]]\n[[iteration.step]]\nsay = 'noise'\n"
    "[[iteration.step]]\ntool = 'bash'\n"
    "input = { command = 'head -c 60000 /dev/urandom | base64' }\n"
    for _ in range(6)
)


def _paced(n: int, pace: float = 0.2, last: str = "bad") -> str:
    """``n`` iterations of a paced script; the last writes ``last`` to state.txt."""
    body = "".join(
        f"[[iteration]]\n[[iteration.step]]\nsay = 'try {i}'\n"
        + edit(last if i == n else f"try {i}")
        + "[[iteration.step]]\ntool = 'bash'\ninput = { command = 'sleep 0.2' }\n"
        for i in range(1, n + 1)
    )
    return f"pace_s = {pace}\n" + body


def _cli(*args: str, env: dict | None = None, **kw) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CLI, *args], capture_output=True, text=True, timeout=120, env=env, **kw)


def _start(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [*CLI, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def _wait_for(journal: Path, needle: bytes, count: int = 1, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if journal.exists() and journal.read_bytes().count(needle) >= count:
            return
        time.sleep(0.01)
    raise AssertionError(f"{needle!r} x{count} never appeared in {journal}")


def assert_intact(journal: Path) -> None:
    """Every line of the journal is a whole event, and it ends with a newline."""
    data = journal.read_bytes()
    assert data.endswith(b"\n")
    result = read_journal(journal)
    assert result.warnings == []
    assert len(result.events) == data.count(b"\n")


def assert_one_sentence(stderr: str, fragment: str) -> None:
    assert "Traceback" not in stderr, stderr
    hits = [line for line in stderr.splitlines() if fragment in line]
    assert hits, f"{fragment!r} not in {stderr!r}"


# -- the run folder cannot be written ---------------------------------------------


@contextlib.contextmanager
def _tmpfs(where: Path, size: str) -> Iterator[Path]:
    where.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(where)],
                      capture_output=True).returncode != 0:  # fmt: skip
        pytest.skip("cannot mount a tmpfs here (needs root)")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], capture_output=True)


def _can_chattr(tmp_path: Path) -> bool:
    probe = tmp_path / "chattr-probe"
    probe.write_text("x")
    ok = subprocess.run(["chattr", "+i", str(probe)], capture_output=True).returncode == 0
    subprocess.run(["chattr", "-i", str(probe)], capture_output=True)
    return ok


def test_disk_full_stops_with_one_sentence_and_an_intact_journal(tmp_path: Path) -> None:
    failing = '[[validators]]\nname = "v"\nrun = "false"\n'
    spec = write_loop(
        tmp_path / "loop", script=NOISY, budget="max_iterations = 6", validators=failing
    )
    spec.write_text(spec.read_text() + NO_THRASH + "\n")
    with _tmpfs(tmp_path / "small", "200k") as small:
        proc = _cli("run", str(spec), "--headless", "--run-dir", str(small / "run"))
        assert proc.returncode == 3, proc.stderr
        assert_one_sentence(proc.stderr, "no room left to write")
        assert_intact(small / "run" / "journal.jsonl")
        assert not (small / "run" / "error.log").exists()


def test_file_size_limit_is_a_full_disk_too(tmp_path: Path) -> None:
    """Without root: RLIMIT_FSIZE makes the journal's write fail like a full disk."""
    spec = write_loop(tmp_path / "loop", script=NOISY, budget="max_iterations = 6",
                      validators='[[validators]]\nname = "v"\nrun = "false"\n')  # fmt: skip
    spec.write_text(spec.read_text() + NO_THRASH + "\n")

    def limit() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (120_000, 120_000))

    run = tmp_path / "run"
    proc = _cli("run", str(spec), "--headless", "--run-dir", str(run), preexec_fn=limit)
    assert proc.returncode == 3, proc.stderr
    assert_one_sentence(proc.stderr, "no room left to write")
    assert_intact(run / "journal.jsonl")
    assert (run / "journal.jsonl").stat().st_size <= 120_000
    # Room again: resume carries on from the last finished iteration, nothing lost.
    before = read_journal(run / "journal.jsonl").events
    resumed = _cli("resume", str(run), "--headless")
    assert resumed.returncode == 1, resumed.stderr
    after = read_journal(run / "journal.jsonl").events
    assert [e.model_dump() for e in after[: len(before)]] == [e.model_dump() for e in before]
    decided = [e.iteration for e in after if isinstance(e, Decided)]
    assert decided == list(range(1, 7))


def test_journal_made_immutable_mid_run(tmp_path: Path) -> None:
    if not _can_chattr(tmp_path):
        pytest.skip("chattr +i is not supported here")
    spec = write_loop(tmp_path / "loop", script=_paced(4), budget="max_iterations = 4")
    run = tmp_path / "run"
    journal = run / "journal.jsonl"
    proc = _start("run", str(spec), "--headless", "--run-dir", str(run))
    try:
        _wait_for(journal, b'"type":"decision"')
        subprocess.run(["chattr", "+i", str(journal)], check=True)
        out, err = proc.communicate(timeout=60)
        assert proc.returncode == 3, err
        assert_one_sentence(err, "cannot be written")
        assert_intact(journal)
    finally:
        subprocess.run(["chattr", "-i", str(journal)], capture_output=True)
        if proc.poll() is None:
            proc.kill()
            proc.communicate()


def test_run_folder_turning_read_only_mid_run(tmp_path: Path) -> None:
    """Folders made immutable: nothing new can be created in the run folder."""
    if not _can_chattr(tmp_path):
        pytest.skip("chattr +i is not supported here")
    spec = write_loop(tmp_path / "loop", script=_paced(4), budget="max_iterations = 4")
    run = tmp_path / "run"
    proc = _start("run", str(spec), "--headless", "--run-dir", str(run))
    folders: list[str] = []
    try:
        _wait_for(run / "journal.jsonl", b'"type":"decision"')
        folders = [str(p) for p in [run, *run.rglob("*")] if p.is_dir()]
        subprocess.run(["chattr", "+i", *folders], check=True)
        out, err = proc.communicate(timeout=60)
        assert proc.returncode in (1, 3), err
        assert "Traceback" not in err
        assert len([line for line in err.splitlines() if "error" in line]) >= 1
        assert_intact(run / "journal.jsonl")
    finally:
        subprocess.run(["chattr", "-i", *folders], capture_output=True)
        if proc.poll() is None:
            proc.kill()
            proc.communicate()


def test_read_only_run_folder_on_resume_is_one_sentence(tmp_path: Path) -> None:
    spec = write_loop(tmp_path / "loop", script=_paced(2, 0), budget="max_iterations = 1")
    run = tmp_path / "run"
    assert _cli("run", str(spec), "--headless", "--run-dir", str(run)).returncode == 1
    if subprocess.run(["mount", "--bind", str(run), str(run)], capture_output=True).returncode:
        pytest.skip("cannot bind-mount here (needs root)")
    try:
        subprocess.run(["mount", "-o", "remount,ro,bind", str(run)], check=True)
        proc = _cli("resume", str(run), "--headless")
        assert proc.returncode == 2, proc.stderr
        assert_one_sentence(proc.stderr, "is the run folder writable?")
    finally:
        subprocess.run(["umount", "-l", str(run)], capture_output=True)


def test_loop_toml_swapped_for_a_fifo_mid_run_does_not_hang_the_run(tmp_path: Path) -> None:
    spec = write_loop(tmp_path / "loop", script=_paced(3), budget="max_iterations = 3")
    spec.write_text(spec.read_text() + NO_THRASH + "\n")
    run = tmp_path / "run"
    proc = _start("run", str(spec), "--headless", "--run-dir", str(run))
    try:
        _wait_for(run / "journal.jsonl", b'"type":"iteration_started"')
        spec.unlink()
        os.mkfifo(spec)  # hot reload reads loop.toml when it changes
        _out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 1, err
    assert_one_sentence(err, "is not a regular file")
    assert_intact(run / "journal.jsonl")


# -- the journal changed behind the engine's back ---------------------------------


@pytest.mark.parametrize(
    ("command", "says"),
    [
        ("sed -i 's/try/TRY/' {journal}", "was replaced during the run"),
        (": > {journal}", "was cut or written to by something else"),
        ("rm {journal}", "was deleted during the run"),
    ],
    ids=["sed-i-replaces-it", "truncated", "deleted"],
)
def test_journal_rewritten_by_the_agent_is_reported_not_written_blind(
    tmp_path: Path, command: str, says: str
) -> None:
    run = tmp_path / "run"
    journal = run / "journal.jsonl"
    step = command.format(journal=journal)
    script = (
        "[[iteration]]\n[[iteration.step]]\nsay = 'try one'\n" + edit("try 1")
        + "[[iteration]]\n[[iteration.step]]\ntool = 'bash'\n"
        + f"input = {{ command = {json.dumps(step)} }}\n"
        + "[[iteration.step]]\nsay = 'said-after-the-change'\n" + edit("try 2")
    )  # fmt: skip
    # The sandbox hides the run folder from the agent; off, as an agent CLI may run.
    unsandboxed = '[sandbox]\nmode = "off"'
    spec = write_loop(
        tmp_path / "loop", script=script, budget="max_iterations = 3", extra=unsandboxed
    )
    proc = _cli("run", str(spec), "--headless", "--run-dir", str(run))
    assert proc.returncode == 3, proc.stderr
    assert_one_sentence(proc.stderr, says)
    on_disk = journal.read_bytes() if journal.exists() else b""
    assert b"said-after-the-change" not in on_disk  # nothing was written into it after the change
    kept = run / "journal.jsonl.kept"
    if "replaced" in says or "deleted" in says:
        assert_intact(kept)  # the journal as written, whole
        assert b"try one" in kept.read_bytes() and b"TRY one" not in kept.read_bytes()


# -- the agent's API --------------------------------------------------------------


def _api_faults() -> list:
    from tests.fake_messages_server import bad_json, hang, html_page, pings_only, text, turn

    return [
        pytest.param(bad_json(turn(text("Looking at it now."))), "malformed JSON", id="bad-json"),
        pytest.param(html_page(), "text/html, not an event stream", id="html-200"),
        pytest.param(hang(), "within 0.5 s", id="never-answers"),
        pytest.param(pings_only(), "within 0.5 s", id="only-pings"),
    ]


@pytest.mark.parametrize(("fault", "says"), _api_faults())
async def test_api_faults_pause_the_loop(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fault: dict, says: str
) -> None:
    from tests.anthropic_harness import Harness
    from tests.fake_messages_server import FakeMessagesServer

    with FakeMessagesServer([fault] * 4) as server:
        h = Harness(tmp_path, monkeypatch, server, request_timeout_s=0.5)
        started = time.monotonic()
        result = await h.iterate()
    assert result.stop == "api_error"
    assert result.pause_reason and says in result.pause_reason
    assert "the loop waits for you" in result.pause_reason
    assert time.monotonic() - started < 15


def test_malformed_stream_pauses_a_whole_headless_loop(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import asyncio

    from tests.anthropic_harness import use_key
    from tests.fake_messages_server import FakeMessagesServer, bad_json, text, turn
    from tui.agents.anthropic_agent import AnthropicAgent
    from tui.engine.rundir import create_run
    from tui.engine.runner import Runner
    from tui.spec import load_spec

    use_key(monkeypatch)
    (tmp_path / "ws").mkdir()
    with FakeMessagesServer([bad_json(turn(text("Hm.")))] * 4) as server:
        (tmp_path / "loop.toml").write_text(
            f'name = "j"\ngoal = "g"\nworkspace = "ws"\n[agent]\nbackend = "anthropic"\n'
            f'base_url = "{server.url}"\nmodel = "claude-test-1"\n'
        )
        spec = load_spec(tmp_path / "loop.toml")
        agent = AnthropicAgent(spec, sdk_retries=0, retry_delays=(0.01,))
        runner = Runner(spec, create_run(spec, tmp_path / "run"), agent, interactive=False)
        finished = asyncio.run(runner.run())
    assert finished.outcome == "paused" and finished.exit_code == 3
    assert "malformed JSON" in finished.reason
    assert_intact(tmp_path / "run" / "journal.jsonl")


def test_agent_part_is_bounded_by_the_wall_time_left(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A server that accepts and never answers: the run ends at max_wall_s, not later."""
    import asyncio

    from tests.anthropic_harness import use_key
    from tests.fake_messages_server import FakeMessagesServer, hang
    from tui.agents.anthropic_agent import AnthropicAgent
    from tui.engine.rundir import create_run
    from tui.engine.runner import Runner
    from tui.spec import load_spec

    use_key(monkeypatch)
    (tmp_path / "ws").mkdir()
    with FakeMessagesServer([hang()] * 4) as server:
        (tmp_path / "loop.toml").write_text(
            f'name = "w"\ngoal = "g"\nworkspace = "ws"\n[agent]\nbackend = "anthropic"\n'
            f'base_url = "{server.url}"\nmodel = "claude-test-1"\n'
            "[budget]\nmax_wall_s = 1.5\n"
        )
        spec = load_spec(tmp_path / "loop.toml")
        agent = AnthropicAgent(spec, sdk_retries=0, retry_delays=(0.01,))
        runner = Runner(spec, create_run(spec, tmp_path / "run"), agent, interactive=False)
        started = time.monotonic()
        finished = asyncio.run(runner.run())
        took = time.monotonic() - started
    assert finished.outcome == "budget" and "time limit" in finished.reason
    assert took < 10
    assert_intact(tmp_path / "run" / "journal.jsonl")


# -- resume -----------------------------------------------------------------------


def _stopped_run(tmp_path: Path, iterations: int = 3) -> tuple[Path, Path]:
    """A run stopped by its budget after iteration 1; goal met at ``iterations``."""
    spec = write_loop(tmp_path / "loop", script=_paced(iterations, 0.05, last="good"),
                      budget="max_iterations = 1", extra="")  # fmt: skip
    spec.write_text(spec.read_text() + NO_THRASH + "\n")
    run = tmp_path / "run"
    proc = _cli("run", str(spec), "--headless", "--run-dir", str(run))
    assert proc.returncode == 1, proc.stderr
    return spec, run


def _raise_budget(spec: Path) -> None:
    spec.write_text(spec.read_text().replace("max_iterations = 1", "max_iterations = 5"))


def test_a_budget_raised_while_stopped_applies_on_resume(tmp_path: Path) -> None:
    spec, run = _stopped_run(tmp_path)
    _raise_budget(spec)
    proc = _cli("resume", str(run), "--headless")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    decided = [e.iteration for e in read_journal(run / "journal.jsonl").events
               if isinstance(e, Decided)]  # fmt: skip
    assert decided == [1, 2, 3]


def test_a_second_resume_is_refused_before_it_reads_anything(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spec, run = _stopped_run(tmp_path)
    _raise_budget(spec)
    journal = run / "journal.jsonl"
    with open(journal, "ab") as f:
        f.write(b'{"type":"notice","message":"torn')  # a resume would cut this
    before = journal.read_bytes()
    fd = os.open(run / "run.lock", os.O_RDWR | os.O_CREAT)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)  # as a live engine process holds it
        assert main(["resume", str(run), "--headless"]) == 2
    finally:
        os.close(fd)
    assert "is still running" in capsys.readouterr().err
    assert journal.read_bytes() == before


def test_two_resumes_started_together_decide_each_iteration_once(tmp_path: Path) -> None:
    spec, run = _stopped_run(tmp_path, iterations=4)
    _raise_budget(spec)
    procs = [_start("resume", str(run), "--headless") for _ in range(2)]
    codes = []
    errs = []
    for p in procs:
        _out, err = p.communicate(timeout=120)
        codes.append(p.returncode)
        errs.append(err)
    assert sorted(codes) == [0, 2], errs
    decided = [e.iteration for e in read_journal(run / "journal.jsonl").events
               if isinstance(e, Decided)]  # fmt: skip
    assert decided == [1, 2, 3, 4]


def test_a_stale_pid_naming_a_live_process_does_not_block_resume(tmp_path: Path) -> None:
    spec, run = _stopped_run(tmp_path)
    _raise_budget(spec)
    stranger = subprocess.Popen(["sleep", "60"])
    try:
        (run / "run.pid").write_text(f"{stranger.pid}\n")
        assert running_pid(run) is None  # `runs` shows it as stopped, not running
        proc = _cli("resume", str(run), "--headless")
        assert proc.returncode == 0, proc.stderr
    finally:
        stranger.kill()
        stranger.wait()


def test_a_damaged_first_journal_line_does_not_stop_a_resume(tmp_path: Path) -> None:
    spec, run = _stopped_run(tmp_path)
    _raise_budget(spec)
    journal = run / "journal.jsonl"
    data = bytearray(journal.read_bytes())
    data[0:12] = b"\x00garbage\x00\x01\x02\x03"
    journal.write_bytes(bytes(data))
    proc = _cli("resume", str(run), "--headless")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "first line (run_started) is damaged" in proc.stderr
    finished = [e for e in read_journal(journal).events if isinstance(e, RunFinished)]
    assert finished[-1].outcome == "goal_met"


def test_an_iteration_replayed_after_a_crash_does_not_reuse_call_ids(tmp_path: Path) -> None:
    script = (
        "[[iteration]]\n[[iteration.step]]\nsay = 'one'\n" + edit("try")
        + "[[iteration.step]]\ntool = 'bash'\ninput = { command = 'sleep 30' }\n"
    )  # fmt: skip
    spec = write_loop(tmp_path / "loop", script=script, budget="max_iterations = 1")
    run = tmp_path / "run"
    proc = _start("run", str(spec), "--headless", "--run-dir", str(run))
    _wait_for(run / "journal.jsonl", b'"type":"tool_call"', 2)
    proc.kill()  # mid-call: the replay makes the same calls again
    proc.communicate()
    spec.write_text(spec.read_text().replace("sleep 30", "true"))
    (tmp_path / "loop" / "agent_script.toml").write_text(script.replace("sleep 30", "true"))
    resumed = _cli("resume", str(run), "--headless")
    assert resumed.returncode == 1, resumed.stderr
    ids = [e.call_id for e in read_journal(run / "journal.jsonl").events
           if isinstance(e, ToolCall)]  # fmt: skip
    assert len(ids) == 4 and len(set(ids)) == 4


def test_a_garbage_ref_in_the_checkpoints_is_one_sentence(tmp_path: Path) -> None:
    spec, run = _stopped_run(tmp_path)
    _raise_budget(spec)
    (run / "checkpoints.git" / "refs" / "heads" / "checkpoints").write_text("not-a-sha\n")
    proc = _cli("resume", str(run), "--headless")
    assert proc.returncode == 2
    assert_one_sentence(proc.stderr, "checkpoint repository")


def test_a_deleted_run_workspace_is_one_sentence(tmp_path: Path) -> None:
    import shutil

    spec, run = _stopped_run(tmp_path)
    _raise_budget(spec)
    shutil.rmtree(run / "workspace")
    proc = _cli("resume", str(run), "--headless")
    assert proc.returncode == 2
    assert_one_sentence(proc.stderr, "no longer exists")


def test_an_unreadable_home_is_at_most_one_sentence(tmp_path: Path) -> None:
    """HOME that is not a folder: check, run (default run folder) and runs carry on
    or say in one line what is wrong; never a traceback."""
    spec = write_loop(tmp_path / "loop", script=_paced(1, 0, last="good"))
    env = {**os.environ, "HOME": "/etc/passwd"}
    for name in ("XDG_CONFIG_HOME", "XDG_STATE_HOME", "XDG_DATA_HOME", "XDG_CACHE_HOME"):
        env.pop(name, None)
    for args in (["check", str(spec)], ["run", str(spec), "--headless"], ["runs", str(spec)]):
        proc = _cli(*args, env=env)
        assert "Traceback" not in proc.stderr, args
        if proc.returncode != 0:
            assert proc.returncode == 2 and len(proc.stderr.strip().splitlines()) == 1, args


# -- bounded journal --------------------------------------------------------------

LINES = 200_000  # "y\n" each: 400 KB of output


def test_a_flood_of_short_lines_costs_about_its_size(tmp_path: Path) -> None:
    (tmp_path / "ws").mkdir()
    (tmp_path / "loop.toml").write_text(
        'name = "flood"\ngoal = "g"\nworkspace = "ws"\n[agent]\nbackend = "command"\n'
        f'command = "yes | head -n {LINES}"\nformat = "text"\n[budget]\nmax_iterations = 1\n'
    )
    run = tmp_path / "run"
    proc = _cli("run", str(tmp_path), "--headless", "--run-dir", str(run))
    assert proc.returncode == 1, proc.stderr
    journal = run / "journal.jsonl"
    text = "".join(e.text for e in read_journal(journal).events if e.type == "agent_text")
    assert text.count("y\n") == LINES
    assert journal.stat().st_size < 2 * 2 * LINES + 30_000


def test_a_long_model_answer_is_journaled_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import asyncio

    from tests.anthropic_harness import use_key
    from tests.fake_messages_server import FakeMessagesServer, text, turn
    from tui.agents.anthropic_agent import AnthropicAgent
    from tui.engine.rundir import create_run
    from tui.engine.runner import Runner
    from tui.spec import load_spec

    answer = "".join(f"line {i:07d} of the answer\n" for i in range(40_000))  # ~1 MB
    use_key(monkeypatch)
    (tmp_path / "ws").mkdir()
    with FakeMessagesServer([turn(text(answer))], chunk=400) as server:
        (tmp_path / "loop.toml").write_text(
            f'name = "long"\ngoal = "g"\nworkspace = "ws"\n[agent]\nbackend = "anthropic"\n'
            f'base_url = "{server.url}"\nmodel = "claude-test-1"\n[budget]\nmax_iterations = 1\n'
        )
        spec = load_spec(tmp_path / "loop.toml")
        agent = AnthropicAgent(spec, sdk_retries=0)
        runner = Runner(spec, create_run(spec, tmp_path / "run"), agent, interactive=False)
        asyncio.run(runner.run())
    journal = tmp_path / "run" / "journal.jsonl"
    events = read_journal(journal).events
    assert "".join(e.text for e in events if e.type == "agent_text") == answer
    assert journal.stat().st_size < 1.2 * len(answer) + 30_000
