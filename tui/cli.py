"""The ``loopconsole`` command line.

Exit codes of ``run --headless`` and ``resume --headless``: 0 goal met, 1
stopped without meeting it, 2 bad spec or usage, 3 paused for a human,
130 interrupted.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence
from pathlib import Path

from tui.agents.base import AgentConfigError
from tui.engine.preflight import RunFolderRefused, preflight
from tui.spec import LoopSpec, SpecError, load_spec

USAGE_ERROR = 2


class UsageError(Exception):
    """A mistake on the command line; printed as one line, exit 2."""


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="loopconsole",
        description="Run and supervise AI coding-agent loops.",
        epilog="Exit codes (headless): 0 goal met, 1 stopped without meeting it, "
        "2 bad spec or usage, 3 paused for a human, 130 interrupted.",
    )
    sub = p.add_subparsers(dest="command", metavar="COMMAND", required=True)

    run = sub.add_parser("run", help="run a loop (in the console, or --headless)")
    run.add_argument("path", type=Path, metavar="PATH", help="loop.toml or its folder")
    run.add_argument("--headless", action="store_true", help="no console: a line per iteration")
    run.add_argument("--json", action="store_true", help="headless, events as JSON lines")
    run.add_argument("--run-dir", type=Path, metavar="DIR", help="where to keep this run")
    run.add_argument("--paused", action="store_true", help="open paused before iteration 1")
    run.add_argument("--step", action="store_true", help="pause after every iteration")
    run.add_argument("--theme", metavar="NAME", help="console theme (see themes/)")

    check = sub.add_parser("check", help="validate a spec and summarise the loop")
    check.add_argument("path", type=Path, metavar="PATH", help="loop.toml or its folder")
    check.add_argument("--run-dir", type=Path, metavar="DIR", help="check this run folder too")

    runs = sub.add_parser("runs", help="list runs: outcome, iterations, cost, duration")
    runs.add_argument("path", type=Path, nargs="?", default=Path("."), metavar="PATH")

    replay = sub.add_parser("replay", help="open a finished or crashed run, read-only")
    replay.add_argument("run_dir", type=Path, metavar="RUN_DIR")
    replay.add_argument("--theme", metavar="NAME")

    resume = sub.add_parser("resume", help="continue a stopped run from its last checkpoint")
    resume.add_argument("run_dir", type=Path, metavar="RUN_DIR")
    resume.add_argument("--headless", action="store_true")
    resume.add_argument("--json", action="store_true")
    resume.add_argument("--theme", metavar="NAME")
    return p


def _error(message: str) -> int:
    print(f"loopconsole: {message}", file=sys.stderr)
    return USAGE_ERROR


def cmd_check(args: argparse.Namespace) -> int:
    from tui.summary import describe_spec

    spec = load_spec(args.path)
    # The same preflight as `run`; only a missing key is a note (it is the shell's).
    ready = preflight(spec, args.run_dir, need_key=False)
    print(describe_spec(spec))
    for note in ready.notes:
        print(f"  note        before `run`: {note}")
    return 0


def _prepare_agent(spec: LoopSpec):  # type: ignore[no-untyped-def]
    return preflight(spec).agent


def cmd_run(args: argparse.Namespace) -> int:
    from tui.engine.rundir import create_run
    from tui.engine.runner import Runner

    headless = args.headless or args.json
    if headless and args.paused:
        raise UsageError("--paused needs the console; drop --headless to start paused")
    spec = load_spec(args.path)
    agent = preflight(spec, args.run_dir).agent
    run = create_run(spec, args.run_dir)
    if headless:
        from tui.headless import run_headless

        runner = Runner(spec, run, agent, interactive=False, step=args.step, watch_spec=True)
        return asyncio.run(run_headless(runner, json_lines=args.json))
    from tui.app import run_console

    runner = Runner(spec, run, agent, start_paused=args.paused, step=args.step, watch_spec=True)
    return run_console(runner, theme=args.theme)


def cmd_runs(args: argparse.Namespace) -> int:
    from tui.summary import list_runs

    print(list_runs(args.path))
    return 0


def cmd_replay(args: argparse.Namespace) -> int:
    from tui.app import run_replay

    return run_replay(args.run_dir, theme=args.theme)


def cmd_resume(args: argparse.Namespace) -> int:
    from tui.engine.resume import load_resume_state, prepare_workspace
    from tui.engine.rundir import lock_run, open_run
    from tui.engine.runner import Runner

    if not (args.run_dir / "journal.jsonl").is_file():
        raise UsageError(f"{args.run_dir} is not a loopconsole run directory (no journal.jsonl)")
    lock_run(args.run_dir.resolve())  # before reading its journal or touching its workspace
    state = load_resume_state(args.run_dir)
    agent = _prepare_agent(state.spec)
    run = open_run(state.run_dir, state.spec)
    prep = prepare_workspace(state, run.workspace)
    headless = args.headless or args.json
    runner = Runner(
        state.spec, run, agent, interactive=not headless, resume=state, prep=prep, watch_spec=True
    )
    if headless:
        from tui.headless import run_headless

        return asyncio.run(run_headless(runner, json_lines=args.json))
    from tui.app import run_console

    return run_console(runner, theme=args.theme)


COMMANDS = {
    "run": cmd_run,
    "check": cmd_check,
    "runs": cmd_runs,
    "replay": cmd_replay,
    "resume": cmd_resume,
}


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``loopconsole`` script; returns the exit code."""
    from tui.engine.resume import ResumeError
    from tui.engine.rundir import RunDirError

    args = _parser().parse_args(argv)
    try:
        return COMMANDS[args.command](args)
    except SpecError as exc:
        for line in exc.messages:
            print(line, file=sys.stderr)
        return USAGE_ERROR
    except (AgentConfigError, ResumeError, RunDirError, RunFolderRefused, UsageError) as exc:
        return _error(str(exc))
    except KeyboardInterrupt:
        print("loopconsole: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
