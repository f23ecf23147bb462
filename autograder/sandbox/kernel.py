"""The grading kernel's entry point, run inside the sandbox by the launcher.

Order matters here, and every step happens before the first line of student code:

1. read the kernel's setup (`config.KernelSetup`, parsed strictly) from its descriptor and close
   it; drop to the unprivileged
   sandbox user (when the grader ran as root);
2. read the receipt key from its pipe and close it;
3. move the working directory to the end of the import path, so files a student writes cannot
   shadow modules;
4. import the libraries the notebook uses, so the sentinel can snapshot them as they are;
5. install the receipt hook, start IPython, let the hook snapshot the shell, install the deny
   hook;
6. run the kernel.
"""
from __future__ import annotations

import argparse
import importlib
import os
import resource
import sys

from autograder.sandbox.config import KernelSetup


def _drop_privileges(uid: int, gid: int) -> None:
    os.setgroups([])
    os.setgid(gid)
    os.setuid(uid)
    if os.getuid() != uid or os.geteuid() != uid:
        raise SystemExit("could not drop privileges")


def _warm_up_torch() -> None:
    """torch does one-off lazy set-up on first use (it loads torch._dynamo, which wraps a few
    functions, and fills internal caches on the first optimizer step and the first loss). Done
    here, before the sentinel's snapshot, it is not mistaken for a test changing library state.
    (The only warm-up: a notebook run outside the grader has no sentinel to mislead.)"""
    import torch
    import torch._dynamo  # noqa: F401

    weight = torch.nn.Parameter(torch.zeros(1))
    optimizer = torch.optim.Adam([weight], lr=0.1)
    optimizer.zero_grad()
    (weight - 1.0).pow(2).sum().backward()
    optimizer.step()
    with torch.no_grad():
        torch.nn.functional.cross_entropy(torch.zeros(1, 2), torch.zeros(1, dtype=torch.long))


def _read_all(fd: int) -> bytes:
    chunks = []
    while True:
        chunk = os.read(fd, 65536)
        if not chunk:
            break
        chunks.append(chunk)
    os.close(fd)
    return b"".join(chunks)


def _import_path_without_working_folder(here: str) -> list[str]:
    """sys.path with the working folder (the scratch folder, where student code writes) taken off
    the front and put at the very end: a supporting module of the assignment (`helpers.py`) can
    still be imported, but no file there can shadow a module that is installed. While a test
    runs, the sentinel takes it off altogether."""
    path = [p for p in sys.path if p not in ("", ".", here)]
    return path + [here]


def _start(args) -> object:
    """Everything up to a ready kernel application, which it returns.

    Runs in a frame of its own that is gone before the kernel serves its first request: the
    receipt key and the file policy (the list of what the kernel must not read) never stay in a
    variable student code could reach; they end up only in the sentinel's hook closures.
    """
    setup = KernelSetup.from_json(_read_all(args.config_fd))
    if args.uid is not None:
        parent = os.getppid()
        _drop_privileges(args.uid, args.gid)
        from autograder.sandbox.launch import die_with_parent

        die_with_parent(parent)  # the change of user cleared the parent-death signal
        # Counted per user, so only meaningful for the sandbox's own user (root ignores it).
        processes = setup.config.processes
        resource.setrlimit(resource.RLIMIT_NPROC, (processes, processes))

    key = _read_all(args.key_fd)
    here = os.getcwd()
    sys.path[:] = _import_path_without_working_folder(here)

    failed = []
    for name in setup.preimports:
        try:
            importlib.import_module(name)
        except Exception as error:  # noqa: BLE001 - the notebook will report it properly
            failed.append(f"{name}: {type(error).__name__}")

    if "torch" in sys.modules:
        try:
            _warm_up_torch()
        except Exception as error:  # noqa: BLE001
            failed.append(f"torch warm-up: {type(error).__name__}")

    from ipykernel.kernelapp import IPKernelApp

    from autograder.sandbox import memory, postmortem, sentinel

    crash_log = postmortem.enable_crash_log()  # before ipykernel takes over file descriptors 1 and 2
    postmortem.note_own_signals(crash_log)

    sentinel.install_receipt_hook(key=key, receipt_fd=args.receipt_fd,
                                  protected_prefixes=setup.protected_modules)
    del key
    app = IPKernelApp.instance()
    app.initialize([
        "-f", args.connection_file,
        "--HistoryManager.enabled=False",
        "--IPKernelApp.parent_handle=0",
        "--IPKernelApp.ignore_cwd=True",
        "--quiet",
    ])
    # IPython's start-up may have put the working folder back at the front (it does unless told
    # not to): take it off again before the snapshot, so the snapshot is what tests run with.
    sys.path[:] = _import_path_without_working_folder(here)
    # Before the snapshot, so it counts among IPython's own callbacks: tells the sentinel a new
    # cell is about to run (it puts the notebook's namespace back after a test).
    app.shell.events.register("pre_execute", sentinel.announce_next_cell)
    _show_figures_inline(app.shell)  # before the snapshot too, so the sentinel keeps its callback
    memory.install(app.shell, note_file=crash_log)  # before the sentinel's snapshot, which keeps it
    sys.audit("autograder.init", app)
    sentinel.install_deny_hook(
        protected_paths=setup.protected_paths,
        allowed_paths=setup.allowed_paths,
        deny_processes=setup.deny_processes,
        protected_prefixes=setup.protected_modules,
    )
    del setup
    if failed:
        print("pre-import failures:", ", ".join(failed), file=sys.__stderr__)
    return app


def _show_figures_inline(shell) -> None:
    """Show figures at the end of each cell, as Jupyter does.

    matplotlib's inline backend hooks itself into IPython when pyplot is first imported, but a
    pyplot imported before the kernel existed (a preimport) found no IPython to hook into: then
    only a figure that is a cell's last value would be shown. Hook it now, as `%matplotlib inline`
    would."""
    if "matplotlib.pyplot" not in sys.modules:
        return  # a later `import matplotlib.pyplot` hooks itself in
    try:
        shell.enable_matplotlib("inline")
    except Exception:  # noqa: BLE001 - figures would be missing from feedback, grading is unaffected
        pass


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="autograder.sandbox.kernel")
    parser.add_argument("-f", dest="connection_file", required=True)
    parser.add_argument("--key-fd", type=int, required=True)
    parser.add_argument("--receipt-fd", type=int, required=True)
    parser.add_argument("--config-fd", type=int, required=True)
    parser.add_argument("--uid", type=int)
    parser.add_argument("--gid", type=int)
    app = _start(parser.parse_args(argv))
    app.start()


if __name__ == "__main__":
    main()
