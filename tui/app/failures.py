"""Failing tests read out of a validator's output: assertion line and traceback head.

Pure text work for the validators pane. pytest puts a section per failure
under ``FAILURES`` (``____ test_name ____`` headings) and a ``FAILED id - message``
line per failure in its short summary; both sit in the tail of the output,
which the engine keeps when it caps a long output.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

# Lines of a failure's traceback shown under its row.
TRACEBACK_HEAD = 3

_HEADING = re.compile(r"^_{3,} (.+?) _{3,}$")
_RULE = re.compile(r"^={3,}")
_SUMMARY = re.compile(r"^(?:FAILED|ERROR) (\S+)(?: - (.*))?$")
_LOCATION = re.compile(r"^(\S+?:\d+): ")
# The report file loopconsole asks pytest for: its own business, not the user's.
_REPORT_LINE = re.compile(r"^-* ?generated xml file: .*loopconsole-junit-.*$\n?", re.MULTILINE)


def without_internals(text: str) -> str:
    """``text`` without the lines loopconsole's own machinery adds (the JUnit report path)."""
    if "loopconsole-junit-" not in text:
        return text
    return _REPORT_LINE.sub("", text)


@dataclass
class Failure:
    """One failing test as the failures list shows it."""

    test_id: str
    assertion: str = ""
    location: str = ""
    traceback: list[str] = field(default_factory=list)
    line: int | None = None  # where its section starts in the output (0-based)


_UNITTEST_HEAD = re.compile(r"^(?:FAIL|ERROR): (\S+) \((.+)\)$")
_UNITTEST_END = re.compile(r"^(?:={20,}|-{20,})$")
_FILE_LINE = re.compile(r'^\s*File "(.+)", line (\d+)')


def _unittest_sections(lines: list[str]) -> dict[str, tuple[int, list[str]]]:
    """unittest's ``FAIL: test_x (module.Class.test_x)`` blocks, by method and by full id."""
    sections: dict[str, tuple[int, list[str]]] = {}
    i = 0
    while i < len(lines):
        head = _UNITTEST_HEAD.match(lines[i])
        if not head:
            i += 1
            continue
        start, body = i, []
        i += 2  # the dashes under the heading
        while i < len(lines) and not _UNITTEST_END.match(lines[i]):
            body.append(lines[i])
            i += 1
        sections[head.group(2)] = sections[head.group(1)] = (start, body)
    return sections


def _unittest_failure(failure: Failure, body: list[str]) -> None:
    text = [ln for ln in body if ln.strip()]
    files = [k for k, ln in enumerate(text) if _FILE_LINE.match(ln)]
    if files:
        where = _FILE_LINE.match(text[files[-1]])
        assert where is not None
        failure.location = f"{where.group(1).rsplit('/', 1)[-1]}:{where.group(2)}"
        failure.traceback = [ln.strip() for ln in text[files[-1] + 1 : files[-1] + 2]]
    failure.assertion = text[-1].strip() if text else ""


def _name_of(test_id: str) -> str:
    """The heading pytest gives a test: ``Class.test_x[param]`` or ``test_x``."""
    tail = test_id.split("::")[1:] if "::" in test_id else [test_id.rsplit(".", 1)[-1]]
    return ".".join(tail)


def parse_failures(output: str, failing_ids: list[str]) -> list[Failure]:
    """A :class:`Failure` per failing id, filled from what the output still holds."""
    lines = output.splitlines()
    sections: dict[str, tuple[int, list[str]]] = {}
    summary: dict[str, str] = {}
    current: str | None = None
    for i, line in enumerate(lines):
        heading = _HEADING.match(line)
        if heading:
            current = heading.group(1)
            sections[current] = (i, [])
            continue
        if _RULE.match(line):
            current = None
            continue
        found = _SUMMARY.match(line)
        if found:
            summary[found.group(1)] = found.group(2) or ""
            continue
        if current is not None:
            sections[current][1].append(line)
    unittest = _unittest_sections(lines) if "Traceback" in output else {}
    failures = []
    for test_id in failing_ids:
        failure = Failure(test_id)
        section = sections.get(_name_of(test_id))
        plain = unittest.get(test_id) or unittest.get(test_id.rsplit(".", 1)[-1])
        if section is None and plain is not None:
            failure.line = plain[0]
            _unittest_failure(failure, plain[1])
        elif section is not None:
            failure.line, body = section
            errors = [ln[1:].strip() for ln in body if ln.startswith("E ")]
            failure.assertion = errors[0] if errors else ""
            failure.location = next((m.group(1) for ln in body if (m := _LOCATION.match(ln))), "")
            code = [
                ln.rstrip()
                for ln in body
                if ln.strip() and not ln.startswith("E ") and not _LOCATION.match(ln)
            ]
            # The lines leading to the one that failed (pytest marks it with ">").
            at = next((k for k, ln in enumerate(code) if ln.startswith(">")), None)
            failure.traceback = (
                code[: at + 1][-TRACEBACK_HEAD:] if at is not None else code[:TRACEBACK_HEAD]
            )
        if not failure.assertion:
            failure.assertion = summary.get(test_id, "")
        failures.append(failure)
    return failures
