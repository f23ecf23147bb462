"""The kernel started ahead: a worker starts its next submission's kernel while it grades one.

A sandboxed kernel takes a while to start (bubblewrap, Python, the notebook's libraries imported
before the sentinel's snapshot). A worker process keeps at most one kernel started ahead; the next
job takes it when its profile is the same (`execute.KernelProfile`: kernels with equal profiles
are interchangeable), otherwise the kernel is discarded and a fresh one started. The kernel left
over at the end of a batch, or when a worker exits, is discarded (`discard_next_kernel`,
`init_worker`).
"""
from __future__ import annotations

from autograder.execute import KernelProfile, SandboxedKernel

# One per process: the pipeline runs one submission at a time in a worker.
_next_kernel: SandboxedKernel | None = None


def take_kernel(profile: KernelProfile) -> SandboxedKernel:
    """The kernel started ahead if it has this profile, else a new one."""
    global _next_kernel
    kernel, _next_kernel = _next_kernel, None
    if kernel is not None and kernel.profile == profile:
        return kernel
    if kernel is not None:
        kernel.discard()
    return SandboxedKernel(profile)


def start_next_kernel(profile: KernelProfile) -> None:
    """Start the kernel of the next job now (a failure here only means the next job starts its own)."""
    global _next_kernel
    discard_next_kernel()
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


def waiting() -> bool:
    """Whether a kernel started ahead is waiting for its job."""
    return _next_kernel is not None


def init_worker() -> None:
    """A pool worker's start: it dies with the grading process (Linux), taking its sandboxes with
    it, and stops a kernel it started ahead for a job that never came when it exits."""
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
