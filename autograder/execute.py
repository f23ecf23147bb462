"""Run one notebook headless, with papermill, in a sandboxed kernel.

The pipeline is straight: papermill injects the parameters, our papermill engine runs the cells
one by one in a kernel started by `autograder.sandbox.launch`, and the result is an
`Execution`: the executed notebook, what happened to each cell, the raw receipt lines the
sentinel wrote, and which isolation was in force. Nothing here decides scores.

Limits enforced here (the sandbox enforces memory, CPU time and file size):
* a per-cell timeout: the kernel is interrupted; if it does not answer within a grace period it
  is killed and the remaining cells do not run;
* a per-notebook deadline: cells that would start after it do not run;
* an output limit: outputs beyond it are dropped (with one notice), so a print loop cannot exhaust
  the grader's memory. The grader's own cells (guards, tests, locked cells) have a budget of the
  same size of their own, so output a student printed never crowds them out, and error outputs are
  never dropped (clipped to a bounded size instead): a failing test always reports its error.

Guard and test cells run without being stored in IPython's input history (`store_history=False`),
so the text of a test, hidden part included, is never left in `In`, `_i`, `_ii`... for later
student code to read.
"""
from __future__ import annotations

import asyncio
import json
import os
import secrets
import shutil
import signal
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
from jupyter_client import AsyncKernelManager
from jupyter_client.kernelspec import KernelSpec, KernelSpecManager, NoSuchKernel
from jupyter_core.utils import run_sync
from nbclient.exceptions import CellControlSignal, CellTimeoutError, DeadKernelError
from papermill.clientwrap import PapermillNotebookClient
from papermill.engines import NBClientEngine, papermill_engines
from papermill.execute import prepare_notebook_metadata
from papermill.parameterize import parameterize_notebook

import autograder
import course as course_package
from autograder.assemble import FIXED_ROLE, GUARD_ROLE, TEST_ROLE
from autograder.leftovers import claim_run_dir
from autograder.sandbox import postmortem
from autograder.sandbox.isolation import Isolation, Limits, SandboxPlan, detect, kernel_environment

KERNEL_NAME = "autograder-sandbox"
# Signals an operator or the machine's out-of-memory killer sends. A kernel that dies of one of
# them (and was not killed by the grader itself, on a timeout) was killed from outside: not the
# student's doing, so the result is not final (see `Execution.status`).
SIGNALS_FROM_OUTSIDE = {signal.SIGKILL, signal.SIGTERM, signal.SIGHUP, signal.SIGINT, signal.SIGQUIT}
ENGINE_NAME = "autograder"
INTERRUPT_GRACE_SECONDS = 5.0
GRADER_ROLES = (GUARD_ROLE, TEST_ROLE, FIXED_ROLE)  # cells whose code comes from the source notebook
ERROR_TEXT_LIMIT = 8192  # characters kept of an error's message and of its traceback
ERRORS_PER_CELL = 3  # error outputs kept per cell (IPython itself reports one)

# Cell outcomes recorded in cell.metadata.autograder.run
RAN = "ran"  # the kernel executed it (its outputs may hold an error)
TIMED_OUT = "timed_out"  # exceeded the per-cell timeout
NOT_RUN = "not_run"  # never sent to the kernel (deadline, dead kernel, earlier timeout)


@dataclass
class Settings:
    """Limits of one notebook run."""

    cell_timeout: float = 120.0
    notebook_timeout: float = 600.0
    output_limit_bytes: int = 2 * 1024**2
    start_timeout: float = 60.0
    limits: Limits = field(default_factory=Limits)

    def __post_init__(self):
        for name in ("cell_timeout", "notebook_timeout", "start_timeout"):
            value = getattr(self, name)
            if not isinstance(value, (int, float)) or isinstance(value, bool) or value <= 0:
                raise ValueError(f"{name} must be a positive number of seconds, got {value!r}")
        if not isinstance(self.output_limit_bytes, int) or self.output_limit_bytes <= 0:
            raise ValueError(f"output_limit_bytes must be a positive integer, got {self.output_limit_bytes!r}")


@dataclass
class Execution:
    """What happened when a notebook ran."""

    notebook: nbformat.NotebookNode
    status: str  # "completed", "timeout", "kernel_died", "killed" (from outside), "failed_to_start"
    reason: str
    receipts: list[str]
    isolation: Isolation
    seconds: float
    output_truncated: bool = False
    kernel_log: str = ""

    def cell_state(self, index: int) -> str:
        return self.notebook.cells[index].get("metadata", {}).get("autograder", {}).get("run", NOT_RUN)


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


class GradingClient(PapermillNotebookClient):
    """papermill's client with a notebook deadline, interrupt-then-kill timeouts and an output cap."""

    def __init__(self, nb_man, settings: Settings, isolation: Isolation | None = None, **kwargs):
        super().__init__(nb_man, **kwargs)
        self.settings = settings
        self.isolation = isolation
        self.output_bytes = {"student": 0, "grader": 0}  # two budgets of output_limit_bytes each
        self.noticed: set[str] = set()  # budgets whose "limit reached" notice was given
        self.errors_kept: dict[int, int] = {}  # cell index -> error outputs kept
        self.output_truncated = False
        self.status = "completed"
        self.reason = ""
        self.died_at: int | None = None  # index of the cell the kernel died in

    # -- outputs --------------------------------------------------------------------------
    def _budget(self, cell_index: int) -> str:
        cell = self.nb.cells[cell_index]
        role = cell.get("metadata", {}).get("autograder", {}).get("role")
        return "grader" if role in GRADER_ROLES else "student"

    def output(self, outs, msg, display_id, cell_index):
        if msg.get("msg_type") == "error":
            return self._error_output(outs, msg, display_id, cell_index)
        budget = self._budget(cell_index)
        size = len(json.dumps(msg.get("content", {}), default=str))
        if self.output_bytes[budget] + size > self.settings.output_limit_bytes:
            self.output_truncated = True
            if budget not in self.noticed:
                self.noticed.add(budget)
                whose = "the grader's cells" if budget == "grader" else "this notebook's own cells"
                outs.append(nbformat.v4.new_output(
                    "stream", name="stderr",
                    text=f"[autograder] output limit of {self.settings.output_limit_bytes} bytes reached; "
                         f"further output from {whose} was dropped (errors are still shown)\n"))
            return None
        self.output_bytes[budget] += size
        return super().output(outs, msg, display_id, cell_index)

    def _error_output(self, outs, msg, display_id, cell_index):
        """Errors are never dropped by the output limit (a failing test must say why it failed);
        they are clipped instead, and only a few per cell are kept, so they stay bounded too."""
        kept = self.errors_kept.get(cell_index, 0)
        if kept >= ERRORS_PER_CELL:
            self.output_truncated = True
            return None
        self.errors_kept[cell_index] = kept + 1
        content = msg.get("content", {})
        content["evalue"] = _clip_text(str(content.get("evalue", "")))
        content["ename"] = _clip_text(str(content.get("ename", "Error")))[:200]
        traceback = [str(line) for line in content.get("traceback", []) if isinstance(line, str)]
        kept_lines, total = [], 0
        for line in reversed(traceback):  # the end of a traceback says the most
            total += len(line)
            if total > ERROR_TEXT_LIMIT:
                kept_lines.append("[autograder] earlier traceback lines dropped")
                break
            kept_lines.append(line)
        content["traceback"] = kept_lines[::-1]
        return super().output(outs, msg, display_id, cell_index)

    # -- timeouts -------------------------------------------------------------------------
    async def _async_handle_timeout(self, timeout, cell=None):
        raise CellTimeoutError.error_from_timeout_and_cell("Cell execution timed out", timeout, cell)

    async def _async_interrupt_and_wait(self) -> bool:
        # nbclient leaves its output task running after a timeout (CellTimeoutError is a control
        # signal); it consumes the interrupted cell's iopub messages, and later cells ignore
        # messages from other requests, so only the shell reply is awaited here.
        await self.km.interrupt_kernel()
        while True:
            try:
                msg = await self.kc.shell_channel.get_msg(timeout=0.2)
            except Exception:  # noqa: BLE001 - queue.Empty and friends
                continue
            if msg.get("msg_type") == "execute_reply":
                return True

    async def _async_interrupt_or_kill(self) -> bool:
        """After a timeout: interrupt; True if the kernel answered, False if it had to be killed."""
        try:
            return await asyncio.wait_for(self._async_interrupt_and_wait(), INTERRUPT_GRACE_SECONDS)
        except (asyncio.TimeoutError, Exception):  # noqa: BLE001 - a kernel that cannot be interrupted is killed
            kill_sandbox(self.km)
            return False

    _interrupt_or_kill = run_sync(_async_interrupt_or_kill)

    # -- the cell loop --------------------------------------------------------------------
    def papermill_execute_cells(self):
        settings = self.settings
        deadline = time.monotonic() + settings.notebook_timeout
        stop = None  # why the remaining cells will not run
        for index, cell in enumerate(self.nb.cells):
            meta = cell.setdefault("metadata", {}).setdefault("autograder", {})
            if cell.cell_type != "code":
                continue
            if stop is not None:
                meta["run"] = NOT_RUN
                continue
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                stop = f"the notebook's time limit of {settings.notebook_timeout:g} s was reached"
                self.status, self.reason = "timeout", stop
                meta["run"] = NOT_RUN
                continue
            self.timeout = max(1, int(min(settings.cell_timeout, remaining)))
            started = time.monotonic()
            try:
                self.nb_man.cell_start(cell, index)
                self.execute_cell(cell, index, store_history=meta.get("role") not in (GUARD_ROLE, TEST_ROLE))
                meta["run"] = RAN
            except CellTimeoutError:
                meta["run"] = TIMED_OUT
                limit = f"{settings.cell_timeout:g} s" if self.timeout >= settings.cell_timeout else "the notebook's remaining time"
                cell.outputs.append(nbformat.v4.new_output(
                    "error", ename="TimeoutError", evalue=f"cell exceeded its time limit ({limit})", traceback=[]))
                if time.monotonic() >= deadline:
                    stop = f"the notebook's time limit of {settings.notebook_timeout:g} s was reached"
                    self.status, self.reason = "timeout", stop
                if not self._interrupt_or_kill():
                    stop = f"cell {index} timed out and its kernel did not respond to an interrupt"
                    self.status, self.reason = "timeout", stop
            except DeadKernelError:
                meta["run"] = RAN
                outside, how = death(self.km, self.isolation) if self.isolation else (False, "")
                if outside:
                    cell.outputs.append(nbformat.v4.new_output(
                        "error", ename="DeadKernelError",
                        evalue=f"the kernel was killed from outside ({how}) while running this cell", traceback=[]))
                    stop = (f"the kernel was killed from outside ({how}: the machine's out-of-memory killer or an "
                            f"operator) while running cell {index}; run the batch again to grade it again")
                    self.status, self.reason = "killed", stop
                else:
                    cell.outputs.append(nbformat.v4.new_output(
                        "error", ename="DeadKernelError",
                        evalue="the kernel died while running this cell (exit, crash or memory limit)", traceback=[]))
                    stop = f"the kernel died while running cell {index}" + (f" ({how})" if how else "")
                    self.status, self.reason = "kernel_died", stop
                self.died_at = index
            except CellControlSignal:
                meta["run"] = RAN
            finally:
                meta["seconds"] = round(time.monotonic() - started, 3)
                try:
                    self.nb_man.cell_complete(self.nb.cells[index], cell_index=index)
                except Exception:  # noqa: BLE001 - bookkeeping must not stop grading
                    pass

    def execute(self, **kwargs):
        self.reset_execution_trackers()
        with self.setup_kernel(**kwargs):
            self.papermill_execute_cells()
        return self.nb


class GradingEngine(NBClientEngine):
    """The papermill engine registered as 'autograder'."""

    @classmethod
    def execute_managed_notebook(cls, nb_man, kernel_name, log_output=False, stdout_file=None,
                                 stderr_file=None, start_timeout=60, execution_timeout=None, **kwargs):
        settings: Settings = kwargs.pop("settings")
        holder: dict = kwargs.pop("holder")
        client = GradingClient(
            nb_man, settings, isolation=kwargs.pop("isolation", None), km=kwargs.pop("km"), kernel_name=kernel_name,
            startup_timeout=int(start_timeout), timeout=int(settings.cell_timeout),
            allow_errors=True, interrupt_on_timeout=False, raise_on_iopub_timeout=False,
            iopub_timeout=10, record_timing=False, log_output=False,
        )
        holder["client"] = client
        return client.execute()


papermill_engines.register(ENGINE_NAME, GradingEngine)


def _clip_text(text: str) -> str:
    return text if len(text) <= ERROR_TEXT_LIMIT else text[:ERROR_TEXT_LIMIT] + " [...]"


def kill_sandbox(km: AsyncKernelManager) -> None:
    """SIGKILL the kernel's process group: bubblewrap, and with it every process in the sandbox."""
    process = getattr(getattr(km, "provisioner", None), "process", None)
    if process is not None and process.poll() is None:
        km.autograder_killed = True
        try:
            os.killpg(process.pid, 9)
        except (OSError, ProcessLookupError):
            try:
                process.kill()
            except OSError:
                pass


def interpreter() -> str:
    """This Python, by a path that exists inside the sandbox: the folder resolved (a virtualenv
    reached through a symlink is bound at its real place), the file name kept (resolving the
    file itself would leave the virtualenv for the base interpreter)."""
    return os.path.join(os.path.realpath(os.path.dirname(sys.executable)), os.path.basename(sys.executable))


def package_path() -> str:
    """PYTHONPATH that makes the kernel import the very `autograder` and `course` packages this
    grader runs (another checkout, or a package the interpreter would not find by itself)."""
    roots = []
    for package in (autograder, course_package):
        if not getattr(package, "__file__", None):
            # a namespace package: a folder named `course` (a course's own root, say) in the
            # working folder of the command, not the package; the kernel finds the real one
            continue
        root = str(Path(package.__file__).resolve().parent.parent)
        if root not in roots:
            roots.append(root)
    return os.pathsep.join(roots)


def death(km: AsyncKernelManager, isolation: Isolation) -> tuple[bool, str]:
    """How the kernel process ended: (killed from outside?, description).

    Without bubblewrap the kernel is the process jupyter_client started (a signal shows as a
    negative return code); with it, bubblewrap reports a signal as 128 + its number."""
    process = getattr(getattr(km, "provisioner", None), "process", None)
    code = process.poll() if process is not None else None
    if code is None:
        return False, "exit status unknown"
    number = -code if code < 0 else (code - 128 if isolation.bwrap and code > 128 else None)
    if number is None:
        return False, f"exit status {code}"
    try:
        name = signal.Signals(number).name
    except ValueError:
        name = f"signal {number}"
    outside = number in SIGNALS_FROM_OUTSIDE and not getattr(km, "autograder_killed", False)
    return outside, name


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
                   settings: Settings) -> str:
    """The reason for a dead kernel, naming the cell and the cause; also put into the cell's error."""
    cell = nb.cells[index]
    why = postmortem.explain_death(cell, status, kernel_log, settings.limits.memory_bytes)
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
    """The sentinel's file policy: only needed when the kernel shares the machine's file system."""
    if isolation.bwrap:
        return {}
    protected = [os.path.realpath(work_base)] + [os.path.realpath(p) for p in (private_paths or [])]
    return {"protected_paths": protected, "allowed_paths": [str(scratch), str(sockets)],
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

    settings: Settings
    isolation: Isolation
    preimports: tuple[str, ...] = ()
    protected: tuple[str, ...] = ()
    data_dirs: tuple[str, ...] = ()
    private_paths: tuple[str, ...] = ()
    # $NBGRADER_EXECUTION in the kernel, nbgrader's documented switch: "autograde" when grading,
    # "validate" for a student's check (notebooks may skip slow work or behave as nbgrader's tools)
    nbgrader_execution: str = "autograde"


class SandboxedKernel:
    """One kernel in its own sandbox, with its own receipt key.

    Creating it prepares the sandbox and launches the kernel process, which then imports the
    notebook's libraries in the background; `run` executes a notebook on it (once) and tears it
    down. So a worker can start the next kernel while it is still running the current notebook.
    """

    def __init__(self, profile: KernelProfile, work_base: Path | None = None, keep_run_dir: bool = False):
        self.profile = profile
        self.key = new_key()
        self.keep_run_dir = keep_run_dir
        self.created = time.monotonic()
        isolation, settings = profile.isolation, profile.settings
        if work_base is None:
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
            plan = SandboxPlan(
                isolation=isolation, limits=settings.limits, scratch=self.scratch, sockets=sockets,
                run_dir=self.run_dir, data_dirs=[Path(d) for d in profile.data_dirs],
                env=kernel_environment(self.scratch, settings.limits.threads,
                                       extra={"PYTHONPATH": package_path(),
                                              "NBGRADER_EXECUTION": profile.nbgrader_execution},
                                       tmp=None if isolation.bwrap else self.scratch / "tmp"),
                kernel={"preimports": list(profile.preimports), "protected": list(profile.protected),
                        "processes": settings.limits.processes,
                        **_file_policy(isolation, work_base, self.scratch, sockets,
                                       [Path(p) for p in profile.private_paths])},
            )
            plan_file = self.run_dir / "plan.json"
            # the launcher checks it is still this process's child, then dies with it (launch.py)
            plan_file.write_text(json.dumps({**plan.to_json(), "parent_pid": os.getpid()}))
            os.chmod(plan_file, 0o600)
            spec = KernelSpec(
                argv=[interpreter(), "-m", "autograder.sandbox.launch", "--plan", str(plan_file),
                      "-f", "{connection_file}"],
                env={"PYTHONPATH": package_path()},
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
        settings, isolation, km = self.profile.settings, self.profile.isolation, self.km
        started = time.monotonic()
        try:
            work = _papermill_ready(nb)
            work.metadata["kernelspec"] = {"name": KERNEL_NAME, "language": "python",
                                           "display_name": "Python 3 (autograder sandbox)"}
            if parameters:
                work = parameterize_notebook(work, parameters, kernel_name=KERNEL_NAME, language="python",
                                             engine_name=ENGINE_NAME)
            work = prepare_notebook_metadata(work, "<submission>", None)
            holder: dict = {}
            status, reason = "completed", ""
            # Last resort: whatever happens inside papermill, the sandbox dies after the deadline.
            watchdog = threading.Timer(settings.notebook_timeout + 4 * INTERRUPT_GRACE_SECONDS + 30,
                                       kill_sandbox, args=(km,))
            watchdog.daemon = True
            watchdog.start()
            try:
                if self.start_error is not None:
                    raise self.start_error
                work = papermill_engines.execute_notebook_with_engine(
                    ENGINE_NAME, work, kernel_name=KERNEL_NAME, input_path=None, output_path=None,
                    progress_bar=False, log_output=False, start_timeout=settings.start_timeout,
                    km=km, settings=settings, holder=holder, isolation=isolation,
                )
            except Exception as error:  # noqa: BLE001 - a kernel that never started is a result too
                client = holder.get("client")
                if client is not None and _cells_ran(client.nb):
                    # the cells ran; what failed came after them (shutting the kernel down): keep them
                    if client.status == "completed":
                        client.status = "kernel_died"
                        client.reason = f"the kernel failed after the notebook ran: {type(error).__name__}: {error}"
                else:
                    outside, how = death(km, isolation)
                    if outside:
                        status = "killed"
                        reason = (f"the kernel was killed from outside ({how}) while it was starting; "
                                  "run the batch again to grade it again")
                    else:
                        status = "failed_to_start"
                        reason = f"the kernel could not be started: {type(error).__name__}: {error}"
            finally:
                watchdog.cancel()
                exit_status = _exit_status(km)
                _force_shutdown(km)
            client = holder.get("client")
            if client is not None and status == "completed":
                status, reason = client.status, client.reason
                work = client.nb
            receipts_path = self.run_dir / "receipts"
            receipts = receipts_path.read_text(errors="replace").splitlines() if receipts_path.exists() else []
            log_path = self.run_dir / "kernel.log"
            full_log = _tail(log_path, 256 * 1024)
            kernel_log = full_log[-4000:]
            if status == "killed" and postmortem.SELF_SIGNAL in full_log and client is not None \
                    and client.died_at is not None:
                status = "kernel_died"  # its own code sent the signal: the student's doing, final
            if status == "kernel_died" and client is not None and client.died_at is not None:
                reason = _explain_death(work, client.died_at, exit_status, full_log, settings)
            return Execution(
                notebook=work, status=status, reason=reason, receipts=receipts, isolation=isolation,
                seconds=time.monotonic() - started,
                output_truncated=bool(client and client.output_truncated), kernel_log=kernel_log,
            )
        finally:
            self.discard()

    def discard(self) -> None:
        """Kill the kernel (if any) and remove the sandbox's files."""
        km = getattr(self, "km", None)
        if km is not None:
            _force_shutdown(km)
        if not self.keep_run_dir:
            shutil.rmtree(self.run_dir, ignore_errors=True)


def _cells_ran(nb) -> bool:
    return any(c.get("metadata", {}).get("autograder", {}).get("run") in (RAN, TIMED_OUT) for c in nb.cells)


def run_notebook(
    nb: nbformat.NotebookNode,
    *,
    settings: Settings | None = None,
    isolation: Isolation | None = None,
    parameters: dict | None = None,
    files: dict[str, bytes] | None = None,
    preimports: list[str] | None = None,
    protected: list[str] | None = None,
    data_dirs: list[Path] | None = None,
    private_paths: list[Path] | None = None,
    work_base: Path | None = None,
    keep_run_dir: bool = False,
    kernel: SandboxedKernel | None = None,
    nbgrader_execution: str = "autograde",
) -> tuple[Execution, bytes]:
    """Execute `nb` in a fresh sandboxed kernel; returns what happened and the receipt key.

    `files` are written into the kernel's scratch folder (supporting files of the assignment and
    of the submission). `private_paths` are folders and files the notebook must not read (course
    sources, the gradebook, other submissions); with bubblewrap they are simply absent from the
    kernel's file system, without it the sentinel's file policy refuses them. Pass `kernel` to
    use one started ahead (its profile must match). The notebook passed in is not modified.
    """
    if kernel is None:
        profile = KernelProfile(
            settings=settings or Settings(), isolation=isolation or detect(),
            preimports=tuple(preimports or ()), protected=tuple(protected or ()),
            data_dirs=tuple(str(d) for d in (data_dirs or ())),
            private_paths=tuple(str(p) for p in (private_paths or ())), nbgrader_execution=nbgrader_execution)
        kernel = SandboxedKernel(profile, work_base=work_base, keep_run_dir=keep_run_dir)
    kernel.add_files(files or {})
    return kernel.run(nb, parameters), kernel.key


def new_key() -> bytes:
    """A fresh receipt key for one run."""
    return secrets.token_bytes(32)
