"""The per-assignment plan: what a batch computes once and every submission reuses.

`make_plan` reads the assignment (its source notebook, checked by the course's rules, and its
files) and derives from it what grading each submission needs but no submission changes: how
to assemble a submission (`assemble.Blueprint`: cells as students received them, answer stubs,
each test cell's guard, body and digests), the lines of the hidden tests to redact, the empty
part rows of a submission that never ran, the modules a kernel imports ahead, and the kernel's
configuration and policy. The plan is picklable: a worker process receives it once (jobs.py),
a Dask cluster once per batch.
"""
from __future__ import annotations

import copy
import dataclasses
from dataclasses import dataclass, field

import nbformat

from autograder import cells as C
from autograder import results as R
from autograder.assemble import Blueprint, imported_modules, prepare, student_view
from autograder.execute import KernelProfile
from autograder.layout import Course, assignment_files
from autograder.policy import course_policy, on_this_machine
from autograder.release import load_source
from autograder.sandbox.config import KernelConfig
from autograder.sandbox.isolation import Isolation
from autograder.sandbox.policy import KernelPolicy


def empty_parts(source_nb: nbformat.NotebookNode) -> list[R.PartResult]:
    """The part rows of a submission none of whose tests ran (every part at 0, hand parts to grade)."""
    parts = []
    for cell in source_nb.cells:
        gid = C.grade_id(cell)
        if gid and C.is_test(cell):
            parts.append(R.PartResult(gid, C.title_of(gid), R.TEST, 0.0, C.points(cell), R.NOT_RUN, "did not run"))
        elif gid and C.is_hand_graded(cell):
            parts.append(R.PartResult(gid, C.title_of(gid), R.HAND, 0.0, C.points(cell), R.MANUAL, "graded by hand"))
    return parts


@dataclass
class AssignmentPlan:
    """Everything a worker needs to grade submissions of one assignment, computed once per batch."""

    assignment: str
    notebook_name: str
    source: nbformat.NotebookNode  # the source notebook (tests, hidden tests, points)
    files: dict[str, bytes]  # the assignment's own files, written beside every submission
    config: KernelConfig  # the kernel's configuration, as the batch resolved it (threads decided)
    policy: KernelPolicy  # what its kernels may read and what their sentinel guards (policy.py)
    sandbox_user: str | None
    use_namespaces: bool
    preimports: tuple[str, ...]  # modules a kernel imports before the sentinel's snapshot
    blueprint: Blueprint  # how to assemble a submission (assemble.prepare)
    secret: frozenset[str]  # lines of the hidden tests, redacted from anything shown (cells.hidden_lines)
    parts: tuple[R.PartResult, ...]  # the rows of a submission that never ran (`empty_parts`)
    late: dict[str, dict] = field(default_factory=dict)  # student id -> late facts (late.py)
    parameters: dict = field(default_factory=dict)  # the notebook's parameters for this batch (parameters.py)

    def empty_parts(self) -> list[R.PartResult]:
        """Fresh copies of the rows of a submission that never ran (results are changed in place)."""
        return copy.deepcopy(list(self.parts))

    def kernel_profile(self, isolation: Isolation, preimports: bool = True) -> KernelProfile:
        """The kernel every submission runs in, on this machine (a Dask worker imports the grader
        from its own installation)."""
        return KernelProfile(config=self.config, isolation=isolation, policy=on_this_machine(self.policy),
                             preimports=self.preimports if preimports else ())

    def with_private(self, *paths) -> "AssignmentPlan":
        """The same plan with more paths its kernels must not read."""
        return dataclasses.replace(self, policy=self.policy.with_private(*paths))


def plan_from_source(assignment: str, notebook_name: str, source_nb: nbformat.NotebookNode,
                     files: dict[str, bytes], config: KernelConfig, policy: KernelPolicy,
                     sandbox_user: str | None = "nobody", use_namespaces: bool = True) -> AssignmentPlan:
    """The plan of a source notebook already loaded (and checked)."""
    return AssignmentPlan(
        assignment=assignment, notebook_name=notebook_name, source=source_nb, files=files, config=config,
        policy=policy, sandbox_user=sandbox_user, use_namespaces=use_namespaces,
        preimports=tuple(imported_modules(source_nb)), blueprint=prepare(source_nb, view=student_view(source_nb)),
        secret=frozenset(C.hidden_lines(source_nb)), parts=tuple(empty_parts(source_nb)),
    )


def make_plan(course: Course, assignment: str, config: KernelConfig, sandbox_user: str | None = "nobody",
              use_namespaces: bool = True) -> AssignmentPlan:
    """The plan of one assignment of a course (its source checked by the assignment's rules)."""
    source_nb = load_source(course, assignment)  # autotests expanded
    release_dir = course.release / assignment
    files = assignment_files(release_dir if release_dir.is_dir() else course.source / assignment)
    return plan_from_source(assignment, course.notebook_name(assignment), source_nb, files, config,
                            course_policy(course), sandbox_user, use_namespaces)
