"""Fork: best-of-N branches of a run from one of its iterations, then rank them.

A branch is an ordinary run (journal, checkpoints, its own workspace and
budget) whose workspace starts as the source run's checkpoint of iteration K
and whose spec is the source's, with the branch's variant applied (a hint for
its first prompt, another model, another goal). Branches live beside the
source run (``<source id>-fork<F>-<i>``) with a ``fork.json`` naming the
source, the iteration, the group and the variant; the source run itself is
not touched. :func:`run_branches` runs them concurrently, a bounded number at
a time; :func:`rank` orders them by the validators: goal met first, then
passing checks, then cost.
"""

from __future__ import annotations

import asyncio
import json
import os
import stat
import subprocess
import sys
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path

import pygit2
import tomlkit
from pygit2.enums import FileMode

from tui.engine.checkpoints import CheckpointError, Checkpoints
from tui.engine.large_files import is_placeholder
from tui.engine.protocol import read_engine_info
from tui.engine.record import RecordError, RunRecord, load_record
from tui.engine.rundir import RunDir, spec_of
from tui.engine.shadow import ShadowError, open_shadow_readonly
from tui.errors import UserError
from tui.events import Event, Notice, RunStarted
from tui.spec import LoopSpec, SpecError, spec_from_text

FORK_FILE = "fork.json"


class ForkError(UserError):
    """A fork cannot be made (one sentence, exit 2)."""


@dataclass
class Variant:
    """What makes one branch differ from the others."""

    hint: str = ""
    model: str = ""
    goal: str = ""

    def label(self) -> str:
        parts = []
        if self.model:
            parts.append(f"model {self.model}")
        if self.hint:
            parts.append(f"hint: {self.hint}")
        if self.goal:
            parts.append("its own goal")
        return "; ".join(parts) or "as the source"


@dataclass
class Branch:
    """One branch run of a fork group (what ``fork.json`` holds)."""

    path: Path
    source: str  # the source run's folder
    iteration: int  # the source's iteration the branch starts from
    group: str
    number: int
    variant: Variant = field(default_factory=Variant)
    status: str = "open"  # open | adopted | discarded
    missing: list[str] = field(default_factory=list)  # over the size limit: never stored

    @property
    def run_id(self) -> str:
        return self.path.name

    def save(self) -> None:
        data = asdict(self)
        data["path"] = str(self.path)
        (self.path / FORK_FILE).write_text(json.dumps(data, indent=2) + "\n")

    @classmethod
    def load(cls, path: Path) -> Branch:
        try:
            data = json.loads((path / FORK_FILE).read_text())
            data["path"] = Path(data["path"])
            data["variant"] = Variant(**data.get("variant", {}))
            return cls(**data)
        except (OSError, ValueError, TypeError, KeyError) as exc:
            raise ForkError(f"{path} is not a fork branch ({exc})") from None


def make_branches(
    source_dir: Path,
    iteration: int,
    variants: list[Variant],
    *,
    split_budget: bool = False,
) -> list[Branch]:
    """Create one branch run folder per variant, each workspace at iteration ``iteration``."""
    try:
        record = load_record(source_dir)
    except RecordError as exc:
        raise ForkError(str(exc)) from None
    tree_id = _checkpoint_tree(source_dir, iteration)
    text = _spec_text(source_dir)
    spec_path = Path(record.started.spec_path) if record.started.spec_path else None
    number = 1
    while any(source_dir.parent.glob(f"{source_dir.name}-fork{number}-*")):
        number += 1
    group = f"{source_dir.name}-fork{number}"
    texts = []
    for i, variant in enumerate(variants, 1):
        branch_text = _branch_spec(text, variant, len(variants) if split_budget else 1)
        try:  # every variant is checked before any folder is made
            spec_from_text(branch_text, spec_path or source_dir / "spec.toml")
        except SpecError as exc:
            raise ForkError(f"branch {i}: {exc.messages[0]}") from None
        texts.append(branch_text)
    branches = []
    for i, (variant, branch_text) in enumerate(zip(variants, texts, strict=True), 1):
        path = source_dir.parent / f"{group}-{i}"
        path.mkdir(parents=True)
        (path / "spec.toml").write_text(branch_text)
        branches.append(Branch(path, str(source_dir), iteration, group, i, variant))

    def fill(branch: Branch) -> None:
        # One repository handle per thread: the workspaces are written in parallel.
        shadow = open_shadow_readonly(source_dir)
        _write_tree(shadow, shadow[tree_id], branch.path / "workspace", branch.missing)  # type: ignore[arg-type]
        branch.save()

    with ThreadPoolExecutor(max_workers=min(len(branches), 8)) as pool:
        list(pool.map(fill, branches))
    return branches


def _checkpoint_tree(source_dir: Path, iteration: int) -> pygit2.Oid:
    try:
        with Checkpoints.open_readonly(source_dir) as checkpoints:
            info = (
                checkpoints.find(0, "start")
                if iteration == 0
                else checkpoints.find(iteration, "agent")
            )
    except (CheckpointError, ShadowError) as exc:
        raise ForkError(str(exc)) from None
    if info is None:
        raise ForkError(
            f"run {source_dir.name} has no checkpoint of iteration {iteration}; "
            "pick one of its finished iterations (0 is the start)"
        )
    return pygit2.Oid(hex=info.tree)


def _spec_text(source_dir: Path) -> str:
    try:
        return (source_dir / "spec.toml").read_text()
    except OSError as exc:
        raise ForkError(f"cannot read {source_dir / 'spec.toml'} ({exc.strerror})") from None


def _branch_spec(text: str, variant: Variant, share: int) -> str:
    """The source's spec text with the variant applied; comments and layout kept."""
    doc = tomlkit.parse(text)
    doc["copy_workspace"] = True  # the branch's workspace is its own folder
    if variant.goal:
        doc["goal"] = variant.goal
    if variant.model:
        agent = doc.setdefault("agent", tomlkit.table())
        agent["model"] = variant.model  # type: ignore[index]
    if share > 1 and "budget" in doc:
        budget = doc["budget"]
        for key in ("max_tokens", "max_cost_usd"):
            if key in budget:  # type: ignore[operator]
                value = budget[key]  # type: ignore[index]
                budget[key] = (  # type: ignore[index]
                    value // share if isinstance(value, int) else float(value) / share
                )
    return tomlkit.dumps(doc)


def _write_tree(
    repo: pygit2.Repository, tree: pygit2.Tree, folder: Path, large: list[str], rel: str = ""
) -> None:
    """Write a checkpoint's tree into a new, empty folder.

    Files over the checkpoint size limit were never stored: they are left
    out and named in ``large``.
    """
    folder.mkdir(parents=True, exist_ok=True)
    for entry in tree:
        name = entry.name or ""
        target = folder / name
        path = f"{rel}{name}"
        if entry.filemode == FileMode.TREE:
            _write_tree(repo, repo[entry.id], target, large, path + "/")  # type: ignore[arg-type]
        elif entry.filemode == FileMode.LINK:
            os.symlink(repo[entry.id].data, target)  # type: ignore[attr-defined]
        elif entry.filemode == FileMode.COMMIT:
            target.mkdir(exist_ok=True)  # a nested repository: its folder only
        elif is_placeholder(repo, entry.id):
            large.append(path)
        else:
            target.write_bytes(repo[entry.id].data)  # type: ignore[attr-defined]
            if entry.filemode == FileMode.BLOB_EXECUTABLE:
                target.chmod(target.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)


def branches_of(group_or_branch: Path) -> list[Branch]:
    """Every branch of the group that ``group_or_branch`` (a branch folder) belongs to."""
    first = Branch.load(group_or_branch)
    siblings = sorted(
        group_or_branch.parent.glob(f"{first.group}-*"), key=lambda p: int(p.name.rsplit("-", 1)[1])
    )
    return [Branch.load(p) for p in siblings if (p / FORK_FILE).is_file()]


def fork_groups(run_dir: Path) -> list[list[Branch]]:
    """The fork groups a run belongs to (as a branch) or was forked into (as the source)."""
    groups: list[list[Branch]] = []
    if (run_dir / FORK_FILE).is_file():
        groups.append(branches_of(run_dir))
    seen = {g[0].group for g in groups if g}
    for first in sorted(run_dir.parent.glob(f"{run_dir.name}-fork*-1")):
        if (first / FORK_FILE).is_file() and Branch.load(first).group not in seen:
            groups.append(branches_of(first))
    return groups


def group_results(branches: list[Branch]) -> list[BranchResult]:
    """Each branch's result as its journal has it now (running ones included)."""
    results = []
    for b in branches:
        try:
            record = load_record(b.path)
        except RecordError as exc:
            results.append(BranchResult(b, 1, error=str(exc)))
            continue
        code = record.finished.exit_code if record.finished else 1
        results.append(BranchResult(b, code, record=record))
    return results


def load_branch_spec(branch: Branch) -> LoopSpec:
    text = (branch.path / "spec.toml").read_text()
    # The spec's own path (its folder anchors relative paths): the source's journal's first line.
    return spec_from_text(text, spec_of(Path(branch.source)) or branch.path / "spec.toml")


# -- running and ranking ------------------------------------------------------


@dataclass
class BranchResult:
    branch: Branch
    exit_code: int
    record: RunRecord | None = None
    error: str = ""

    @property
    def goal_met(self) -> bool:
        return self.record is not None and self.record.outcome == "goal_met"

    @property
    def passing(self) -> tuple[int, int]:
        if self.record is None or not self.record.iterations:
            return (0, 0)
        last = self.record.iterations[-1]
        return (last.passing, last.total)

    @property
    def cost_usd(self) -> float:
        return self.record.cost_usd if self.record is not None else 0.0


async def run_branches(
    branches: list[Branch],
    *,
    concurrency: int | None = None,
    on_event: Callable[[Branch, Event], None] | None = None,
) -> list[BranchResult]:
    """Run every branch to its end, at most ``concurrency`` at once (default: the cores)."""
    from tui.agents.base import AgentConfigError
    from tui.agents.registry import create_agent
    from tui.engine.live import run_served
    from tui.engine.runner import Runner

    gate = asyncio.Semaphore(concurrency or os.cpu_count() or 2)

    async def one(branch: Branch) -> BranchResult:
        async with gate:
            run = RunDir(
                path=branch.path, run_id=branch.run_id, workspace=branch.path / "workspace"
            )
            try:
                spec = load_branch_spec(branch)
                agent = create_agent(spec)
                agent.prepare()
                # Raises SandboxUnavailable (an AgentConfigError) when bwrap cannot start.
                runner = Runner(spec, run, agent, interactive=False)
            except (SpecError, AgentConfigError, RecordError, OSError) as exc:
                return BranchResult(branch, 2, error=str(exc))
            announced = False

            def announce(event: Event) -> None:
                nonlocal announced
                if on_event is not None:
                    on_event(branch, event)
                if isinstance(event, RunStarted) and not announced:
                    announced = True
                    source = Path(branch.source).name
                    runner.publish(
                        Notice(
                            message=f"branch {branch.number} of {branch.group}: forked from run "
                            f"{source} at iteration {branch.iteration} "
                            f"({branch.variant.label()})"
                        )
                    )
                    if branch.variant.hint:
                        runner.add_hint(branch.variant.hint)

            runner.subscribe(announce)
            # Served like any run: the fleet lists it live, consoles attach, controls work.
            finished = await run_served(runner)
            return BranchResult(branch, finished.exit_code, record=load_record(branch.path))

    return list(await asyncio.gather(*(one(b) for b in branches)))


def rank(results: list[BranchResult]) -> list[BranchResult]:
    """Goal met first, then the most passing checks, then the cheapest."""
    return sorted(
        results,
        key=lambda r: (not r.goal_met, -r.passing[0], r.cost_usd, r.branch.number),
    )


def ranking_table(results: list[BranchResult]) -> str:
    """The ranking as text: one line per branch, best first."""
    w = max([len("branch"), *(len(r.branch.run_id) for r in results)])
    lines = [f"{'#':>2}  {'branch':<{w}} {'outcome':<18} {'checks':>7} {'iter':>4} {'cost':>9}"]
    for place, r in enumerate(rank(results), 1):
        outcome = r.error or (r.record.outcome if r.record else "?")
        passing, total = r.passing
        its = len(r.record.iterations) if r.record else 0
        lines.append(
            f"{place:>2}  {r.branch.run_id:<{w}} {outcome.replace('_', ' '):<18} "
            f"{f'{passing}/{total}':>7} {its:>4} {f'${r.cost_usd:.4f}':>9}  "
            f"{r.branch.variant.label()}"
            + (f"  [{r.branch.status}]" if r.branch.status != "open" else "")
        )
    return "\n".join(lines)


def choose(adopted: Branch) -> list[Branch]:
    """Adopt one branch as the run's continuation; discard the group's others.

    The others still running are stopped (see :func:`discard`).
    """
    group = branches_of(adopted.path)
    for b in group:
        if b.path == adopted.path:
            b.status = "adopted"
            b.save()
        else:
            discard(b)
    return group


def discard(branch: Branch) -> str:
    """Mark a branch discarded (its records stay) and stop it if it is running.

    Returns what happened, in words.
    """
    branch.status = "discarded"
    branch.save()
    if read_engine_info(branch.path) is None:
        return f"discarded {branch.run_id}"
    from tui.engine.commands import Stop
    from tui.engine.fleet import send_to

    reply = asyncio.run(send_to(branch.path, Stop(now=True)))
    if reply.ok:
        return f"discarded {branch.run_id} and stopped it"
    return f"discarded {branch.run_id}; it could not be stopped ({reply.message})"


def launch(branches: list[Branch], jobs: int | None = None) -> Path:
    """Run the branches in a background process of their own; returns its log file.

    The process outlives whoever started it (a console, a shell): each branch
    is served like any run, so the fleet lists it and consoles can attach.
    """
    first = branches[0]
    log = first.path.parent / f"{first.group}.log"
    cmd = [sys.executable, "-m", "tui.cli", "_branches", *(str(b.path) for b in branches)]
    if jobs:
        cmd += ["--jobs", str(jobs)]
    with open(log, "ab") as out:
        subprocess.Popen(  # noqa: S603 - our own entry point
            cmd, stdin=subprocess.DEVNULL, stdout=out, stderr=out, start_new_session=True
        )
    return log
