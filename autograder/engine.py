"""The papermill engine that runs a notebook's cells for the grader, registered as "autograder".

papermill's documented way to change how cells run is an engine: a subclass of
`papermill.engines.Engine` whose `execute_managed_notebook` runs the cells of the notebook that
papermill's `NotebookExecutionManager` holds, registered by name in papermill's engine registry
(`papermill_engines`). This module is that engine; `execute.py` prepares a sandboxed kernel,
lets papermill inject the parameters, and asks the registry for the engine by name.

The engine's client (papermill's `PapermillNotebookClient`, whose `papermill_execute_cells`
papermill documents as the cell loop to replace) adds what grading needs:

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

What happened is written into the notebook itself, as papermill records its own facts: each code
cell's `metadata.autograder.run` (a `CellRun`) and `seconds`, and the notebook's
`metadata.autograder.execution` (`ExecutionOutcome.to_metadata`): how the run ended and why. So the
caller reads the outcome from the notebook papermill hands back, even when papermill raised.

The engine runs only on a kernel manager it is given (`km=`, a sandboxed kernel): it refuses to
start a kernel of its own, so `papermill --engine autograder` cannot run a notebook outside the
sandbox. See docs/papermill.md for what is papermill's and what is not.
"""
from __future__ import annotations

import asyncio
import json
import os
import signal
import time
from dataclasses import asdict, dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

import nbformat
from jupyter_core.utils import run_sync
from nbclient.exceptions import CellControlSignal, CellTimeoutError, DeadKernelError
from papermill.clientwrap import PapermillNotebookClient
from papermill.engines import Engine, papermill_engines

from autograder.assemble import FIXED_ROLE, GUARD_ROLE, TEST_ROLE

if TYPE_CHECKING:
    from jupyter_client import AsyncKernelManager

    from autograder.sandbox.config import KernelConfig
    from autograder.sandbox.isolation import Isolation

ENGINE_NAME = "autograder"
# Signals an operator or the machine's out-of-memory killer sends. A kernel that dies of one of
# them (and was not killed by the grader itself, on a timeout) was killed from outside: not the
# student's doing, so the result is not final (see `Execution.status`).
SIGNALS_FROM_OUTSIDE = {signal.SIGKILL, signal.SIGTERM, signal.SIGHUP, signal.SIGINT, signal.SIGQUIT}
INTERRUPT_GRACE_SECONDS = 5.0
GRADER_ROLES = (GUARD_ROLE, TEST_ROLE, FIXED_ROLE)  # cells whose code comes from the source notebook
ERROR_TEXT_LIMIT = 8192  # characters kept of an error's message and of its traceback
ERRORS_PER_CELL = 3  # error outputs kept per cell (IPython itself reports one)



class CellRun(StrEnum):
    """What the engine did with one code cell (cell.metadata.autograder.run). Not a part's
    outcome (results.Outcome): scoring turns a test cell's state into one."""

    RAN = "ran"  # the kernel executed it (its outputs may hold an error)
    TIMED_OUT = "timed_out"  # exceeded the per-cell timeout
    SKIPPED = "skipped"  # never sent to the kernel (deadline, dead kernel, earlier timeout)


class RunEnd(StrEnum):
    """How a notebook's run ended (`Execution.status`)."""

    COMPLETED = "completed"  # every cell was sent to the kernel
    TIMEOUT = "timeout"  # the notebook's deadline, or a cell whose kernel did not answer an interrupt
    KERNEL_DIED = "kernel_died"  # the student's doing: exit, crash, memory or CPU limit
    KILLED = "killed"  # from outside (an operator, the out-of-memory killer): graded again next run
    FAILED_TO_START = "failed_to_start"  # the kernel never answered


RAN, TIMED_OUT, SKIPPED = CellRun.RAN, CellRun.TIMED_OUT, CellRun.SKIPPED


@dataclass
class ExecutionOutcome:
    """How the engine's run ended, as recorded in the notebook's metadata."""

    status: RunEnd = RunEnd.COMPLETED
    reason: str = ""
    died_at: int | None = None  # index of the cell the kernel died in
    output_truncated: bool = False

    def to_metadata(self) -> dict:
        return asdict(self)

    @classmethod
    def of(cls, nb: nbformat.NotebookNode) -> "ExecutionOutcome | None":
        """The outcome the engine recorded in `nb`, or None if the engine never ran on it."""
        recorded = nb.get("metadata", {}).get("autograder", {}).get("execution")
        if not isinstance(recorded, dict):
            return None
        return cls(**{**recorded, "status": RunEnd(recorded.get("status", RunEnd.COMPLETED))})


class GradingClient(PapermillNotebookClient):
    """papermill's client with a notebook deadline, interrupt-then-kill timeouts and an output cap."""

    def __init__(self, nb_man, kernel_config: KernelConfig, isolation: Isolation | None = None, **kwargs):
        super().__init__(nb_man, **kwargs)
        self.kernel_config = kernel_config  # (`config` is traitlets' own)
        self.isolation = isolation
        self.output_bytes = {"student": 0, "grader": 0}  # two budgets of output_limit_bytes each
        self.noticed: set[str] = set()  # budgets whose "limit reached" notice was given
        self.errors_kept: dict[int, int] = {}  # cell index -> error outputs kept
        self.outcome = ExecutionOutcome()

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
        if self.output_bytes[budget] + size > self.kernel_config.output_limit_bytes:
            self.outcome.output_truncated = True
            if budget not in self.noticed:
                self.noticed.add(budget)
                whose = "the grader's cells" if budget == "grader" else "this notebook's own cells"
                outs.append(nbformat.v4.new_output(
                    "stream", name="stderr",
                    text=f"[autograder] output limit of {self.kernel_config.output_limit_bytes} bytes reached; "
                         f"further output from {whose} was dropped (errors are still shown)\n"))
            return None
        self.output_bytes[budget] += size
        return super().output(outs, msg, display_id, cell_index)

    def _error_output(self, outs, msg, display_id, cell_index):
        """Errors are never dropped by the output limit (a failing test must say why it failed);
        they are clipped instead, and only a few per cell are kept, so they stay bounded too."""
        kept = self.errors_kept.get(cell_index, 0)
        if kept >= ERRORS_PER_CELL:
            self.outcome.output_truncated = True
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
        config = self.kernel_config
        deadline = time.monotonic() + config.notebook_timeout
        stop = None  # why the remaining cells will not run
        for index, cell in enumerate(self.nb.cells):
            meta = cell.setdefault("metadata", {}).setdefault("autograder", {})
            if cell.cell_type != "code":
                continue
            if stop is not None:
                meta["run"] = SKIPPED
                continue
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                stop = f"the notebook's time limit of {config.notebook_timeout:g} s was reached"
                self.outcome.status, self.outcome.reason = RunEnd.TIMEOUT, stop
                meta["run"] = SKIPPED
                continue
            self.timeout = max(1, int(min(config.cell_timeout, remaining)))
            started = time.monotonic()
            try:
                self.nb_man.cell_start(cell, index)
                self.execute_cell(cell, index, store_history=meta.get("role") not in (GUARD_ROLE, TEST_ROLE))
                meta["run"] = RAN
            except CellTimeoutError:
                meta["run"] = TIMED_OUT
                limit = f"{config.cell_timeout:g} s" if self.timeout >= config.cell_timeout else "the notebook's remaining time"
                cell.outputs.append(nbformat.v4.new_output(
                    "error", ename="TimeoutError", evalue=f"cell exceeded its time limit ({limit})", traceback=[]))
                if time.monotonic() >= deadline:
                    stop = f"the notebook's time limit of {config.notebook_timeout:g} s was reached"
                    self.outcome.status, self.outcome.reason = RunEnd.TIMEOUT, stop
                if not self._interrupt_or_kill():
                    stop = f"cell {index} timed out and its kernel did not respond to an interrupt"
                    self.outcome.status, self.outcome.reason = RunEnd.TIMEOUT, stop
            except DeadKernelError:
                meta["run"] = RAN
                outside, how = death(self.km, self.isolation) if self.isolation else (False, "")
                if outside:
                    cell.outputs.append(nbformat.v4.new_output(
                        "error", ename="DeadKernelError",
                        evalue=f"the kernel was killed from outside ({how}) while running this cell", traceback=[]))
                    stop = (f"the kernel was killed from outside ({how}: the machine's out-of-memory killer or an "
                            f"operator) while running cell {index}; run the batch again to grade it again")
                    self.outcome.status, self.outcome.reason = RunEnd.KILLED, stop
                else:
                    cell.outputs.append(nbformat.v4.new_output(
                        "error", ename="DeadKernelError",
                        evalue="the kernel died while running this cell (exit, crash or memory limit)", traceback=[]))
                    stop = f"the kernel died while running cell {index}" + (f" ({how})" if how else "")
                    self.outcome.status, self.outcome.reason = RunEnd.KERNEL_DIED, stop
                self.outcome.died_at = index
            except CellControlSignal:
                meta["run"] = RAN
            finally:
                meta["seconds"] = round(time.monotonic() - started, 3)
                try:
                    self.nb_man.cell_complete(self.nb.cells[index], cell_index=index)
                except Exception:  # noqa: BLE001 - bookkeeping must not stop grading
                    pass

    def record_outcome(self) -> None:
        """Write how the run ended into the notebook (see `ExecutionOutcome.of`)."""
        self.nb.metadata.setdefault("autograder", {})["execution"] = self.outcome.to_metadata()


class GradingEngine(Engine):
    """The papermill engine registered as "autograder": runs the cells in a sandboxed kernel.

    Engine keyword arguments (papermill passes them through): `km`, the sandboxed kernel's
    manager (required); `kernel_config` (`sandbox.config.KernelConfig`: timeouts and the output limit); and
    `isolation`, to tell a kill from outside from the grader's own kill.
    """

    @classmethod
    def execute_managed_notebook(cls, nb_man, kernel_name, log_output=False, start_timeout=60, km=None,
                                 kernel_config: "KernelConfig | None" = None, isolation: "Isolation | None" = None,
                                 **kwargs):
        if km is None or kernel_config is None:
            raise ValueError("the autograder engine runs notebooks only in a sandboxed kernel: pass km= (a kernel "
                             "started by autograder.execute.SandboxedKernel) and kernel_config=")
        client = GradingClient(
            nb_man, kernel_config, isolation=isolation, km=km, kernel_name=kernel_name,
            startup_timeout=int(start_timeout), timeout=int(kernel_config.cell_timeout),
            allow_errors=True, interrupt_on_timeout=False, raise_on_iopub_timeout=False,
            iopub_timeout=10, record_timing=False, log_output=False,
        )
        try:
            return client.execute()
        finally:
            client.record_outcome()


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

