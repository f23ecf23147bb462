"""Grade a batch: collect -> plan -> grade each submission (N workers) -> one writer.

The batch is three parts: the per-assignment plan computed once (plan.py), the per-submission
pipeline a worker runs (pipeline.py: read, assemble, execute, score, feedback), and the runners
that decide where it runs (jobs.py: this process, a local pool or Dask; prestart.py: the kernel
started ahead). This module is the batch itself: the options, the reuse decisions, the progress
and the one writer.

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
from dataclasses import dataclass, field
from pathlib import Path

from autograder import faults, formgrader, late, parameters, pipeline, prestart, reuse, roster
from autograder import results as R
from autograder.cluster import DaskTLS
from autograder.collect import Submission, scan
from autograder.errors import DISK_ERRORS, InfrastructureError, UsageError, disk_failure
from autograder.execute import default_work_base
from autograder.gradebook import GradebookUnavailable, GradebookWriter, default_url, shown_url
from autograder.gradebook_sync import FolderGradebook
from autograder.jobs import run_jobs
from autograder.layout import Course
from autograder.leftovers import sweep_run_dirs
from autograder.lock import OutputLock
from autograder.outputs import OutputFolder, folder_id
from autograder.plan import AssignmentPlan, make_plan
from autograder.sandbox.config import KernelConfig
from autograder.sandbox.isolation import detect
from autograder.usage import nothing_gradable


@dataclass
class GradeOptions:
    """How a batch runs; `config` is the kernel's (`KernelConfig`, whose threads default to one
    share of the cores: cores / workers)."""

    workers: int = 0  # 0: one per core
    db_url: str | None = None
    config: KernelConfig = field(default_factory=KernelConfig)
    force: bool = False
    dask_address: str | None = None  # address of a Dask scheduler (loopback tcp:// or tls://, see cluster.py)
    dask_tls: DaskTLS | None = None  # the cluster's CA, certificate and key for a tls:// address
    dask_insecure: bool = False  # accept a scheduler reached without TLS off this machine (loud warning)
    prestart: bool = True  # start each worker's next kernel while it grades the current one (prestart.py)
    sandbox_user: str | None = "nobody"
    use_namespaces: bool = True
    progress: bool = True
    times: str | None = None  # submission times: "timestamp" (default), "mtime" or an LMS CSV (late.py)
    parameters: dict = field(default_factory=dict)  # injected after the notebook's parameters cell (parameters.py)


def default_workers() -> int:
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1))


def batch_config(options: GradeOptions, workers: int) -> KernelConfig:
    """The options' kernel configuration with its threads decided: one share of the cores per
    worker here, one on a Dask worker (it runs one job per thread)."""
    if options.config.threads is not None:
        return options.config
    threads = 1 if options.dask_address else max(1, default_workers() // workers)
    return dataclasses.replace(options.config, threads=threads)


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
    plan = make_plan(course, assignment, batch_config(options, workers), options.sandbox_user, options.use_namespaces)
    parameters.check(plan.source, options.parameters, plan.notebook_name)
    plan.parameters = dict(options.parameters)
    plan = plan.with_private(Path(submissions_dir).resolve(), out_dir)
    if options.db_url and options.db_url.startswith("sqlite:///"):
        plan = plan.with_private(options.db_url[len("sqlite:///"):])
    _check_out_dir(out_dir, submissions_dir)
    found = scan(Path(submissions_dir), assignment, plan.notebook_name, others=course.notebooks(assignment))
    for name, why in found.skipped:
        warn(f"not graded: {name}: {why}")
    if not found.submissions:
        raise nothing_gradable(submissions_dir, [name for name, _ in found.skipped])
    roster_ids = roster.read_roster(roster_file) if roster_file else None
    policy = late.course_policy(course.root, assignment)
    plan.late = late.batch_facts(policy, found.submissions, Path(submissions_dir), options.times)
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        lock = OutputLock(out_dir).__enter__()
    except OSError as error:
        raise disk_failure(error, out_dir, 0, len(found.submissions)) from None
    try:
        batch = _Batch(course, assignment, plan, options, out_dir, log, warn)
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

    def __init__(self, course: Course, assignment: str, plan: AssignmentPlan, options: GradeOptions,
                 out_dir: Path, log, warn):
        self.course, self.assignment, self.plan = course, assignment, plan
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
        self.folder.write_csv(self.plan.empty_parts())

    def _open(self, roster_ids: list[str] | None) -> None:
        """The folder (recovered), its gradebook (the assignment registered, formgrader's config)."""
        options, assignment = self.options, self.assignment
        sweep_run_dirs(default_work_base())
        writer = GradebookWriter(options.db_url or default_url(self.out_dir), batch=folder_id(self.out_dir))
        try:
            # nbgrader's notebook id: the graded notebook's name without .ipynb (an nbgrader assignment
            # may have several, each graded into an output folder of its own)
            notebook = Path(self.plan.notebook_name).stem
            writer.register(assignment, notebook, self.plan.source)
        except GradebookUnavailable as error:
            raise GradebookUnavailable(f"{error}: nobody was graded. Start the database (or pass another --db) "
                                       "and run the same command again") from None
        self.folder = OutputFolder(self.out_dir, assignment, self.plan.notebook_name, self.plan.source, notebook)
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

        plan = self.plan
        base_key = reuse.assignment_key(self.course.source_notebook(assignment), plan.files,
                                        list(plan.policy.data_dirs), plan.config, plan.parameters)
        keys = {sub.student_id: reuse.key_for(base_key, sub.content_hash, plan.late.get(sub.student_id, {}))
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

        isolation = detect(options.sandbox_user, options.use_namespaces, plan.policy.code_roots)
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
        jobs = run_jobs(pipeline.grade_one, plan, todo, self.workers, options.dask_address,
                        failed=lambda sub, error: pipeline.failed(plan, sub, error),
                        prestart=options.prestart, worker_init=prestart.init_worker, log=self.log,
                        preflight=pipeline.preflight, dask_tls=options.dask_tls, dask_insecure=options.dask_insecure)
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
            prestart.discard_next_kernel()
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
