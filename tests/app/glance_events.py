"""Deterministic events for the snapshots of issue 14: a capped 5,000-test output,
a plain-text agent, a rewind. Built on sample_events' recorder."""

from __future__ import annotations

from tests.app.sample_events import GOAL, IDS, Recorder, _first_iteration, paused
from tui.events import (
    AgentFinished,
    AgentText,
    BudgetUpdated,
    Checkpointed,
    ControlApplied,
    Decided,
    Event,
    IterationStarted,
    Notice,
    ValidatorFinished,
    ValidatorOutput,
    ValidatorResult,
    ValidatorStarted,
)
from tui.process import STREAM_CAPPED_MARKER, OutputCap

FAILING = [
    "tests/test_big.py::test_total",
    "tests/test_big.py::test_name",
    "tests/test_big.py::TestParse::test_empty",
]
SECTIONS = """\
=================================== FAILURES ===================================
__________________________________ test_total __________________________________

    def test_total():
        have = 3
>       assert have == 33, "have %d" % have
E       AssertionError: have 3
E       assert 3 == 33

tests/test_big.py:9: AssertionError
__________________________________ test_name ___________________________________

    def test_name():
>       assert slugify("A Title") == "a-title"
E       AssertionError: assert 'a title' == 'a-title'

tests/test_big.py:12: AssertionError
_____________________________ TestParse.test_empty _____________________________

self = <tests.test_big.TestParse object at 0x7f0000000000>

    def test_empty(self):
>       assert parse("") == [None]
E       assert [] == [None]

tests/test_big.py:16: AssertionError
=========================== short test summary info ============================
FAILED tests/test_big.py::test_total - AssertionError: have 3
FAILED tests/test_big.py::test_name - AssertionError: assert 'a title' == 'a-title'
FAILED tests/test_big.py::TestParse::test_empty - assert [] == [None]
======================= 3 failed, 4997 passed in 12.34s ========================
"""


def big_output() -> tuple[str, str, int]:
    """(streamed text, kept output, bytes cut) of a 5,000-test `pytest -v` run, capped."""
    lines = [
        f"tests/test_big.py::test_many[{n}] PASSED{' ' * 30}[{n * 100 // 5000:3d}%]"
        for n in range(4997)
    ]
    text = "============ test session starts ============\n" + "\n".join(lines) + "\n" + SECTIONS
    data = text.encode()
    cap = OutputCap(100_000)
    cap.feed(data)
    streamed = data[:100_000].decode("utf-8", "replace") + STREAM_CAPPED_MARKER
    return streamed, cap.render(), cap.truncated_bytes


def capped_failures() -> list[Event]:
    """Iteration 2's validators: a capped 5,000-test output with three failures."""
    r = Recorder()
    _first_iteration(r)
    r.agent(["Fixed the slug and the total; running the whole suite."])
    streamed, kept, cut = big_output()
    r.add(ValidatorStarted(name="tests", command="python -m pytest -v"))
    r.add(ValidatorOutput(name="tests", text=streamed))
    r.add(
        ValidatorFinished(
            result=ValidatorResult(
                name="tests",
                command="python -m pytest -v",
                passed=False,
                exit_code=1,
                duration_s=12.34,
                output=kept,
                output_truncated_bytes=cut,
                reason="exit 1: 3 failed, 4997 passed",
                tests_passed=4997,
                tests_failed=3,
                failing_ids=FAILING,
            )
        )
    )
    r.add(BudgetUpdated(budget=r.budget()))
    r.add(
        Decided(
            action="continue",
            reason="1 of 1 required validators failing (tests: exit 1: 3 failed, 4997 passed)",
            passing_checks=4997,
            total_checks=5000,
        )
    )
    return r.events


SHELL_OUTPUT = """\
# running: agent.sh, iteration 1
reading slug.py and check_slug.py
__init__ stays empty; editing slug.py
- return title
+ return "-".join(title.lower().split())
<html> in a title is kept as text
done: 4 of 5 checks should pass now
"""


def text_agent() -> list[Event]:
    """A command agent with format = "text": its output, verbatim."""
    r = Recorder()
    r.start()
    r.events[0].backend = "command"
    r.events[0].model = "shell-script"
    r.iteration = 1
    r.add(IterationStarted(goal=GOAL, prompt=f"# Goal\n{GOAL}\n"))
    for line in SHELL_OUTPUT.splitlines():
        r.add(AgentText(text=line + "\n", kind="plain"))
    r.iterations = 1
    r.add(AgentFinished(stop="exit 0", final_text="done"))
    r.validate(IDS[:1])
    r.decide("continue", "1 of 1 required validators failing (tests: exit 1: 1 failed)", 5)
    return r.events


def rewound() -> list[Event]:
    """Paused on a signal after iteration 2, then rewound to iteration 1."""
    events = paused()
    last = events[-1]
    at = {"run_id": last.run_id, "iteration": 2}
    ts = last.ts
    events += [
        ControlApplied(control="rewind", detail="to iteration 1", ts=ts + 1, **at),
        Checkpointed(
            kind="rewind",
            commit="b" * 40,
            tree="c" * 40,
            restored="a" * 40,
            restored_iteration=1,
            ts=ts + 1.5,
            **at,
        ),
        Notice(
            message="rewound to iteration 1: 0 removed, 0 brought back, 1 reverted",
            ts=ts + 2,
            **at,
        ),
    ]
    return events
