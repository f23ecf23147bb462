"""Grade a batch: collect -> assemble -> execute (N workers) -> score -> one writer.

Workers only compute: each returns a `SubmissionResult` (with its feedback page) for one
submission and never touches shared files. The parent process is the only writer: it records
each result in the gradebook, writes the student's files and rewrites grades.csv as results
arrive, so a batch killed halfway leaves consistent files and can simply be run again: results
whose submission has not changed since are reused (unless --force), the rest are graded.
"""
from __future__ import annotations

import dataclasses
import json
import multiprocessing
import os
import sys
import time
import traceback
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import nbformat

from autograder import cells as C
from autograder import exports, feedback, handgrading, late
from autograder import results as R
from autograder.assemble import Assembled, assemble, imported_modules
from autograder.cluster import DaskTLS
from autograder.collect import Submission, collect
from autograder.errors import UsageError
from autograder.execute import KernelProfile, SandboxedKernel, Settings, run_notebook
from autograder.gradebook import GradebookWriter, default_url
from autograder.handgrade_batch import BatchHandGrading
from autograder.layout import Course, assignment_files
from autograder.release import validate_source
from autograder.sandbox.isolation import detect
from autograder.score import score_parts

# Modules whose state the sentinel restores before each test (see sandbox/sentinel.py).
PROTECTED_MODULES = [
    "builtins", "math", "cmath", "operator", "functools", "itertools", "numbers", "decimal",
    "fractions", "statistics", "random", "re", "json", "copy", "types", "collections", "os",
    "posixpath", "genericpath", "pathlib", "linecache", "hashlib", "hmac", "string", "textwrap", "dataclasses",
    "unittest", "numpy", "pandas", "scipy", "sklearn", "torch", "statsmodels", "course",
    "autograder", "IPython",
]


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


@dataclass
class AssignmentContext:
    """Everything a worker needs to grade submissions of one assignment (picklable)."""

    assignment: str
    notebook_name: str
    source: dict
    files: dict[str, bytes]
    preimports: list[str]
    data_dirs: list[str]
    private_paths: list[str]
    settings: Settings
    sandbox_user: str | None
    use_namespaces: bool
    late: dict[str, dict] = field(default_factory=dict)  # student id -> late facts (late.py)


def _now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def empty_parts(source_nb) -> list[R.PartResult]:
    parts = []
    for cell in source_nb.cells:
        gid = C.grade_id(cell)
        if gid and C.is_test(cell):
            parts.append(R.PartResult(gid, C.title_of(gid), "test", 0.0, C.points(cell), R.NOT_RUN, "did not run"))
        elif gid and C.is_hand_graded(cell):
            parts.append(R.PartResult(gid, C.title_of(gid), "manual", 0.0, C.points(cell), R.MANUAL, "graded by hand"))
    return parts


def parse_notebook(data: bytes) -> nbformat.NotebookNode:
    """Read a submitted notebook, repairing what nbformat can repair; ValueError if unreadable."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise ValueError(f"the file is not UTF-8 text ({error.reason} at byte {error.start})") from None
    # A reason never quotes the file: it reaches grades.csv and the feedback page, and the "notebook"
    # may be any file (JSON errors say where, nbformat's own messages would show the text).
    try:
        json.loads(text)
    except ValueError as error:
        where = f" (line {error.lineno}, column {error.colno}: {error.msg})" if isinstance(error, json.JSONDecodeError) else ""
        raise ValueError(f"the file is not a notebook: it is not valid JSON{where}. Open it in JupyterLab and "
                         "save it again, or submit the .ipynb file itself") from None
    try:
        nb = nbformat.reads(text, as_version=4)
    except Exception as error:  # noqa: BLE001 - nbformat raises many kinds
        raise ValueError(f"the file is not a readable notebook ({type(error).__name__}): open it in JupyterLab "
                         "and save it again") from None
    if not isinstance(nb.get("cells"), list):
        raise ValueError("the notebook has no list of cells")
    for cell in nb.cells:
        if not isinstance(cell, dict) or cell.get("cell_type") not in ("code", "markdown", "raw"):
            raise ValueError("the notebook holds a cell of unknown type")
        if not isinstance(C.source(cell), str):
            raise ValueError("a cell's source is not text")
    return nb


# A worker keeps one kernel started ahead for its next submission, so the kernel's start-up
# (bubblewrap, Python, the notebook's libraries) overlaps with grading the current one.
_next_kernel: SandboxedKernel | None = None


def kernel_profile(ctx: AssignmentContext, isolation) -> KernelProfile:
    return KernelProfile(settings=ctx.settings, isolation=isolation, preimports=tuple(ctx.preimports),
                         protected=tuple(PROTECTED_MODULES), data_dirs=tuple(ctx.data_dirs),
                         private_paths=tuple(ctx.private_paths))


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


def grade_one(ctx: AssignmentContext, sub: Submission, prestart_next: bool = False) -> R.SubmissionResult:
    """Grade one submission. Never raises: failures become statuses.

    With `prestart_next`, a kernel for the next submission is started before this one runs.
    """
    started = time.monotonic()
    source_nb = nbformat.from_dict(ctx.source)
    result = R.SubmissionResult(student_id=sub.student_id, assignment=ctx.assignment, status=R.GRADED,
                                parts=empty_parts(source_nb), notes=list(sub.notes),
                                content_hash=sub.content_hash, graded_at=_now(),
                                late=ctx.late.get(sub.student_id, {}))
    assembled: Assembled | None = None
    executed = None
    try:
        isolation = detect(ctx.sandbox_user, ctx.use_namespaces)
        result.isolation = isolation.describe()
        if sub.problem:
            result.status, result.reason = sub.problem
        else:
            try:
                nb = parse_notebook(sub.notebook)
            except ValueError as error:
                result.status, result.reason = R.INVALID_NOTEBOOK, str(error)
            else:
                assembled = assemble(source_nb, nb)
                result.notes += assembled.notes
                if not assembled.recognised:
                    result.status = R.WRONG_NOTEBOOK
                    result.reason = (f"the notebook shares no answer or test cell with {ctx.notebook_name}: "
                                     "was the right notebook submitted?")
                    assembled = None
                else:
                    files = dict(sub.files)
                    files.update(ctx.files)  # the assignment's own files win over same-named student files
                    profile = kernel_profile(ctx, isolation)
                    kernel = _take_kernel(profile)
                    if prestart_next:
                        _start_next_kernel(profile)
                    execution, key = run_notebook(assembled.notebook, files=files, kernel=kernel)
                    executed = execution.notebook
                    secret = C.hidden_lines(source_nb)
                    result.parts, warnings = score_parts(assembled, execution, key, secret)
                    result.diagnostics = [line for line in execution.receipts if line.startswith("N ")][:50]
                    result.notes += [f"integrity: {w}" for w in warnings]
                    if execution.output_truncated:
                        result.notes.append("output limit reached: later output was dropped")
                    status_map = {"completed": R.GRADED, "timeout": R.TIMEOUT, "kernel_died": R.KERNEL_DIED,
                                  "failed_to_start": R.GRADER_ERROR}
                    result.status = status_map.get(execution.status, R.GRADER_ERROR)
                    result.reason = execution.reason
                    if execution.status == "failed_to_start" and execution.kernel_log:
                        result.reason += " | kernel log: " + execution.kernel_log[-300:].replace("\n", " ")
    except Exception as error:  # noqa: BLE001 - a grader bug must still produce a row
        result.status = R.GRADER_ERROR
        result.reason = f"{type(error).__name__}: {error}"
        result.notes.append("grader traceback: " + traceback.format_exc(limit=4).replace("\n", " | ")[-1500:])
        result.parts = empty_parts(source_nb)
    result.seconds = time.monotonic() - started
    if assembled is not None:  # what each hand-graded part grades, and the notebook formgrader shows
        handgrading.mark_answers(result.parts, executed if executed is not None else assembled.notebook)
        if executed is not None:
            result.executed_notebook = nbformat.writes(executed)
    try:
        result.feedback_html = feedback.render(result, assembled, executed, C.hidden_lines(source_nb))
    except Exception as error:  # noqa: BLE001
        result.notes.append(f"feedback could not be rendered: {type(error).__name__}: {error}")
    return result


def _worker_init() -> None:
    """Workers die with the grading process (Linux), taking their sandboxes with them."""
    try:
        import ctypes
        import signal

        libc = ctypes.CDLL(None, use_errno=True)
        PR_SET_PDEATHSIG = 1
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):
        pass


def _load_previous(out_dir: Path, student_id: str) -> R.SubmissionResult | None:
    path = out_dir / "state" / f"{student_id}.json"
    if not path.exists():
        return None
    try:
        return R.SubmissionResult.from_dict(json.loads(path.read_text()))
    except Exception:  # noqa: BLE001 - a damaged state file means "grade again"
        return None


def default_workers() -> int:
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1))


def make_context(course: Course, assignment: str, settings: Settings, sandbox_user, use_namespaces) -> tuple[AssignmentContext, nbformat.NotebookNode]:
    source_path = course.source_notebook(assignment)
    source_nb = nbformat.read(source_path, as_version=4)
    validate_source(source_nb, str(source_path))
    release_dir = course.release / assignment
    files = assignment_files(release_dir if release_dir.is_dir() else course.source / assignment)
    data_dirs = [str(p) for p in [course.root / "datasets"] if p.is_dir()]
    if os.environ.get("COURSE_DATA_DIR"):
        data_dirs.append(os.path.realpath(os.environ["COURSE_DATA_DIR"]))
    ctx = AssignmentContext(
        assignment=assignment, notebook_name=course.notebook_name(assignment), source=dict(source_nb),
        files=files, preimports=imported_modules(source_nb), data_dirs=data_dirs,
        private_paths=[str(course.source), str(course.root / "gradebook.db"), str(course.examples)],
        settings=settings,
        sandbox_user=sandbox_user, use_namespaces=use_namespaces,
    )
    return ctx, source_nb


def grade_assignment(course: Course, assignment: str, submissions_dir: Path, out_dir: Path,
                     options: GradeOptions | None = None, log=print) -> list[R.SubmissionResult]:
    """Grade every submission in `submissions_dir`; returns the batch's results (one per student)."""
    options = options or GradeOptions()
    course.check_assignment(assignment)
    if options.dask_address:  # refuse an exposed cluster before any work
        from autograder.cluster import check_address

        check_address(options.dask_address, options.dask_tls, options.dask_insecure)
    out_dir = Path(out_dir).resolve()
    out_dir.mkdir(parents=True, exist_ok=True)
    workers = options.workers or default_workers()
    if workers < 1:
        raise UsageError(f"--workers must be at least 1, got {workers}")
    cores = default_workers()
    threads = options.threads or (1 if options.dask_address else max(1, cores // workers))
    settings = dataclasses.replace(options.settings, limits=dataclasses.replace(options.settings.limits, threads=threads))
    ctx, source_nb = make_context(course, assignment, settings, options.sandbox_user, options.use_namespaces)
    ctx.private_paths += [str(Path(submissions_dir).resolve()), str(out_dir)]
    if options.db_url and options.db_url.startswith("sqlite:///"):
        ctx.private_paths.append(os.path.realpath(options.db_url[len("sqlite:///"):]))
    policy = late.course_policy(course.root, assignment)
    submissions = collect(Path(submissions_dir), assignment, ctx.notebook_name)
    ctx.late = late.batch_facts(policy, submissions, Path(submissions_dir), options.times)
    writer = GradebookWriter(options.db_url or default_url(out_dir))
    writer.register(assignment, assignment, source_nb)
    hand = BatchHandGrading(out_dir, writer.db_url, source_nb, course.source, assignment)

    results: dict[str, R.SubmissionResult] = {}
    todo: list[Submission] = []
    previous_of: dict[str, R.SubmissionResult | None] = {}
    for sub in submissions:
        previous = previous_of[sub.student_id] = _load_previous(out_dir, sub.student_id)
        if not options.force and previous and previous.content_hash == sub.content_hash and previous.assignment == assignment \
                and previous.status != R.GRADER_ERROR and previous.late == ctx.late.get(sub.student_id, {}):
            results[sub.student_id] = previous
        else:
            todo.append(sub)
    isolation = detect(options.sandbox_user, options.use_namespaces)
    where = f"on the Dask cluster at {options.dask_address}" if options.dask_address else \
        f"with {min(workers, max(1, len(todo)))} worker(s)"
    log(f"{assignment}: {len(submissions)} submissions ({len(results)} unchanged since the last run, "
        f"{len(todo)} to grade) {where}")
    log(isolation.describe())
    for warning in isolation.missing:
        log(f"warning: isolation layer missing: {warning}")
    for previous in results.values():
        writer.record(previous, assignment)
        hand.finish(previous, previous)  # hand grades given since (formgrader) reach every output
        exports.write_student_files(out_dir, previous, ctx.notebook_name)
    exports.write_results(out_dir, list(results.values()))

    def accept(result: R.SubmissionResult) -> None:
        writer.record(result, assignment)
        hand.finish(result, previous_of.get(result.student_id))  # keeps hand grades of unchanged answers
        exports.write_student_files(out_dir, result, ctx.notebook_name)
        results[result.student_id] = result
        exports.write_results(out_dir, list(results.values()))

    started = time.monotonic()
    done = 0
    bar = None
    if options.progress and todo and sys.stderr.isatty():
        from tqdm import tqdm

        bar = tqdm(total=len(todo), unit="submission", desc=assignment, file=sys.stderr)
    try:
        for sub, result in run_jobs(ctx, todo, workers, options.dask_address, source_nb, options.prestart,
                                    dask_tls=options.dask_tls, dask_insecure=options.dask_insecure):
            accept(result)
            done += 1
            if bar is not None:
                bar.set_postfix_str(f"{result.student_id}: {result.score:g}/{result.max_score:g} {result.status}")
                bar.update(1)
            else:
                _progress(log, options, done, len(todo), result, started)
    finally:
        if bar is not None:
            bar.close()
    if options.progress and todo:
        counts = {}
        for r in results.values():
            counts[r.status] = counts.get(r.status, 0) + 1
        log(f"graded {len(todo)} submissions in {time.monotonic() - started:.0f} s "
            f"({(time.monotonic() - started) / len(todo):.1f} s each); statuses: "
            + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))
    ordered = [results[s.student_id] for s in submissions]
    exports.write_results(out_dir, ordered)
    return ordered


def _failed(ctx: AssignmentContext, sub: Submission, source_nb, error: BaseException) -> R.SubmissionResult:
    return R.SubmissionResult(
        student_id=sub.student_id, assignment=ctx.assignment, status=R.GRADER_ERROR,
        reason=f"the grading worker failed: {type(error).__name__}: {error}",
        parts=empty_parts(source_nb), content_hash=sub.content_hash, graded_at=_now(),
        late=ctx.late.get(sub.student_id, {}))


def run_jobs(ctx: AssignmentContext, todo: list[Submission], workers: int, dask_address: str | None, source_nb,
             prestart: bool = True, dask_tls: DaskTLS | None = None, dask_insecure: bool = False):
    """Grade `todo`, yielding (submission, result) as each finishes, wherever the work runs:
    in this process (one worker), in a local pool of worker processes, or on a Dask cluster."""
    if not todo:
        return
    if dask_address:
        yield from _run_on_dask(ctx, todo, dask_address, source_nb, dask_tls, dask_insecure)
    elif workers == 1 or len(todo) == 1:
        for index, sub in enumerate(todo):
            yield sub, grade_one(ctx, sub, prestart and index < len(todo) - 1)
    else:
        spawn = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(max_workers=min(workers, len(todo)), mp_context=spawn,
                                 initializer=_worker_init) as pool:
            last = len(todo) - workers if prestart else 0  # the last ones need no kernel started after them
            futures = {pool.submit(grade_one, ctx, sub, index < last): sub for index, sub in enumerate(todo)}
            for future in as_completed(futures):
                sub = futures[future]
                try:
                    yield sub, future.result()
                except Exception as error:  # noqa: BLE001 - a worker that died still yields a row
                    yield sub, _failed(ctx, sub, source_nb, error)


def _run_on_dask(ctx: AssignmentContext, todo: list[Submission], address: str, source_nb,
                 tls: DaskTLS | None = None, allow_insecure: bool = False):
    """Send each submission to a Dask distributed cluster; results come back here (one writer).

    Workers run the same `grade_one` (same sandbox, same receipts) with the isolation of the
    machine they are on; give them one thread each (`dask worker ADDRESS --nthreads 1`). Only a
    loopback or TLS-protected cluster is used (see cluster.py).
    """
    import uuid

    from distributed import as_completed as dask_completed

    from autograder.cluster import connect

    with connect(address, tls, allow_insecure) as client:
        shared = client.scatter(ctx, broadcast=True)
        batch = uuid.uuid4().hex[:8]
        futures = {client.submit(grade_one, shared, sub, False, pure=False,
                                 key=f"grade-{ctx.assignment}-{sub.student_id}-{batch}"): sub for sub in todo}
        for future in dask_completed(list(futures)):
            sub = futures[future]
            try:
                yield sub, future.result()
            except Exception as error:  # noqa: BLE001 - a lost worker still yields a row
                yield sub, _failed(ctx, sub, source_nb, error)


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
