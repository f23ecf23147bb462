"""Torch set-up for the notebooks: how many threads to use, and a quick exit for the kernel.

    from course.torchsetup import configure_torch
    THREADS = configure_torch()   # 1 or 2 threads, from OMP_NUM_THREADS when it is set

``configure_torch`` reads the thread budget from ``OMP_NUM_THREADS`` (the grader sets it; a
laptop usually does not) and caps it, so a notebook never starts one thread per core of a big
shared machine. (torch's one-off lazy set-up on the first optimizer step is the grader's business:
its kernel does it before the notebook starts, for any notebook that imports torch.)

It also lets the kernel quit quickly. When a Python process ends, the interpreter sweeps every
object it holds for reference cycles once more before it exits; with torch and its compiler stack
loaded (hundreds of thousands of objects) that last sweep takes 1-2 s of a single core on a small
machine, and a notebook's "restart kernel", `jupyter nbconvert --execute` and papermill all wait
for it. The memory goes back to the operating system a moment later anyway, so at exit we move
every object into the collector's permanent generation (``gc.freeze``), which the final sweep
skips. Nothing else changes: objects are still released by reference counting as modules are torn
down, and the exit handlers of other libraries still run.
"""
from __future__ import annotations

import atexit
import gc
import os

import torch

__all__ = ["threads_from_env", "configure_torch", "skip_final_collection"]

_final_collection_skipped = False


def threads_from_env(max_threads: int = 2, default: int = 2) -> int:
    """The number of threads to use: OMP_NUM_THREADS if it is a positive integer, else ``default``,
    capped at ``max_threads`` (and at least 1).

    Parameters
    ----------
    max_threads : int, default 2
        The most threads to use.
    default : int, default 2
        Used when OMP_NUM_THREADS is unset or not a positive integer.

    Returns
    -------
    int
        Between 1 and ``max_threads``.
    """
    raw = os.environ.get("OMP_NUM_THREADS", "").strip()
    try:
        wanted = int(raw) if raw else default
    except ValueError:
        wanted = default
    if wanted < 1:
        wanted = default
    return max(1, min(int(max_threads), wanted))


def configure_torch(max_threads: int = 2) -> int:
    """Set torch's intra-op thread count from the environment (see :func:`threads_from_env`).

    Parameters
    ----------
    max_threads : int, default 2
        The most threads to use.

    Returns
    -------
    int
        The thread count set.
    """
    threads = threads_from_env(max_threads)
    torch.set_num_threads(threads)
    skip_final_collection()
    return threads


def skip_final_collection() -> None:
    """At interpreter exit, freeze every object (``gc.freeze``) so that the final cycle sweep skips
    them: the kernel quits in a fraction of a second instead of 1-2 s with torch loaded. Registered
    once however often it is called; exit handlers registered before it still run after it."""
    global _final_collection_skipped
    if not _final_collection_skipped:
        atexit.register(gc.freeze)
        _final_collection_skipped = True
