"""Grade a batch: collect -> assemble -> execute (N workers) -> score -> one writer.

Workers only compute: each returns a `SubmissionResult` (with its feedback page, the notebook as
graded and the fingerprints of the answers it graded) for one submission and never touches shared
files. The parent process is the only writer, holding the output folder's lock: it commits each
result as one unit into the folder (outputs.py), rewrites grades.csv, and records the result in the
gradebook, which keeps only the hand-given points whose answer is unchanged; those are put on the
result (gradebook_sync.py). A batch killed halfway leaves consistent files and can simply be run
again: results whose reuse key (reuse.py: submission, assignment, packages, grader, limits, late
facts) is unchanged are reused (unless --force), the rest are graded.
"""
from __future__ import annotations

import dataclasses
import os
import sys
import time
import traceback
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import nbformat

from autograder import cells as C
from autograder import faults, feedback, formgrader, handgrading, late, parameters, reuse, receipt, roster
from autograder import results as R
from autograder.assemble import Assembled, assemble, imported_modules, student_view
from autograder.cluster import DaskTLS
from autograder.collect import Submission, scan
from autograder.errors import DISK_ERRORS, InfrastructureError, UsageError, disk_failure
from autograder.engine import CellRun, RunEnd
from autograder.execute import KernelProfile, SandboxedKernel, Settings, default_work_base, run_notebook
from autograder.gradebook import GradebookUnavailable, GradebookWriter, default_url, shown_url
from autograder.gradebook_sync import FolderGradebook
from autograder.jobs import run_jobs
from autograder.layout import Course, assignment_files
from autograder.notebook_file import parse_notebook
from autograder.leftovers import sweep_run_dirs
from autograder.lock import OutputLock
from autograder.outputs import OutputFolder, folder_id
from autograder.policy import course_policy, on_this_machine
from autograder.release import load_source
from autograder.sandbox.policy import KernelPolicy
from autograder.usage import nothing_gradable
from autograder.sandbox.isolation import detect
from autograder.score import score_parts


# A run that ended from outside the student's code is the grader's problem: graded again next run.
STATUS_OF_RUN = {RunEnd.COMPLETED: R.GRADED, RunEnd.TIMEOUT: R.TIMEOUT, RunEnd.KERNEL_DIED: R.KERNEL_DIED,
                 RunEnd.KILLED: R.GRADER_ERROR, RunEnd.FAILED_TO_START: R.GRADER_ERROR}


@dataclass
class GradeOptions:
    workers: int = 0  # 0: one per core
    db_url: str | None = None
    settings: Settings = field(default_factory=Settings)
    force: bool = False
    dask_address: str | None = None  # address of a Dask scheduler (loopback tcp:// or tls://, see cluster.py)
    dask_tls: DaskTLS | None = None  # the cluster's CA, certificate and key for a tls:// address
    dask_insecure: bool = False  # accept a scheduler reached without TLS off this machine (loud warning)
    prestart: bool = True  # start each worker's next kernel while it grades the current one
    threads: int | None = None  # BLAS/torch threads per kernel (default: cores / workers)
    sandbox_user: str | None = "nobody"
    use_namespaces: bool = True
    progress: bool = True
    times: str | None = None  # submission times: "timestamp" (default), "mtime" or an LMS CSV (late.py)
    parameters: dict = field(default_factory=dict)  # injected after the notebook's parameters cell (parameters.py)


@dataclass
class AssignmentContext:
    """Everything a worker needs to grade submissions of one assignment (picklable)."""

    assignment: str
    notebook_name: str
    source: dict
    files: dict[str, bytes]
    preimports: list[str]
    policy: KernelPolicy  # what its kernels may read and what their sentinel guards (autograder/policy.py)
    settings: Settings
    sandbox_user: str | None
    use_namespaces: bool
    late: dict[str, dict] = field(default_factory=dict)  # student id -> late facts (late.py)
    parameters: dict = field(default_factory=dict)  # the notebook's parameters for this batch (parameters.py)
    # each graded cell as students received it (assemble.student_view), made once per batch: a worker
    # then never runs nbgrader's preprocessors nor imports nbgrader
    view: dict[str, str] = field(default_factory=dict)


def _now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def empty_parts(source_nb) -> list[R.PartResult]:
    parts = []
    for cell in source_nb.cells:
        gid = C.grade_id(cell)
        if gid and C.is_test(cell):
            parts.append(R.PartResult(gid, C.title_of(gid), R.TEST, 0.0, C.points(cell), R.NOT_RUN, "did not run"))
        elif gid and C.is_hand_graded(cell):
            parts.append(R.PartResult(gid, C.title_of(gid), R.HAND, 0.0, C.points(cell), R.MANUAL, "graded by hand"))
    return parts


# A worker keeps one kernel started ahead for its next submission, so the kernel's start-up
# (bubblewrap, Python, the notebook's libraries) overlaps with grading the current one.
_next_kernel: SandboxedKernel | None = None


def kernel_profile(ctx: AssignmentContext, isolation) -> KernelProfile:
    return KernelProfile(settings=ctx.settings, isolation=isolation, policy=on_this_machine(ctx.policy),
                         preimports=tuple(ctx.preimports))


def _take_kernel(profile: KernelProfile) -> SandboxedKernel:
    global _next_kernel
    kernel, _next_kernel = _next_kernel, None
    if kernel is not None and kernel.profile == profile:
        return kernel
    if kernel is not None:
        kernel.discard()
    return SandboxedKernel(profile)


def _start_next_kernel(profile: KernelProfile) -> None:
    global _next_kernel
    try:
        _next_kernel = SandboxedKernel(profile)
    except Exception:  # noqa: BLE001 - the next job will start its own
        _next_kernel = None


def discard_next_kernel() -> None:
    """Stop the kernel started ahead for a job that will not come (end of a batch, worker exit)."""
    global _next_kernel
    kernel, _next_kernel = _next_kernel, None
    if kernel is not None:
        kernel.discard()


_swept_in: int | None = None


def _sweep_once() -> None:
    """Once per process (a Dask worker on another machine too): remove run folders of dead graders."""
    global _swept_in
    if _swept_in != os.getpid():
        _swept_in = os.getpid()
        sweep_run_dirs(default_work_base())


def preflight(ctx: AssignmentContext) -> str | None:
    """Start one kernel the way this batch will and run an empty cell. None when it worked,
    otherwise what went wrong (so a batch that cannot start any kernel grades nobody)."""
    isolation = detect(ctx.sandbox_user, ctx.use_namespaces, on_this_machine(ctx.policy).code_roots)
    profile = dataclasses.replace(kernel_profile(ctx, isolation), preimports=())
    try:
        execution = SandboxedKernel(profile).run(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("pass")]))
    except Exception as error:  # noqa: BLE001
        return f"{type(error).__name__}: {error}"
    if execution.status == RunEnd.COMPLETED and execution.cell_state(0) == CellRun.RAN:
        return None
    log = execution.kernel_log.strip().splitlines()
    return execution.reason + (f" | kernel log: {' / '.join(log[-3:])}" if log else "")


def grade_one(ctx: AssignmentContext, sub: Submission, prestart_next: bool = False) -> R.SubmissionResult:
    """Grade one submission. Never raises: failures become statuses.

    With `prestart_next`, a kernel for the next submission is started before this one runs.
    """
    started = time.monotonic()
    source_nb = nbformat.from_dict(ctx.source)
    _sweep_once()
    result = R.SubmissionResult(student_id=sub.student_id, assignment=ctx.assignment, status=R.GRADED,
                                parts=empty_parts(source_nb), notes=list(sub.notes),
                                content_hash=sub.content_hash, graded_at=_now(), origin=sub.origin,
                                late=ctx.late.get(sub.student_id, {}))
    assembled: Assembled | None = None
    executed = None
    try:
        isolation = detect(ctx.sandbox_user, ctx.use_namespaces, on_this_machine(ctx.policy).code_roots)
        result.isolation = isolation.describe()
        if sub.problem:
            result.status, result.reason = sub.problem
        else:
            try:
                nb = parse_notebook(sub.notebook)
            except ValueError as error:
                result.status, result.reason = R.INVALID_NOTEBOOK, str(error)
            else:
                assembled = assemble(source_nb, nb, view=ctx.view or None)
                result.notes += assembled.notes
                if not assembled.recognised:
                    result.status = R.WRONG_NOTEBOOK
                    result.reason = (f"the notebook shares no answer or test cell with {ctx.notebook_name}: "
                                     "was the right notebook submitted?")
                    assembled = None
                else:
                    # what each part graded: hand-given points survive only unchanged answers (handgrading.py)
                    result.answer_fingerprints = handgrading.answer_fingerprints(assembled.notebook, assembled.parts)
                    files = dict(sub.files)
                    files.update(ctx.files)  # the assignment's own files win over same-named student files
                    profile = kernel_profile(ctx, isolation)
                    kernel = _take_kernel(profile)
                    if prestart_next:
                        _start_next_kernel(profile)
                    execution, key = run_notebook(assembled.notebook, files=files, kernel=kernel,
                                                  parameters=ctx.parameters)
                    executed = execution.notebook
                    secret = C.hidden_lines(source_nb)
                    result.parts, warnings = score_parts(assembled, execution, key, secret)
                    result.unanswered = sorted(assembled.unattempted)
                    result.diagnostics = receipt.note_lines(execution.receipts)[:50]
                    result.notes += [f"integrity: {w}" for w in warnings]
                    if execution.output_truncated:
                        result.notes.append("output limit reached: later output was dropped")
                    result.status = STATUS_OF_RUN[execution.status]
                    result.reason = execution.reason
                    if execution.status == RunEnd.FAILED_TO_START and execution.kernel_log:
                        result.reason += " | kernel log: " + execution.kernel_log[-300:].replace("\n", " ")
    except Exception as error:  # noqa: BLE001 - a grader bug must still produce a row
        result.status = R.GRADER_ERROR
        result.reason = f"{type(error).__name__}: {error}"
        result.notes.append("grader traceback: " + traceback.format_exc(limit=4).replace("\n", " | ")[-1500:])
        result.parts = empty_parts(source_nb)
        result.unanswered = []
    result.seconds = time.monotonic() - started
    if executed is not None:  # the notebook as graded: formgrader's copy, pages rendered again with hand grades
        result.executed_notebook = nbformat.writes(executed)
    try:
        result.feedback_html = feedback.render(result, assembled, executed, C.hidden_lines(source_nb))
    except Exception as error:  # noqa: BLE001
        result.notes.append(f"feedback could not be rendered: {type(error).__name__}: {error}")
    return result


def _worker_init() -> None:
    """Workers die with the grading process (Linux), taking their sandboxes with them, and stop
    a kernel they started ahead for a job that never came when they exit."""
    import atexit

    atexit.register(discard_next_kernel)
    try:
        import ctypes
        import signal

        libc = ctypes.CDLL(None, use_errno=True)
        PR_SET_PDEATHSIG = 1
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):
        pass


def default_workers() -> int:
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1))


def make_context(course: Course, assignment: str, settings: Settings, sandbox_user, use_namespaces) -> tuple[AssignmentContext, nbformat.NotebookNode]:
    source_nb = load_source(course, assignment)  # checked by the assignment's rules, autotests expanded
    release_dir = course.release / assignment
    files = assignment_files(release_dir if release_dir.is_dir() else course.source / assignment)
    ctx = AssignmentContext(
        assignment=assignment, notebook_name=course.notebook_name(assignment), source=dict(source_nb),
        files=files, preimports=imported_modules(source_nb), policy=course_policy(course),
        settings=settings, view=student_view(source_nb),
        sandbox_user=sandbox_user, use_namespaces=use_namespaces,
    )
    return ctx, source_nb


def grade_assignment(course: Course, assignment: str, submissions_dir: Path, out_dir: Path,
                     options: GradeOptions | None = None, log=print, roster_file: Path | None = None,
                     warn=None) -> list[R.SubmissionResult]:
    """Grade every submission in `submissions_dir` into the class folder `out_dir`; returns the
    results of this batch's submissions (one per student; grades.csv holds the whole class).

    Raises UsageError for what the caller must fix (exit status 2) and InfrastructureError when
    the database, the disk or the sandbox failed (exit status 3; what was graded is kept)."""
    options = options or GradeOptions()
    warn = warn or log
    course.check_assignment(assignment)
    if options.dask_address:  # refuse an exposed cluster before any work
        from autograder.cluster import check_address

        check_address(options.dask_address, options.dask_tls, options.dask_insecure)
    out_dir = Path(out_dir).resolve()
    workers = options.workers or default_workers()
    if workers < 1:
        raise UsageError(f"--workers must be at least 1, got {workers}")
    cores = default_workers()
    threads = options.threads or (1 if options.dask_address else max(1, cores // workers))
    settings = dataclasses.replace(options.settings, limits=dataclasses.replace(options.settings.limits, threads=threads))
    ctx, source_nb = make_context(course, assignment, settings, options.sandbox_user, options.use_namespaces)
    parameters.check(source_nb, options.parameters, ctx.notebook_name)
    ctx.parameters = dict(options.parameters)
    ctx.policy = ctx.policy.with_private(Path(submissions_dir).resolve(), out_dir)
    if options.db_url and options.db_url.startswith("sqlite:///"):
        ctx.policy = ctx.policy.with_private(options.db_url[len("sqlite:///"):])
    _check_out_dir(out_dir, submissions_dir)
    found = scan(Path(submissions_dir), assignment, ctx.notebook_name, others=course.notebooks(assignment))
    for name, why in found.skipped:
        warn(f"not graded: {name}: {why}")
    if not found.submissions:
        raise nothing_gradable(submissions_dir, [name for name, _ in found.skipped])
    roster_ids = roster.read_roster(roster_file) if roster_file else None
    policy = late.course_policy(course.root, assignment)
    ctx.late = late.batch_facts(policy, found.submissions, Path(submissions_dir), options.times)
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        lock = OutputLock(out_dir).__enter__()
    except OSError as error:
        raise disk_failure(error, out_dir, 0, len(found.submissions)) from None
    try:
        batch = _Batch(course, assignment, ctx, source_nb, options, out_dir, log, warn)
        return batch.run(found.submissions, roster_ids, policy)
    finally:
        lock.__exit__()


def _check_out_dir(out_dir: Path, submissions_dir: Path) -> None:
    """The output folder's own subfolders are rewritten by every batch: SUBMISSIONS is never one of them."""
    subs = Path(submissions_dir).resolve()
    for name in ("submitted", "autograded", "feedback", "results", "state", ".staging"):
        managed = out_dir / name
        if subs == managed or managed in subs.parents:
            raise UsageError(f"the submissions folder {submissions_dir} is inside the output folder's {name}/, which "
                             "the grader rewrites: keep submissions outside --out (or pass another --out)")


class _Batch:
    """One run of grade_assignment, holding the folder's lock."""

    def __init__(self, course, assignment, ctx, source_nb, options, out_dir, log, warn):
        self.course, self.assignment, self.ctx, self.source_nb = course, assignment, ctx, source_nb
        self.options, self.out_dir, self.log, self.warn = options, out_dir, log, warn
        self.folder: OutputFolder | None = None
        self.book: FolderGradebook | None = None
        self.graded = 0
        self.left = 0

    def run(self, submissions: list[Submission], roster_ids: list[str] | None, policy) -> list[R.SubmissionResult]:
        try:
            return self._run(submissions, roster_ids, policy)
        except OSError as error:
            if error.errno not in DISK_ERRORS:
                raise
            raise disk_failure(error, self.out_dir, self.graded, self.left) from None

    def write_csv(self) -> None:
        self.folder.write_csv(empty_parts(self.source_nb))

    def _open(self, roster_ids: list[str] | None) -> None:
        """The folder (recovered), its gradebook (the assignment registered, formgrader's config)."""
        options, assignment = self.options, self.assignment
        sweep_run_dirs(default_work_base())
        writer = GradebookWriter(options.db_url or default_url(self.out_dir), batch=folder_id(self.out_dir))
        try:
            # nbgrader's notebook id: the graded notebook's name without .ipynb (an nbgrader assignment
            # may have several, each graded into an output folder of its own)
            notebook = Path(self.ctx.notebook_name).stem
            writer.register(assignment, notebook, self.source_nb)
        except GradebookUnavailable as error:
            raise GradebookUnavailable(f"{error}: nobody was graded. Start the database (or pass another --db) "
                                       "and run the same command again") from None
        self.folder = OutputFolder(self.out_dir, assignment, self.ctx.notebook_name, self.source_nb, notebook)
        for line in self.folder.recover().lines():
            self.log(line)
        formgrader.write_config(self.out_dir, writer.db_url, self.course.source)
        if roster_ids is not None:
            roster.save(self.out_dir, roster_ids)
        ids = roster.load(self.out_dir)
        if ids:
            writer.add_students(ids)
        self.book = FolderGradebook(self.folder, writer, notebook, self.warn)

    def _run(self, submissions: list[Submission], roster_ids: list[str] | None, policy) -> list[R.SubmissionResult]:
        options, assignment = self.options, self.assignment
        self._open(roster_ids)
        folder, book = self.folder, self.book

        base_key = reuse.assignment_key(self.course.source_notebook(assignment), self.ctx.files,
                                        list(self.ctx.policy.data_dirs), self.ctx.settings, self.ctx.parameters)
        keys = {sub.student_id: reuse.key_for(base_key, sub.content_hash, self.ctx.late.get(sub.student_id, {}))
                for sub in submissions}
        results: dict[str, R.SubmissionResult] = {}
        todo: list[Submission] = []
        why: dict[str, int] = {}
        for sub in submissions:
            record = folder.committed.get(sub.student_id)
            if options.force:
                reason = ["--force"]
            elif record is None:
                reason = ["new"]
            elif record.damaged:
                reason = ["outputs damaged"]
            elif record.result.status == R.GRADER_ERROR:
                reason = ["last attempt failed"]
            else:
                reason = reuse.changed(record.reuse_key, keys[sub.student_id])
            if reason:
                todo.append(sub)
                for item in reason:
                    why[item] = why.get(item, 0) + 1
        submitted = {sub.student_id for sub in submissions}
        for student, record in list(folder.committed.items()):
            if record.damaged and student not in submitted:
                folder.repair(student)  # no submission to grade again: rewrite from the record
        self.left = len(todo)
        book.catch_up()
        regraded = {sub.student_id for sub in todo}
        given = book.bring_hand_grades(skip=regraded)  # hand grades given since reach every output
        if given:
            self.log(f"hand grades given since the last run: {len(given)} student(s) updated")
        for sub in submissions:
            if sub.student_id not in regraded:
                results[sub.student_id] = folder.committed[sub.student_id].result
        self.write_csv()
        report_wanted = self._report_wanted(bool(todo) or bool(given))

        isolation = detect(options.sandbox_user, options.use_namespaces, self.ctx.policy.code_roots)
        where = f"on the Dask cluster at {options.dask_address}" if options.dask_address else \
            f"with {min(self.workers, max(1, len(todo)))} worker(s)"
        because = f": {', '.join(f'{k} {v}' for k, v in sorted(why.items()))}" if why else ""
        self.log(f"{assignment}: {len(submissions)} submissions ({len(results)} unchanged since the last run, "
                 f"{len(todo)} to grade{because}) {where}")
        self.log(isolation.describe())
        for warning in isolation.missing:
            self.log(f"warning: isolation layer missing: {warning}")
        if policy.due:
            self.log(f"late work: due {policy.due}; {policy.describe()}")

        started = time.monotonic()
        bar = None
        if options.progress and todo and sys.stderr.isatty():
            from tqdm import tqdm

            bar = tqdm(total=len(todo), unit="submission", desc=assignment, file=sys.stderr)
        jobs = run_jobs(grade_one, self.ctx, todo, self.workers, options.dask_address,
                        failed=lambda sub, error: _failed(self.ctx, sub, self.source_nb, error),
                        prestart=options.prestart, worker_init=_worker_init, log=self.log, preflight=preflight,
                        dask_tls=options.dask_tls, dask_insecure=options.dask_insecure)
        try:
            for sub, result in jobs:
                faults.reach("result")
                committed = folder.commit(result, keys[sub.student_id], result.executed_notebook)
                self.graded += 1
                self.left -= 1
                self.write_csv()
                faults.reach("csv")
                recorded = book.record(committed)  # the hand grades the rule kept are on it now
                if recorded is not committed:
                    committed = recorded
                    self.write_csv()
                results[sub.student_id] = committed.result
                faults.reach("recorded")
                if bar is not None:
                    bar.set_postfix_str(f"{result.student_id}: {result.score:g}/{result.max_score:g} {result.status}")
                    bar.update(1)
                else:
                    _progress(self.log, options, self.graded, len(todo), result, started)
        finally:
            jobs.close()
            discard_next_kernel()
            sweep_run_dirs(default_work_base())
            if bar is not None:
                bar.close()
        if options.progress and todo:
            counts: dict[str, int] = {}
            for r in results.values():
                counts[r.status] = counts.get(r.status, 0) + 1
            self.log(f"graded {len(todo)} submissions in {time.monotonic() - started:.0f} s "
                     f"({(time.monotonic() - started) / len(todo):.1f} s each); statuses: "
                     + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))
        if report_wanted:
            self._write_report()
        if book.conflicts:
            self.warn(f"warning: {len(book.conflicts)} result(s) in the gradebook {shown_url(book.writer.db_url)} "
                      f"were written by another batch for a different submission: {', '.join(book.conflicts[:20])}")
        if book.error is not None:
            raise InfrastructureError(
                f"{book.error}. Every result is in {self.out_dir} (grades.csv, results/, feedback/); "
                "run the same command again when the database is back: nothing is graded again, the missing "
                "results are recorded.")
        return [results[s.student_id] for s in submissions]

    @property
    def workers(self) -> int:
        return self.options.workers or default_workers()

    def _report_wanted(self, changing: bool) -> bool:
        """The class report is never stale: when results change it is removed, and written again
        at the end of the batch (a killed batch leaves a marker, so the next run writes it)."""
        page, marker = self.out_dir / "report.html", self.out_dir / ".report-wanted"
        if changing and page.exists():
            marker.touch()
            page.unlink()
        return marker.exists()

    def _write_report(self) -> None:
        from autograder.report import write_report

        write_report(self.out_dir)
        (self.out_dir / ".report-wanted").unlink(missing_ok=True)


def _failed(ctx: AssignmentContext, sub: Submission, source_nb, error: BaseException) -> R.SubmissionResult:
    return R.SubmissionResult(
        student_id=sub.student_id, assignment=ctx.assignment, status=R.GRADER_ERROR,
        reason=f"the grading worker failed: {type(error).__name__}: {error}", notes=list(sub.notes),
        parts=empty_parts(source_nb), content_hash=sub.content_hash, graded_at=_now(), origin=sub.origin,
        late=ctx.late.get(sub.student_id, {}))


def _progress(log, options: GradeOptions, done: int, total: int, result: R.SubmissionResult, started: float) -> None:
    if not options.progress:
        return
    elapsed = time.monotonic() - started
    eta = elapsed / done * (total - done)
    log(f"[{done}/{total}] {result.student_id}: {result.score:g}/{result.max_score:g} {result.status} "
        f"({result.seconds:.1f} s; elapsed {elapsed:.0f} s, ETA {eta:.0f} s)")


def print_table(results: list[R.SubmissionResult], stream=None) -> None:
    stream = stream or sys.stdout
    header = f"{'student':<14} {'assignment':<30} {'score':>6} {'max':>6}  status"
    print(header, file=stream)
    print("-" * len(header), file=stream)
    for r in results:
        print(f"{r.student_id:<14} {r.assignment:<30} {r.score:>6g} {r.max_score:>6g}  {r.status}"
              + (f" ({r.reason[:60]})" if r.reason and r.status != R.GRADED else ""), file=stream)
