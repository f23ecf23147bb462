"""The sandbox gets everything it knows about a course from the grader's `KernelPolicy`.

`autograder.sandbox` imports nothing from the `course` package; the grader builds the policy from
the course layout (autograder/policy.py): the packages the kernel imports, the modules its
sentinel protects, the data it may read and the paths it must not. torch's lazy start-up is done
once, by the kernel, for any notebook that imports torch.
"""
from __future__ import annotations

import subprocess
import sys

import pytest

from autograder import results as R
from autograder.assemble import assemble, imported_modules
from autograder import authoring as A
from autograder.execute import run_notebook
from autograder.sandbox.config import KernelConfig
from autograder.policy import PROTECTED_MODULES, course_policy, kernel_policy
from autograder.score import score_parts
from tests import minicourse as M

SANDBOX_MODULES = ["isolation", "kernel", "launch", "libstate", "memory", "paths", "policy", "postmortem",
                   "sentinel", "digest"]


def test_the_sandbox_imports_nothing_from_the_course_package():
    code = ("import sys\n" + "".join(f"import autograder.sandbox.{m}\n" for m in SANDBOX_MODULES)
            + "print(sorted(n for n in sys.modules if n == 'course' or n.startswith('course.')))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]", proc.stdout


def test_a_course_policy_is_built_from_its_layout(tmp_path):
    course = M.build(tmp_path / "course")
    (course.root / "datasets").mkdir()
    policy = course_policy(course).with_private(tmp_path / "subs")
    assert set(PROTECTED_MODULES) | {"autograder", "course"} == set(policy.protected_modules)
    assert policy.data_dirs == (str(course.root / "datasets"),)
    assert str(course.source) in policy.private_paths and str(tmp_path / "subs") in policy.private_paths
    assert any(root.endswith("autograder") for root in policy.code_roots)
    assert any(root.endswith("course") for root in policy.code_roots)


TRAIN = ("model = torch.nn.Linear(2, 2)\n"
         "optimizer = torch.optim.Adam(model.parameters(), lr=0.1)\n"
         "loss = torch.nn.functional.cross_entropy(model(torch.ones(4, 2)), torch.zeros(4, dtype=torch.long))\n"
         "optimizer.zero_grad()\nloss.backward()\noptimizer.step()")


@pytest.mark.slow
def test_a_test_that_trains_a_torch_model_is_not_taken_for_tampering():
    """torch fills caches inside its modules on the first optimizer step; the kernel's warm-up does
    that before the sentinel's snapshot, so a test cell that trains passes (and a notebook need
    not import course.torchsetup for it)."""
    source = A.notebook([
        A.parameters("SEED = 0"),
        A.locked("imports", "import torch"),
        A.answer("fit", "def fit():\n    ### BEGIN SOLUTION\n    torch.manual_seed(0)\n    " + TRAIN.replace("\n", "\n    ")
               + "\n    return float(loss)\n    ### END SOLUTION"),
        A.tests("test_fit", 1, visible="assert fit() > 0", hidden="import math\nassert math.isfinite(fit())"),
    ])
    submission = A.notebook([c for c in source.cells])
    assembled = assemble(source, submission)
    execution, key = run_notebook(assembled.notebook, config=KernelConfig(cell_timeout=600),
                                  preimports=imported_modules(source), policy=kernel_policy())
    parts, warnings = score_parts(assembled, execution, key, set())
    assert [p.outcome for p in parts] == [R.Outcome.PASSED], (parts, warnings, execution.receipts[-5:])
