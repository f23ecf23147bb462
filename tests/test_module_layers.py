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


def _loaded_after(statement: str, names: tuple[str, ...]) -> list[str]:
    code = (f"import sys\n{statement}\n"
            f"print(sorted(n for n in {names!r} if n in sys.modules))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    return eval(proc.stdout.strip())  # a list of names printed by the child


BATCH_SIDE = ("autograder.grade", "autograder.gradebook", "autograder.gradebook_sync", "autograder.outputs",
              "autograder.lock", "autograder.report", "autograder.jobs", "distributed")


def test_check_loads_neither_the_plan_nor_the_pipeline():
    assert _loaded_after("import autograder.check", ("autograder.plan", "autograder.pipeline",
                                                     "autograder.prestart")) == []


def test_a_worker_loads_the_pipeline_without_the_batch_side():
    """What a worker process imports to grade one submission: the plan, the pipeline and the kernel
    started ahead, never the writer's side (the gradebook, the output folder, the lock, the report)
    nor the runners."""
    assert _loaded_after("import autograder.pipeline, autograder.plan, autograder.prestart", BATCH_SIDE) == []


def test_the_plan_does_not_load_the_pipeline():
    assert _loaded_after("import autograder.plan", ("autograder.pipeline", "autograder.prestart") + BATCH_SIDE) == []


# What the kernel side may import of the grader: the sandbox package and the two protocol modules
# both sides share (the receipt protocol and the measurement declarations).
KERNEL_SIDE = {"autograder.sandbox", "autograder.receipt", "autograder.measure"}


def _grader_imports(path) -> list[str]:
    import ast

    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            names = [f"{node.module}.{a.name}" if node.module == "autograder" else node.module or ""
                     for a in node.names]
        elif isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        else:
            continue
        found += [n for n in names if n.split(".")[0] in ("autograder", "course")]
    return found


def test_the_kernel_side_imports_nothing_of_the_course_nor_of_the_batch():
    """The modules that run inside the sandbox import only the sandbox package and the protocol
    modules both sides share (which import nothing of the grader themselves), never `course`."""
    from pathlib import Path

    import autograder

    package = Path(autograder.__file__).parent
    files = list((package / "sandbox").glob("*.py")) + [package / "receipt.py", package / "measure.py"]
    outside = {path.name: [n for n in _grader_imports(path)
                           if not any(n == k or n.startswith(k + ".") for k in KERNEL_SIDE)]
               for path in files}
    assert {name: found for name, found in outside.items() if found} == {}
