"""RunHeader: loop name, run id, iteration i/max and the run's status."""

from __future__ import annotations

from textual.content import Content
from textual.widgets import Static

from tui.app.store import RunStore
from tui.app.widgets.steady import show_line

# Status word and the theme variable that colours it.
_OUTCOME_WORDS = {
    "goal_met": ("GOAL MET", "$passed"),
    "budget": ("BUDGET EXHAUSTED", "$failed"),
    "stopped": ("STOPPED", "$paused"),
    "paused": ("PAUSED FOR A HUMAN", "$paused"),
    "interrupted": ("INTERRUPTED", "$paused"),
    "error": ("ERROR", "$failed"),
}
_STATUS_WORDS = {
    "starting": ("STARTING", "$running"),
    "running": ("RUNNING", "$running"),
    "validating": ("VALIDATING", "$running"),
    "pausing": ("PAUSING…", "$paused"),
    "paused": ("PAUSED", "$paused"),
    "stopping": ("STOPPING…", "$paused"),
}


class RunHeader(Static):
    """One line at the top: ``fizzbuzz · run 2026… · iteration 3/10 · RUNNING``."""

    def show(self, store: RunStore, position: tuple[int, int] | None = None) -> None:
        """Redraw; ``position`` (shown, last) makes it a replay's header."""
        if store.finished is not None:
            word, colour = _OUTCOME_WORDS[store.finished.outcome]
        elif position is not None:
            word, colour = _replay_word(store, position)
        else:
            word, colour = _STATUS_WORDS.get(store.status, (store.status.upper(), "$running"))
        limit = store.max_iterations
        iteration = f"iteration {store.current}" + (f"/{limit}" if limit else "")
        if position is not None:
            iteration = f"replay · iteration {position[0]} of {position[1]}"
        name = store.name or "loopconsole"
        run = f"run {store.run_id}" if store.run_id else "starting"
        # What changes first; the run id (long, fixed) last: a narrow terminal cuts the end.
        facts = [iteration]
        checks = store.checks_now() if position is None else None
        if checks is not None and checks[1]:
            facts.append(f"{checks[0]}/{checks[1]} checks")
        if store.rewound_to is not None and position is None and store.finished is None:
            facts.append(f"next iteration starts from iteration {store.rewound_to}")
        facts.append(run)
        unconfined = store.started is not None and store.started.sandbox == "off"
        # The status first (and a missing sandbox right after it): a narrow
        # terminal cuts the line from the right.
        show_line(
            self,
            Content.assemble(
                (f" {word} ", f"bold reverse {colour}"),
                # [sandbox] mode = "off": the agent's commands run as the user.
                (" ⚠ NO SANDBOX ·", "bold $failed") if unconfined else "",
                (f" {name} ", "bold"),
                "· " + " · ".join(facts),
            ),
        )


_ITERATION_WORDS = {
    "running": ("CUT SHORT", "$paused"),
    "passed": ("PASSED", "$passed"),
    "failed": ("FAILED", "$failed"),
    "paused": ("PAUSED HERE", "$paused"),
    "signal": ("SIGNAL", "$signal"),
    "stopped": ("STOPPED", "$paused"),
}


def _replay_word(store: RunStore, position: tuple[int, int]) -> tuple[str, str]:
    """How the iteration shown in a replay ended (the timeline's rule), or no end recorded."""
    shown, last = position
    if shown not in store.numbers():
        return "REPLAY", "$primary"
    status = store.iteration_status(shown)
    if shown == last and status == "running":
        return "NO END RECORDED", "$paused"
    return _ITERATION_WORDS[status]
