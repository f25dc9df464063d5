"""Failure fingerprints: what failed after an iteration, reduced to what matters.

Two iterations fail "the same way" when the same checks fail with the same
kind of error. A fingerprint keeps, for every failing validator, the failing
check ids, the error type and the first line of the error message, with the
parts that change from run to run for no reason (numbers, hex addresses,
temporary paths, timings) stripped. Thrash detection compares fingerprints;
the console shows their summaries.

Check ids come from the validator's structured result (pytest's junit report)
or, failing that, from unittest's ``FAIL: test (module.Class.test)`` lines.
For a plain check script the failing checks are its error-looking lines.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from functools import cached_property

from tui.events import ValidatorResult

# Order matters: paths and timings go before bare numbers.
_TEMP_PATH = re.compile(
    r"(?:/private)?(?:/tmp|/var/tmp|/var/folders|/dev/shm)(?:/[^\s'\":,)\]]*)?"
    r"|\S*[/.]loopconsole/runs/[^\s'\":,)\]]*"
    r"|[A-Za-z]:\\[^\s'\"]*\\Temp\\[^\s'\":,)\]]*"
)
_HEX_ADDRESS = re.compile(r"\b0x[0-9a-fA-F]+\b")
_HEX_ID = re.compile(r"\b(?=[0-9a-f]*\d)(?=[0-9a-f]*[a-f])[0-9a-f]{7,}\b")
_TIMING = re.compile(r"\b\d+(?:\.\d+)?\s*(?:ms|µs|us|ns|s|sec|secs|seconds?|minutes?)\b")
_NUMBER = re.compile(r"\d+(?:\.\d+)?")
_SPACE = re.compile(r"\s+")
# What a tool's output holds that changes between two looks at the same thing.
_TIMESTAMP = re.compile(
    r"\b\d{4}-\d{2}-\d{2}[T ]\d{1,2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?"
    r"|\b\d{1,2}:\d{2}:\d{2}(?:[.,]\d+)?\b"
    r"|\b1[5-9]\d{8}(?:\d{3})?(?:\.\d+)?\b"
)
_TEMP_MARKERS = ("/tmp", "/var/", "/dev/shm", "\\Temp\\")
# _TEMP_PATH without its run-folder branch (costly: it tries from every character).
_SYSTEM_TEMP = re.compile(_TEMP_PATH.pattern.replace(r"|\S*\.loopconsole/runs/[^\s'\":,)\]]*", ""))
_TIME_NOISE = re.compile(f"{_TIMESTAMP.pattern}|{_TIMING.pattern}")
_CLOCK_WORDS = re.compile(
    r"\b(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun|Jan|Feb|Mar|Apr|May|Jun|Jul|Aug"
    r"|Sep|Oct|Nov|Dec)[a-z]*\b|\b[A-Z]{2,5}\b|[\W\d_]+"
)

_UNITTEST_CASE = re.compile(r"^(FAIL|ERROR): (\S+) \(([^)]*)\)", re.MULTILINE)
_PYTEST_CASE = re.compile(r"^(?:FAILED|ERROR) (\S+::\S+)", re.MULTILINE)
_EXCEPTION = re.compile(
    r"^(?:E\s+)?((?:[A-Za-z_]\w*\.)*[A-Za-z_]\w*"
    r"(?:Error|Exception|Exit|Failure|Interrupt|Timeout))(?::\s?(.*))?\s*$"
)
_PYTEST_E = re.compile(r"^E\s+(\S.*)$")
_ERRORISH = re.compile(
    r"\b(?:fail|failed|failure|error|expected|assert|mismatch|wrong|not ok)\b|!=|✗",
    re.IGNORECASE,
)

MESSAGE_CHARS = 200
MAX_LINE_IDS = 20
EXCERPT_CHARS = 2_000
# Where the interesting part of a test run's output begins.
_EXCERPT_STARTS = ("\n=====", "\nFAIL", "\nERROR", "Traceback", "\n___", "\nE ")


def normalize(text: str) -> str:
    """Strip what differs between runs of the same failure (numbers, addresses, paths, timings)."""
    text = _TEMP_PATH.sub("<tmp>", text)
    text = _HEX_ADDRESS.sub("<addr>", text)
    text = _HEX_ID.sub("<hex>", text)
    text = _TIMING.sub("<time>", text)
    text = _NUMBER.sub("N", text)
    return _SPACE.sub(" ", text).strip()


def normalize_output(text: str) -> str:
    """A tool's output as compared for repeats: noise out, everything else kept.

    Timestamps (ISO dates with a time, ``12:03:44``, epoch seconds), durations
    (``0.12s``, ``3 ms``), hex addresses (``0x7f3a...``) and temporary paths
    become placeholders, runs of spaces one space and blank lines go; other numbers stay
    (``3 of 10 done`` is not ``4 of 10 done``). An output that is nothing
    but a reading of the clock (``date``) is kept as it is: the time moving
    on is what the agent was looking at.
    """
    raw = text
    # Each pattern only where it could match: most outputs hold few of them.
    if ".loopconsole/runs/" in text:
        text = _TEMP_PATH.sub("<tmp>", text)
    elif any(marker in text for marker in _TEMP_MARKERS):
        text = _SYSTEM_TEMP.sub("<tmp>", text)
    if "0x" in text:
        text = _HEX_ADDRESS.sub("<addr>", text)
    text = _TIME_NOISE.sub("<time>", text)
    normal = _lines(text)
    if "<time>" in normal and not _CLOCK_WORDS.sub("", re.sub("<(?:time|addr|tmp)>", "", normal)):
        return _lines(raw)
    return normal


def _lines(text: str) -> str:
    """Runs of spaces and tabs as one space, lines trimmed, blank lines dropped."""
    return "\n".join(" ".join(line.split()) for line in text.splitlines() if line.strip())


def _stable_id(check_id: str) -> str:
    # Ids keep their numbers (test_15 is not test_3), but not temp paths.
    return _HEX_ADDRESS.sub("<addr>", _TEMP_PATH.sub("<tmp>", check_id))


@dataclass(frozen=True)
class Failure:
    """How one validator failed."""

    validator: str
    check_ids: tuple[str, ...]
    error_type: str
    message: str  # the first message line as written (trimmed), for people

    @cached_property
    def normalized(self) -> tuple[str, tuple[str, ...], str, str]:
        """The comparable form: what makes two failures the same."""
        return (self.validator, self.check_ids, self.error_type, normalize(self.message))

    def summary(self) -> str:
        """``tests: test_a, test_b: AssertionError: 1 != 2`` (one line)."""
        error = ": ".join(p for p in (self.error_type, self.message) if p)
        if normalize(self.message)[:MESSAGE_CHARS] in self.check_ids:
            # A check script's failing lines: the message is the first of them.
            more = len(self.check_ids) - 1
            extra = f" (+{more} more failing line{'s' if more != 1 else ''})" if more else ""
            return f"{self.validator}: {error}{extra}"
        ids = ", ".join(_short_id(i) for i in self.check_ids[:3])
        if len(self.check_ids) > 3:
            ids += f" (+{len(self.check_ids) - 3})"
        return ": ".join(p for p in (self.validator, ids, error) if p)


@dataclass(frozen=True)
class Fingerprint:
    """The failures of one iteration, comparable across iterations."""

    failures: tuple[Failure, ...]

    @cached_property
    def digest(self) -> str:
        """A short stable id (equal fingerprints have equal digests)."""
        text = repr(tuple(f.normalized for f in self.failures))
        return hashlib.sha1(text.encode()).hexdigest()[:12]

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Fingerprint):
            return NotImplemented
        return self.digest == other.digest

    def __hash__(self) -> int:
        return hash(self.digest)

    @property
    def failing_checks(self) -> int:
        """How many checks fail (a failing validator with no known checks counts one)."""
        return sum(max(1, len(f.check_ids)) for f in self.failures)

    def summary(self) -> str:
        """One line naming what fails and how."""
        return "; ".join(f.summary() for f in self.failures)


def _short_id(check_id: str) -> str:
    """``tests/test_x.py::T::test_a`` -> ``test_a``; ``mod.T.test_a`` -> ``test_a``."""
    tail = check_id.rsplit("::", 1)[-1]
    if "::" not in check_id and " " not in tail:
        tail = tail.rsplit(".", 1)[-1]
    return tail


def _unittest_ids(output: str) -> list[str]:
    ids = []
    for _kind, name, where in _UNITTEST_CASE.findall(output):
        # Python 3.11+ writes (module.Class.test), older ones (module.Class).
        ids.append(where if where.endswith("." + name) else f"{where}.{name}")
    return ids


def _error_lines(output: str) -> list[str]:
    seen: dict[str, None] = {}
    for line in output.splitlines():
        if _ERRORISH.search(line):
            seen.setdefault(normalize(line)[:MESSAGE_CHARS], None)
    return list(seen)[:MAX_LINE_IDS]


def _first_error(output: str) -> tuple[str, str] | None:
    """(error type, first message line) of the first exception in the output."""
    for line in output.splitlines():
        match = _EXCEPTION.match(line.strip() if not line.startswith("E ") else line)
        if match:
            return match.group(1), (match.group(2) or "").strip()
    for line in output.splitlines():
        match = _PYTEST_E.match(line)
        if match:  # pytest's bare "E   assert 1 == 2"
            return "", match.group(1).strip()
    return None


def _first_meaningful_line(output: str) -> str:
    lines = [ln.strip() for ln in output.splitlines() if ln.strip()]
    for line in lines:
        if _ERRORISH.search(line):
            return line
    return lines[-1] if lines else ""


def failure_of(result: ValidatorResult) -> Failure | None:
    """The failure of one validator result, or None when it passed."""
    if result.passed:
        return None
    output = result.output
    ids = list(result.failing_ids) or _unittest_ids(output) or _PYTEST_CASE.findall(output)
    if result.timed_out:
        error_type, message = "timeout", ""
    else:
        found = _first_error(output)
        if found is not None:
            error_type, message = found
        else:
            error_type, message = "", _first_meaningful_line(output) or result.reason
            if not ids:
                # A plain check script: its error lines are its failing checks.
                ids = _error_lines(output)
    message = message[:MESSAGE_CHARS]
    return Failure(
        validator=result.name,
        check_ids=tuple(sorted({_stable_id(i) for i in ids})),
        error_type=error_type,
        message=message,
    )


def fingerprint(results: list[ValidatorResult]) -> Fingerprint | None:
    """The fingerprint of an iteration's validator results; None when nothing failed."""
    failures = tuple(f for f in (failure_of(r) for r in results) if f is not None)
    return Fingerprint(failures) if failures else None


def failure_excerpt(results: list[ValidatorResult], chars: int = EXCERPT_CHARS) -> str:
    """The failing validators' output around the first error, for people to read."""
    parts = []
    for r in results:
        if r.passed:
            continue
        found = [r.output.find(m) for m in _EXCERPT_STARTS]
        start = min((at for at in found if at != -1), default=0)
        text = r.output[start:].strip() or r.reason
        parts.append(f"[{r.name}] {text}")
    joined = "\n\n".join(parts)
    return joined if len(joined) <= chars else joined[: chars - 1] + "…"
