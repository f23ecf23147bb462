"""The kernel's file policy when it shares the machine's file system (no bubblewrap).

`make_path_guard(protected, allowed)` returns `check(event, args)`, called by the sentinel's deny
hook for every audit event: it returns None to let the operation go on, or a reason to refuse it.
With bubblewrap none of this is needed: the private folders are simply not in the kernel's file
system.

A path is judged as the kernel would resolve it, never as text: relative to the working folder,
with every symbolic link followed, so `/proc/self/root/...`, `/proc/<pid>/cwd/...`,
`/proc/self/fd/N` and a symlinked folder all name the file they lead to. What remains that text
cannot see is refused outright:

* a directory that holds a protected folder cannot be opened as a file descriptor (relative
  opens from it, `os.open(name, dir_fd=fd)`, would escape the check, which sees only `name`);
* a relative path may not climb above its starting folder (`..` past the start), for the same
  reason: the start may be a descriptor's folder rather than the working folder;
* a path given as an object other than str, bytes or a pristine `pathlib` path is refused where
  the operation converts it before the audit event (os.open and friends), because its
  `__fspath__` could answer differently the second time it is asked.

The protected and allowed folders live only in the closures made here, after the kernel read
them from a descriptor it then closed: they are in no file, argument or variable student code
can read.

Known limit: C code the hooks never see (a foreign function called through ctypes, a C
extension opening files itself) is not covered; docs/threat-model.md says so.
"""
from __future__ import annotations

import os
import stat

MAX_LINKS = 40  # symbolic links followed in one path before giving up (the kernel's own limit)

# Audit events that name files, and which of their arguments are paths.
PATH_ARGUMENTS = {
    "open": (0,), "os.listdir": (0,), "os.scandir": (0,), "os.chdir": (0,), "os.remove": (0,),
    "os.rename": (0, 1), "os.rmdir": (0,), "os.mkdir": (0,), "os.truncate": (0,), "os.utime": (0,),
    "os.chmod": (0,), "os.chown": (0,), "os.chflags": (0,), "os.lchflags": (0,), "os.mkfifo": (0,),
    "os.mknod": (0,), "os.setxattr": (0,), "os.getxattr": (0,), "os.listxattr": (0,), "os.removexattr": (0,),
    "shutil.copyfile": (0, 1), "shutil.copymode": (0, 1), "shutil.copystat": (0, 1),
    "shutil.copytree": (0, 1), "shutil.rmtree": (0,), "shutil.move": (0, 1), "shutil.unpack_archive": (0, 1),
    "shutil.make_archive": (0, 2), "sqlite3.connect": (0,),
}
LINK_EVENTS = frozenset({"os.symlink", "os.link"})

REFUSED = "this file is not available to notebooks while they are graded"


def make_resolver(getcwd=os.getcwd, lstat=os.lstat, readlink=os.readlink):
    """`resolve(path: str) -> str | None`: the absolute path `path` leads to, links followed.

    Like os.path.realpath, but built from the primitives passed in (captured before student
    code runs) and honest about what it cannot know: None for a chain of links too long to
    follow (the kernel would refuse it too). A component that cannot be examined (missing, or
    in a folder the kernel cannot search) is taken as text: the kernel cannot go through it either.
    """
    is_link = stat.S_ISLNK
    _OSError = OSError

    def resolve(path: str):
        if not path.startswith("/"):
            path = getcwd() + "/" + path
        pending = path.split("/")[::-1]  # next component last
        parts: list[str] = []
        links = 0
        while pending:
            part = pending.pop()
            if part == "" or part == ".":
                continue
            if part == "..":
                if parts:
                    parts.pop()
                continue
            here = "/" + "/".join(parts + [part])
            try:
                mode = lstat(here).st_mode
            except _OSError:
                parts.append(part)
                continue
            if not is_link(mode):
                parts.append(part)
                continue
            links += 1
            if links > MAX_LINKS:
                return None
            try:
                target = readlink(here)
            except _OSError:
                parts.append(part)
                continue
            if target.startswith("/"):
                parts = []
            pending.extend(target.split("/")[::-1])
        return "/" + "/".join(parts)

    return resolve


def climbs_above_start(path: str) -> bool:
    """True when a relative path's `..` components take it above the folder it starts from."""
    depth = 0
    for part in path.split("/"):
        if part == "..":
            depth -= 1
            if depth < 0:
                return True
        elif part not in ("", "."):
            depth += 1
    return False


def make_path_guard(protected: tuple[str, ...], allowed: tuple[str, ...] = ()):
    """The check the deny hook runs on every event: None to allow, or a reason to refuse.

    `protected` are absolute folders or files (resolved here, once) the kernel may not open, list
    or change, except inside `allowed`. With nothing protected every event is allowed.
    """
    import pathlib
    import posix
    from urllib.parse import unquote

    resolve = make_resolver(posix.getcwd, posix.lstat, posix.readlink)
    _type, _str, _bytes, _int, _len = type, str, bytes, int, len
    _fspath, _getattr = posix.fspath, getattr
    pristine_paths = frozenset({pathlib.PurePath, pathlib.PurePosixPath, pathlib.Path, pathlib.PosixPath})
    pristine_fspath, pristine_str = pathlib.PurePath.__fspath__, pathlib.PurePath.__str__
    protected = tuple(p for p in (resolve(os.path.abspath(q)) for q in protected) if p)
    allowed = tuple(p for p in (resolve(os.path.abspath(q)) for q in allowed) if p)
    arguments, link_events = PATH_ARGUMENTS, LINK_EVENTS

    def inside(path: str, roots) -> bool:
        for root in roots:
            if path == root or path.startswith(root + "/"):
                return True
        return False

    def holds_protected(path: str) -> bool:
        """A folder above a protected one (opening it would give a descriptor into it)."""
        prefix = path.rstrip("/") + "/"
        for root in protected:
            if root.startswith(prefix):
                return True
        return False

    def as_text(value):
        """The path an argument names, or None when it is not a path at all (an fd, None)."""
        kind = _type(value)
        if kind is _str:
            return value
        if kind is _bytes:
            return value.decode("utf-8", "surrogateescape")
        if kind is _int or value is None:
            return None
        if kind in pristine_paths and _getattr(kind, "__fspath__") is pristine_fspath \
                and _getattr(kind, "__str__") is pristine_str:
            return _fspath(value)
        return False  # something else that might turn into a path: cannot be judged safely

    def sqlite_target(text: str) -> str:
        """The file an sqlite3.connect() argument opens: a plain path or a `file:` URI."""
        if not text.startswith("file:"):
            return text
        text = text[5:].split("?", 1)[0].split("#", 1)[0]
        if text.startswith("//"):
            slash = text.find("/", 2)
            text = text[slash:] if slash >= 0 else "/"
        return unquote(text)

    def judge(event: str, value):
        text = as_text(value)
        if text is None:
            return None
        if text is False:
            return "paths must be given as str, bytes or pathlib paths while a notebook is graded"
        if event == "sqlite3.connect":
            if text == ":memory:" or text == "":
                return None
            text = sqlite_target(text)
        if not text.startswith("/") and climbs_above_start(text):
            return "relative paths may not climb above their folder while a notebook is graded (use an absolute path)"
        path = resolve(text)
        if path is None:
            return REFUSED
        if inside(path, protected) and not inside(path, allowed):
            return REFUSED
        if event == "open" and holds_protected(path) and not inside(path, allowed):
            return "this folder cannot be opened while a notebook is graded"
        return None

    def check(event: str, args: tuple):
        if not protected:
            return None
        if event in link_events:
            return "making links is not allowed while a notebook is being graded"
        positions = arguments.get(event)
        if positions is None:
            return None
        for index in positions:
            if index < _len(args):
                reason = judge(event, args[index])
                if reason is not None:
                    return reason
        return None

    return check
