"""The loop spec: ``loop.toml`` read into pydantic models.

The keys and their meanings are a contract (see DESIGN.md). Every mistake a
user can make in the file becomes a :class:`SpecError` whose messages name the
file and the key, so the command line can print them and exit 2.
"""

from __future__ import annotations

import difflib
import os
import stat
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from tui.errors import UserError

Backend = Literal["anthropic", "command", "scripted"]
ThrashAction = Literal["pause", "hint", "stop", "ignore", "recover"]
OutputFormat = Literal["text", "claude-stream-json", "codex-json"]

DEFAULT_MODEL = "claude-sonnet-5-5"

PositiveInt = Annotated[int, Field(gt=0)]
PositiveFloat = Annotated[float, Field(gt=0)]
# Paths are written as strings in TOML; strict mode would want Path objects.
SpecPath = Annotated[Path, Field(strict=False)]

# A name becomes a folder name and is printed to terminals.
NAME_MAX_CHARS = 100
# A spec is a short text file; anything bigger is a mistake (or /dev/zero).
SPEC_MAX_BYTES = 1024 * 1024


def _unsafe_character(text: str) -> str | None:
    """The first character that must not reach a terminal or a file name, described."""
    for ch in text:
        if ord(ch) < 32 or 0x7F <= ord(ch) < 0xA0 or ch in "\u2028\u2029":
            return "a NUL byte" if ch == "\0" else f"a control character ({ch!r})"
    return None


def _printable(value: str) -> str:
    """A label shown in terminals: short, and no control characters or escapes."""
    if len(value) > NAME_MAX_CHARS:
        raise ValueError(f"is {len(value)} characters long; keep it to {NAME_MAX_CHARS}")
    bad = _unsafe_character(value)
    if bad:
        raise ValueError(f"contains {bad}; use letters, digits, '-', '_' and spaces")
    return value


def _safe_name(value: str) -> str:
    """A label that also names a folder: no separators, no '..'."""
    _printable(value)
    if "/" in value or "\\" in value or ".." in value:
        raise ValueError("may not contain '/', '\\' or '..' (it names the run folder)")
    if not value.strip():
        raise ValueError("is blank; give it a short name")
    return value


def _not_blank(value: str) -> str:
    if not value.strip():
        raise ValueError("is blank; write the command to run")
    return value


SafeName = Annotated[str, Field(min_length=1), AfterValidator(_safe_name)]
Label = Annotated[str, Field(min_length=1), AfterValidator(_printable)]
Command = Annotated[str, Field(min_length=1), AfterValidator(_not_blank)]


class _Strict(BaseModel):
    # strict: "2" is not 2 and "false" is not False; no infinities or NaN.
    model_config = ConfigDict(extra="forbid", frozen=False, strict=True, allow_inf_nan=False)


class AgentSpec(_Strict):
    """Which agent drives the loop and how."""

    backend: Backend = "anthropic"
    model: Annotated[str, Field(min_length=1)] = DEFAULT_MODEL
    max_turns: PositiveInt = 30
    # anthropic
    base_url: str | None = None
    max_tokens: PositiveInt = 16_000
    thinking_budget: PositiveInt | None = None
    effort: Literal["low", "medium", "high", "max"] | None = None
    system: str | None = None
    request_timeout_s: PositiveFloat = 600.0  # one model turn, start to end
    # scripted
    script: SpecPath | None = None
    # command
    command: Command | None = None
    format: OutputFormat = "text"
    timeout_s: PositiveFloat = 1800.0
    # tools
    tool_timeout_s: PositiveFloat = 120.0
    # command: run the agent CLI in the sandbox too (network on: it calls its API)
    sandbox: bool = False


class ValidatorSpec(_Strict):
    """A check the agent does not control, run in the workspace."""

    name: Label
    run: Command
    timeout_s: PositiveFloat = 120.0
    required: bool = True
    output_cap_bytes: PositiveInt = 200_000


class BudgetSpec(_Strict):
    """Hard limits; the run stops with outcome "budget" naming the one reached."""

    max_iterations: PositiveInt = 10
    max_tokens: PositiveInt | None = None
    max_cost_usd: PositiveFloat | None = None
    max_wall_s: PositiveFloat | None = None


SignalKind = Literal[
    "same_failure",
    "oscillation",
    "edit_undone",
    "no_progress",
    "repeated_actions",
    "false_done",
    "tamper",
]
AtLeastTwo = Annotated[int, Field(ge=2)]


class ThrashSpec(_Strict):
    """What to do when the loop shows signs of not converging.

    ``action`` applies to every signal; ``actions`` overrides it per kind,
    e.g. ``actions = { no_progress = "hint" }``. ``"recover"`` rewinds to
    before the evidence began and goes on with a corrective note, at most
    ``recoveries`` times in a run; the next signal after that pauses.
    """

    action: ThrashAction = "pause"
    actions: dict[SignalKind, ThrashAction] = {}
    same_failure: AtLeastTwo = 3
    repeated_actions: AtLeastTwo = 3
    no_progress: PositiveInt = 4
    false_done: PositiveInt = 2
    oscillation: bool = True
    edit_undone: bool = True
    recoveries: Annotated[int, Field(ge=0)] = 2

    def action_for(self, kind: str) -> ThrashAction:
        return self.actions.get(kind, self.action)  # type: ignore[call-overload]


class MemorySpec(_Strict):
    """What the prompt carries from one iteration to the next."""

    summaries: Annotated[int, Field(ge=0)] = 3
    max_note_chars: PositiveInt = 4_000
    failure_chars: PositiveInt = 4_000


class CheckpointSpec(_Strict):
    """How the workspace is checkpointed after every iteration."""

    # Files bigger than this (in MB, 1 MB = 1,048,576 bytes) are recorded in a
    # checkpoint by size and SHA-256 only, never stored; a restore leaves them alone.
    max_file_mb: PositiveFloat = 5.0

    @property
    def max_file_bytes(self) -> int:
        return int(self.max_file_mb * 1024 * 1024)


class NotifySpec(_Strict):
    """A command run when the loop starts needing a human, or finishes.

    It gets LOOPCONSOLE_EVENT (needs_you, finished), LOOPCONSOLE_RUN_ID,
    LOOPCONSOLE_NAME, LOOPCONSOLE_REASON and LOOPCONSOLE_RUN_DIR in its
    environment. The user's config.toml may hold one for every run.
    """

    command: str = ""


class Price(_Strict):
    """USD per million tokens."""

    input: Annotated[float, Field(ge=0)]
    output: Annotated[float, Field(ge=0)]
    cache_write: Annotated[float, Field(ge=0)] | None = None
    cache_read: Annotated[float, Field(ge=0)] | None = None


class SandboxSpec(_Strict):
    """How commands (bash tool, validators) are confined; see tui/sandbox.py."""

    mode: Literal["bwrap", "off"] = "bwrap"
    network: bool = False
    # More folders commands may read (HOME is private): a tool cache, a venv; ~ expands.
    readable: list[str] = []


class ProtectSpec(_Strict):
    """Globs (relative to the workspace) the agent may not change."""

    paths: list[str] = []


class EnvSpec(_Strict):
    """What children see of the environment: an allow-list, and what is redacted."""

    # Variables passed through from the user's environment by name.
    pass_: list[str] = Field(default=[], alias="pass")
    # Variables set for every child.
    set: dict[str, str] = {}
    # More names whose values are redacted from everything recorded or shown.
    redact: list[str] = []

    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class LoopSpec(_Strict):
    """A whole ``loop.toml``. Paths are absolute once loaded."""

    name: SafeName
    goal: str = Field(min_length=1)
    workspace: SpecPath = Path(".")
    copy_workspace: bool = False
    agent: AgentSpec = AgentSpec()
    validators: list[ValidatorSpec] = []
    budget: BudgetSpec = BudgetSpec()
    thrash: ThrashSpec = ThrashSpec()
    memory: MemorySpec = MemorySpec()
    checkpoints: CheckpointSpec = CheckpointSpec()
    notify: NotifySpec = NotifySpec()
    prices: dict[str, Price] = {}
    sandbox: SandboxSpec = SandboxSpec()
    protect: ProtectSpec = ProtectSpec()
    env: EnvSpec = EnvSpec()
    # Set by the loader, not by the file.
    path: Path | None = Field(default=None, exclude=True)

    @model_validator(mode="after")
    def _backend_needs(self) -> LoopSpec:
        if self.agent.backend == "scripted" and self.agent.script is None:
            raise ValueError("agent.script: the scripted backend needs a script file")
        if self.agent.backend == "command" and not self.agent.command:
            raise ValueError("agent.command: the command backend needs a command to run")
        names = [v.name for v in self.validators]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"validators: names must be unique, repeated: {', '.join(dupes)}")
        return self

    @property
    def folder(self) -> Path:
        return self.path.parent if self.path else Path.cwd()

    @field_validator("goal")
    @classmethod
    def _goal_has_words(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("is blank; say what the loop should achieve")
        return value


class SpecError(Exception):
    """A spec the user must fix; ``messages`` are one line each."""

    def __init__(self, path: Path, messages: list[str]) -> None:
        self.path = path
        self.messages = messages
        super().__init__("\n".join(messages))


class AgentConfigError(UserError):
    """The run cannot start as configured: its agent (no API key, CLI not found)
    or its sandbox (bwrap cannot start here).

    Reported before the run starts; the command line exits 2. Defined with the
    spec, below the agents and the sandbox, so both raise it
    (``tui.agents.base`` offers it to the agents).
    """


def _known_keys(model: type[BaseModel]) -> list[str]:
    return [f.alias or name for name, f in model.model_fields.items() if not f.exclude]


def _model_at(loc: tuple[Any, ...]) -> type[BaseModel] | None:
    """The model whose fields live at ``loc`` (used for did-you-mean)."""
    model: type[BaseModel] = LoopSpec
    for part in loc:
        if isinstance(part, int):
            continue
        field = model.model_fields.get(str(part))
        if field is None:
            return None
        ann = field.annotation
        inner = getattr(ann, "__args__", None)
        candidates = [ann, *(inner or ())]
        nxt = next(
            (c for c in candidates if isinstance(c, type) and issubclass(c, BaseModel)), None
        )
        if nxt is None:
            return None
        model = nxt
    return model


def _key_name(loc: tuple[Any, ...]) -> str:
    parts: list[str] = []
    for part in loc:
        if isinstance(part, int):
            parts[-1] = f"{parts[-1]}[{part + 1}]" if parts else f"[{part + 1}]"
        else:
            parts.append(str(part))
    return ".".join(parts) or "(top level)"


_TYPE_WORDS = {
    "int_type": "a whole number",
    "float_type": "a number",
    "bool_type": "true or false",
}


def _describe(err: Mapping[str, Any]) -> str:
    loc = tuple(p for p in err["loc"] if p not in ("function-after[_backend_needs()]",))
    kind = err["type"]
    if kind == "extra_forbidden":
        key = str(loc[-1])
        parent = _model_at(loc[:-1])
        hint = ""
        if parent is not None:
            close = difflib.get_close_matches(key, _known_keys(parent), n=1, cutoff=0.6)
            if close:
                hint = f" (did you mean {close[0]!r}?)"
        where = _key_name(loc)
        return f"{where}: unknown key{hint}"
    if kind == "missing":
        return f"{_key_name(loc)}: missing, this key is required"
    if kind == "value_error":
        msg = str(err.get("ctx", {}).get("error", err["msg"]))
        return msg if not loc else f"{_key_name(loc)}: {msg}"
    if kind == "literal_error":
        expected = err.get("ctx", {}).get("expected", "")
        return f"{_key_name(loc)}: {err['input']!r} is not one of {expected}"
    if kind in ("greater_than", "greater_than_equal"):
        return f"{_key_name(loc)}: must be {err['msg'].split('be ', 1)[-1]}, got {err['input']!r}"
    got = err.get("input")
    if kind in _TYPE_WORDS and isinstance(got, str):
        return f"{_key_name(loc)}: {got!r} is text; write {_TYPE_WORDS[kind]} without quotes"
    msg = err["msg"]
    shown = f", got {got!r}" if not isinstance(got, dict | list) else ""
    return f"{_key_name(loc)}: {msg[0].lower() + msg[1:]}{shown}"


def parse_spec(data: dict[str, Any], path: Path) -> LoopSpec:
    """Validate already-parsed TOML data; raise SpecError with readable lines."""
    internal = [k for k, f in LoopSpec.model_fields.items() if f.exclude and k in data]
    if internal:
        raise SpecError(path, [f"{path}: {k}: unknown key (set by loopconsole)" for k in internal])
    try:
        spec = LoopSpec.model_validate(data)
    except ValidationError as exc:
        lines = [f"{path}: {_describe(dict(e))}" for e in exc.errors()]
        raise SpecError(path, lines) from None
    spec.path = path.resolve()
    folder = spec.path.parent
    spec.workspace = (folder / spec.workspace).resolve()
    if spec.agent.script is not None:
        spec.agent.script = (folder / spec.agent.script).resolve()
    problems: list[str] = []
    if spec.workspace == Path(spec.workspace.anchor):
        problems.append(
            f"{path}: workspace: {spec.workspace} is the whole file system; "
            "point it at the project folder the loop works in"
        )
    elif not spec.workspace.exists():
        problems.append(f"{path}: workspace: {spec.workspace} does not exist")
    elif not spec.workspace.is_dir():
        problems.append(f"{path}: workspace: {spec.workspace} is not a directory")
    if spec.agent.script is not None and not spec.agent.script.is_file():
        problems.append(f"{path}: agent.script: {spec.agent.script} is not a file")
    if problems:
        raise SpecError(path, problems)
    return spec


def spec_path(path: Path) -> Path:
    """Accept a folder holding loop.toml or the file itself."""
    return path / "loop.toml" if path.is_dir() else path


def load_spec(path: Path | str) -> LoopSpec:
    """Read and validate a spec file (or a folder holding ``loop.toml``)."""
    file = spec_path(Path(path))
    raw = _read_spec_file(file)
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise SpecError(file, [f"{file}: is not UTF-8 text"]) from None
    except tomllib.TOMLDecodeError as exc:
        raise SpecError(file, [f"{file}: TOML syntax error: {exc}"]) from None
    return parse_spec(data, file)


def _read_spec_file(file: Path) -> bytes:
    """The bytes of a spec file: a regular file of at most SPEC_MAX_BYTES.

    A FIFO would block forever and /dev/zero never ends, so only regular
    files are opened, without blocking, and never read past the limit.
    """
    try:
        fd = os.open(file, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        raise SpecError(file, [f"{file}: no such file; pass a loop.toml or its folder"]) from None
    except ValueError:
        raise SpecError(file, [f"{file!r}: the path contains a NUL byte"]) from None
    except OSError as exc:
        raise SpecError(file, [f"{file}: cannot be read ({exc.strerror})"]) from None
    with os.fdopen(fd, "rb") as f:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            raise SpecError(
                file, [f"{file}: is not a regular file (a FIFO or device?); pass a loop.toml"]
            )
        try:
            raw = f.read(SPEC_MAX_BYTES + 1)
        except OSError as exc:
            raise SpecError(file, [f"{file}: cannot be read ({exc.strerror})"]) from None
    if len(raw) > SPEC_MAX_BYTES:
        raise SpecError(
            file,
            [f"{file}: is larger than {SPEC_MAX_BYTES // 1024} KiB; is it really a loop.toml?"],
        )
    return raw


def read_spec_text(file: Path) -> str:
    """A spec file's text, read as :func:`load_spec` reads it (bounded, never blocking).

    Raises SpecError with one line when it is not a readable UTF-8 regular file.
    """
    try:
        return _read_spec_file(file).decode("utf-8")
    except UnicodeDecodeError:
        raise SpecError(file, [f"{file}: is not UTF-8 text"]) from None


def spec_from_text(text: str, path: Path) -> LoopSpec:
    """Validate spec text as if it were the file at ``path`` (hot reload, resume)."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise SpecError(path, [f"{path}: TOML syntax error: {exc}"]) from None
    return parse_spec(data, path)
