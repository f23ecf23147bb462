"""The kernel's configuration: one typed value, from the command line to the kernel process.

`KernelConfig` holds every setting of one notebook run (timeouts, the output limit, resource
limits, threads). The command line takes its defaults from it, the batch carries it unchanged, the
reuse key digests it, and it reaches the sandboxed kernel inside a `KernelSetup`: serialised once
by the grader (`KernelSetup.to_json`) and parsed strictly on the kernel's side (`from_json`), where
a missing or unknown key is an error, never a silent default.

Both are frozen and checked when made, so a bad value is refused where it is given, with a message
that names the parameter, the value and what is allowed. Nothing here imports the rest of the
grader: the launcher and the kernel read this module inside the sandbox.
"""
from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass


class ConfigError(ValueError):
    """A configuration value that is not allowed (a ValueError, so callers may catch either)."""


def _fail(owner: str, name: str, allowed: str, value) -> None:
    raise ConfigError(f"The {name!r} parameter of {owner} must be {allowed}. Got {value!r} instead.")


def _positive_number(owner: str, name: str, value) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
        _fail(owner, name, "a positive number of seconds", value)


def _positive_int(owner: str, name: str, value, allowed: str = "a positive int") -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        _fail(owner, name, allowed, value)


def _strings(owner: str, name: str, value) -> None:
    if not isinstance(value, tuple) or not all(isinstance(item, str) for item in value):
        _fail(owner, name, "a tuple of str", value)


def _fields(cls) -> list[str]:
    return [f.name for f in dataclasses.fields(cls)]


def _check_keys(cls, data) -> None:
    """`data` has exactly the keys of `cls`'s fields (a strict parse: nothing guessed)."""
    if not isinstance(data, dict):
        raise ConfigError(f"{cls.__name__} must be read from a JSON object. Got {type(data).__name__} instead.")
    names = _fields(cls)
    unknown = sorted(set(data) - set(names))
    missing = [name for name in names if name not in data]
    if unknown or missing:
        problems = ([f"unknown key(s) {', '.join(map(repr, unknown))}"] if unknown else []) + \
                   ([f"missing key(s) {', '.join(map(repr, missing))}"] if missing else [])
        raise ConfigError(f"{cls.__name__} read with {' and '.join(problems)}; the keys are "
                          f"{', '.join(map(repr, names))} (was the kernel started by another version of the grader?)")


@dataclass(frozen=True)
class KernelConfig:
    """Every setting of one notebook run; the command line's defaults are these.

    Parameters
    ----------
    cell_timeout : float
        Seconds one cell may run before the kernel is interrupted.
    notebook_timeout : float
        Seconds the whole notebook may run; cells that would start later do not run.
    start_timeout : float
        Seconds the kernel may take to start.
    output_limit_bytes : int
        Output kept per notebook (the student's cells and the grader's cells each have this much).
    memory_bytes : int
        Address-space limit of the kernel process.
    cpu_seconds : int
        CPU time the kernel may use.
    file_bytes : int
        Largest file the kernel may write.
    processes : int
        Processes the sandbox user may have at once.
    threads : int or None
        BLAS / OpenMP / torch threads in the kernel; None: one share of the cores (the batch
        gives each worker cores / workers; a single run uses 1). Not part of the reuse key.
    """

    cell_timeout: float = 120.0
    notebook_timeout: float = 600.0
    start_timeout: float = 60.0
    output_limit_bytes: int = 2 * 1024**2
    memory_bytes: int = 4 * 1024**3
    cpu_seconds: int = 600
    file_bytes: int = 512 * 1024**2
    processes: int = 512
    threads: int | None = None

    def __post_init__(self):
        owner = type(self).__name__
        for name in ("cell_timeout", "notebook_timeout", "start_timeout"):
            _positive_number(owner, name, getattr(self, name))
        for name in ("output_limit_bytes", "memory_bytes", "file_bytes"):
            _positive_int(owner, name, getattr(self, name), "a positive int (bytes)")
        _positive_int(owner, "cpu_seconds", self.cpu_seconds, "a positive int (seconds)")
        _positive_int(owner, "processes", self.processes)
        if self.threads is not None:
            _positive_int(owner, "threads", self.threads, "a positive int or None (one share of the cores)")

    @property
    def kernel_threads(self) -> int:
        """The threads a kernel is given (1 when nobody decided)."""
        return self.threads or 1

    def grading_key(self) -> dict:
        """The settings that can change a grade (for the reuse key): all but `threads`."""
        return {name: value for name, value in self.to_dict().items() if name != "threads"}

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data) -> "KernelConfig":
        """The inverse of `to_dict`; a missing or unknown key is a ConfigError."""
        _check_keys(cls, data)
        return cls(**data)


@dataclass(frozen=True)
class KernelSetup:
    """What the sandboxed kernel process is told before its first cell (autograder.sandbox.kernel).

    Parameters
    ----------
    config : KernelConfig
        The run's settings (the launcher applies the resource limits, the kernel the process limit).
    preimports : tuple of str
        Modules imported before the sentinel's snapshot.
    protected_modules : tuple of str
        Modules (and submodules) whose state the sentinel restores and checks around each test.
    protected_paths, allowed_paths : tuple of str
        The sentinel's file policy, when the kernel shares the machine's file system.
    deny_processes : bool
        Whether the sentinel refuses to start processes (file policy without bubblewrap).
    """

    config: KernelConfig
    preimports: tuple[str, ...] = ()
    protected_modules: tuple[str, ...] = ()
    protected_paths: tuple[str, ...] = ()
    allowed_paths: tuple[str, ...] = ()
    deny_processes: bool = False

    def __post_init__(self):
        owner = type(self).__name__
        if not isinstance(self.config, KernelConfig):
            _fail(owner, "config", "a KernelConfig", self.config)
        for name in ("preimports", "protected_modules", "protected_paths", "allowed_paths"):
            _strings(owner, name, getattr(self, name))
        if not isinstance(self.deny_processes, bool):
            _fail(owner, "deny_processes", "a bool", self.deny_processes)

    def to_json(self) -> str:
        return json.dumps({**dataclasses.asdict(self), "config": self.config.to_dict()}, sort_keys=True)

    @classmethod
    def from_json(cls, text: str | bytes) -> "KernelSetup":
        """The inverse of `to_json`; a missing or unknown key (here or in `config`) is a ConfigError."""
        try:
            data = json.loads(text)
        except ValueError as error:
            raise ConfigError(f"KernelSetup is not valid JSON: {error}") from None
        _check_keys(cls, data)
        lists = {name: tuple(data[name]) if isinstance(data[name], list) else data[name]
                 for name in ("preimports", "protected_modules", "protected_paths", "allowed_paths")}
        return cls(**{**data, **lists, "config": KernelConfig.from_dict(data["config"])})
