"""Validators: the checks the agent does not control.

Each validator is a shell command run in the workspace through
:func:`tui.process.run_command` (own process group, timeout that kills the
group, capped output, scrubbed environment). Its output streams as
``ValidatorOutput`` events, coalesced so that a chatty test suite does not
become thousands of events, and ends in a structured ``ValidatorResult``.

pytest gets a closer reading: ``--junitxml`` to a temporary file is added
through ``PYTEST_ADDOPTS`` (so it reaches pytest however the command starts
it, and a command like ``pip install pytest`` is not touched), and the report
gives the counts and the failing test ids. When there is no report, pytest's
summary line in the output is parsed instead, and unittest's ending
(``Ran N tests`` / ``FAILED (failures=...)``) is read the same way.
"""

from __future__ import annotations

import asyncio
import re
import tempfile
import xml.etree.ElementTree as ET
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from tui.confinement import Confinement
from tui.events import (
    Event,
    ValidatorFinished,
    ValidatorOutput,
    ValidatorResult,
    ValidatorStarted,
    count_text,
)
from tui.process import child_env, run_command
from tui.spec import ValidatorSpec

# Output events: flush when this much text is waiting, or this long after the
# first unsent text arrived.
_FLUSH_CHARS = 8_192
_FLUSH_S = 0.1

_PYTEST = re.compile(r"(?:^|(?<=[\s;&|(/]))(?:pytest|py\.test)(?=$|[\s;&|)])")
_SUMMARY_COUNT = re.compile(
    r"(\d+) (passed|failed|errors?|skipped|xfailed|xpassed|deselected|warnings?)"
)
_SUMMARY_LINE = re.compile(r"\d+ (passed|failed|errors?|skipped)\b.* in [\d.]+ ?s")


def is_pytest(command: str) -> bool:
    """Whether the command runs pytest (``pytest``, ``python -m pytest``, ``py.test``)."""
    return bool(_PYTEST.search(command))


@dataclass
class TestCounts:
    """What a pytest run reported."""

    passed: int = 0
    failed: int = 0
    errors: int = 0
    skipped: int = 0
    failing_ids: list[str] = field(default_factory=list)

    __test__ = False  # not a pytest test class, despite the name

    def summary(self) -> str:
        """Counts in pytest's own order: '2 failed, 5 passed, 1 skipped'."""
        return count_text(self.passed, self.failed, self.errors, self.skipped)


def _node_id(case: ET.Element, workspace: Path) -> str:
    """``path::Class::test`` from a junit testcase (pytest writes ``file`` in xunit1)."""
    classname = case.get("classname", "")
    name = case.get("name", "")
    file = case.get("file")
    if file is None and classname:
        # xunit2 has no file attribute: the longest dotted prefix that is a
        # module in the workspace is the file, the rest are classes.
        parts = classname.split(".")
        for cut in range(len(parts), 0, -1):
            candidate = "/".join(parts[:cut]) + ".py"
            if (workspace / candidate).is_file():
                file = candidate
                break
    if file is None:
        return "::".join(p for p in (classname.replace(".", "/"), name) if p)
    module = file.removesuffix(".py").replace("/", ".").replace("\\", ".")
    classes = classname[len(module) :].strip(".") if classname.startswith(module) else ""
    return "::".join(p for p in (file, *classes.split("."), name) if p)


def parse_junit(report: Path, workspace: Path) -> TestCounts | None:
    """Counts and failing ids from a junit XML file; None if it is missing or unreadable."""
    try:
        root = ET.parse(report).getroot()
    except (OSError, ET.ParseError):
        return None
    counts = TestCounts()
    for case in root.iter("testcase"):
        if case.find("failure") is not None:
            counts.failed += 1
        elif case.find("error") is not None:
            counts.errors += 1
        elif case.find("skipped") is not None:
            counts.skipped += 1
            continue
        else:
            counts.passed += 1
            continue
        counts.failing_ids.append(_node_id(case, workspace))
    return counts


def parse_summary(output: str) -> TestCounts | None:
    """Counts from pytest's last summary line (``== 2 failed, 5 passed in 0.1s ==``)."""
    line = next(
        (ln for ln in reversed(output.splitlines()) if _SUMMARY_LINE.search(ln)),
        None,
    )
    if line is None:
        return None
    counts = TestCounts()
    for number, word in _SUMMARY_COUNT.findall(line):
        if word in ("passed", "failed", "skipped"):
            setattr(counts, word, int(number))
        elif word.startswith("error"):
            counts.errors = int(number)
    counts.failing_ids = re.findall(r"^(?:FAILED|ERROR) (\S+)", output, re.MULTILINE)
    return counts


_UNITTEST_RAN = re.compile(r"^Ran (\d+) tests? in [\d.]+s$", re.MULTILINE)
_UNITTEST_END = re.compile(r"^(OK|FAILED)(?: \((.*)\))?$", re.MULTILINE)
_UNITTEST_FAILURE = re.compile(r"^(?:FAIL|ERROR): (\w+) \(([\w.]+)\)", re.MULTILINE)


def parse_unittest(output: str) -> TestCounts | None:
    """Counts from unittest's ending (``Ran 15 tests`` then ``FAILED (failures=3)``)."""
    ran = list(_UNITTEST_RAN.finditer(output))
    if not ran:
        return None
    end = _UNITTEST_END.search(output, ran[-1].end())
    if end is None:
        return None
    details = {
        key.strip(): int(value) for key, value in re.findall(r"([a-z ]+)=(\d+)", end.group(2) or "")
    }
    counts = TestCounts(
        failed=details.get("failures", 0) + details.get("unexpected successes", 0),
        errors=details.get("errors", 0),
        skipped=details.get("skipped", 0) + details.get("expected failures", 0),
    )
    counts.passed = max(0, int(ran[-1].group(1)) - counts.failed - counts.errors - counts.skipped)
    for method, dotted in _UNITTEST_FAILURE.findall(output):
        # Python < 3.11 prints the class only: (module.Class)
        test_id = dotted if dotted.endswith("." + method) else f"{dotted}.{method}"
        if test_id not in counts.failing_ids:
            counts.failing_ids.append(test_id)
    return counts


class _Coalescer:
    """Batches output text into ValidatorOutput events."""

    def __init__(self, name: str, emit: Callable[[Event], None]):
        self.name = name
        self.emit = emit
        self.parts: list[str] = []
        self.size = 0
        self.timer: asyncio.TimerHandle | None = None

    def add(self, text: str) -> None:
        self.parts.append(text)
        self.size += len(text)
        if self.size >= _FLUSH_CHARS:
            self.flush()
        elif self.timer is None:
            self.timer = asyncio.get_running_loop().call_later(_FLUSH_S, self.flush)

    def flush(self) -> None:
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
        if self.parts:
            text, self.parts, self.size = "".join(self.parts), [], 0
            self.emit(ValidatorOutput(name=self.name, text=text))


def _last_line(output: str) -> str:
    for line in reversed(output.splitlines()):
        if line.strip() and not line.startswith("[..."):
            line = line.strip()
            return line if len(line) <= 120 else line[:117] + "..."
    return ""


async def run_validator(
    spec: ValidatorSpec,
    workspace: Path,
    emit: Callable[[Event], None],
    confinement: Confinement | None = None,
) -> ValidatorResult:
    """Run one validator in the workspace, publishing its output and result.

    With ``confinement`` it runs in the run's sandbox, with its environment;
    the folder for pytest's report is the one extra place it may write.
    """
    emit(ValidatorStarted(name=spec.name, command=spec.run))
    coalescer = _Coalescer(spec.name, emit)
    with tempfile.TemporaryDirectory(prefix="loopconsole-junit-") as tmp:
        report = Path(tmp) / "report.xml"
        env = child_env() if confinement is None else dict(confinement.env)
        addopts = f"--junitxml={report} -o junit_family=xunit1"
        if env.get("PYTEST_ADDOPTS"):
            addopts = f"{env['PYTEST_ADDOPTS']} {addopts}"
        try:
            if confinement is None:
                env["PYTEST_ADDOPTS"] = addopts
                run = await run_command(
                    spec.run,
                    workspace,
                    timeout_s=spec.timeout_s,
                    output_cap=spec.output_cap_bytes,
                    on_output=coalescer.add,
                    env=env,
                )
            else:
                run = await confinement.run(
                    spec.run,
                    workspace,
                    timeout_s=spec.timeout_s,
                    output_cap=spec.output_cap_bytes,
                    on_output=coalescer.add,
                    extra_env={"PYTEST_ADDOPTS": addopts},
                    writable=[Path(tmp)],  # /tmp is private in the sandbox
                )
        except OSError as exc:
            coalescer.flush()
            result = ValidatorResult(
                name=spec.name,
                command=spec.run,
                required=spec.required,
                passed=False,
                reason=f"could not start: {exc.strerror or exc} ({workspace})",
            )
            emit(ValidatorFinished(result=result))
            return result
        finally:
            coalescer.flush()
        counts = parse_junit(report, workspace) if report.exists() else None
    if counts is None and (is_pytest(spec.run) or _SUMMARY_LINE.search(run.output)):
        counts = parse_summary(run.output)
    if counts is None:
        counts = parse_unittest(run.output)

    passed = run.exit_code == 0 and not run.timed_out
    if run.timed_out:
        reason = f"timed out after {spec.timeout_s:g} s (the process group was killed)"
    else:
        detail = counts.summary() if counts is not None else _last_line(run.output)
        if counts is not None and run.exit_code == 5 and not counts.passed + counts.failed:
            detail = "no tests ran"
        reason = f"exit {run.exit_code}" + (f": {detail}" if detail else "")
    result = ValidatorResult(
        name=spec.name,
        command=spec.run,
        required=spec.required,
        passed=passed,
        exit_code=run.exit_code,
        timed_out=run.timed_out,
        duration_s=round(run.duration_s, 3),
        output=run.output,
        output_truncated_bytes=run.truncated_bytes,
        reason=reason,
        tests_passed=counts.passed if counts else None,
        tests_failed=counts.failed if counts else None,
        tests_errors=counts.errors if counts else None,
        tests_skipped=counts.skipped if counts else None,
        failing_ids=counts.failing_ids if counts else [],
    )
    emit(ValidatorFinished(result=result))
    return result


async def run_validators(
    specs: Sequence[ValidatorSpec],
    workspace: Path,
    emit: Callable[[Event], None],
    confinement: Confinement | None = None,
) -> list[ValidatorResult]:
    """Run the validators one after another, in spec order."""
    return [await run_validator(spec, workspace, emit, confinement) for spec in specs]


__all__ = [
    "TestCounts",
    "is_pytest",
    "parse_junit",
    "parse_summary",
    "parse_unittest",
    "run_validator",
    "run_validators",
]
