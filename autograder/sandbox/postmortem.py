"""Why did a grading kernel die? Evidence recorded in the kernel, read by the grader.

Kernel side: `enable_crash_log` points Python's fault handler at the kernel log. ipykernel later
replaces file descriptors 1 and 2 with pipes to the notebook, so without this a segfault or an
abort leaves nothing behind: the message would travel to a notebook whose kernel just died.

Grader side: `explain_death` turns the kernel's exit status, the kernel log and what the dying
cell printed into one sentence a student can act on, saying when memory was the cause.
"""
from __future__ import annotations

import faulthandler
import os
import re
import signal
import sys

from autograder.sandbox.memory import CELL_START, nearly_full

# Words native libraries and Python print when an allocation fails.
MEMORY_EVIDENCE = re.compile(
    r"MemoryError|Cannot allocate memory|out of memory|OUT OF LOCAL MEMORY|bad_alloc|"
    r"Thread creation failed|can't start new thread|failed to allocate|Unable to allocate",
    re.IGNORECASE)

SIGNAL_WORDS = {
    signal.SIGSEGV: "crashed (segmentation fault)",
    signal.SIGABRT: "aborted",
    signal.SIGBUS: "crashed (bus error)",
    signal.SIGILL: "crashed (illegal instruction)",
    signal.SIGFPE: "crashed (arithmetic error)",
    signal.SIGKILL: "was killed (SIGKILL)",
    signal.SIGXCPU: "reached its CPU-time limit",
    signal.SIGXFSZ: "reached its file-size limit",
}


def enable_crash_log():
    """Kernel side, before ipykernel starts: fatal errors go to the kernel log. Returns the file
    (also used for memory notes), or None."""
    try:
        log = os.fdopen(os.dup(2), "w", buffering=1)
        faulthandler.enable(file=log, all_threads=True)
        return log
    except (OSError, ValueError, RuntimeError):
        return None


SELF_SIGNAL = "autograder: the kernel's own code sent itself signal"


def note_own_signals(log) -> None:
    """Kernel side: write to the kernel log when the kernel's own code signals itself or its
    process group, so the grader does not take the death that follows for a kill from outside."""
    if log is None:
        return
    me = os.getpid()

    def hook(event, args):
        if event in ("os.kill", "os.killpg") and len(args) == 2:
            target, number = args
            if event == "os.killpg" or target in (0, me) or (isinstance(target, int) and target < 0):
                try:
                    log.write(f"{SELF_SIGNAL} {number}\n")
                    log.flush()
                except (OSError, ValueError):
                    pass

    sys.addaudithook(hook)


def exit_signal(status: int | None) -> int | None:
    """The signal that ended the kernel: Popen reports -N; bubblewrap exits with 128 + N."""
    if status is None:
        return None
    if status < 0:
        return -status
    if 128 < status < 128 + 65:
        return status - 128
    return None


def _how(status: int | None) -> str:
    number = exit_signal(status)
    if number is not None:
        try:
            return SIGNAL_WORDS.get(signal.Signals(number), f"was ended by {signal.Signals(number).name}")
        except ValueError:
            return f"was ended by signal {number}"
    if status is None:
        return "stopped"
    return f"exited with status {status}"


def _cell_text(cell) -> str:
    parts = []
    for output in cell.get("outputs", []):
        parts += [str(output.get("ename", "")), str(output.get("evalue", "")), str(output.get("text", ""))]
    return "\n".join(parts)


def _gib(value: float) -> str:
    return f"{value / 1024**3:.3g} GiB"


def explain_death(cell, status: int | None, kernel_log: str, memory_bytes: int) -> str:
    """One sentence on how the kernel died while running `cell`, naming memory when the evidence
    points at it: the memory in use when the cell started (the kernel log's last cell-start
    line), or an allocation failure reported by the cell or in the log after that line."""
    how = _how(status)
    starts = list(CELL_START.finditer(kernel_log))
    since_start = kernel_log[starts[-1].end():] if starts else kernel_log
    if starts:
        in_use, cap = (int(v) for v in starts[-1].groups())
        if nearly_full(in_use, cap):
            return (f"the notebook's memory was used up before this cell started ({_gib(in_use)} of the "
                    f"{_gib(memory_bytes)} limit, kept alive by earlier cells), and the kernel then {how}; "
                    "look for large arrays or lists that earlier cells keep in global variables")
    if MEMORY_EVIDENCE.search(since_start) or MEMORY_EVIDENCE.search(_cell_text(cell)):
        return (f"this cell ran out of memory (the notebook's limit is {_gib(memory_bytes)}), and the kernel "
                f"then {how}; look for large arrays or lists this cell builds or keeps alive")
    fatal = next((ln.strip() for ln in since_start.splitlines() if "Fatal Python error" in ln), "")
    return f"the kernel {how}" + (f" ({fatal})" if fatal else "")


def cell_label(cell, index: int) -> str:
    """How a student finds the cell: its grade id for nbgrader cells, else the start of its code."""
    meta = cell.get("metadata", {}).get("nbgrader", {})
    grade_id = meta.get("grade_id")
    if grade_id:
        kind = "answer cell" if meta.get("solution") else "test cell" if meta.get("grade") else "cell"
        return f"cell {index} ({kind} '{grade_id}')"
    ours = cell.get("metadata", {}).get("autograder", {})
    if ours.get("grade_id"):  # a cell the grader added (the guard before a test)
        return f"cell {index} (the grader's set-up for test '{ours['grade_id']}')"
    source = cell.get("source", "")
    code = "; ".join(line.strip() for line in str(source).splitlines() if line.strip())
    if not code:
        return f"cell {index}"
    return f"cell {index} ({code[:60] + '...' if len(code) > 60 else code})"
