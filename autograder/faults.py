"""A test-only hook for fault injection: make the grader kill itself at a chosen moment.

    AUTOGRADER_FAULT=committed:3 autograder grade ...

kills the grading process with SIGKILL (as an operator's `kill -9` would) the 3rd time it
reaches the point named `committed` (the count defaults to 1). The points are named where
`reach()` is called (see `autograder/outputs.py` and `autograder/grade.py`). Unset, it costs one
dictionary lookup per call. Used by tests/test_faults.py and benchmarks/fault_injection.py.
"""
from __future__ import annotations

import os
import signal

ENV_VAR = "AUTOGRADER_FAULT"
_counts: dict[str, int] = {}


def reach(point: str) -> None:
    wanted = os.environ.get(ENV_VAR)
    if not wanted:
        return
    name, _, count = wanted.partition(":")
    if name != point:
        return
    _counts[point] = _counts.get(point, 0) + 1
    if _counts[point] == int(count or 1):
        os.kill(os.getpid(), signal.SIGKILL)
