"""The timeline's shape: one item per iteration, with the forks a rewind makes.

A rewind after iteration 3 back to iteration 1 makes iteration 4 a branch
from 1: iterations 2 and 3 are then off the live path ("abandoned"), drawn
dim, and a marker after 3 says where the loop went back to. Pure, so it is
the same for a live run and for a replay.
"""

from __future__ import annotations

from dataclasses import dataclass

from tui.engine.journal_index import IterationStatus


@dataclass(frozen=True)
class TimelineItem:
    """One iteration as the timeline draws it."""

    number: int
    status: IterationStatus
    human: bool = False  # the engineer changed the workspace after this iteration
    rewound_to: int | None = None  # after it, the workspace went back to that iteration
    abandoned: bool = False  # a later rewind went back past it
    parent: int = 0  # the iteration this one continued from (0: the start)


def build_timeline(
    rows: list[tuple[int, IterationStatus, bool, int | None]],
) -> list[TimelineItem]:
    """Items from (number, status, human, rewound_to) rows, oldest first.

    Each iteration continues from the one before it, unless a rewind came
    in between: then it continues from the rewind's target. The live path is
    the newest iteration (or where a rewind after it went back to) and its
    ancestors; everything else is abandoned.
    """
    parents: dict[int, int] = {}
    previous: tuple[int, int | None] | None = None
    for number, _status, _human, rewound_to in rows:
        if previous is None:
            parents[number] = 0
        else:
            before, went_back = previous
            parents[number] = went_back if went_back is not None else before
        previous = (number, rewound_to)
    live: set[int] = set()
    node = 0
    if rows:
        # A rewind after the newest iteration already moved the live path back.
        last, _status, _human, went_back = rows[-1]
        node = went_back if went_back is not None else last
    while node and node not in live:
        live.add(node)
        node = parents.get(node, 0)
    return [
        TimelineItem(
            number=number,
            status=status,
            human=human,
            rewound_to=rewound_to,
            abandoned=number not in live,
            parent=parents[number],
        )
        for number, status, human, rewound_to in rows
    ]
