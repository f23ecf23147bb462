"""What a sandboxed kernel may read and what its sentinel guards: one value, given by the grader.

The sandbox knows nothing about a course. The grader builds a `KernelPolicy` from the course's
layout (autograder/policy.py) and hands it to the kernel it starts (execute.py): bubblewrap binds
`code_roots` and `data_dirs` read-only and nothing else of the grader's files; without
bubblewrap the sentinel's file policy refuses `private_paths`; the sentinel restores and checks
the state of `protected_modules` around every test.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class KernelPolicy:
    """The paths and modules a sandboxed kernel is run with."""

    # package folders the kernel imports from, besides the Python installation (the grader's own
    # `autograder`, the course's package): bound read-only, and put on the kernel's PYTHONPATH
    code_roots: tuple[str, ...] = ()
    # modules (and their submodules) whose state the sentinel puts back and checks before each test
    protected_modules: tuple[str, ...] = ()
    # folders the notebook reads its data from (bound read-only)
    data_dirs: tuple[str, ...] = ()
    # folders and files the notebook must not read: the course's sources and hidden tests, the
    # gradebook, other submissions, the output folder (absent under bubblewrap, refused without)
    private_paths: tuple[str, ...] = ()

    def python_path(self) -> str:
        """PYTHONPATH that makes the kernel import the very packages of `code_roots` (another
        checkout, or a package the interpreter would not find by itself)."""
        roots: list[str] = []
        for package in self.code_roots:
            root = str(Path(package).parent)
            if root not in roots:
                roots.append(root)
        return os.pathsep.join(roots)

    def with_private(self, *paths: str | os.PathLike) -> "KernelPolicy":
        """The same policy with more paths the notebook must not read."""
        return KernelPolicy(self.code_roots, self.protected_modules, self.data_dirs,
                            self.private_paths + tuple(os.path.realpath(p) for p in paths))
