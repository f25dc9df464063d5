"""Thrash detection: each signal fires at the expected iteration; converging loops raise nothing."""

from __future__ import annotations

from tests.thrash_helpers import (
    bash,
    diff,
    failing,
    kinds,
    observe_all,
    passed,
    record,
    replace,
    view,
)
from tui.engine.thrash import ThrashDetector, corrective_hint, record_from_events
from tui.events import (
    AgentFinished,
    Checkpointed,
    Decided,
    SignalRaised,
    ToolCall,
    ValidatorFinished,
    dump_event,
    parse_event,
)
from tui.spec import ThrashSpec

ORIG = "def page_count(total, per_page):\n    return total // per_page\n"
A = "def page_count(total, per_page):\n    return total // per_page + 1\n"
B = "def page_count(total, per_page):\n    return round(total / per_page)\n"
FA = ("test_exact_multiple", "test_no_items")
FB = ("test_partial_last_page", "test_large_total")


def only(raised: dict[int, list[SignalRaised]], iteration: int) -> SignalRaised:
    (signal,) = raised[iteration]
    return signal


# -- same failure -----------------------------------------------------------


def test_same_failure_fires_on_the_third_identical_failure_despite_noise() -> None:
    # Numbers, a hex address, a temp path and a timing differ: the failure does not.
    records = [
        record(
            i,
            failing(
                "test_partial", error=f"AssertionError: {i} != 3 at 0x7f{i}a0 /tmp/r{i}/p.py {i}.2s"
            ),
            tree=f"t{i}",
        )
        for i in range(1, 5)
    ]
    raised = observe_all(records)
    assert kinds(raised) == {3: ["same_failure"]}
    signal = only(raised, 3)
    assert signal.iterations == [1, 2, 3]
    assert "3 times in a row (iterations 1–3)" in signal.explanation
    assert "test_partial" in signal.explanation and "AssertionError" in signal.explanation
    assert "FAIL: test_partial" in signal.evidence["failure_text"]
    assert signal.evidence["failures"][0]["check_ids"] == ["test_pages.PageCountTest.test_partial"]
    assert signal.evidence["unchanged"] is False


def test_same_failure_reminds_after_another_full_streak_unless_dismissed() -> None:
    records = [record(i, failing("test_partial"), tree=f"t{i}") for i in range(1, 7)]
    raised = observe_all(records)
    assert [i for i, s in raised.items() if any(x.kind == "same_failure" for x in s)] == [3, 6]
    assert [s for s in raised[6] if s.kind == "same_failure"][0].iterations == [1, 2, 3, 4, 5, 6]

    detector = ThrashDetector(ThrashSpec())
    later: list[str] = []
    for r in records:
        for s in detector.observe(r):
            if s.kind == "same_failure":
                detector.dismiss(s)
                later.append(f"{s.kind}@{r.iteration}")
    assert later == ["same_failure@3"]


def test_same_failure_threshold_comes_from_the_spec() -> None:
    records = [record(i, failing("test_partial"), tree=f"t{i}") for i in range(1, 3)]
    assert kinds(observe_all(records, ThrashSpec(same_failure=2))) == {2: ["same_failure"]}
    assert kinds(observe_all(records)) == {}


def test_same_failure_not_raised_for_different_errors_or_when_checks_are_gained() -> None:
    # The same test keeps failing, but each time further along: a new error each time.
    errors = ["ImportError: no module", "TypeError: bad operand", "AssertionError: 2 != 3"]
    records = [
        record(i, failing("test_partial", error=e), tree=f"t{i}")
        for i, e in enumerate(errors, start=1)
    ]
    assert kinds(observe_all(records)) == {}
    # Same failing test and error, but a passing check gained each time (tests added).
    gaining = [record(i, failing("test_partial", passed=i), tree=f"t{i}") for i in range(1, 5)]
    assert kinds(observe_all(gaining)) == {}


# -- oscillation ------------------------------------------------------------


def test_oscillation_fires_when_the_tree_comes_back_while_failing() -> None:
    records = [
        record(1, failing(*FA), tree="aaaa111", patch=diff("pages.py", ORIG, A)),
        record(2, failing(*FB), tree="bbbb222", patch=diff("pages.py", A, B)),
        record(3, failing(*FA), tree="aaaa111", patch=diff("pages.py", B, A)),
    ]
    raised = observe_all(records)
    # Iteration 3 also undoes iteration 2's edit: one signal says it, not two.
    assert kinds(raised) == {3: ["oscillation"]}
    signal = only(raised, 3)
    assert signal.iterations == [1, 2, 3]
    assert signal.evidence["same_tree_iterations"] == [1, 3]
    assert signal.evidence["tree"] == "aaaa111"
    assert "exactly as it was after iteration 1 (tree aaaa111)" in signal.explanation
    cycle = signal.evidence["cycle"]
    assert [c["iteration"] for c in cycle] == [1, 2, 3]
    assert "+    return round(total / per_page)" in cycle[1]["patch"]
    assert "test_exact_multiple" in cycle[2]["failure"]


def test_oscillation_back_to_the_starting_tree() -> None:
    detector = ThrashDetector(ThrashSpec())
    detector.start("t0")
    assert detector.observe(record(1, failing(*FA), tree="t1")) == []
    (signal,) = detector.observe(record(2, failing(*FB), tree="t0"))
    assert signal.kind == "oscillation" and signal.iterations == [0, 1, 2]
    assert "as it was at the start of the run" in signal.explanation


def test_oscillation_reminds_once_per_further_cycle() -> None:
    trees = ["A", "B", "A", "B", "A"]
    records = [
        record(i, failing(*(FA if t == "A" else FB)), tree=t) for i, t in enumerate(trees, start=1)
    ]
    assert kinds(observe_all(records)) == {3: ["oscillation"], 5: ["oscillation"]}


def test_no_oscillation_without_a_return_or_without_failures() -> None:
    distinct = [record(i, failing(*FA), tree=f"t{i}") for i in range(1, 3)]
    distinct += [record(3, failing(*FB), tree="t3")]
    assert kinds(observe_all(distinct)) == {}
    unknown = [record(i, failing(*(FA if i % 2 else FB)), tree=None) for i in range(1, 5)]
    assert kinds(observe_all(unknown)) == {}
    unchanged = [record(1, failing(*FA), tree="A"), record(2, failing(*FA), tree="A")]
    assert kinds(observe_all(unchanged)) == {}
    switched_off = [record(i, failing(*(FA if i % 2 else FB)), tree="AB"[i % 2]) for i in (1, 2, 3)]
    assert kinds(observe_all(switched_off, ThrashSpec(oscillation=False))) == {}


# -- edit undone ------------------------------------------------------------


def test_edit_undone_fires_when_a_change_is_reverted_and_the_failure_is_back() -> None:
    notes = diff("NOTES.md", "", "tried rounding\n")
    records = [
        record(1, failing(*FA), tree="t1", patch=diff("pages.py", ORIG, A)),
        record(2, failing(*FB), tree="t2", patch=diff("pages.py", A, B)),
        # Back to A in pages.py, plus a note: the tree is new, the edit is not.
        record(3, failing(*FA), tree="t3", patch=diff("pages.py", B, A) + notes),
    ]
    raised = observe_all(records)
    assert kinds(raised) == {3: ["edit_undone"]}
    signal = only(raised, 3)
    assert signal.iterations == [2, 3]
    assert "iteration 3 undid iteration 2's change to pages.py (1 line)" in signal.explanation
    (reverted,) = signal.evidence["reverted"]
    assert "+    return round(total / per_page)" in reverted["change"]
    assert "-    return round(total / per_page)" in reverted["undone_by"]


def test_edit_undone_of_the_first_iteration_needs_the_starting_failures() -> None:
    other = diff("util.py", "", "X = 1\n")
    records = [
        record(1, failing(*FA), tree="t1", patch=diff("pages.py", ORIG, A)),
        record(2, failing(*FB), tree="t2", patch=diff("pages.py", A, ORIG) + other),
    ]
    # Without knowing how the start failed, a single undo is not called thrash.
    assert kinds(observe_all(records)) == {}
    detector = ThrashDetector(ThrashSpec())
    detector.start("t0", [failing(*FB)])
    assert detector.observe(records[0]) == []
    (signal,) = detector.observe(records[1])
    assert signal.kind == "edit_undone" and signal.iterations == [1, 2]


def test_no_edit_undone_for_tidying_exploring_or_other_files() -> None:
    debug = ORIG + "print(total)\n"
    tidy = [
        record(1, failing(*FA), tree="t1", patch=diff("pages.py", ORIG, debug)),
        record(2, failing(*FB), tree="t2", patch=diff("pages.py", debug, ORIG)),
        record(3, failing(*FA), tree="t3", patch=diff("util.py", "", "Y = 2\n")),
    ]
    assert kinds(observe_all(tidy)) == {}
    # Undoing a change along with another fix that changes the outcome is exploring.
    exploring = [
        record(1, failing(*FA), tree="t1", patch=diff("pages.py", ORIG, A)),
        record(2, failing(*FB), tree="t2", patch=diff("pages.py", A, B)),
        record(
            3,
            failing("test_large_total"),
            tree="t3",
            patch=diff("pages.py", B, A) + diff("util.py", "", "Z = 3\n"),
        ),
    ]
    assert kinds(observe_all(exploring)) == {}
    files = [
        record(i, failing(f"test_{i}"), tree=f"t{i}", patch=diff(f"m{i}.py", "", f"V = {i}\n"))
        for i in range(1, 6)
    ]
    assert kinds(observe_all(files)) == {}


# -- no progress ------------------------------------------------------------


def test_no_progress_when_no_check_is_gained_and_every_failure_was_seen() -> None:
    # Two failures alternate in ever-new trees: nothing new, nothing gained.
    records = [record(i, failing(*(FA if i % 2 else FB)), tree=f"t{i}") for i in range(1, 7)]
    raised = observe_all(records)
    assert kinds(raised) == {6: ["no_progress"]}
    signal = only(raised, 6)
    assert signal.iterations == [3, 4, 5, 6]
    assert signal.evidence["since_iteration"] == 2
    assert "no progress in 4 iterations (iterations 3–6): still 3 of 5 checks passing" in (
        signal.explanation
    )


def test_no_progress_when_the_workspace_does_not_change() -> None:
    records = [record(i, failing(*FA), tree="same") for i in range(1, 6)]
    raised = observe_all(records)
    assert kinds(raised) == {3: ["same_failure"], 5: ["no_progress"]}
    assert "with the workspace unchanged" in only(raised, 3).explanation
    signal = only(raised, 5)
    assert signal.iterations == [2, 3, 4, 5] and signal.evidence["reason"] == "unchanged"
    assert "the workspace has not changed in 4 iterations" in signal.explanation


def test_no_progress_not_raised_while_checks_are_gained_or_errors_are_new() -> None:
    tests = [f"test_{n}" for n in range(8)]
    steady = [record(i, failing(*tests[i:], passed=i), tree=f"t{i}") for i in range(1, 8)]
    assert kinds(observe_all(steady)) == {}
    # No check gained for six iterations, but each error is one not seen before.
    new_errors = [
        record(i, failing("test_partial", error=f"E{chr(64 + i)}Error: step"), tree=f"t{i}")
        for i in range(1, 7)
    ]
    assert kinds(observe_all(new_errors)) == {}


# -- repeated actions -------------------------------------------------------


def test_the_same_edit_made_a_third_time_is_repeated() -> None:
    to_b = replace("pages.py", "+ 1", "round")
    to_a = replace("pages.py", "round", "+ 1")
    records = [
        record(
            i, failing(*(FA if i % 2 else FB)), calls=[view("pages.py"), to_b if i % 2 else to_a]
        )
        for i in range(1, 6)
    ]
    raised = observe_all(records)
    assert kinds(raised) == {5: ["repeated_actions"]}
    signal = only(raised, 5)
    assert signal.iterations == [1, 3, 5]
    assert signal.evidence["count"] == 3 and signal.evidence["scope"] == "run"
    assert "the same edit (str_replace pages.py) was made 3 times" in signal.explanation


def test_the_same_command_or_read_three_times_with_nothing_between() -> None:
    raised = observe_all([record(1, failing(*FA), calls=[bash("pytest -q")] * 3)])
    signal = only(raised, 1)
    assert signal.kind == "repeated_actions" and signal.evidence["scope"] == "iteration"
    assert "`pytest -q` ran 3 times in iteration 1 with nothing changed in between" in (
        signal.explanation
    )
    # Reading the same file, with other reads between, is still not acting.
    reads = [view("a.py"), view("b.py"), view("a.py"), view("b.py"), view("a.py")]
    assert kinds(observe_all([record(1, failing(*FA), calls=reads)])) == {1: ["repeated_actions"]}


def test_running_the_tests_after_each_edit_is_not_repeated() -> None:
    records = []
    for i in range(1, 8):
        calls = [view("pages.py"), view("tests/test_pages.py"), bash("python -m unittest")]
        calls += [replace("pages.py", f"v{i}", f"v{i + 1}"), bash("python -m  unittest")]
        calls += [replace(f"m{i}.py", "x", "y"), bash("python -m unittest"), view("pages.py")]
        calls += [bash("python -m unittest")]  # checked twice after the last edit
        records.append(record(i, failing(f"test_{i}", passed=i), tree=f"t{i}", calls=calls))
    assert kinds(observe_all(records)) == {}
    # A different command between runs may have changed things (sed -i): no repeat.
    between = [bash("pytest"), bash("sed -i s/a/b/ x.py"), bash("pytest"), bash("cat x.py")]
    assert kinds(observe_all([record(1, failing(*FA), calls=[*between, bash("pytest")])])) == {}


# -- false done -------------------------------------------------------------


def test_false_done_counts_claims_made_while_required_validators_fail() -> None:
    records = [
        record(1, failing(*FA), tree="t1"),
        record(2, failing(*FB), tree="t2", done=True, said="All fixed, the task is complete."),
        record(3, failing("test_large_total"), tree="t3"),
        record(4, failing("test_no_items"), tree="t4", done=True, said="Done now."),
    ]
    raised = observe_all(records)
    assert kinds(raised) == {4: ["false_done"]}
    signal = only(raised, 4)
    assert signal.iterations == [2, 4] and signal.evidence["said"] == "Done now."
    assert "said it was done twice (iterations 2 and 4)" in signal.explanation


def test_a_claim_with_only_optional_validators_failing_is_not_false() -> None:
    lint = failing("lint_check", name="lint", required=False)
    records = [record(i, passed(), lint, tree=f"t{i}", done=True) for i in (1, 2)]
    assert kinds(observe_all(records)) == {}
    assert kinds(observe_all(records[:1], ThrashSpec(false_done=1))) == {}
    one = [record(1, failing(*FA), done=True)]
    assert kinds(observe_all(one, ThrashSpec(false_done=1))) == {1: ["false_done"]}


# -- converging loops --------------------------------------------------------


def test_a_converging_loop_raises_nothing() -> None:
    """Fizzbuzz-like: views, edits, test runs after each edit, fewer failures each time."""
    versions = ["v0", "v1", "v2", "v3", "v4"]
    remaining = [
        ("test_fizz", "test_buzz", "test_fifteen"),
        ("test_buzz", "test_fifteen"),
        ("test_fifteen",),
        ("test_fifteen",),  # same test, but a new error: still moving
    ]
    errors = ["AssertionError: '3' != 'Fizz'", "AssertionError: '5' != 'Buzz'"]
    errors += ["AssertionError: 'Fizz' != 'FizzBuzz'", "TypeError: unsupported operand"]
    records = []
    for i, (ids, error) in enumerate(zip(remaining, errors, strict=True), start=1):
        calls = [view("fizzbuzz.py"), view("tests/test_fizzbuzz.py")]
        calls += [replace("fizzbuzz.py", versions[i - 1], versions[i]), bash("python -m unittest")]
        calls += [replace("README.md", f"r{i}", f"r{i + 1}"), bash("python -m unittest")]
        patch = diff("fizzbuzz.py", f"x = {versions[i - 1]}\n", f"x = {versions[i]}\n")
        records.append(
            record(
                i, failing(*ids, error=error, passed=i + 2), tree=f"t{i}", calls=calls, patch=patch
            )
        )
    records.append(record(5, passed(6), tree="t5", calls=[bash("python -m unittest")], done=True))
    assert kinds(observe_all(records)) == {}


def test_a_long_slow_loop_with_plateaus_of_new_errors_raises_nothing() -> None:
    records = []
    for i in range(1, 11):
        gained = i // 3  # a check gained every third iteration
        error = f"AssertionError: step {i}" if i % 2 else f"ValueError: case {chr(96 + i)}"
        calls = [view("app.py"), replace(f"app{i}.py", "old", "new"), bash("pytest -q")]
        records.append(
            record(
                i,
                failing(f"test_{gained}", error=error, passed=gained),
                tree=f"t{i}",
                calls=calls,
            )
        )
    assert kinds(observe_all(records)) == {}


# -- controls, events, hints ---------------------------------------------------


def loud(signals: list[SignalRaised]) -> list[SignalRaised]:
    """The signals that may interrupt (not the quiet ones of a kind switched off)."""
    return [s for s in signals if s.action != "ignore"]


def test_disable_switches_one_kind_off_and_start_forgets_streaks() -> None:
    detector = ThrashDetector(ThrashSpec())
    detector.disable("same_failure")
    out = [detector.observe(record(i, failing(*FA), tree="same")) for i in range(1, 6)]
    # Switched off is quiet, not blind: still raised and recorded, as "ignore".
    assert [[(s.kind, s.action) for s in batch] for batch in out] == [
        [],
        [],
        [("same_failure", "ignore")],
        [],
        [("no_progress", "pause")],
    ]
    detector.enable("same_failure")
    detector.start("rewound")  # a rewind: the next iterations start a new streak
    out = [detector.observe(record(i, failing(*FA), tree=f"n{i}")) for i in range(6, 9)]
    assert [[s.kind for s in batch] for batch in out] == [[], [], ["same_failure"]]
    assert out[2][0].iterations == [6, 7, 8]


def test_dismissing_a_failure_leaves_other_failures_watched() -> None:
    detector = ThrashDetector(ThrashSpec())
    for i in range(1, 3):
        assert detector.observe(record(i, failing(*FA), tree=f"a{i}")) == []
    (first,) = detector.observe(record(3, failing(*FA), tree="a3"))
    detector.dismiss(first)
    detector.disable("no_progress")  # watch only the failures here
    for i in range(4, 7):
        assert loud(detector.observe(record(i, failing(*FA), tree=f"a{i}"))) == []
    assert [loud(detector.observe(record(i, failing(*FB), tree=f"b{i}"))) for i in (7, 8)] == [
        [],
        [],
    ]
    (second,) = loud(detector.observe(record(9, failing(*FB), tree="b9")))
    assert second.kind == "same_failure" and second.iterations == [7, 8, 9]


def test_update_applies_new_thresholds() -> None:
    detector = ThrashDetector(ThrashSpec())
    assert detector.observe(record(1, failing(*FA), tree="a1")) == []
    detector.update(ThrashSpec(same_failure=2))
    assert [s.kind for s in detector.observe(record(2, failing(*FA), tree="a2"))] == [
        "same_failure"
    ]


def test_signals_survive_the_journal_and_give_specific_hints() -> None:
    """Every kind: JSON round trip, then a corrective hint naming what repeats."""
    detector = ThrashDetector(ThrashSpec(false_done=1))
    signals = detector.observe(record(1, failing(*FA), tree="A", calls=[bash("pytest")] * 3))
    signals += detector.observe(record(2, failing(*FB), tree="B", done=True, said="done"))
    signals += detector.observe(record(3, failing(*FA), tree="A"))
    signals += detector.observe(record(4, failing(*FA), tree="A"))
    signals += detector.observe(record(5, failing(*FA), tree="A"))
    by_kind = {s.kind: parse_event(dump_event(s)) for s in signals}
    assert set(by_kind) == {"repeated_actions", "false_done", "oscillation", "same_failure"}
    hints = {kind: corrective_hint(s) for kind, s in by_kind.items()}  # type: ignore[arg-type]
    assert "`pytest` 3 times in iteration 1" in hints["repeated_actions"]
    assert "test_partial_last_page" in hints["false_done"] and "run the" in hints["false_done"]
    assert "back and forth" in hints["oscillation"]
    assert (
        "version after iteration 2: tests: test_large_total, test_partial_last_page"
        in (hints["oscillation"])
    )
    assert "Do not go back to any of these versions" in hints["oscillation"]
    assert "come back 3 times in a row (iterations 3–5)" in hints["same_failure"]
    assert "the workspace did not change" in hints["same_failure"]
    assert "test_exact_multiple" in hints["same_failure"]
    assert "do not try it again" in hints["same_failure"]
    for hint in hints.values():
        assert hint.startswith("The loop is not converging")


def test_hints_for_undone_edits_and_no_progress() -> None:
    records = [
        record(1, failing(*FA), tree="t1", patch=diff("pages.py", ORIG, A)),
        record(2, failing(*FB), tree="t2", patch=diff("pages.py", A, B)),
        record(3, failing(*FA), tree="t3", patch=diff("pages.py", B, A) + diff("N", "", "n\n")),
    ]
    hint = corrective_hint(only(observe_all(records), 3))
    assert "undid the change iteration 2 made to pages.py" in hint
    assert "return round(total / per_page)" in hint
    plateau = [record(i, failing(*(FA if i % 2 else FB)), tree=f"t{i}") for i in range(1, 7)]
    assert "no progress in 4 iterations" in corrective_hint(only(observe_all(plateau), 6))
    still = [record(i, failing(*FA), tree="same") for i in range(1, 6)]
    assert "has not changed in 4 iterations" in corrective_hint(only(observe_all(still), 5))


def test_record_from_events_takes_the_iterations_own_calls_results_and_tree() -> None:
    events = [
        ToolCall(iteration=2, call_id="c1", name="bash", input={"command": "pytest"}),
        ToolCall(iteration=1, call_id="c0", name="bash", input={"command": "ls"}),
        AgentFinished(iteration=2, claims_done=True, final_text="done"),
        ValidatorFinished(iteration=2, result=failing(*FA)),
        Decided(iteration=2, action="continue", reason="failing"),
        Checkpointed(iteration=2, commit="c" * 40, tree="f" * 40),
        ValidatorFinished(iteration=2, result=passed()),  # a re-validation afterwards
    ]
    rec = record_from_events(events, 2, patch="p")
    assert rec.tool_calls == [("bash", {"command": "pytest"})]
    assert rec.claims_done and rec.final_text == "done"
    assert [r.passed for r in rec.results] == [False]
    assert rec.tree == "f" * 40 and rec.patch == "p"


def test_nothing_is_raised_on_the_iteration_that_meets_the_goal() -> None:
    records = [record(1, failing(*FA), tree="t1", calls=[bash("pytest -q")])]
    records.append(record(2, passed(), tree="t2", calls=[bash("pytest -q")] * 4, done=True))
    assert kinds(observe_all(records)) == {}


def test_a_long_oscillation_keeps_only_the_latest_diffs() -> None:
    records = [record(1, failing(*FA), tree="A", patch=diff("p.py", "0\n", "1\n"))]
    for i in range(2, 12):
        records.append(
            record(i, failing(f"test_{i}"), tree=f"t{i}", patch=diff("p.py", "a\n", f"{i}\n"))
        )
    records.append(record(12, failing(*FA), tree="A", patch=diff("p.py", "b\n", "c\n")))
    signal = only(observe_all(records, ThrashSpec(no_progress=50)), 12)
    assert signal.kind == "oscillation" and signal.iterations == list(range(1, 13))
    patches = [c["patch"] for c in signal.evidence["cycle"]]
    assert [bool(p) for p in patches] == [False] * 6 + [True] * 6


def test_the_same_evidence_never_raises_the_same_signal_twice() -> None:
    reads = [view("pages.py")] * 3
    detector = ThrashDetector(ThrashSpec())
    (first,) = detector.observe(record(1, failing(*FA), tree="a", calls=reads))
    # A rewind forgets streaks, not what was already reported: iteration 1 run
    # again (resumed after a crash) shows nothing new; iteration 2 does.
    detector.start("a")
    assert detector.observe(record(1, failing(*FA), tree="a", calls=reads)) == []
    (again,) = detector.observe(record(2, failing(*FA), tree="a", calls=reads))
    assert again.evidence["key"] == first.evidence["key"] and again.iterations == [2]
    # A resumed run is told what its journal already holds.
    resumed = ThrashDetector(ThrashSpec())
    resumed.remember(first)
    assert resumed.observe(record(1, failing(*FA), tree="a", calls=reads)) == []


def test_a_repeat_needs_the_same_result_as_well_as_the_same_call() -> None:
    polls = [bash("make status")] * 4
    detector = ThrashDetector(ThrashSpec())
    changing = [f"ok 0\nbuilding: step {n} of 4" for n in range(4)]
    rec = record(1, failing(*FA), tree="a", calls=polls)
    rec.observations = list(changing)
    assert detector.observe(rec) == []
    rec = record(2, failing(*FA), tree="b", calls=polls)
    rec.observations = ["ok 0\nbuilding: step 4 of 4"] * 4
    (signal,) = detector.observe(rec)
    assert signal.kind == "repeated_actions" and signal.evidence["count"] == 4
    assert signal.evidence["seen"] == "building: step 4 of 4"


def test_a_raised_threshold_survives_a_reloaded_spec() -> None:
    detector = ThrashDetector(ThrashSpec())
    assert detector.raise_threshold("same_failure") == (3, 6)
    assert detector.raise_threshold("oscillation") is None
    detector.update(ThrashSpec(same_failure=4))
    assert detector.spec.same_failure == 6
    detector.update(ThrashSpec(same_failure=8))
    assert detector.spec.same_failure == 8


def test_reads_of_other_ranges_are_other_actions() -> None:
    ranges = [
        (
            "str_replace_based_edit_tool",
            {"command": "view", "path": "a.py", "view_range": [n, n + 9]},
        )
        for n in (1, 11, 21, 31)
    ]
    detector = ThrashDetector(ThrashSpec())
    rec = record(1, failing(*FA), tree="a", calls=ranges)
    rec.observations = ["ok None\nsame text"] * 4  # even if each range looked alike
    assert detector.observe(rec) == []
