"""The ``loopconsole`` command line.

Exit codes of ``run --headless`` and ``resume --headless``: 0 goal met, 1
stopped without meeting it, 2 bad spec or usage, 3 paused for a human,
130 interrupted. Output cut short by its reader (``| head -1``) ends
quietly with 141, as a Unix tool ended by SIGPIPE does.
"""

from __future__ import annotations

import argparse
import asyncio
import select
import sys
from collections.abc import Sequence
from pathlib import Path

from tui.errors import UserError
from tui.figures import some
from tui.spec import LoopSpec, SpecError, load_spec

USAGE_ERROR = 2
STDOUT_GONE = 128 + 13  # the shell's code for a command ended by SIGPIPE


class UsageError(UserError):
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
    run.add_argument(
        "--detach", action="store_true", help="start the run in the background; attach later"
    )

    attach = sub.add_parser("attach", help="the console on a live run (folder, id or prefix)")
    attach.add_argument("run", metavar="RUN")
    attach.add_argument("--theme", metavar="NAME")
    attach.add_argument(
        "--via", metavar="CMD", help="reach another machine: 'ssh HOST', 'docker exec -i NAME'"
    )

    bridge = sub.add_parser("bridge", help="a live run's protocol over stdin/stdout (--via)")
    bridge.add_argument("run", metavar="RUN")

    fleet = sub.add_parser("fleet", help="every run on this machine, those needing you first")
    fleet.add_argument("paths", type=Path, nargs="*", metavar="PATH", help="more folders to scan")
    fleet.add_argument("--json", action="store_true", help="print the list as JSON and exit")
    fleet.add_argument("--via", metavar="CMD", help="list another machine's runs ('ssh HOST')")
    fleet.add_argument(
        "--follow",
        action="store_true",
        help="print the list as one JSON line, and again whenever it changes, until stdin closes",
    )

    shell = sub.add_parser("_shell", help=argparse.SUPPRESS)  # `o` over attach --via
    shell.add_argument("run", metavar="RUN")

    engine = sub.add_parser("_engine", help=argparse.SUPPRESS)  # the process `run` starts
    engine.add_argument("run_dir", type=Path)
    engine.add_argument("--spec", type=Path)  # none: resume the run
    engine.add_argument("--paused", action="store_true")
    engine.add_argument("--step", action="store_true")
    engine.add_argument("--raise", dest="raises", action="append", default=[])

    check = sub.add_parser("check", help="validate a spec and summarise the loop")
    check.add_argument("path", type=Path, metavar="PATH", help="loop.toml or its folder")
    check.add_argument("--run-dir", type=Path, metavar="DIR", help="check this run folder too")

    runs = sub.add_parser("runs", help="list runs: outcome, iterations, cost, duration")
    runs.add_argument("path", type=Path, nargs="?", default=Path("."), metavar="PATH")

    replay = sub.add_parser("replay", help="open a finished or crashed run, read-only")
    replay.add_argument("run_dir", type=Path, metavar="RUN", help="run folder, id or id prefix")
    replay.add_argument("--theme", metavar="NAME")

    resume = sub.add_parser("resume", help="continue a stopped run from its last checkpoint")
    resume.add_argument("run_dir", type=Path, metavar="RUN", help="run folder, id or id prefix")
    resume.add_argument("--headless", action="store_true")
    resume.add_argument("--json", action="store_true")
    resume.add_argument("--theme", metavar="NAME")
    resume.add_argument("--detach", action="store_true", help="carry on in the background")
    resume.add_argument(
        "--raise",
        dest="raises",
        action="append",
        default=[],
        metavar="LIMIT=VALUE",
        help="raise a budget limit (max_iterations, max_tokens, max_cost_usd, max_wall_s)",
    )

    land = sub.add_parser("land", help="the run's iterations as a new branch of your repository")
    land.add_argument("run_dir", type=Path, metavar="RUN")
    land.add_argument("--branch", metavar="NAME", help="default: loopconsole/<run id>")
    land.add_argument("--repo", type=Path, metavar="DIR", help="default: the workspace's own")
    land.add_argument("--squash", action="store_true", help="one commit, not one per iteration")

    fork = sub.add_parser("fork", help="best-of-N branches of a run from one of its iterations")
    fork.add_argument("run_dir", type=Path, metavar="RUN")
    fork.add_argument(
        "--from",
        dest="iteration",
        type=int,
        required=True,
        metavar="K",
        help="the iteration whose checkpoint the branches start from (0: the start)",
    )
    fork.add_argument("-n", dest="count", type=int, metavar="N", help="how many branches")
    fork.add_argument(
        "--hint",
        action="append",
        default=[],
        metavar="TEXT",
        help="branch i gets the i-th --hint in its first prompt (repeatable)",
    )
    fork.add_argument(
        "--model",
        action="append",
        default=[],
        metavar="NAME",
        help="branch i runs the i-th --model (repeatable)",
    )
    fork.add_argument(
        "--variants",
        type=Path,
        metavar="FILE",
        help="a TOML file of [[branch]] tables with hint, model, goal",
    )
    fork.add_argument(
        "--split-budget",
        action="store_true",
        help="divide the token and cost limits among the branches",
    )
    fork.add_argument("--jobs", type=int, metavar="J", help="branches at once (default: cores)")
    fork.add_argument(
        "--wait",
        action="store_true",
        help="run the branches here, print the ranking, exit with the best's code",
    )

    compare = sub.add_parser("compare", help="rank the branches of a fork group")
    compare.add_argument("run_dir", type=Path, metavar="BRANCH", help="any branch of the group")
    compare.add_argument(
        "--console",
        action="store_true",
        help="the compare screen: refreshed while they run, diffs, adopt, discard",
    )
    compare.add_argument("--theme", metavar="NAME")

    adopt = sub.add_parser("adopt", help="adopt a branch; mark the group's others discarded")
    adopt.add_argument("run_dir", type=Path, metavar="BRANCH")

    branches = sub.add_parser(
        "_branches", help=argparse.SUPPRESS
    )  # the detached process `fork` starts
    branches.add_argument("paths", type=Path, nargs="+")
    branches.add_argument("--jobs", type=int)

    report = sub.add_parser("report", help="an HTML and Markdown post-mortem of a run")
    report.add_argument("run_dir", type=Path, metavar="RUN")
    report.add_argument("--out", type=Path, metavar="DIR", help="default: the run folder")
    return p


def _error(message: str) -> int:
    print(f"loopconsole: {message}", file=sys.stderr)
    return USAGE_ERROR


def cmd_check(args: argparse.Namespace) -> int:
    from tui.agents.cli_checks import command_warnings
    from tui.sandbox import describe_sandbox
    from tui.summary import describe_spec

    spec = load_spec(args.path)
    # The same preflight as `run`; only a missing key is a note (it is the shell's).
    from tui.engine.preflight import preflight

    ready = preflight(spec, args.run_dir, need_key=False)
    print(describe_spec(spec))
    print(f"  sandbox     {describe_sandbox(spec)}")
    for warning in command_warnings(spec):
        print(f"  warning     {warning}")
    for note in ready.notes:
        print(f"  note        before `run`: {note}")
    return 0


def _prepare_agent(spec: LoopSpec):  # type: ignore[no-untyped-def]
    from tui.engine.preflight import preflight

    return preflight(spec).agent


def cmd_run(args: argparse.Namespace) -> int:
    from tui.engine.rundir import create_run
    from tui.engine.runner import Runner

    headless = args.headless or args.json
    if headless and args.paused:
        raise UsageError("--paused needs the console; drop --headless to start paused")
    if headless and args.detach:
        raise UsageError("--detach runs without a console already; drop --headless or --detach")
    spec = load_spec(args.path)
    from tui.engine.preflight import preflight

    agent = preflight(spec, args.run_dir).agent
    run = create_run(spec, args.run_dir)
    if not headless and spec.path is not None:
        from tui.live_cli import attach, detached_message, start_engine

        # The engine is its own process: closing this terminal leaves the run going.
        pid = start_engine(run.path, spec.path, paused=args.paused, step=args.step)
        if args.detach:
            print(detached_message(run.path, pid))
            return 0
        return attach(run.path, theme=args.theme)
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
    from tui.run_lookup import resolve_run

    return run_replay(resolve_run(args.run_dir), theme=args.theme)


def cmd_resume(args: argparse.Namespace) -> int:
    from tui.engine.raise_budget import apply_raises, check_raises_before_resuming, parse_raise
    from tui.engine.resume import load_resume_state, prepare_workspace
    from tui.engine.rundir import lock_run, open_run
    from tui.engine.runner import Runner
    from tui.run_lookup import resolve_run

    for text in args.raises:
        parse_raise(text)  # a malformed --raise is refused before the run is touched
    args.run_dir = resolve_run(args.run_dir)
    if not (args.run_dir / "journal.jsonl").is_file():
        raise UsageError(f"{args.run_dir} is not a loopconsole run directory (no journal.jsonl)")
    headless = args.headless or args.json
    if not headless:
        # The engine process holds the run's lock and resumes it.
        from tui.engine.rundir import refuse_if_running
        from tui.live_cli import attach, detached_message, start_engine

        refuse_if_running(args.run_dir.resolve())
        run_dir = args.run_dir.resolve()
        # Said here in one sentence, not in the engine's log.
        check_raises_before_resuming(run_dir, args.raises)
        pid = start_engine(run_dir, None, paused=False, step=False, raises=args.raises)
        if args.detach:
            print(detached_message(run_dir, pid))
            return 0
        return attach(run_dir, theme=args.theme)
    lock_run(args.run_dir.resolve())  # before reading its journal or touching its workspace
    state = load_resume_state(args.run_dir)
    for line in apply_raises(state, args.raises):
        print(f"loopconsole: {line}", file=sys.stderr)
    agent = _prepare_agent(state.spec)
    run = open_run(state.run_dir, state.spec)
    prep = prepare_workspace(state, run.workspace)
    runner = Runner(
        state.spec, run, agent, interactive=False, resume=state, prep=prep, watch_spec=True
    )
    from tui.headless import run_headless

    return asyncio.run(run_headless(runner, json_lines=args.json))


def cmd_land(args: argparse.Namespace) -> int:
    from tui.engine.land import land
    from tui.engine.record import load_record
    from tui.report import summary_markdown

    record = load_record(_run_folder(args.run_dir))
    result = land(record, branch=args.branch, repo_path=args.repo, squash=args.squash)
    base = result.base[:10] if result.base else "an empty history"
    print(summary_markdown(record))
    print(
        f"loopconsole: landed {len(result.commits)} commit(s) as branch {result.branch} "
        f"on {base} in {result.repo} ({result.files} file(s) changed"
        + (f" under {result.prefix}/" if result.prefix else "")
        + "); your checked-out branch, index and work tree are untouched",
        file=sys.stderr,
    )
    if result.large:
        print(
            f"loopconsole: note: {len(result.large)} file(s) over the checkpoint size limit "
            f"were not landed, their content was never stored ({some(result.large)})",
            file=sys.stderr,
        )
    if result.moved:
        print(
            f"loopconsole: note: {len(result.moved)} file(s) the run changed also changed in "
            f"your HEAD since the run started ({some(result.moved)}); "
            "the branch has the run's version",
            file=sys.stderr,
        )
    return 0


def _run_folder(run: Path) -> Path:
    """A run folder, run id or unique prefix of one, as a folder."""
    from tui.run_lookup import resolve_run

    return resolve_run(run)


def cmd_fork(args: argparse.Namespace) -> int:
    from tui.engine.fork import launch, make_branches

    variants = _variants(args)
    source = _run_folder(args.run_dir)
    branches = make_branches(source, args.iteration, variants, split_budget=args.split_budget)
    for b in branches:
        print(f"branch {b.number}: {b.path}  ({b.variant.label()})")
    if branches[0].missing:
        print(
            f"loopconsole: note: the branches lack {len(branches[0].missing)} file(s) over the "
            "checkpoint size limit, whose content was never stored "
            f"({branches[0].missing[0]}, ...)",
            file=sys.stderr,
        )
    if args.wait:
        return _run_branches([b.path for b in branches], args.jobs, rank_it=True)
    log = launch(branches, args.jobs)
    print(
        f"{len(branches)} branches running in the background (log: {log}); "
        f"rank them with: loopconsole compare {branches[0].path}"
    )
    return 0


def _variants(args: argparse.Namespace) -> list:  # type: ignore[type-arg]
    import tomllib

    from tui.engine.fork import Variant

    if args.variants is not None:
        try:
            data = tomllib.loads(args.variants.read_text())
            variants = [Variant(**table) for table in data.get("branch", [])]
        except (OSError, tomllib.TOMLDecodeError, TypeError) as exc:
            raise UsageError(f"--variants {args.variants}: {exc}") from None
        if not variants:
            raise UsageError(f"--variants {args.variants}: no [[branch]] tables")
        return variants
    count = args.count or max(len(args.hint), len(args.model))
    if count < 1:
        raise UsageError("say how many branches with -n N (or give --hint/--model per branch)")
    if len(args.hint) > count or len(args.model) > count:
        raise UsageError(f"more --hint or --model values than the {count} branches")
    hints = args.hint + [""] * (count - len(args.hint))
    models = args.model + [""] * (count - len(args.model))
    return [Variant(hint=h, model=m) for h, m in zip(hints, models, strict=True)]


def _run_branches(paths: list[Path], jobs: int | None, *, rank_it: bool) -> int:
    from tui.engine.fork import Branch, rank, ranking_table, run_branches
    from tui.events import Decided, Event

    def progress(branch: Branch, event: Event) -> None:
        if isinstance(event, Decided):
            print(f"[branch {branch.number}] #{event.iteration} {event.action}: {event.reason}")

    branches = [Branch.load(p) for p in paths]
    results = asyncio.run(run_branches(branches, concurrency=jobs, on_event=progress))
    print(ranking_table(results))
    return rank(results)[0].exit_code if rank_it else 0


def cmd_branches(args: argparse.Namespace) -> int:
    return _run_branches(args.paths, args.jobs, rank_it=False)


def cmd_compare(args: argparse.Namespace) -> int:
    from tui.engine.fork import group_results, ranking_table
    from tui.engine.fork_compare import find_group

    folder = _run_folder(args.run_dir)
    if args.console:
        from tui.app.compare_app import CompareApp

        return CompareApp(folder, theme=args.theme).run() or 0
    print(ranking_table(group_results(find_group(folder))))
    return 0


def cmd_adopt(args: argparse.Namespace) -> int:
    from tui.engine.fork import Branch, choose

    adopted = Branch.load(_run_folder(args.run_dir))
    group = choose(adopted)
    others = [b.run_id for b in group if b.status == "discarded"]
    print(
        f"adopted {adopted.run_id} as the continuation of {Path(adopted.source).name}"
        + (f"; discarded {', '.join(others)} (their records stay)" if others else "")
    )
    print(f"go on with: loopconsole resume {adopted.path}")
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    from tui.engine.record import load_record
    from tui.report import write_report

    record = load_record(_run_folder(args.run_dir))
    files = write_report(record, args.out.resolve() if args.out else None)
    print(f"{files.html}\n{files.markdown}")
    return 0


def cmd_attach(args: argparse.Namespace) -> int:
    from tui.live_cli import attach, attach_via, find_run

    if args.via:
        return attach_via(args.via, args.run, theme=args.theme)
    return attach(find_run(args.run), theme=args.theme)


def cmd_bridge(args: argparse.Namespace) -> int:
    from tui.bridge import bridge
    from tui.live_cli import find_run

    return asyncio.run(bridge(find_run(args.run)))


def cmd_fleet(args: argparse.Namespace) -> int:
    from tui.live_cli import fleet

    return fleet(args.paths, as_json=args.json, via=args.via, follow=args.follow)


def cmd_shell(args: argparse.Namespace) -> int:
    from tui.live_cli import find_run, workspace_shell

    return workspace_shell(find_run(args.run))


def cmd_engine(args: argparse.Namespace) -> int:
    from tui.live_cli import engine_main

    return engine_main(
        args.run_dir, args.spec, paused=args.paused, step=args.step, raises=args.raises
    )


COMMANDS = {
    "run": cmd_run,
    "attach": cmd_attach,
    "fleet": cmd_fleet,
    "bridge": cmd_bridge,
    "_engine": cmd_engine,
    "_shell": cmd_shell,
    "check": cmd_check,
    "runs": cmd_runs,
    "replay": cmd_replay,
    "resume": cmd_resume,
    "land": cmd_land,
    "fork": cmd_fork,
    "compare": cmd_compare,
    "adopt": cmd_adopt,
    "_branches": cmd_branches,
    "report": cmd_report,
}


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``loopconsole`` script; returns the exit code."""
    argv = sys.argv[1:] if argv is None else list(argv)
    args = _parser().parse_args(argv or ["fleet"])  # no arguments: the fleet
    try:
        code = COMMANDS[args.command](args)
        sys.stdout.flush()  # a reader that went away (`| head`) shows here, not at exit
        return code
    except BrokenPipeError:
        if not _stdout_gone():
            raise  # a pipe of our own broke: a bug, not the reader's choice
        from tui.headless import silence_stdout

        silence_stdout()
        return STDOUT_GONE
    except SpecError as exc:
        for line in exc.messages:
            print(line, file=sys.stderr)
        return USAGE_ERROR
    except UserError as exc:
        return _error(str(exc))
    except KeyboardInterrupt:
        print("loopconsole: interrupted", file=sys.stderr)
        return 130


def _stdout_gone() -> bool:
    """Nobody reads our stdout any more (the pipe's reading end is closed)."""
    try:
        poll = select.poll()
        poll.register(sys.stdout.fileno(), select.POLLOUT)
        # A pipe's writing end polls as an error (Linux) or a hang-up (BSD, macOS).
        gone = select.POLLERR | select.POLLHUP
        return any(flags & gone for _fd, flags in poll.poll(0))
    except (OSError, ValueError, AttributeError):  # no file descriptor (captured in tests)
        return False


if __name__ == "__main__":
    sys.exit(main())
