"""Run one notebook headless, with papermill, in a sandboxed kernel.

The pipeline is straight: a `SandboxedKernel` prepares the sandbox and starts the kernel
(`autograder.sandbox.launch`); papermill injects the parameters after the notebook's `parameters`
cell (`parameters.inject`); papermill's engine registry runs the notebook with the engine
registered as "autograder" (engine.py: the cell loop, timeouts and output limits); and the result
is an `Execution`: the executed notebook, what happened to each cell, the raw receipt lines the
sentinel wrote, and which isolation was in force. Nothing here decides scores.

The sandbox enforces memory, CPU time and file size; a watchdog here kills the sandbox if
papermill itself does not return after the notebook's deadline.
"""
from __future__ import annotations

import json
import os
import secrets
import shutil
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import nbformat
from jupyter_client import AsyncKernelManager
from jupyter_client.kernelspec import KernelSpec, KernelSpecManager, NoSuchKernel
from jupyter_core.utils import run_sync
from papermill.engines import papermill_engines
from papermill.execute import prepare_notebook_metadata

from autograder import parameters as P
from autograder.engine import (
    ENGINE_NAME, INTERRUPT_GRACE_SECONDS, CellRun, ExecutionOutcome, RunEnd, death, kill_sandbox,
)
from autograder.leftovers import claim_run_dir
from autograder.sandbox import postmortem
from autograder.sandbox.config import KernelConfig, KernelSetup
from autograder.sandbox.isolation import Isolation, SandboxPlan, detect, kernel_environment
from autograder.sandbox.policy import KernelPolicy

KERNEL_NAME = "autograder-sandbox"


@dataclass
class Execution:
    """What happened when a notebook ran."""

    notebook: nbformat.NotebookNode
    status: RunEnd
    reason: str
    receipts: list[str]
    isolation: Isolation
    seconds: float
    output_truncated: bool = False
    kernel_log: str = ""

    def cell_state(self, index: int) -> CellRun:
        return CellRun(self.notebook.cells[index].get("metadata", {}).get("autograder", {}).get("run", CellRun.SKIPPED))

    def index_of(self, cell_id: str) -> int:
        """The position of the cell with this id in the executed notebook (papermill inserts a
        cell when it injects parameters, so positions in the assembled notebook may shift)."""
        for index, cell in enumerate(self.notebook.cells):
            if cell.get("id") == cell_id:
                return index
        raise KeyError(f"no cell {cell_id!r} in the executed notebook")


class _SingleSpecManager(KernelSpecManager):
    """A kernel-spec manager that knows exactly one kernel: the sandboxed one."""

    def __init__(self, spec: KernelSpec, **kwargs):
        super().__init__(**kwargs)
        self._spec = spec

    def get_kernel_spec(self, kernel_name):
        if kernel_name != KERNEL_NAME:
            raise NoSuchKernel(kernel_name)
        return self._spec

    def find_kernel_specs(self):
        return {KERNEL_NAME: ""}


def interpreter() -> str:
    """This Python, by a path that exists inside the sandbox: the folder resolved (a virtualenv
    reached through a symlink is bound at its real place), the file name kept (resolving the
    file itself would leave the virtualenv for the base interpreter)."""
    return os.path.join(os.path.realpath(os.path.dirname(sys.executable)), os.path.basename(sys.executable))


def _exit_status(km: AsyncKernelManager) -> int | None:
    """The kernel process's exit status if it has ended (None while it runs)."""
    process = getattr(getattr(km, "provisioner", None), "process", None)
    try:
        return process.poll() if process is not None else None
    except OSError:
        return None


def _tail(path: Path, limit: int) -> str:
    """The last `limit` bytes of a file as text ("" when it does not exist)."""
    try:
        with open(path, "rb") as handle:
            handle.seek(max(0, os.path.getsize(path) - limit))
            return handle.read().decode("utf-8", "replace")
    except OSError:
        return ""


def _explain_death(nb: nbformat.NotebookNode, index: int, status: int | None, kernel_log: str,
                   config: KernelConfig) -> str:
    """The reason for a dead kernel, naming the cell and the cause; also put into the cell's error."""
    cell = nb.cells[index]
    why = postmortem.explain_death(cell, status, kernel_log, config.memory_bytes)
    for output in cell.get("outputs", []):
        if output.get("output_type") == "error" and output.get("ename") == "DeadKernelError":
            output["evalue"] = f"the kernel died while running this cell: {why}"
    return f"the kernel died while running {postmortem.cell_label(cell, index)}: {why}"


def _force_shutdown(km: AsyncKernelManager) -> None:
    """Make sure the kernel and everything in its sandbox are gone."""
    try:
        if km.has_kernel:
            run_sync(km.shutdown_kernel)(now=True)
    except Exception:  # noqa: BLE001 - fall back to killing the process group below
        pass
    kill_sandbox(km)


def _file_policy(isolation: Isolation, work_base: Path, scratch: Path, sockets: Path,
                 private_paths: list[Path] | None) -> dict:
    """The sentinel's file policy (KernelSetup's fields): only needed when the kernel shares the
    machine's file system."""
    if isolation.bwrap:
        return {}
    protected = [os.path.realpath(work_base)] + [os.path.realpath(p) for p in (private_paths or [])]
    return {"protected_paths": tuple(protected), "allowed_paths": (str(scratch), str(sockets)),
            "deny_processes": bool(private_paths)}


def _papermill_ready(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """A deep copy of `nb` with the metadata papermill's loader would have added."""
    from papermill import __version__ as papermill_version

    work = nbformat.from_dict(json.loads(json.dumps(nb)))
    work.metadata.setdefault("papermill", {
        "default_parameters": {}, "parameters": {}, "environment_variables": {}, "version": papermill_version})
    for cell in work.cells:
        cell.metadata.setdefault("tags", [])
        cell.metadata.setdefault("papermill", {})
    return work


def _prepare_run_dir(isolation: Isolation, base: Path | None) -> tuple[Path, Path, Path]:
    run_dir = Path(tempfile.mkdtemp(prefix="autograder-run-", dir=base))
    os.chmod(run_dir, 0o711)
    scratch = run_dir / "scratch"
    sockets = run_dir / "sockets"
    scratch.mkdir()
    sockets.mkdir()
    for folder in (scratch / ".config" / "matplotlib", scratch / ".ipython", scratch / ".jupyter", scratch / "tmp"):
        folder.mkdir(parents=True)
    if isolation.uid is not None:
        for path in [scratch, sockets, *scratch.rglob("*")]:
            os.chown(path, isolation.uid, isolation.gid)
    os.chmod(sockets, 0o700)
    os.chmod(scratch, 0o700)
    return run_dir, scratch, sockets


def default_work_base() -> Path:
    """Where run folders are made: $TMPDIR/autograder-runs (see leftovers.sweep_run_dirs)."""
    return Path(tempfile.gettempdir()) / "autograder-runs"


@dataclass(frozen=True)
class KernelProfile:
    """What a sandboxed kernel is made of; kernels with equal profiles are interchangeable."""

    config: KernelConfig
    isolation: Isolation
    policy: KernelPolicy = KernelPolicy()  # packages, protected modules, data and private paths
    preimports: tuple[str, ...] = ()
    # $NBGRADER_EXECUTION in the kernel, nbgrader's documented switch: "autograde" when grading,
    # "validate" for a student's check (notebooks may skip slow work or behave as nbgrader's tools)
    nbgrader_execution: str = "autograde"


class SandboxedKernel:
    """One kernel in its own sandbox, with its own receipt key.

    Creating it prepares the sandbox and launches the kernel process, which then imports the
    notebook's libraries in the background; `run` executes a notebook on it (once) and tears it
    down. So a worker can start the next kernel while it is still running the current notebook.
    """

    def __init__(self, profile: KernelProfile):
        self.profile = profile
        self.key = new_key()
        self.created = time.monotonic()
        isolation, config, policy = profile.isolation, profile.config, profile.policy
        work_base = default_work_base()
        work_base.mkdir(exist_ok=True)
        os.chmod(work_base, 0o711)
        self.run_dir, self.scratch, sockets = _prepare_run_dir(isolation, work_base)
        self.used = False
        try:
            claim_run_dir(self.run_dir)
            fd = os.open(self.run_dir / "key", os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            os.write(fd, self.key)
            os.close(fd)
            setup = KernelSetup(
                config=config, preimports=profile.preimports, protected_modules=policy.protected_modules,
                **_file_policy(isolation, work_base, self.scratch, sockets, [Path(p) for p in policy.private_paths]))
            plan = SandboxPlan(
                isolation=isolation, setup=setup, scratch=self.scratch, sockets=sockets,
                run_dir=self.run_dir, data_dirs=[Path(d) for d in policy.data_dirs], code_roots=policy.code_roots,
                env=kernel_environment(self.scratch, config.kernel_threads,
                                       extra={"PYTHONPATH": policy.python_path(),
                                              "NBGRADER_EXECUTION": profile.nbgrader_execution},
                                       tmp=None if isolation.bwrap else self.scratch / "tmp"),
            )
            plan_file = self.run_dir / "plan.json"
            # the launcher checks it is still this process's child, then dies with it (launch.py)
            plan_file.write_text(json.dumps({**plan.to_json(), "parent_pid": os.getpid()}))
            os.chmod(plan_file, 0o600)
            spec = KernelSpec(
                argv=[interpreter(), "-m", "autograder.sandbox.launch", "--plan", str(plan_file),
                      "-f", "{connection_file}"],
                env={"PYTHONPATH": policy.python_path()},
                display_name="Python 3 (autograder sandbox)", language="python", interrupt_mode="message",
            )
            self.km = AsyncKernelManager(kernel_name=KERNEL_NAME, kernel_spec_manager=_SingleSpecManager(spec),
                                         transport="ipc", ip=str(sockets / "k"))
            self.km.connection_file = str(sockets / "connection.json")
            self.start_error = None
            try:
                run_sync(self.km.start_kernel)()
                process = getattr(self.km.provisioner, "process", None)
                if process is not None:
                    claim_run_dir(self.run_dir, kernel_pid=process.pid)
            except Exception as error:  # noqa: BLE001 - reported by run()
                self.start_error = error
        except BaseException:
            self.discard()
            raise

    def add_files(self, files: dict[str, bytes]) -> None:
        """Write supporting files into the kernel's scratch folder (before `run`)."""
        isolation = self.profile.isolation
        for name, content in files.items():
            target = self.scratch / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(content)
            if isolation.uid is not None:
                os.chown(target, isolation.uid, isolation.gid)
                for parent in target.relative_to(self.scratch).parents:
                    if str(parent) != ".":
                        os.chown(self.scratch / parent, isolation.uid, isolation.gid)

    def run(self, nb: nbformat.NotebookNode, parameters: dict | None = None) -> Execution:
        """Execute `nb` (not modified) and tear the sandbox down."""
        if self.used:
            raise RuntimeError("a sandboxed kernel runs one notebook only")
        self.used = True
        config, isolation, km = self.profile.config, self.profile.isolation, self.km
        started = time.monotonic()
        try:
            work = _papermill_ready(nb)
            work.metadata["kernelspec"] = {"name": KERNEL_NAME, "language": "python",
                                           "display_name": "Python 3 (autograder sandbox)"}
            if parameters:
                work = P.inject(work, parameters, KERNEL_NAME, ENGINE_NAME)
            work = prepare_notebook_metadata(work, "<submission>", None)
            status, reason = RunEnd.COMPLETED, ""
            # Last resort: whatever happens inside papermill, the sandbox dies after the deadline.
            watchdog = threading.Timer(config.notebook_timeout + 4 * INTERRUPT_GRACE_SECONDS + 30,
                                       kill_sandbox, args=(km,))
            watchdog.daemon = True
            watchdog.start()
            try:
                if self.start_error is not None:
                    raise self.start_error
                # papermill's engine registry, by name; the engine records its outcome in the notebook
                work = papermill_engines.execute_notebook_with_engine(
                    ENGINE_NAME, work, kernel_name=KERNEL_NAME, input_path=None, output_path=None,
                    progress_bar=False, log_output=False, start_timeout=config.start_timeout,
                    km=km, kernel_config=config, isolation=isolation,
                )
            except Exception as error:  # noqa: BLE001 - a kernel that never started is a result too
                # papermill ran the engine on `work` itself, so what ran is in it
                outcome = ExecutionOutcome.of(work)
                if outcome is not None and _cells_ran(work):
                    # the cells ran; what failed came after them (shutting the kernel down): keep them
                    if outcome.status == RunEnd.COMPLETED:
                        outcome.status = RunEnd.KERNEL_DIED
                        outcome.reason = f"the kernel failed after the notebook ran: {type(error).__name__}: {error}"
                        work.metadata["autograder"]["execution"] = outcome.to_metadata()
                else:
                    outside, how = death(km, isolation)
                    if outside:
                        status = RunEnd.KILLED
                        reason = (f"the kernel was killed from outside ({how}) while it was starting; "
                                  "run the batch again to grade it again")
                    else:
                        status = RunEnd.FAILED_TO_START
                        reason = f"the kernel could not be started: {type(error).__name__}: {error}"
            finally:
                watchdog.cancel()
                exit_status = _exit_status(km)
                _force_shutdown(km)
            outcome = ExecutionOutcome.of(work) if status == RunEnd.COMPLETED else None
            if outcome is not None:
                status, reason = outcome.status, outcome.reason
            died_at = outcome.died_at if outcome is not None else None
            receipts_path = self.run_dir / "receipts"
            receipts = receipts_path.read_text(errors="replace").splitlines() if receipts_path.exists() else []
            log_path = self.run_dir / "kernel.log"
            full_log = _tail(log_path, 256 * 1024)
            kernel_log = full_log[-4000:]
            if status == RunEnd.KILLED and postmortem.SELF_SIGNAL in full_log and died_at is not None:
                status = RunEnd.KERNEL_DIED  # its own code sent the signal: the student's doing, final
            if status == RunEnd.KERNEL_DIED and died_at is not None:
                reason = _explain_death(work, died_at, exit_status, full_log, config)
            return Execution(
                notebook=work, status=status, reason=reason, receipts=receipts, isolation=isolation,
                seconds=time.monotonic() - started,
                output_truncated=bool(outcome and outcome.output_truncated), kernel_log=kernel_log,
            )
        finally:
            self.discard()

    def discard(self) -> None:
        """Kill the kernel (if any) and remove the sandbox's files."""
        km = getattr(self, "km", None)
        if km is not None:
            _force_shutdown(km)
        shutil.rmtree(self.run_dir, ignore_errors=True)


def _cells_ran(nb) -> bool:
    return any(c.get("metadata", {}).get("autograder", {}).get("run") in (CellRun.RAN, CellRun.TIMED_OUT) for c in nb.cells)


def run_notebook(
    nb: nbformat.NotebookNode,
    *,
    config: KernelConfig | None = None,
    isolation: Isolation | None = None,
    parameters: dict | None = None,
    files: dict[str, bytes] | None = None,
    preimports: list[str] | None = None,
    policy: KernelPolicy | None = None,
    kernel: SandboxedKernel | None = None,
    nbgrader_execution: str = "autograde",
) -> tuple[Execution, bytes]:
    """Execute `nb` in a fresh sandboxed kernel; returns what happened and the receipt key.

    `files` are written into the kernel's scratch folder (supporting files of the assignment and
    of the submission). `policy` says which packages the kernel imports, which modules the
    sentinel protects, which folders hold data and which the notebook must not read (default: this
    grader's packages and protected modules, no data, nothing private; autograder/policy.py builds
    a course's). Pass `kernel` to use one started ahead (its profile must match). The notebook
    passed in is not modified.
    """
    if kernel is None:
        if policy is None:
            from autograder.policy import kernel_policy

            policy = kernel_policy()
        profile = KernelProfile(
            config=config or KernelConfig(), isolation=isolation or detect(code_roots=policy.code_roots),
            policy=policy, preimports=tuple(preimports or ()), nbgrader_execution=nbgrader_execution)
        kernel = SandboxedKernel(profile)
    kernel.add_files(files or {})
    return kernel.run(nb, parameters), kernel.key


def new_key() -> bytes:
    """A fresh receipt key for one run."""
    return secrets.token_bytes(32)
