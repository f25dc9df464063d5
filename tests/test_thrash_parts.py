"""The parts thrash detection stands on: failure fingerprints, diff blocks, tool-call repeats."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.thrash_helpers import bash, diff, failing, replace, view
from tui.engine.fingerprint import failure_excerpt, fingerprint, normalize
from tui.engine.hunks import change_blocks
from tui.engine.toolcalls import CallHistory, call_key, classify
from tui.events import ValidatorResult


def _result(output: str, **kw: object) -> ValidatorResult:
    fields: dict = {"name": "check", "command": "python check.py", "passed": False}
    fields.update(kw)
    return ValidatorResult(output=output, **fields)


def test_normalize_strips_what_changes_between_runs_of_the_same_failure() -> None:
    a = "ValueError: bad id 4521 at 0x7f3a2b10 in /tmp/pytest-of-u/pytest-12/x.py after 0.53s"
    b = "ValueError: bad id 17 at 0x55d0c0 in /tmp/pytest-of-u/pytest-99/x.py after 12ms"
    assert normalize(a) == normalize(b)
    assert normalize(a) == "ValueError: bad id N at <addr> in <tmp> after <time>"
    run_path = "/home/me/p/.loopconsole/runs/20261121-101500-demo/workspace/a.py"
    assert normalize(f"File {run_path}, line 3") == "File <tmp>, line N"
    assert normalize("commit 3f9a2c1d2e") == "commit <hex>"
    assert normalize("expected 'Fizz'") != normalize("expected 'Buzz'")


def test_fingerprint_of_a_real_unittest_run(tmp_path: Path) -> None:
    (tmp_path / "test_a.py").write_text(
        "import unittest\n"
        "class T(unittest.TestCase):\n"
        "    def test_one(self): self.assertEqual(1, 2)\n"
        "    def test_two(self): raise ValueError('bad value 0x7f3a at /tmp/q/r.py')\n"
        "    def test_three(self): pass\n"
    )
    out = subprocess.run(
        [sys.executable, "-B", "-m", "unittest", "-v"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    fp = fingerprint([_result(out.stdout + out.stderr, name="tests", exit_code=1)])
    assert fp is not None
    (failure,) = fp.failures
    assert failure.check_ids == ("test_a.T.test_one", "test_a.T.test_two")
    # unittest lists errors first: the first error is the ValueError.
    assert failure.error_type == "ValueError"
    assert failure.message == "bad value 0x7f3a at /tmp/q/r.py"
    assert fp.failing_checks == 2
    assert "tests: test_one, test_two: ValueError: bad value" in fp.summary()
    assert failure_excerpt([_result(out.stderr)]).startswith("[check] ")


def test_fingerprint_uses_structured_ids_and_pytest_error_lines() -> None:
    output = (
        "    def test_x():\n>       assert f(3) == 4\nE       AssertionError: assert 5 == 4\n"
        "E        +  where 5 = f(3)\n\nFAILED tests/test_f.py::test_x - AssertionError\n"
    )
    r = _result(output, failing_ids=["tests/test_f.py::test_x"], tests_passed=2, tests_failed=1)
    (failure,) = fingerprint([r]).failures  # type: ignore[union-attr]
    assert failure.check_ids == ("tests/test_f.py::test_x",)
    assert (failure.error_type, failure.message) == ("AssertionError", "assert 5 == 4")
    bare = _result("E       assert 'a' == 'b'\n")
    assert fingerprint([bare]).failures[0].message == "assert 'a' == 'b'"  # type: ignore[union-attr]


def test_fingerprint_of_a_plain_check_script_counts_its_error_lines() -> None:
    first = _result("checking slugs\nslug('A B') = 'a b', expected 'a-b'\nslug('É') failed\n")
    later = _result("checking slugs\nslug('É') failed\n")
    a, b = fingerprint([first]), fingerprint([later])
    assert a is not None and b is not None and a != b
    assert a.failing_checks == 2 and b.failing_checks == 1
    assert a.failures[0].message == "slug('A B') = 'a b', expected 'a-b'"
    assert a.summary() == "check: slug('A B') = 'a b', expected 'a-b' (+1 more failing line)"
    # The same lines with other numbers are the same failure.
    assert fingerprint([_result("case 3 failed\n")]) == fingerprint([_result("case 4 failed\n")])


def test_fingerprint_of_timeouts_passes_and_several_validators() -> None:
    hung = _result("partial output 123", timed_out=True, reason="timed out after 5 s")
    assert fingerprint([hung]).failures[0].error_type == "timeout"  # type: ignore[union-attr]
    ok = ValidatorResult(name="t", command="c", passed=True, output="fine")
    assert fingerprint([ok]) is None
    two = fingerprint([failing("test_a"), failing("lint_x", name="lint", required=False)])
    assert two is not None and [f.validator for f in two.failures] == ["tests", "lint"]
    assert (
        len(two.digest) == 12
        and two.digest
        == fingerprint([failing("test_a"), failing("lint_x", name="lint", required=False)]).digest
    )  # type: ignore[union-attr]


def test_change_blocks_of_a_git_diff_with_several_files_and_hunks() -> None:
    before = "a\nb\nc\nd\ne\nf\ng\nh\ni\nj\n"
    after = "a\nB\nc\nd\ne\nf\ng\nh\nI\nj\nk\n"
    patch = diff("x.py", before, after) + diff("new.txt", "", "hello\n")
    patch += "diff --git a/old.txt b/old.txt\n--- a/old.txt\n+++ /dev/null\n@@ -1 +0,0 @@\n-bye\n"
    blocks = change_blocks(patch)
    assert [(b.path, b.removed, b.added) for b in blocks] == [
        ("x.py", ("b",), ("B",)),
        ("x.py", ("i",), ("I",)),
        ("x.py", (), ("k",)),
        ("new.txt", (), ("hello",)),
        ("old.txt", ("bye",), ()),
    ]


def test_a_removed_line_that_looks_like_a_header_stays_in_its_hunk() -> None:
    patch = "--- a/x.md\n+++ b/x.md\n@@ -1,2 +1,2 @@\n--- title\n+++ title\n ok\n"
    (block,) = change_blocks(patch)
    assert (block.path, block.removed, block.added) == ("x.md", ("-- title",), ("++ title",))


def test_undoes_only_a_replacement_put_back() -> None:
    forth = change_blocks(diff("p.py", "x = 1\n", "x = 2\n"))[0]
    back = change_blocks(diff("p.py", "x = 2\n", "x = 1\n"))[0]
    elsewhere = change_blocks(diff("q.py", "x = 2\n", "x = 1\n"))[0]
    assert back.undoes(forth) and forth.undoes(back) and not elsewhere.undoes(forth)
    added = change_blocks(diff("p.py", "x = 1\n", "x = 1\nprint(x)\n"))[0]
    removed = change_blocks(diff("p.py", "x = 1\nprint(x)\n", "x = 1\n"))[0]
    assert not removed.undoes(added) and not added.undoes(removed)


def test_classify_calls_of_every_backend() -> None:
    assert classify(*view("a.py")) == "read"
    assert classify(*replace("a.py", "x", "y")) == "edit"
    assert classify(*bash("pytest")) == "run"
    assert classify("memory", {"command": "view", "path": "/memories"}) == "read"
    assert classify("memory", {"command": "create", "path": "/memories/n"}) == "note"
    assert [classify(n, {}) for n in ("Read", "Grep", "Edit", "Write", "Bash", "TodoWrite")] == [
        "read",
        "read",
        "edit",
        "edit",
        "run",
        "note",
    ]
    assert classify("file_change", {"changes": []}) == "edit"
    assert classify("command", {"command": "ls"}) == "run"


def test_call_keys_ignore_spacing_of_commands_and_paths_but_not_code() -> None:
    assert call_key(*bash("pytest   -q")) == call_key(*bash(" pytest -q"))
    assert call_key(*view("./src/a.py")) == call_key(*view("src/a.py"))
    assert call_key(*replace("a.py", "x  = 1", "y")) != call_key(*replace("a.py", "x = 1", "y"))


def test_call_history_counts_edits_over_the_run_and_reads_within_a_span() -> None:
    calls = CallHistory(threshold=3)
    same = replace("a.py", "x", "y")
    assert calls.add(1, [same, bash("t")]) == []
    assert calls.add(2, [same]) == []
    (repeat,) = calls.add(3, [view("a.py"), same])
    assert (repeat.scope, repeat.count, repeat.iterations) == ("run", 3, [1, 2, 3])
    assert calls.add(4, [same, same]) == []
    assert [r.count for r in calls.add(5, [same])] == [6]
    # Notes are not the workspace: writing the same note is not counted.
    note = ("memory", {"command": "create", "path": "/memories/p.md", "file_text": "plan"})
    assert calls.add(6, [note] * 4) == []
    # An edit between reads makes the next read a fresh look.
    assert calls.add(7, [view("a.py"), view("a.py"), replace("a.py", "1", "2"), view("a.py")]) == []
    (read,) = calls.add(8, [view("a.py")] * 4)
    assert (read.scope, read.count, read.iterations) == ("iteration", 4, [8])
