"""The kernel command jupyter_client runs: sets up the sandbox, then becomes the kernel.

    python -m autograder.sandbox.launch --plan PLAN.json -f CONNECTION_FILE

Runs as the grading user, outside the sandbox. It reads the receipt key from a file only the
grader can read and deletes it, opens the receipt file, hands both to the kernel as inherited file
descriptors (the key through a pipe, so it never sits in the environment, on a command line or in
a file the kernel could read), hands over the kernel's setup (`config.KernelSetup`, as the grader
serialised it, after checking it strictly) the same way (it includes the
file policy, the list of what the kernel must not read, which must not be on its command line
either: any process can read /proc/<pid>/cmdline), applies resource limits, sends its output to
the run's kernel log,
and finally replaces itself with bubblewrap (or the kernel directly, when namespaces are not
available). Nothing here runs student code.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import sys

from autograder.sandbox.config import KernelConfig, KernelSetup


# Seconds of CPU time between the soft limit (SIGXCPU: the kernel dies of it, reported as its
# CPU-time limit) and the hard one. With both equal Linux sends SIGKILL instead, which looks
# like a kill from outside (execute.death) and would be graded again on every run.
CPU_GRACE_SECONDS = 5


def _set_limits(config: KernelConfig) -> None:
    def cap(kind, value, extra=0):
        try:
            soft, hard = resource.getrlimit(kind)
            if hard != resource.RLIM_INFINITY:
                value = min(value, hard)
                extra = min(extra, hard - value)
            resource.setrlimit(kind, (value, value + extra))
        except (ValueError, OSError):
            pass

    cap(resource.RLIMIT_AS, config.memory_bytes)
    cap(resource.RLIMIT_CPU, config.cpu_seconds, CPU_GRACE_SECONDS)
    cap(resource.RLIMIT_FSIZE, config.file_bytes)
    cap(resource.RLIMIT_CORE, 0)


def die_with_parent(parent_pid: int | None) -> None:
    """Be killed when the process that started us dies (Linux), and give up at once if it is
    already gone: a kernel launched by a grader killed a moment ago must not start. The setting
    survives exec (into bubblewrap or the kernel) but not a change of user: the kernel renews it
    after dropping privileges."""
    try:
        import ctypes
        import signal

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        return
    if parent_pid is not None and os.getppid() != parent_pid:
        os._exit(1)


def _descriptor_holding(data: bytes) -> int:
    """An inheritable descriptor to read `data` from, backed by no path anyone could open later."""
    if hasattr(os, "memfd_create"):
        fd = os.memfd_create("autograder-kernel-settings", 0)
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]
        os.lseek(fd, 0, os.SEEK_SET)
    else:  # a pipe holds 64 KiB before a writer blocks; settings are far smaller
        fd, write_end = os.pipe()
        os.write(write_end, data)
        os.close(write_end)
    os.set_inheritable(fd, True)
    return fd


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="autograder.sandbox.launch")
    parser.add_argument("--plan", required=True)
    parser.add_argument("-f", dest="connection_file", required=True)
    args = parser.parse_args(argv)
    with open(args.plan) as handle:
        plan = json.load(handle)
    die_with_parent(plan.get("parent_pid"))
    setup = KernelSetup.from_json(plan["kernel"])  # strict: a bad plan stops here, before any kernel

    with open(plan["key_file"], "rb") as handle:
        key = handle.read()
    os.unlink(plan["key_file"])
    read_end, write_end = os.pipe()
    os.write(write_end, key)
    os.close(write_end)
    del key
    receipt_fd = os.open(plan["receipt_file"], os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    os.set_inheritable(read_end, True)
    os.set_inheritable(receipt_fd, True)
    config_fd = _descriptor_holding(plan["kernel"].encode())  # the grader's very bytes

    log_fd = os.open(plan["log_file"], os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    os.dup2(log_fd, 1)
    os.dup2(log_fd, 2)
    os.close(log_fd)
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.close(null)

    connection = os.path.realpath(args.connection_file)
    if plan["uid"] is not None:
        os.chown(connection, plan["uid"], plan["gid"])
    # -P: the working folder (where student code writes files) is not put on the import path
    inner = [sys.executable, "-s", "-P", "-m", "autograder.sandbox.kernel",
             "-f", connection, "--key-fd", str(read_end), "--receipt-fd", str(receipt_fd),
             "--config-fd", str(config_fd)]
    if plan["uid"] is not None:
        inner += ["--uid", str(plan["uid"]), "--gid", str(plan["gid"])]
    if plan["bwrap_args"]:
        # the connection file sits in the sockets folder, which the plan already binds
        command = plan["bwrap_args"] + ["--chdir", plan["scratch"], "--"] + inner
    else:
        os.chdir(plan["scratch"])
        command = inner
    os.umask(0o022)
    _set_limits(setup.config)
    os.execve(command[0], command, plan["env"])


if __name__ == "__main__":
    main()
