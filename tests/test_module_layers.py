"""Which modules a command loads: `autograder check` (a student's run) does not load the batch
orchestrator (grade.py) and what comes with it (the gradebook, Dask, the output folders)."""
from __future__ import annotations

import subprocess
import sys


def test_check_does_not_load_the_orchestrator():
    code = ("import sys\nimport autograder.check\n"
            "print(sorted(n for n in ('autograder.grade', 'autograder.gradebook', 'autograder.outputs', "
            "'autograder.jobs', 'distributed') if n in sys.modules))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]", proc.stdout
