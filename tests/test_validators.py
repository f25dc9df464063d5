"""Validators: real commands and a real pytest run, with structured results."""

from __future__ import annotations

import sys
import textwrap
import time
from pathlib import Path

import pytest

from tests.process_helpers import wait_gone
from tui.engine.validators import (
    is_pytest,
    parse_junit,
    parse_summary,
    parse_unittest,
    run_validator,
    run_validators,
)
from tui.events import ValidatorFinished, ValidatorOutput, ValidatorStarted
from tui.spec import ValidatorSpec

PYTEST = f"{sys.executable} -m pytest -q -p no:cacheprovider"

TESTS = textwrap.dedent(
    """
    import pytest

    def test_one():
        assert 1 + 1 == 2

    def test_two():
        assert "a".upper() == "A"

    def test_broken():
        assert 2 + 2 == 5

    class TestGroup:
        def test_fine(self):
            assert True

        @pytest.mark.parametrize("n", [1, 2, 3])
        def test_odd(self, n):
            assert n % 2 == 1

    @pytest.mark.skip(reason="not yet")
    def test_later():
        pass

    @pytest.fixture
    def broken_fixture():
        raise RuntimeError("fixture failed")

    def test_uses_fixture(broken_fixture):
        pass
    """
)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_calc.py").write_text(TESTS)
    return tmp_path


class Recorder(list):
    def __call__(self, event: object) -> None:
        self.append(event)


async def test_pytest_counts_and_failing_ids(project: Path) -> None:
    events = Recorder()
    spec = ValidatorSpec(name="tests", run=f"{PYTEST} tests")
    result = await run_validator(spec, project, events)
    assert not result.passed
    assert result.exit_code == 1
    assert (result.tests_passed, result.tests_failed) == (5, 2)
    assert (result.tests_errors, result.tests_skipped) == (1, 1)
    assert result.failing_ids == [
        "tests/test_calc.py::test_broken",
        "tests/test_calc.py::TestGroup::test_odd[2]",
        "tests/test_calc.py::test_uses_fixture",
    ]
    assert result.reason == "exit 1: 2 failed, 5 passed, 1 skipped, 1 error"
    assert "assert 2 + 2 == 5" in result.output
    assert result.duration_s > 0

    assert isinstance(events[0], ValidatorStarted)
    assert events[0].command == spec.run
    assert isinstance(events[-1], ValidatorFinished)
    assert events[-1].result == result
    streamed = "".join(e.text for e in events if isinstance(e, ValidatorOutput))
    assert streamed == result.output


async def test_pytest_all_passing(project: Path) -> None:
    (project / "tests" / "test_calc.py").write_text("def test_a():\n    pass\n")
    result = await run_validator(ValidatorSpec(name="t", run=PYTEST), project, Recorder())
    assert result.passed
    assert result.reason == "exit 0: 1 passed"
    assert (result.tests_passed, result.tests_failed, result.failing_ids) == (1, 0, [])


async def test_pytest_with_no_tests(tmp_path: Path) -> None:
    result = await run_validator(ValidatorSpec(name="t", run=PYTEST), tmp_path, Recorder())
    assert not result.passed
    assert result.reason == "exit 5: no tests ran"


async def test_plain_command(tmp_path: Path) -> None:
    result = await run_validator(
        ValidatorSpec(name="lint", run="echo checking; echo 'x.py:3: bad name'; exit 2"),
        tmp_path,
        Recorder(),
    )
    assert not result.passed
    assert result.exit_code == 2
    assert result.reason == "exit 2: x.py:3: bad name"
    assert result.tests_passed is None
    assert result.failing_ids == []
    ok = await run_validator(ValidatorSpec(name="ok", run="true"), tmp_path, Recorder())
    assert ok.passed
    assert ok.reason == "exit 0"


async def test_timeout_is_a_failure_and_kills_the_group(tmp_path: Path) -> None:
    events = Recorder()
    spec = ValidatorSpec(name="slow", run="echo $$ > pgid; sleep 100 & sleep 100", timeout_s=1)
    started = time.monotonic()
    result = await run_validator(spec, tmp_path, events)
    assert time.monotonic() - started < 3
    assert not result.passed
    assert result.timed_out
    assert result.exit_code is None
    assert result.reason == "timed out after 1 s (the process group was killed)"
    assert await wait_gone(int((tmp_path / "pgid").read_text()), 0.5) == []
    assert isinstance(events[-1], ValidatorFinished)


async def test_output_events_are_coalesced_and_capped(tmp_path: Path) -> None:
    events = Recorder()
    spec = ValidatorSpec(name="chatty", run="seq 1 20000", output_cap_bytes=5000)
    result = await run_validator(spec, tmp_path, events)
    outputs = [e for e in events if isinstance(e, ValidatorOutput)]
    assert 1 <= len(outputs) <= 5
    streamed = "".join(e.text for e in outputs)
    assert streamed.startswith("1\n2\n3\n")
    assert "[output capped" in streamed
    assert len(streamed) < 5200
    assert result.output_truncated_bytes > 100_000
    assert result.output.endswith("19999\n20000\n")


async def test_slow_output_is_not_held_back(tmp_path: Path) -> None:
    arrivals: list[float] = []
    started = time.monotonic()

    def emit(event: object) -> None:
        if isinstance(event, ValidatorOutput):
            arrivals.append(time.monotonic() - started)

    await run_validator(ValidatorSpec(name="v", run="echo one; sleep 1; echo two"), tmp_path, emit)
    assert len(arrivals) == 2
    assert arrivals[0] < 0.6


async def test_missing_workspace(tmp_path: Path) -> None:
    events = Recorder()
    result = await run_validator(ValidatorSpec(name="v", run="true"), tmp_path / "gone", events)
    assert not result.passed
    assert result.reason.startswith("could not start: No such file or directory")
    assert isinstance(events[-1], ValidatorFinished)


async def test_run_validators_in_order(tmp_path: Path) -> None:
    specs = [
        ValidatorSpec(name="first", run="echo 1 >> order"),
        ValidatorSpec(name="second", run="echo 2 >> order; exit 1", required=False),
    ]
    results = await run_validators(specs, tmp_path, Recorder())
    assert [r.name for r in results] == ["first", "second"]
    assert [r.passed for r in results] == [True, False]
    assert results[1].required is False
    assert (tmp_path / "order").read_text() == "1\n2\n"


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        ("pytest -q", True),
        ("python -m pytest tests/", True),
        ("cd sub && .venv/bin/pytest", True),
        ("py.test -x", True),
        ("uv run pytest", True),
        ("ruff check .", False),
        ("pytest-watch", False),
        ("echo my_pytest_helper", False),
    ],
)
def test_is_pytest(command: str, expected: bool) -> None:
    assert is_pytest(command) is expected


def test_parse_junit_xunit2_without_file_attribute(tmp_path: Path) -> None:
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_m.py").write_text("")
    report = tmp_path / "r.xml"
    report.write_text(
        """<?xml version="1.0"?><testsuites><testsuite name="pytest">
        <testcase classname="tests.test_m.TestA" name="test_x"><failure message="boom"/></testcase>
        <testcase classname="tests.test_m" name="test_y"/>
        <testcase classname="tests.test_m" name="test_z"><error message="e"/></testcase>
        <testcase classname="tests.test_m" name="test_s"><skipped/></testcase>
        </testsuite></testsuites>"""
    )
    counts = parse_junit(report, tmp_path)
    assert counts is not None
    assert (counts.passed, counts.failed, counts.errors, counts.skipped) == (1, 1, 1, 1)
    assert counts.failing_ids == ["tests/test_m.py::TestA::test_x", "tests/test_m.py::test_z"]
    (tmp_path / "bad.xml").write_text("<testsuites")
    assert parse_junit(tmp_path / "bad.xml", tmp_path) is None


def test_parse_summary_line() -> None:
    output = (
        "FAILED tests/test_a.py::test_one - assert 1 == 2\n"
        "ERROR tests/test_b.py::test_two - RuntimeError\n"
        "==== 1 failed, 7 passed, 2 skipped, 1 error, 3 warnings in 0.52s ====\n"
    )
    counts = parse_summary(output)
    assert counts is not None
    assert (counts.passed, counts.failed, counts.skipped, counts.errors) == (7, 1, 2, 1)
    assert counts.failing_ids == ["tests/test_a.py::test_one", "tests/test_b.py::test_two"]
    assert parse_summary("3 passed in 0.01s") is not None
    assert parse_summary("all good") is None


async def test_summary_used_when_the_report_is_missing(tmp_path: Path) -> None:
    # An explicit --junitxml on the command line wins over ours: no report for us.
    (tmp_path / "test_a.py").write_text("def test_a():\n    assert False\n")
    spec = ValidatorSpec(name="t", run=f"{PYTEST} -rf --junitxml=own.xml test_a.py")
    result = await run_validator(spec, tmp_path, Recorder())
    assert (tmp_path / "own.xml").exists()
    assert (result.tests_passed, result.tests_failed) == (0, 1)
    assert result.failing_ids == ["test_a.py::test_a"]
    assert result.reason == "exit 1: 1 failed, 0 passed"


async def test_unittest_counts_and_failing_ids(tmp_path: Path) -> None:
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_u.py").write_text(
        textwrap.dedent(
            """
            import unittest

            class Calc(unittest.TestCase):
                def test_add(self):
                    self.assertEqual(1 + 1, 2)

                def test_sub(self):
                    self.assertEqual(3 - 1, 1)

                def test_div(self):
                    1 / 0

                @unittest.skip("later")
                def test_mul(self):
                    pass

                def test_each(self):
                    for n in (1, 2):
                        with self.subTest(n=n):
                            self.assertEqual(n, 1)
            """
        )
    )
    spec = ValidatorSpec(name="unit", run=f"{sys.executable} -m unittest discover -s tests -v")
    result = await run_validator(spec, tmp_path, Recorder())
    assert not result.passed
    assert (result.tests_passed, result.tests_failed) == (1, 2)
    assert (result.tests_errors, result.tests_skipped) == (1, 1)
    assert result.failing_ids == [
        "test_u.Calc.test_div",
        "test_u.Calc.test_each",
        "test_u.Calc.test_sub",
    ]
    assert result.reason == "exit 1: 2 failed, 1 passed, 1 skipped, 1 error"


def test_parse_unittest_endings() -> None:
    ok = parse_unittest("...\n----\nRan 4 tests in 0.002s\n\nOK (skipped=1)\n")
    assert ok is not None
    assert (ok.passed, ok.skipped, ok.failed) == (3, 1, 0)
    old_style = parse_unittest(
        "FAIL: test_x (mod.Case)\n----\nRan 2 tests in 0.1s\n\nFAILED (failures=1)\n"
    )
    assert old_style is not None
    assert old_style.failing_ids == ["mod.Case.test_x"]
    assert parse_unittest("Ran 2 tests in 0.1s\n") is None
