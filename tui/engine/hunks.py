"""Change blocks of unified diffs, and whether a later change undoes an earlier one.

A change block is one run of removed and added lines inside a hunk, between
context lines: the smallest unit of "this text became that text". A later
block undoes an earlier one when, in the same file, it turns the earlier
block's new text back into its old text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_HUNK = re.compile(r"^@@ -\d+(?:,(\d+))? \+\d+(?:,(\d+))? @@")


@dataclass(frozen=True)
class ChangeBlock:
    """Lines ``removed`` from ``path`` replaced by lines ``added``."""

    path: str
    removed: tuple[str, ...]
    added: tuple[str, ...]

    def undoes(self, earlier: ChangeBlock) -> bool:
        """Whether this block puts back what ``earlier`` replaced.

        Only replacements count: taking out lines that an earlier change added
        (a debug print) or re-adding deleted lines is ordinary tidying.
        """
        return (
            self.path == earlier.path
            and bool(self.removed)
            and bool(self.added)
            and self.removed == earlier.added
            and self.added == earlier.removed
        )

    @property
    def size(self) -> int:
        """Lines removed plus lines added."""
        return len(self.removed) + len(self.added)

    def as_text(self) -> str:
        """The block as diff lines, for evidence."""
        lines = [f"--- {self.path}"]
        lines += [f"-{line}" for line in self.removed]
        lines += [f"+{line}" for line in self.added]
        return "\n".join(lines)


def _path(header: str) -> str | None:
    name = header[4:].split("\t", 1)[0].strip()
    if name == "/dev/null":
        return None
    return name[2:] if name[:2] in ("a/", "b/") else name


def _hunk_sizes(header: str) -> tuple[int, int]:
    """(old, new) line counts from ``@@ -a,b +c,d @@`` (a missing count means 1)."""
    match = _HUNK.match(header)
    if match is None:
        return 0, 0
    old, new = match.group(1), match.group(2)
    return (1 if old is None else int(old)), (1 if new is None else int(new))


def change_blocks(patch: str) -> list[ChangeBlock]:
    """The change blocks of a unified diff (``git diff`` or ``diff -u`` output)."""
    blocks: list[ChangeBlock] = []
    path = old_path = ""
    removed: list[str] = []
    added: list[str] = []
    old_left = new_left = 0  # lines of the current hunk still to come

    def close() -> None:
        if removed or added:
            blocks.append(ChangeBlock(path, tuple(removed), tuple(added)))
        removed.clear()
        added.clear()

    for line in patch.splitlines():
        if old_left > 0 or new_left > 0:
            if line.startswith("\\"):
                continue  # "\ No newline at end of file"
            if line.startswith("-"):
                if added:  # a "-" after "+" starts a new block
                    close()
                removed.append(line[1:].rstrip())
                old_left -= 1
            elif line.startswith("+"):
                added.append(line[1:].rstrip())
                new_left -= 1
            else:
                close()
                old_left -= 1
                new_left -= 1
            continue
        close()
        if line.startswith("--- "):
            old_path = _path(line) or ""
        elif line.startswith("+++ "):
            path = _path(line) or old_path
        elif line.startswith("@@"):
            old_left, new_left = _hunk_sizes(line)
    close()
    return blocks
