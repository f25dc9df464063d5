"""The loop spec: ``loop.toml`` read into pydantic models.

The keys and their meanings are a contract (see DESIGN.md). Every mistake a
user can make in the file becomes a :class:`SpecError` whose messages name the
file and the key, so the command line can print them and exit 2.
"""

from __future__ import annotations

import difflib
import tomllib
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

Backend = Literal["anthropic", "command", "scripted"]
ThrashAction = Literal["pause", "hint", "stop", "ignore"]
OutputFormat = Literal["text", "claude-stream-json", "codex-json"]

DEFAULT_MODEL = "claude-sonnet-5-5"

PositiveInt = Annotated[int, Field(gt=0)]
PositiveFloat = Annotated[float, Field(gt=0)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=False)


class AgentSpec(_Strict):
    """Which agent drives the loop and how."""

    backend: Backend = "anthropic"
    model: str = DEFAULT_MODEL
    max_turns: PositiveInt = 30
    # anthropic
    base_url: str | None = None
    max_tokens: PositiveInt = 16_000
    thinking_budget: PositiveInt | None = None
    effort: Literal["low", "medium", "high", "max"] | None = None
    system: str | None = None
    # scripted
    script: Path | None = None
    # command
    command: str | None = None
    format: OutputFormat = "text"
    timeout_s: PositiveFloat = 1800.0
    # tools
    tool_timeout_s: PositiveFloat = 120.0
    # command: run the agent CLI in the sandbox too (network on: it calls its API)
    sandbox: bool = False


class ValidatorSpec(_Strict):
    """A check the agent does not control, run in the workspace."""

    name: str = Field(min_length=1)
    run: str = Field(min_length=1)
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
    e.g. ``actions = { no_progress = "hint" }``.
    """

    action: ThrashAction = "pause"
    actions: dict[SignalKind, ThrashAction] = {}
    same_failure: AtLeastTwo = 3
    repeated_actions: AtLeastTwo = 3
    no_progress: PositiveInt = 4
    false_done: PositiveInt = 2
    oscillation: bool = True
    edit_undone: bool = True

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

    name: str = Field(min_length=1)
    goal: str = Field(min_length=1)
    workspace: Path = Path(".")
    copy_workspace: bool = False
    agent: AgentSpec = AgentSpec()
    validators: list[ValidatorSpec] = []
    budget: BudgetSpec = BudgetSpec()
    thrash: ThrashSpec = ThrashSpec()
    memory: MemorySpec = MemorySpec()
    checkpoints: CheckpointSpec = CheckpointSpec()
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


class SpecError(Exception):
    """A spec the user must fix; ``messages`` are one line each."""

    def __init__(self, path: Path, messages: list[str]) -> None:
        self.path = path
        self.messages = messages
        super().__init__("\n".join(messages))


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


def _describe(err: dict[str, Any]) -> str:
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
    msg = err["msg"]
    got = err.get("input")
    shown = f", got {got!r}" if not isinstance(got, dict | list) else ""
    return f"{_key_name(loc)}: {msg[0].lower() + msg[1:]}{shown}"


def parse_spec(data: dict[str, Any], path: Path) -> LoopSpec:
    """Validate already-parsed TOML data; raise SpecError with readable lines."""
    try:
        spec = LoopSpec.model_validate(data)
    except ValidationError as exc:
        lines = [f"{path}: {_describe(e)}" for e in exc.errors()]
        raise SpecError(path, lines) from None
    spec.path = path.resolve()
    folder = spec.path.parent
    spec.workspace = (folder / spec.workspace).resolve()
    if spec.agent.script is not None:
        spec.agent.script = (folder / spec.agent.script).resolve()
    problems: list[str] = []
    if not spec.workspace.exists():
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
    try:
        raw = file.read_bytes()
    except FileNotFoundError:
        raise SpecError(file, [f"{file}: no such file; pass a loop.toml or its folder"]) from None
    except OSError as exc:
        raise SpecError(file, [f"{file}: cannot be read ({exc.strerror})"]) from None
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise SpecError(file, [f"{file}: is not UTF-8 text"]) from None
    except tomllib.TOMLDecodeError as exc:
        raise SpecError(file, [f"{file}: TOML syntax error: {exc}"]) from None
    return parse_spec(data, file)


def spec_from_text(text: str, path: Path) -> LoopSpec:
    """Validate spec text as if it were the file at ``path`` (hot reload, resume)."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise SpecError(path, [f"{path}: TOML syntax error: {exc}"]) from None
    return parse_spec(data, path)
