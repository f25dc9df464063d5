"""Commands: what a human (through any console, the fleet or a script) asks of a run.

Every control is one pydantic model; :class:`tui.engine.controls.Controls`
handles them all in one place and answers each with a :class:`Reply`. The
effect of a command is announced as events, so every view, live or later
from the journal, sees it. Commands cross the socket as JSON lines, which is
why they are models with a ``type`` tag.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, TypeAdapter


class _Command(BaseModel):
    # Echoed in the reply, so a client can match replies to what it sent.
    id: str = ""


class Pause(_Command):
    """Pause at the end of the current iteration (or now, when between iterations)."""

    type: Literal["pause"] = "pause"


class Resume(_Command):
    """Carry on (hands the workspace back first during a take-over)."""

    type: Literal["resume"] = "resume"


class Step(_Command):
    """Run exactly one iteration, then pause (hands back first during a take-over)."""

    type: Literal["step"] = "step"


class Stop(_Command):
    """Stop after the current step; ``now``: cancel the agent and validators at once."""

    type: Literal["stop"] = "stop"
    now: bool = False


class Interrupt(_Command):
    """Ctrl-C: stop at once with the outcome "interrupted"."""

    type: Literal["interrupt"] = "interrupt"


class FinishGoalMet(_Command):
    """While paused: end the run with the goal met, when the required checks pass."""

    type: Literal["finish_goal_met"] = "finish_goal_met"


class SetGoal(_Command):
    """Change the goal from the next iteration on."""

    type: Literal["set_goal"] = "set_goal"
    goal: str


class AddHint(_Command):
    """A one-shot hint for the next prompt."""

    type: Literal["add_hint"] = "add_hint"
    text: str


class Drive(_Command):
    """The agent's instruction for the next iteration (one-shot)."""

    type: Literal["drive"] = "drive"
    instruction: str


class Revalidate(_Command):
    """Re-run the validators now; only while paused."""

    type: Literal["revalidate"] = "revalidate"


class Rewind(_Command):
    """Bring the workspace back to how ``iteration`` left it; only while paused."""

    type: Literal["rewind"] = "rewind"
    iteration: int


class RaiseThreshold(_Command):
    """Raise (double) a kind of thrash signal's threshold for the rest of the run."""

    type: Literal["raise_threshold"] = "raise_threshold"
    kind: str


class Recover(_Command):
    """Back to before a signal's evidence began, then resume with ``note`` as a hint."""

    type: Literal["recover"] = "recover"
    kind: str
    key: str
    note: str = ""


class ReloadSpec(_Command):
    """Read loop.toml again; valid edits apply from the next iteration."""

    type: Literal["reload_spec"] = "reload_spec"


class DismissSignal(_Command):
    """Set a thrash signal aside (its evidence ``key``), or switch its kind off."""

    type: Literal["dismiss_signal"] = "dismiss_signal"
    kind: str
    key: str = ""
    whole_kind: bool = False


class Answer(_Command):
    """Answer the agent's question (ask_human): it goes into the next prompt, then resume."""

    type: Literal["answer"] = "answer"
    text: str
    resume: bool = True


class TakeOver(_Command):
    """Hand the workspace to the human: now when paused, else after the current step."""

    type: Literal["take_over"] = "take_over"
    revalidate: bool = False  # watch mode: re-run the validators on every save


class HandBack(_Command):
    """End a take-over: checkpoint the human's changes for the next prompt."""

    type: Literal["hand_back"] = "hand_back"


class RecordChanges(_Command):
    """During a take-over (after a shell or editor): checkpoint what changed so far."""

    type: Literal["record_changes"] = "record_changes"


class Watch(_Command):
    """During a take-over: re-run the validators on every save, or stop doing so."""

    type: Literal["watch"] = "watch"
    revalidate: bool


class ListFiles(_Command):
    """During a take-over: the workspace's files (a console on another machine picks one)."""

    type: Literal["list_files"] = "list_files"


class ReadFile(_Command):
    """During a take-over: a workspace file's text, for a human's editor on another machine.

    Refused for a path the agent's editor may not write either (protected,
    ``.git/``, outside the workspace). The reply's data: ``text``, ``exists``
    and ``sha`` (what WriteFile expects back).
    """

    type: Literal["read_file"] = "read_file"
    path: str


class WriteFile(_Command):
    """During a take-over: the human's edit of a workspace file, from another machine.

    ``expected``: the ``sha`` ReadFile gave ("" for a new file), so an edit
    made meanwhile (another console, a shell) is never overwritten.
    """

    type: Literal["write_file"] = "write_file"
    path: str
    text: str
    expected: str = ""


Command = Annotated[
    Pause
    | Resume
    | Step
    | Stop
    | Interrupt
    | FinishGoalMet
    | SetGoal
    | AddHint
    | Drive
    | Revalidate
    | Rewind
    | DismissSignal
    | ReloadSpec
    | RaiseThreshold
    | Recover
    | Answer
    | TakeOver
    | HandBack
    | RecordChanges
    | Watch
    | ListFiles
    | ReadFile
    | WriteFile,
    Field(discriminator="type"),
]

COMMAND_ADAPTER: TypeAdapter[Command] = TypeAdapter(Command)


class Reply(BaseModel):
    """The engine's answer to one command: done, or refused with the reason."""

    type: Literal["reply"] = "reply"
    id: str = ""
    ok: bool = True
    message: str = ""  # one sentence for the human when refused (or worth saying)
    data: dict[str, Any] = {}


def refused(message: str) -> Reply:
    """A command the engine cannot apply now; ``message`` says why and what to do."""
    return Reply(ok=False, message=message)


def parse_command(line: str | bytes) -> Command:
    """One JSON line to a command (raises pydantic.ValidationError)."""
    return COMMAND_ADAPTER.validate_json(line)
