"""The per-submission pipeline: one submission in, one `SubmissionResult` out, never an exception.

`grade_one` is a straight sequence of small steps; each returns early when the submission cannot
go further, having written why onto the result:

1. `collected`: a problem found while collecting (an unreadable zip, no notebook) ends here;
2. `read`: the notebook file is parsed (invalid JSON or nbformat ends here);
3. `assembled`: the submission is rebuilt around the source's cells (assemble.py) with the
   plan's blueprint; a notebook of another assignment ends here (`wrong_notebook`);
4. `executed`: it runs in a sandboxed kernel (execute.py), the one started ahead if any (prestart.py);
5. `scored`: the receipts decide each part (score.py), and how the run ended decides the status;

then `finish` keeps the notebook as graded and renders the feedback page. A grader bug in any
step becomes a `grader_error` row (graded again on the next run). Everything per assignment comes
from the plan (plan.py), computed once per batch; nothing here writes shared files.
"""
from __future__ import annotations

import os
import time
import traceback
from dataclasses import dataclass
from datetime import datetime, timezone

import nbformat

from autograder import feedback, handgrading, prestart, receipt
from autograder import results as R
from autograder.assemble import Assembled, assemble
from autograder.collect import Submission
from autograder.engine import CellRun, RunEnd
from autograder.execute import Execution, SandboxedKernel, default_work_base, run_notebook
from autograder.leftovers import sweep_run_dirs
from autograder.notebook_file import parse_notebook
from autograder.plan import AssignmentPlan
from autograder.policy import on_this_machine
from autograder.sandbox.isolation import Isolation, detect
from autograder.score import score_parts

# A run that ended from outside the student's code is the grader's problem: graded again next run.
STATUS_OF_RUN = {RunEnd.COMPLETED: R.GRADED, RunEnd.TIMEOUT: R.TIMEOUT, RunEnd.KERNEL_DIED: R.KERNEL_DIED,
                 RunEnd.KILLED: R.GRADER_ERROR, RunEnd.FAILED_TO_START: R.GRADER_ERROR}


@dataclass
class Graded:
    """What the steps produced besides the result: the assembled and the executed notebook."""

    assembled: Assembled | None = None
    executed: nbformat.NotebookNode | None = None


def now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def new_result(plan: AssignmentPlan, sub: Submission) -> R.SubmissionResult:
    """The row of a submission before anything ran: every part at 0."""
    return R.SubmissionResult(student_id=sub.student_id, assignment=plan.assignment, status=R.GRADED,
                              parts=plan.empty_parts(), notes=list(sub.notes), content_hash=sub.content_hash,
                              graded_at=now(), origin=sub.origin, late=plan.late.get(sub.student_id, {}))


def isolation_of(plan: AssignmentPlan) -> Isolation:
    """The isolation this machine gives the plan's kernels (found where the job runs)."""
    return detect(plan.sandbox_user, plan.use_namespaces, on_this_machine(plan.policy).code_roots)


# -- the steps ---------------------------------------------------------------------------------
def collected(sub: Submission, result: R.SubmissionResult) -> bool:
    """Step 1: False (and the status says why) when collecting already found a problem."""
    if sub.problem:
        result.status, result.reason = sub.problem
        return False
    return True


def read(sub: Submission, result: R.SubmissionResult) -> nbformat.NotebookNode | None:
    """Step 2: the submitted notebook, or None (`invalid_notebook`)."""
    try:
        return parse_notebook(sub.notebook)
    except ValueError as error:
        result.status, result.reason = R.INVALID_NOTEBOOK, str(error)
        return None


def assembled(plan: AssignmentPlan, nb: nbformat.NotebookNode, result: R.SubmissionResult) -> Assembled | None:
    """Step 3: the notebook the grader runs, or None (`wrong_notebook`)."""
    built = assemble(plan.source, nb, blueprint=plan.blueprint)
    result.notes += built.notes
    if not built.recognised:
        result.status = R.WRONG_NOTEBOOK
        result.reason = (f"the notebook shares no answer or test cell with {plan.notebook_name}: "
                         "was the right notebook submitted?")
        return None
    # what each part graded: hand-given points survive only unchanged answers (handgrading.py)
    result.answer_fingerprints = handgrading.answer_fingerprints(built.notebook, built.parts)
    return built


def executed(plan: AssignmentPlan, sub: Submission, built: Assembled, isolation: Isolation,
             prestart_next: bool = False) -> tuple[Execution, bytes]:
    """Step 4: run the assembled notebook in a sandboxed kernel with the assignment's and the
    submission's files (the assignment's own files win over same-named student files)."""
    files = {**sub.files, **plan.files}
    profile = plan.kernel_profile(isolation)
    kernel = prestart.take_kernel(profile)
    if prestart_next:
        prestart.start_next_kernel(profile)
    return run_notebook(built.notebook, files=files, kernel=kernel, parameters=plan.parameters)


def scored(plan: AssignmentPlan, built: Assembled, execution: Execution, key: bytes,
           result: R.SubmissionResult) -> None:
    """Step 5: each part from the receipts; the status from how the run ended."""
    result.parts, warnings = score_parts(built, execution, key, plan.secret)
    result.unanswered = sorted(built.unattempted)
    result.diagnostics = receipt.note_lines(execution.receipts)[:50]
    result.notes += [f"integrity: {w}" for w in warnings]
    if execution.output_truncated:
        result.notes.append("output limit reached: later output was dropped")
    result.status, result.reason = status_of(execution)


def status_of(execution: Execution) -> tuple[R.Status, str]:
    """The submission's status and reason from how its run ended."""
    reason = execution.reason
    if execution.status == RunEnd.FAILED_TO_START and execution.kernel_log:
        reason += " | kernel log: " + execution.kernel_log[-300:].replace("\n", " ")
    return STATUS_OF_RUN[execution.status], reason


def steps(plan: AssignmentPlan, sub: Submission, result: R.SubmissionResult, prestart_next: bool) -> Graded:
    """Steps 1-5, in order, each ending the pipeline when the submission cannot go on."""
    isolation = isolation_of(plan)
    result.isolation = isolation.describe()
    if not collected(sub, result):
        return Graded()
    nb = read(sub, result)
    if nb is None:
        return Graded()
    built = assembled(plan, nb, result)
    if built is None:
        return Graded()
    execution, key = executed(plan, sub, built, isolation, prestart_next)
    scored(plan, built, execution, key, result)
    return Graded(built, execution.notebook)


def grader_error(plan: AssignmentPlan, result: R.SubmissionResult, error: BaseException) -> Graded:
    """A bug in the grader: the row says so, with every part at 0 (graded again next run)."""
    result.status = R.GRADER_ERROR
    result.reason = f"{type(error).__name__}: {error}"
    result.notes.append("grader traceback: " + traceback.format_exc(limit=4).replace("\n", " | ")[-1500:])
    result.parts = plan.empty_parts()
    result.unanswered = []
    return Graded()


def finish(plan: AssignmentPlan, result: R.SubmissionResult, graded: Graded) -> None:
    """Keep the notebook as graded (formgrader's copy; pages are rendered again with hand grades)
    and render the feedback page (a page that cannot be rendered is a note, not a failure)."""
    if graded.executed is not None:
        result.executed_notebook = nbformat.writes(graded.executed)
    try:
        result.feedback_html = feedback.render(result, graded.assembled, graded.executed, plan.secret)
    except Exception as error:  # noqa: BLE001
        result.notes.append(f"feedback could not be rendered: {type(error).__name__}: {error}")


def grade_one(plan: AssignmentPlan, sub: Submission, prestart_next: bool = False) -> R.SubmissionResult:
    """Grade one submission. Never raises: failures become statuses.

    With `prestart_next`, a kernel for the next submission is started before this one runs.
    """
    started = time.monotonic()
    sweep_once()
    result = new_result(plan, sub)
    try:
        graded = steps(plan, sub, result, prestart_next)
    except Exception as error:  # noqa: BLE001 - a grader bug must still produce a row
        graded = grader_error(plan, result, error)
    result.seconds = time.monotonic() - started
    finish(plan, result, graded)
    return result


def failed(plan: AssignmentPlan, sub: Submission, error: BaseException) -> R.SubmissionResult:
    """The row of a submission whose job could not finish (its worker died, Dask gave up)."""
    result = new_result(plan, sub)
    result.status = R.GRADER_ERROR
    result.reason = f"the grading worker failed: {type(error).__name__}: {error}"
    return result


def preflight(plan: AssignmentPlan) -> str | None:
    """Start one kernel the way this batch will and run an empty cell. None when it worked,
    otherwise what went wrong (so a batch that cannot start any kernel grades nobody)."""
    profile = plan.kernel_profile(isolation_of(plan), preimports=False)
    try:
        execution = SandboxedKernel(profile).run(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("pass")]))
    except Exception as error:  # noqa: BLE001
        return f"{type(error).__name__}: {error}"
    if execution.status == RunEnd.COMPLETED and execution.cell_state(0) == CellRun.RAN:
        return None
    log = execution.kernel_log.strip().splitlines()
    return execution.reason + (f" | kernel log: {' / '.join(log[-3:])}" if log else "")


_swept_in: int | None = None


def sweep_once() -> None:
    """Once per process (a Dask worker on another machine too): remove run folders of dead graders."""
    global _swept_in
    if _swept_in != os.getpid():
        _swept_in = os.getpid()
        sweep_run_dirs(default_work_base())
