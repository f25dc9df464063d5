"""Hand-made, fully deterministic event lists: fixed run id, fixed timestamps.

They feed the store tests and the SVG snapshots; the Pilot tests use real runs.
"""

from __future__ import annotations

from tui.events import (
    AgentFinished,
    AgentText,
    AgentTurn,
    BudgetState,
    BudgetUpdated,
    Decided,
    Event,
    HintAdded,
    IterationStarted,
    Paused,
    RunFinished,
    RunStarted,
    SignalRaised,
    ToolCall,
    ToolResult,
    Usage,
    ValidatorFinished,
    ValidatorOutput,
    ValidatorResult,
    ValidatorStarted,
)

RUN_ID = "20251121-101500-fizzbuzz"
T0 = 1_763_720_100.0
GOAL = "Implement fizzbuzz(n) in fizzbuzz.py so that the tests pass. Do not edit tests/."
IDS = [
    "tests/test_fizzbuzz.py::test_multiple_of_fifteen",
    "tests/test_fizzbuzz.py::test_larger_multiple_of_fifteen",
    "tests/test_fizzbuzz.py::test_first_fifteen",
]
LIMITS = {"max_iterations": 10, "max_tokens": 200_000, "max_cost_usd": 1.0, "max_wall_s": 600}


class Recorder:
    """Builds events with increasing timestamps, as the runner would stamp them."""

    def __init__(self) -> None:
        self.events: list[Event] = []
        self.iteration = 0
        self.t = T0
        self.usage = Usage()
        self.cost = 0.0
        self.iterations = 0

    def add(self, event: Event) -> None:
        self.t += 0.5
        event.ts = self.t
        event.run_id = RUN_ID
        event.iteration = self.iteration
        self.events.append(event)

    def budget(self, **limits: float) -> BudgetState:
        return BudgetState(
            iterations=self.iterations,
            usage=self.usage,
            cost_usd=round(self.cost, 4),
            wall_s=self.t - T0,
            **{**LIMITS, **limits},
        )

    def start(self, **limits: float) -> None:
        self.add(
            RunStarted(
                name="fizzbuzz",
                goal=GOAL,
                spec_path="/loops/fizzbuzz/loop.toml",
                run_dir=f"/loops/fizzbuzz/.loopconsole/runs/{RUN_ID}",
                workspace="/loops/fizzbuzz/workspace",
                backend="scripted",
                model="claude-sonnet-5-5",
                budget=self.budget(**limits),
                validators=["tests", "lint"],
            )
        )

    def agent(self, said: list[str], tokens: int = 4_000, cost: float = 0.07) -> None:
        self.iteration += 1
        prompt = f"# Goal\n{GOAL}\n"
        notes = ""
        if self.iteration > 1:
            notes = "Check 15 before 3 and 5."
            prompt += "\n# What failed after the last iteration\n## tests: exit 1\n"
            prompt += f"\n# Your notes from earlier iterations\n{notes}"
        self.add(IterationStarted(goal=GOAL, prompt=prompt, notes=notes))
        self.add(AgentText(text=said[0]))
        call = f"call-{self.iteration}"
        self.add(
            ToolCall(
                call_id=call,
                name="str_replace_based_edit_tool",
                input={
                    "command": "str_replace",
                    "path": "fizzbuzz.py",
                    "old_str": "a",
                    "new_str": "b",
                },
            )
        )
        self.add(
            ToolResult(
                call_id=call,
                name="str_replace_based_edit_tool",
                output="The file fizzbuzz.py has been edited.",
            )
        )
        self.add(ToolCall(call_id=call + "b", name="bash", input={"command": "pytest -q"}))
        self.add(
            ToolResult(
                call_id=call + "b",
                name="bash",
                exit_code=1,
                output="...F\n1 failed, 5 passed in 0.03s",
            )
        )
        for words in said[1:]:
            self.add(AgentText(text=words))
        self.usage = self.usage + Usage(input_tokens=tokens - 500, output_tokens=500)
        self.cost += cost
        self.add(
            AgentTurn(
                turn=1, usage=Usage(input_tokens=tokens - 500, output_tokens=500), cost_usd=cost
            )
        )
        self.iterations += 1
        self.add(AgentFinished(turns=1, tool_calls=2, final_text=said[-1]))

    def validate(self, failing: list[str], lint_ok: bool = True) -> None:
        self.add(ValidatorStarted(name="tests", command="python -m pytest -q"))
        lines = [f"FAILED {i} - AssertionError" for i in failing]
        summary = f"{len(failing)} failed, {6 - len(failing)} passed" if failing else "6 passed"
        out = "\n".join(["============ test session starts ============", *lines, summary]) + "\n"
        self.add(ValidatorOutput(name="tests", text=out))
        self.add(
            ValidatorFinished(
                result=ValidatorResult(
                    name="tests",
                    command="python -m pytest -q",
                    passed=not failing,
                    exit_code=1 if failing else 0,
                    duration_s=1.25,
                    output=out,
                    reason=f"exit 1: {summary}" if failing else "",
                    tests_passed=6 - len(failing),
                    tests_failed=len(failing),
                    failing_ids=failing,
                )
            )
        )
        self.add(ValidatorStarted(name="lint", command="ruff check ."))
        self.add(
            ValidatorFinished(
                result=ValidatorResult(
                    name="lint",
                    command="ruff check .",
                    passed=lint_ok,
                    required=False,
                    exit_code=0 if lint_ok else 1,
                    duration_s=0.31,
                    output="All checks passed!\n" if lint_ok else "E501 line too long\n",
                )
            )
        )

    def decide(
        self, action: str, reason: str, passing: int, outcome: str | None = None, **limits: float
    ) -> None:
        self.add(BudgetUpdated(budget=self.budget(**limits)))
        self.add(
            Decided(
                action=action,
                outcome=outcome,
                reason=reason,
                passing_checks=passing,
                total_checks=6,
            )
        )


def _first_iteration(r: Recorder) -> None:
    r.start()
    r.agent(["I'll read **fizzbuzz.py** and the tests first.", "\n\nChecking 3, then 5, then 15."])
    r.validate(IDS)
    r.decide("continue", "1 of 1 required validators failing (tests: exit 1: 3 failed)", 3)


def running() -> list[Event]:
    """Iteration 2 in progress: text streamed, a tool call without its result yet."""
    r = Recorder()
    _first_iteration(r)
    r.iteration += 1
    r.add(IterationStarted(goal=GOAL, prompt=f"# Goal\n{GOAL}\n"))
    r.add(AgentText(text="The tests say 15 came out as **Fizz**: the 15 check must come "))
    r.add(AgentText(text="first. I'll reorder the checks."))
    r.add(ToolCall(call_id="c9", name="bash", input={"command": "python -m pytest -q"}))
    return r.events


def paused() -> list[Event]:
    """A thrash signal paused the loop for a human after iteration 2."""
    r = Recorder()
    _first_iteration(r)
    r.agent(["Trying again with the same order."])
    r.validate(IDS)
    r.add(
        SignalRaised(
            kind="same_failure",
            iterations=[1, 2],
            explanation="the same 3 tests failed the same way in iterations 1 and 2",
        )
    )
    r.decide("pause", "thrash: the same failure twice", 3)
    r.add(HintAdded(text="Check n % 15 before n % 3."))
    r.add(Paused(reason="thrash: the same 3 tests failed twice in a row"))
    return r.events


def succeeded() -> list[Event]:
    """Wrong first, right in iteration 2: goal met."""
    r = Recorder()
    _first_iteration(r)
    r.agent(["Reordered: 15 first.", "\n\nAll tests pass now."])
    r.validate([])
    r.decide("stop", "goal met: every required validator passed (tests)", 6, "goal_met")
    r.add(
        RunFinished(
            outcome="goal_met",
            reason="goal met: every required validator passed",
            exit_code=0,
            budget=r.budget(),
        )
    )
    return r.events


def over_budget() -> list[Event]:
    """Three failing iterations spend the $0.20 limit."""
    r = Recorder()
    r.start(max_cost_usd=0.2)
    for n in range(3):
        r.agent([f"Attempt {n + 1}."], tokens=30_000, cost=0.07)
        r.validate(IDS[: 3 - n], lint_ok=n != 1)
        if n < 2:
            r.decide("continue", "tests failing", 3 + n, max_cost_usd=0.2)
    r.decide("stop", "budget: cost $0.21 reached the limit of $0.20", 5, "budget", max_cost_usd=0.2)
    r.add(
        RunFinished(
            outcome="budget",
            reason="cost $0.21 reached the limit of $0.20",
            exit_code=1,
            budget=r.budget(max_cost_usd=0.2),
        )
    )
    return r.events


PAGES_V1 = "-    return total // per_page\n+    return total // per_page + 1\n"
PAGES_V2 = "-    return total // per_page + 1\n+    return round(total / per_page)\n"
PAGES_V3 = "-    return round(total / per_page)\n+    return total // per_page + 1\n"


def _patch(body: str) -> str:
    return (
        "diff --git a/pages.py b/pages.py\n--- a/pages.py\n+++ b/pages.py\n@@ -1,3 +1,3 @@\n"
        " def page_count(total: int, per_page: int) -> int:\n" + body
    )


def oscillating() -> list[Event]:
    """Iteration 3 puts pages.py back as iteration 1 left it: an oscillation pauses the loop."""
    r = Recorder()
    r.start()
    failures = {
        1: "tests: test_exact_multiple, test_no_items: AssertionError: 3 != 2",
        2: "tests: test_partial_last_page: AssertionError: 2 != 3",
    }
    for n, said in ((1, "Adding one page."), (2, "Rounding instead."), (3, "Back to + 1.")):
        r.agent([said])
        r.validate(IDS[:2] if n != 2 else IDS[2:])
        if n < 3:
            r.decide("continue", "tests failing", 3 + (n == 2))
    trees = {1: "0fc373a5", 2: "f11cd26b", 3: "0fc373a5"}
    cycle = [
        {
            "iteration": n,
            "tree": trees[n],
            "failure": failures[1 if n != 2 else 2],
            "passing": 3 + (n == 2),
            "total": 6,
            "patch": "" if n == 1 else _patch(PAGES_V2 if n == 2 else PAGES_V3),
        }
        for n in (1, 2, 3)
    ]
    r.add(
        SignalRaised(
            kind="oscillation",
            iterations=[1, 2, 3],
            explanation=(
                "iteration 3 put the workspace back exactly as it was after iteration 1 "
                f"(tree 0fc373a) and it still fails: {failures[1]}"
            ),
            evidence={
                "key": "oscillation:abc",
                "tree": trees[3],
                "same_tree_iterations": [1, 3],
                "cycle": cycle,
                "failure_text": "[tests] FAIL: test_exact_multiple\nAssertionError: 3 != 2",
            },
        )
    )
    r.decide("pause", "thrash, oscillation: iteration 3 went back to iteration 1's code", 3)
    r.add(Paused(reason="thrash, oscillation: iteration 3 went back to iteration 1's code"))
    return r.events
