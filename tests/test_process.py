"""Child processes: process groups, timeouts, output caps, scrubbed environments."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from tests.process_helpers import alive_in_group, wait_gone
from tui.process import STREAM_CAPPED_MARKER, OutputCap, child_env, run_command


async def test_exit_code_output_and_stdin(tmp_path: Path) -> None:
    result = await run_command(
        "pwd; cat; echo err >&2; exit 3", tmp_path, timeout_s=10, stdin=b"from stdin\n"
    )
    assert result.exit_code == 3
    assert not result.timed_out
    assert result.output == f"{tmp_path}\nfrom stdin\nerr\n"
    assert result.truncated_bytes == 0


async def test_timeout_kills_foreground_and_background(tmp_path: Path) -> None:
    started = time.monotonic()
    result = await run_command(
        "echo $$ > pgid; sleep 100 & echo $! > bg; sleep 100", tmp_path, timeout_s=1
    )
    elapsed = time.monotonic() - started
    assert result.timed_out
    assert result.exit_code is None
    assert 0.9 < elapsed < 3
    pgid = int((tmp_path / "pgid").read_text())
    background = int((tmp_path / "bg").read_text())
    assert await wait_gone(pgid, 0.5) == []
    assert background not in alive_in_group(pgid)


async def test_term_ignored_gets_killed(tmp_path: Path) -> None:
    # The shell ignores SIGTERM and so does the sleep it starts: only SIGKILL works.
    started = time.monotonic()
    result = await run_command("echo $$ > pgid; trap '' TERM; sleep 100", tmp_path, timeout_s=0.5)
    assert result.timed_out
    assert time.monotonic() - started < 3
    assert await wait_gone(int((tmp_path / "pgid").read_text()), 0.5) == []


async def test_background_children_do_not_outlive_the_shell(tmp_path: Path) -> None:
    # One child holds the output pipe, one does not; the shell exits at once.
    command = "echo $$ > pgid; sleep 100 & nohup sleep 100 >/dev/null 2>&1 & echo done"
    started = time.monotonic()
    result = await run_command(command, tmp_path, timeout_s=30)
    assert time.monotonic() - started < 2.5
    assert result.exit_code == 0
    assert not result.timed_out
    assert result.output == "done\n"
    assert await wait_gone(int((tmp_path / "pgid").read_text())) == []


async def test_output_left_by_background_child_is_read(tmp_path: Path) -> None:
    result = await run_command("(sleep 0.2; echo late) & echo early", tmp_path, timeout_s=10)
    assert result.output == "early\nlate\n"


async def test_cancel_kills_the_group(tmp_path: Path) -> None:
    task = asyncio.create_task(
        run_command("echo $$ > pgid; sleep 100 & sleep 100", tmp_path, timeout_s=60)
    )
    pgid_file = tmp_path / "pgid"
    while not pgid_file.exists() or not pgid_file.read_text():
        await asyncio.sleep(0.02)
    await asyncio.sleep(0.1)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert await wait_gone(int(pgid_file.read_text())) == []


async def test_output_streams_before_the_command_ends(tmp_path: Path) -> None:
    seen: list[tuple[float, str]] = []
    started = time.monotonic()
    result = await run_command(
        "echo first; sleep 0.5; echo second",
        tmp_path,
        timeout_s=10,
        on_output=lambda text: seen.append((time.monotonic() - started, text)),
    )
    assert "".join(text for _, text in seen) == result.output == "first\nsecond\n"
    assert seen[0][1] == "first\n"
    assert seen[0][0] < 0.4


async def test_stream_stops_at_the_cap(tmp_path: Path) -> None:
    chunks: list[str] = []
    result = await run_command(
        "head -c 300000 /dev/zero | tr '\\0' 'a'",
        tmp_path,
        timeout_s=10,
        output_cap=1000,
        on_output=chunks.append,
    )
    streamed = "".join(chunks)
    assert streamed == "a" * 1000 + STREAM_CAPPED_MARKER
    assert result.truncated_bytes == 299_000
    assert result.output.startswith("a" * 500 + "\n[... 299.0 KB (299,000 bytes) cut")
    assert result.output.endswith("...]\n" + "a" * 500)


def test_output_cap_keeps_head_and_tail() -> None:
    cap = OutputCap(10)
    for piece in (b"0123", b"4567", b"89ab", b"cdef"):
        cap.feed(piece)
    assert cap.truncated_bytes == 6
    assert cap.render() == "01234\n[... 6 B (6 bytes) cut from the middle ...]\nbcdef"
    small = OutputCap(100)
    small.feed("héllo\n".encode())
    assert small.render() == "héllo\n"
    assert small.truncated_bytes == 0


def test_output_cap_huge_chunk() -> None:
    cap = OutputCap(8)
    cap.feed(b"x" * 1_000_000 + b"TAIL")
    assert cap.truncated_bytes == 1_000_004 - 8
    assert cap.render() == "xxxx\n[... 1.0 MB (999,996 bytes) cut from the middle ...]\nTAIL"


def test_flood_memory_stays_bounded(tmp_path: Path) -> None:
    """50 MB through run_command: peak RSS grows by far less than 50 MB."""
    script = textwrap.dedent(
        """
        import asyncio, resource, sys
        from pathlib import Path
        from tui.process import run_command

        def peak_kb():
            return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss

        async def main():
            # Warm up so that imports and the event loop are already counted.
            await run_command("echo warm", Path("."), timeout_s=10)
            before = peak_kb()
            streamed = []
            result = await run_command(
                "head -c 52428800 /dev/zero | tr '\\\\0' 'x'", Path("."),
                timeout_s=60, on_output=streamed.append,
            )
            grown = peak_kb() - before
            print(grown, result.truncated_bytes, len(result.output), len(streamed),
                  sum(map(len, streamed)), result.exit_code)
            print(result.output[49_990:50_200])

        asyncio.run(main())
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    first, rest = done.stdout.split("\n", 1)
    grown_kb, cut, kept, events, streamed, exit_code = map(int, first.split())
    assert exit_code == 0
    assert grown_kb < 10_000, f"peak RSS grew by {grown_kb} KB"
    assert cut == 52_428_800 - 100_000
    assert kept < 100_200
    assert streamed <= 100_000 + len(STREAM_CAPPED_MARKER)
    assert events < 100
    assert "[... 52.3 MB (52,328,800 bytes) cut from the middle ...]" in rest


async def test_child_env_scrubs_secrets(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    secrets = {
        # Distinctive values, so no other variable can contain them by chance.
        "ANTHROPIC_API_KEY": "sk-ant-secret-value-1",
        "FOO_API_KEY": "foo-key-secret-value-2",
        "GITHUB_TOKEN": "github-token-secret-value-3",
        "X_SECRET": "x-secret-value-4",
        "DB_PASSWORD": "db-password-secret-value-5",
    }
    for name, value in secrets.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("LOOP_HARMLESS", "visible")
    env = child_env({"EXTRA_ONE": "given"})
    assert not set(secrets) & set(env)
    assert env["LOOP_HARMLESS"] == "visible"
    assert env["EXTRA_ONE"] == "given"
    # This interpreter's folder comes first, so `python` is loopconsole's environment.
    assert env["PATH"].split(os.pathsep)[0] == str(Path(sys.executable).parent)
    assert env["PATH"].endswith(os.environ["PATH"])

    result = await run_command("env", tmp_path, timeout_s=10)
    seen = dict(line.split("=", 1) for line in result.output.splitlines() if "=" in line)
    assert seen.get("LOOP_HARMLESS") == "visible"
    for name, value in secrets.items():
        assert name not in seen
        assert value not in result.output


async def test_missing_cwd_raises(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        await run_command("true", tmp_path / "nope", timeout_s=5)


async def test_stream_cap_streams_more_than_is_kept(tmp_path: Path) -> None:
    chunks: list[str] = []
    cmd = "python3 -c \"import sys; sys.stdout.write('x' * 500_000)\""
    result = await run_command(
        cmd, tmp_path, timeout_s=10, output_cap=1_000, stream_cap=1_000_000, on_output=chunks.append
    )
    assert sum(len(c) for c in chunks) == 500_000
    assert len(result.output) < 2_000 and result.truncated_bytes == 499_000
