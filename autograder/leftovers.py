"""What a grading process leaves behind, and cleaning up what dead processes left.

Several batches may run on one machine, so nothing is removed because of its name or age alone:
every run folder records its owner (pid and start time) and every temporary file carries its
writer's pid and start time in its name. A leftover is removed only when that process is gone
(a process whose pid was reused by another program has a different start time).
"""
from __future__ import annotations

import json
import os
import re
import shutil
import signal
from dataclasses import asdict, dataclass
from pathlib import Path

import psutil

OWNER_FILE = "owner.json"
RUN_DIR_PREFIX = "autograder-run-"
_TEMP_NAME = re.compile(r"^\..+\.(\d+)-(\d+)\.tmp$")


@dataclass(frozen=True)
class Owner:
    """A process, named so that a later process with the same pid is not mistaken for it."""

    pid: int
    started: int  # start time in hundredths of a second since the epoch

    def alive(self) -> bool:
        try:
            return _started(psutil.Process(self.pid)) == self.started
        except psutil.Error:
            return False

    @classmethod
    def of(cls, pid: int) -> "Owner | None":
        try:
            return cls(pid, _started(psutil.Process(pid)))
        except psutil.Error:
            return None


def _started(process: psutil.Process) -> int:
    return int(round(process.create_time() * 100))


_me: tuple[int, Owner] | None = None


def me() -> Owner:
    global _me
    if _me is None or _me[0] != os.getpid():  # recomputed in a forked child
        _me = (os.getpid(), Owner.of(os.getpid()))
    return _me[1]


def temp_name(path: Path) -> Path:
    """The temporary name a file is written under before it is renamed into place."""
    owner = me()
    return path.with_name(f".{path.name}.{owner.pid}-{owner.started}.tmp")


# -- run folders of sandboxed kernels ------------------------------------------------------
def claim_run_dir(run_dir: Path, kernel_pid: int | None = None) -> None:
    """Record that this process owns `run_dir` (and, once started, which kernel runs in it)."""
    data = {"owner": asdict(me())}
    kernel = Owner.of(kernel_pid) if kernel_pid else None
    if kernel is not None:
        data["kernel"] = asdict(kernel)
    tmp = run_dir / f".{OWNER_FILE}.tmp"
    tmp.write_text(json.dumps(data))
    os.chmod(tmp, 0o600)
    os.replace(tmp, run_dir / OWNER_FILE)


def sweep_run_dirs(base: Path) -> list[Path]:
    """Remove run folders in `base` whose owner is dead, killing their kernel if it survived.

    Folders without an owner record (being created right now, or left by an older grader) are
    left alone. Returns the folders removed."""
    removed = []
    try:
        candidates = [p for p in Path(base).iterdir() if p.name.startswith(RUN_DIR_PREFIX)]
    except OSError:
        return removed
    for run_dir in candidates:
        try:
            data = json.loads((run_dir / OWNER_FILE).read_text())
            owner = Owner(**data["owner"])
        except (OSError, ValueError, KeyError, TypeError):
            continue
        if owner.alive():
            continue
        if "kernel" in data:
            kernel = Owner(**data["kernel"])
            if kernel.alive():
                try:  # jupyter_client starts each kernel in its own session: take the whole group
                    os.killpg(kernel.pid, signal.SIGKILL)
                except OSError:
                    pass
        shutil.rmtree(run_dir, ignore_errors=True)
        if not run_dir.exists():
            removed.append(run_dir)
    return removed


def sweep_temp_files(folder: Path) -> list[Path]:
    """Remove `.NAME.PID-START.tmp` files under `folder` whose writer is dead."""
    removed = []
    for path in Path(folder).rglob(".*.tmp"):
        match = _TEMP_NAME.match(path.name)
        if not match or Owner(int(match.group(1)), int(match.group(2))).alive():
            continue
        try:
            path.unlink()
            removed.append(path)
        except OSError:
            pass
    return removed
