"""Headroom for the kernel's own machinery when student code runs out of memory.

The launcher caps the kernel's address space with RLIMIT_AS (soft = hard = the notebook's memory
limit). That limit is shared by everything in the process: the student's arrays, but also IPython
formatting a traceback, ipykernel and pyzmq sending the reply, the interpreter pushing a frame.
When a student's code fills the address space and keeps it filled (a list of blocks held by a
global, or by the frames of the traceback IPython keeps in `sys.last_traceback`), the kernel's own
next allocation fails where nobody catches it: the kernel segfaults, exits on an uncaught
MemoryError or stops answering, and every later part of the notebook is lost.

So student code runs under a lower *soft* limit: `cap = hard - reserve`. The soft limit is lowered
when a cell starts executing (IPython's `pre_execute` event) and raised back to the hard limit
when the cell's code stops: before IPython formats a traceback, and when the cell ends
(`post_execute`, which IPython fires in a `finally`). The student's allocation fails first, as a
MemoryError in the cell that made it, and the kernel keeps `reserve` bytes to report it.

Before a MemoryError is shown, the function frames of its traceback are cleared, so memory held
only by the failed computation's local variables is freed (IPython would otherwise keep it alive
through `sys.last_traceback`). Doing it before formatting matters: what the formatter allocates
then reuses the freed memory instead of landing above it at the top of malloc's heap, where it
would pin the heap at its peak size. What the student stored in globals stays, as in Jupyter:
later cells get whatever is left under the cap.

The hard limit is never raised: it stays the backstop the grader promised the machine. Code that
raises its own soft limit or removes these callbacks only gives up its own protection.
Native libraries that end the process when an allocation fails are the other danger: OpenBLAS
exits when it cannot map its work buffer, which it does on the first matrix product, so that
buffer is allocated at start-up (`warm_up_blas`).

Background threads (ipykernel's I/O threads, threads a student starts) share the limit: while a
cell holds memory at the cap they may still fail; `postmortem` explains such a death.
"""
from __future__ import annotations

import inspect
import os
import re
import resource
import sys

MiB = 1024**2
MIN_RESERVE = 64 * MiB
MAX_RESERVE = 256 * MiB
NOTE_PREFIX = "[autograder] memory:"


def reserve_for(limit: int) -> int:
    """Bytes kept back from student code under an address-space limit of `limit` bytes."""
    return max(MIN_RESERVE, min(MAX_RESERVE, limit // 8))


def address_space_in_use() -> int | None:
    """The kernel's current address space (what RLIMIT_AS counts), in bytes."""
    try:
        with open("/proc/self/statm", "rb") as handle:
            pages = int(handle.read().split()[0])
    except (OSError, ValueError, IndexError):
        return None
    return pages * os.sysconf("SC_PAGE_SIZE")


def nearly_full(in_use: int, cap: int) -> bool:
    """Is so little of `cap` left that ordinary code will fail to allocate?"""
    return in_use > cap - max(MIN_RESERVE, cap // 20)


def cell_start_note(in_use: int, cap: int) -> str:
    return f"{NOTE_PREFIX} cell starts with {in_use} bytes in use; code in cells may use {cap}"


CELL_START = re.compile(re.escape(NOTE_PREFIX) + r" cell starts with (\d+) bytes in use; code in cells may use (\d+)")


class Headroom:
    """Switches the soft address-space limit between `cap` (student code) and `hard` (the kernel)."""

    def __init__(self, hard: int, note_file=None):
        self.hard = hard
        self.cap = hard - reserve_for(hard)
        self.note_file = note_file
        self.capped = False

    def _set(self, soft: int) -> None:
        try:
            resource.setrlimit(resource.RLIMIT_AS, (soft, self.hard))
        except (ValueError, OSError):
            pass

    def lower(self, *_args) -> None:
        """Before a cell's code runs: only `cap` bytes for it (and a line in the kernel log, so a
        dead kernel's last cell shows how much memory earlier cells kept)."""
        used = address_space_in_use()
        if used is not None:
            self.note(cell_start_note(used, self.cap))
        self._set(self.cap)
        self.capped = True

    def release(self, *_args) -> None:
        """The cell's code stopped: the whole limit for the kernel's own work."""
        if self.capped:
            self._set(self.hard)
            self.capped = False

    def note(self, line: str) -> None:
        """One line in the kernel log (read by the grader if the kernel dies)."""
        if self.note_file is None:
            return
        try:
            self.note_file.write(line + "\n")
            self.note_file.flush()
        except Exception:  # noqa: BLE001 - a note must never break the kernel
            pass


def _clear_frames(tb) -> None:
    """Drop the local variables of the finished function frames in a traceback.

    `frame.clear()` alone is not enough: once something read `frame.f_locals` (IPython's
    traceback formatter does), that dict keeps its own references, so it is emptied too.
    Module-level frames are left alone: their locals are the notebook's globals.
    """
    while tb is not None:
        frame = tb.tb_frame
        try:
            frame.clear()
        except RuntimeError:  # still executing (the kernel's own frames)
            pass
        else:
            if frame.f_code.co_flags & inspect.CO_OPTIMIZED:
                frame.f_locals.clear()
        tb = tb.tb_next


def _free_failed_frames(error: BaseException | None) -> None:
    """Drop the local variables a MemoryError's traceback keeps alive (and its context's)."""
    seen = set()
    while isinstance(error, BaseException) and id(error) not in seen:
        seen.add(id(error))
        _clear_frames(error.__traceback__)
        error = error.__context__


def warm_up_blas() -> None:
    """Give OpenBLAS its work buffers now, while memory is free.

    OpenBLAS maps a work buffer (64 MiB of address space per thread) on a library's first
    matrix product and keeps it. If that first product comes after student code filled the
    memory, OpenBLAS cannot map it and ends the whole process ("Memory allocation still failed
    after 10 retries, giving up", exit status 1). numpy and scipy each bundle their own copy, so
    both are warmed, if the notebook's libraries loaded them.
    """
    numpy = sys.modules.get("numpy")
    if numpy is None:
        return
    try:
        square = numpy.ones((256, 256))
        square @ square
        numpy.linalg.solve(square + 256 * numpy.eye(256), numpy.ones(256))
        linalg = sys.modules.get("scipy.linalg")
        if linalg is not None:
            linalg.blas.dgemm(1.0, square, square)
            linalg.solve(square + 256 * numpy.eye(256), numpy.ones(256))
    except Exception:  # noqa: BLE001 - a library that cannot even do this will fail visibly later
        pass


def install(shell, note_file=None) -> Headroom | None:
    """Cap student code below the kernel's hard address-space limit (no-op without one).

    Call after IPython's shell exists and before the sentinel's start-up snapshot, so the
    callbacks and the traceback wrapper are part of the state the sentinel puts back.
    """
    _, hard = resource.getrlimit(resource.RLIMIT_AS)
    if hard == resource.RLIM_INFINITY or hard <= 2 * MIN_RESERVE:
        return None
    warm_up_blas()
    headroom = Headroom(hard, note_file)
    shell.events.register("pre_execute", headroom.lower)
    shell.events.register("post_execute", headroom.release)
    show = shell.showtraceback

    def showtraceback(*args, **kwargs):
        headroom.release()
        exc_tuple = kwargs.get("exc_tuple", args[0] if args else None)
        error = exc_tuple[1] if isinstance(exc_tuple, tuple) and len(exc_tuple) == 3 else sys.exc_info()[1]
        if isinstance(error, MemoryError):
            # before formatting: what the formatter allocates then reuses the freed memory
            # instead of landing above it and pinning the heap at its peak size
            _free_failed_frames(error)
        return show(*args, **kwargs)

    shell.showtraceback = showtraceback
    return headroom
