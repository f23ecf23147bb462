"""Which isolation this machine offers, and the sandbox plan for one notebook run.

Layers, strongest first, each used when the machine has it:

* **namespaces** (bubblewrap): the kernel sees a private root file system holding only the Python
  installation, the virtual environment, the packages the grader names (its own and the course's:
  `KernelPolicy.code_roots`), the data sets and its own scratch folder (read-write); it has its own PID namespace (every process it starts dies
  with it), no network but a private loopback, and no capabilities;
* **unprivileged user**: when the grader runs as root the kernel runs as an unprivileged user
  (default `nobody`), so even a path that leaked into the sandbox cannot be read or written;
* **resource limits** (always): address space (memory), CPU time, file size, process count, no
  core dumps;
* **clean environment** (always): the kernel gets a fixed, minimal set of variables, never the
  grader's (so no tokens or secrets), and a scratch HOME;
* **audit hooks** (always): the in-kernel sentinel that judges test integrity (see sentinel.py).

`detect()` says which layers are in force; grade reports print that list and warn about any layer
that is missing.
"""
from __future__ import annotations

import functools
import os
import pwd
import shutil
import stat
import subprocess
import sys
import sysconfig
from dataclasses import dataclass, field
from pathlib import Path

from autograder.sandbox.config import KernelSetup

DEFAULT_SANDBOX_USER = "nobody"


@dataclass(frozen=True)
class Isolation:
    """The isolation layers available to a grading run."""

    bwrap: str | None
    uid: int | None
    gid: int | None
    user: str | None
    layers: tuple[str, ...]
    missing: tuple[str, ...]

    def describe(self) -> str:
        text = "isolation: " + ", ".join(self.layers)
        if self.missing:
            text += "; MISSING: " + "; ".join(self.missing)
        return text


@functools.lru_cache(maxsize=None)
def _bwrap_works(path: str) -> bool:
    try:
        result = subprocess.run(
            [path, "--unshare-pid", "--unshare-net", "--ro-bind", "/", "/", "--proc", "/proc", "true"],
            capture_output=True, timeout=20,
        )
    except (OSError, subprocess.SubprocessError):
        return False
    return result.returncode == 0


def _allowed(info: os.stat_result, uid: int, gid: int, bits: tuple[int, int, int]) -> bool:
    """Do the mode bits of `info` give `uid`/`gid` the (owner, group, other) permission `bits`?"""
    owner, group, other = bits
    if info.st_uid == uid:
        return bool(info.st_mode & owner)
    if info.st_gid == gid:
        return bool(info.st_mode & group)
    return bool(info.st_mode & other)


def _reachable_by(uid: int, gid: int, path: str) -> bool:
    """Can `uid` walk to `path` (every ancestor folder searchable)? Mode bits only."""
    current = Path(path).resolve()
    for folder in [*reversed(current.parents), current]:
        try:
            info = folder.stat()
        except OSError:
            return False
        if folder.is_dir() and not _allowed(info, uid, gid, (stat.S_IXUSR, stat.S_IXGRP, stat.S_IXOTH)):
            return False
    return True


def _files_readable_by(uid: int, gid: int, paths: list[str]) -> list[str]:
    """The files among `paths` that `uid` cannot read (mode bits only)."""
    blocked = []
    for path in paths:
        try:
            info = os.stat(path)
        except OSError:
            continue
        if not _allowed(info, uid, gid, (stat.S_IRUSR, stat.S_IRGRP, stat.S_IROTH)):
            blocked.append(path)
    return blocked


def _sample_files(code_roots: tuple[str, ...]) -> list[str]:
    """A few files the kernel must read, one from each place it reads code from."""
    import ipykernel

    return [os.path.realpath(sys.executable), os.path.join(os.path.dirname(os.__file__), "os.py"),
            ipykernel.__file__, *[os.path.join(root, "__init__.py") for root in code_roots]]


def detect(sandbox_user: str | None = DEFAULT_SANDBOX_USER, use_namespaces: bool = True,
           code_roots: tuple[str, ...] = ()) -> Isolation:
    """Find the strongest isolation this machine offers (`code_roots`: the package folders the
    kernel must read, `KernelPolicy.code_roots`)."""
    layers = ["resource limits", "clean environment", "audit-hook sentinel"]
    missing = []
    bwrap = shutil.which("bwrap") if use_namespaces else None
    if bwrap and not _bwrap_works(bwrap):
        missing.append(f"bubblewrap at {bwrap} cannot create namespaces here")
        bwrap = None
    if bwrap:
        layers.insert(0, "namespaces (bubblewrap: private file system, PID and network)")
    elif use_namespaces:
        missing.append("no bubblewrap: the kernel can see this machine's files and network "
                       "(install the 'bubblewrap' package; scripts/install-system-deps.sh does it as root)")
    else:
        missing.append("namespaces switched off by the caller")
    uid = gid = None
    user = None
    if os.geteuid() == 0 and sandbox_user:
        try:
            record = pwd.getpwnam(sandbox_user)
        except KeyError:
            missing.append(f"sandbox user {sandbox_user!r} does not exist: kernel runs as root")
        else:
            needed = [sys.base_prefix, sys.prefix, *code_roots]
            blocked = [p for p in needed if not _reachable_by(record.pw_uid, record.pw_gid, p)]
            unreadable = _files_readable_by(record.pw_uid, record.pw_gid, _sample_files(tuple(code_roots)))
            if unreadable:
                missing.append(f"user {sandbox_user} cannot read {unreadable[0]} (files are not world-readable; "
                               "check the umask of the checkout): kernel runs as the grading user")
            elif blocked and not bwrap:
                missing.append(f"user {sandbox_user} cannot reach {blocked[0]} without namespaces: "
                               "kernel runs as root")
            else:
                uid, gid, user = record.pw_uid, record.pw_gid, sandbox_user
                layers.insert(1 if bwrap else 0, f"unprivileged user {sandbox_user} (uid {uid})")
    elif os.geteuid() != 0:
        missing.append("not root, so the kernel runs as the grading user (no separate unprivileged user)")
    return Isolation(bwrap=bwrap, uid=uid, gid=gid, user=user, layers=tuple(layers), missing=tuple(missing))


def _code_roots(packages: tuple[str, ...]) -> list[str]:
    """Folders the kernel must be able to read to run Python and import the given packages."""
    roots = {os.path.realpath(sys.base_prefix), os.path.realpath(sys.prefix),
             *(os.path.realpath(p) for p in packages)}
    for key in ("stdlib", "platstdlib", "purelib", "platlib"):
        path = sysconfig.get_paths().get(key)
        if path:
            roots.add(os.path.realpath(path))
    # drop roots inside other roots
    ordered = sorted(roots, key=len)
    kept: list[str] = []
    for root in ordered:
        if not any(root == k or root.startswith(k + os.sep) for k in kept):
            kept.append(root)
    return kept


_SYSTEM_RO = ["/usr", "/etc/ld.so.cache", "/etc/ld.so.conf", "/etc/ld.so.conf.d", "/etc/localtime",
              "/etc/fonts", "/etc/ssl/certs", "/etc/alternatives", "/etc/nsswitch.conf",
              "/etc/passwd", "/etc/group", "/opt/conda"]


@dataclass
class SandboxPlan:
    """Everything the launcher needs to start one sandboxed kernel."""

    isolation: Isolation
    setup: KernelSetup  # for the launcher (resource limits) and the kernel (what to do before the first cell)
    scratch: Path
    sockets: Path
    run_dir: Path
    data_dirs: list[Path] = field(default_factory=list)
    code_roots: tuple[str, ...] = ()  # package folders bound read-only besides Python's (KernelPolicy)
    env: dict = field(default_factory=dict)

    def wrapper_args(self) -> list[str]:
        """The bubblewrap command line (without the connection file and inner command)."""
        iso = self.isolation
        if not iso.bwrap:
            return []
        args = [iso.bwrap, "--unshare-ipc", "--unshare-pid", "--unshare-net", "--unshare-uts",
                "--unshare-cgroup-try", "--die-with-parent", "--new-session",
                "--hostname", "grader", "--proc", "/proc", "--dev", "/dev",
                "--perms", "1777", "--tmpfs", "/tmp"]
        for link, target in (("/bin", "usr/bin"), ("/lib", "usr/lib"), ("/lib64", "usr/lib64"), ("/sbin", "usr/sbin")):
            if os.path.islink(link):
                args += ["--symlink", target, link]
            elif os.path.isdir(link):
                args += ["--ro-bind", link, link]
        binds: list[tuple[str, str]] = []
        for path in _SYSTEM_RO:
            if os.path.exists(path):
                binds.append(("--ro-bind", path))
        for path in _code_roots(self.code_roots):
            binds.append(("--ro-bind", path))
        for path in self.data_dirs:
            binds.append(("--ro-bind", str(path)))
        binds.append(("--bind", str(self.scratch)))
        binds.append(("--bind", str(self.sockets)))
        created = {"/", "/tmp", "/proc", "/dev", "/bin", "/lib", "/lib64", "/sbin"}
        for kind, path in binds:
            for parent in reversed(Path(path).parents):
                p = str(parent)
                if p not in created:
                    created.add(p)
                    args += ["--perms", "0755", "--dir", p]
            args += [kind, path, path]
            created.add(path)
        return args

    def to_json(self) -> dict:
        iso = self.isolation
        return {
            "bwrap_args": self.wrapper_args(),
            "uid": iso.uid,
            "gid": iso.gid,
            "scratch": str(self.scratch),
            "env": self.env,
            "kernel": self.setup.to_json(),  # serialised once: the launcher hands these very bytes on
            "key_file": str(self.run_dir / "key"),
            "receipt_file": str(self.run_dir / "receipts"),
            "log_file": str(self.run_dir / "kernel.log"),
        }


def kernel_environment(scratch: Path, threads: int, extra: dict | None = None, tmp: Path | None = None) -> dict:
    """The whole environment of the kernel: nothing inherited from the grader.

    `tmp` is the kernel's temporary folder when it has no private /tmp (no bubblewrap).
    """
    venv_bin = str(Path(sys.executable).parent)
    env = {
        "PATH": f"{venv_bin}:/usr/local/bin:/usr/bin:/bin",
        "HOME": str(scratch),
        "TMPDIR": str(tmp) if tmp else "/tmp",
        "LANG": "C.UTF-8",
        "LC_ALL": "C.UTF-8",
        "MPLBACKEND": "module://matplotlib_inline.backend_inline",
        "MPLCONFIGDIR": str(scratch / ".config" / "matplotlib"),
        "IPYTHONDIR": str(scratch / ".ipython"),
        "JUPYTER_RUNTIME_DIR": str(scratch / ".jupyter"),
        "JUPYTER_PLATFORM_DIRS": "1",
        "PYDEVD_DISABLE_FILE_VALIDATION": "1",
        "PYTHONDONTWRITEBYTECODE": "1",
        "OMP_NUM_THREADS": str(threads),
        "OPENBLAS_NUM_THREADS": str(threads),
        "MKL_NUM_THREADS": str(threads),
        "NUMEXPR_NUM_THREADS": str(threads),
        "NBGRADER_EXECUTION": "autograde",  # nbgrader's documented switch (a check sets "validate")
    }
    if os.environ.get("COURSE_DATA_DIR"):
        env["COURSE_DATA_DIR"] = os.environ["COURSE_DATA_DIR"]
    env.update(extra or {})
    return env
