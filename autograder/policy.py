"""The kernel policy of a course: built here, from the course's layout, for the sandbox.

`autograder.sandbox` imports nothing from the course; everything it needs to know about where
things are comes in the `KernelPolicy` built here (sandbox/policy.py says what each field does).
"""
from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import autograder
import course as course_package
from autograder.sandbox.policy import KernelPolicy

# Modules whose state the sentinel restores and checks before each test (see sandbox/sentinel.py),
# besides the grader's own package and the course's, which `kernel_policy` adds.
PROTECTED_MODULES = (
    "builtins", "math", "cmath", "operator", "functools", "itertools", "numbers", "decimal",
    "fractions", "statistics", "random", "re", "json", "copy", "types", "collections", "os",
    "posixpath", "genericpath", "pathlib", "linecache", "hashlib", "hmac", "string", "textwrap", "dataclasses",
    "unittest", "numpy", "pandas", "scipy", "sklearn", "torch", "statsmodels", "IPython",
)


def package_folders() -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(folders, names) of the packages the kernel imports from this grader: `autograder` and the
    course's package. A namespace package (a folder named `course` in the working folder of the
    command, say a course's own root) has no file and is not the package: the kernel finds the
    real one through the Python installation."""
    folders, names = [], []
    for package in (autograder, course_package):
        names.append(package.__name__)
        if getattr(package, "__file__", None):
            folders.append(str(Path(package.__file__).resolve().parent))
    return tuple(folders), tuple(names)


def kernel_policy(data_dirs=(), private_paths=()) -> KernelPolicy:
    """The policy every kernel of this grader starts from: the packages, the protected modules."""
    folders, names = package_folders()
    return KernelPolicy(code_roots=folders, protected_modules=PROTECTED_MODULES + names,
                        data_dirs=tuple(str(d) for d in data_dirs),
                        private_paths=tuple(str(p) for p in private_paths))


def on_this_machine(policy: KernelPolicy) -> KernelPolicy:
    """`policy` with the package folders of the process that starts the kernel: a Dask worker on
    another machine imports the grader from its own installation."""
    return dataclasses.replace(policy, code_roots=package_folders()[0])


def course_policy(course) -> KernelPolicy:
    """The policy of a course (layout.Course): its data sets readable, its sources, examples and
    default gradebook not."""
    data_dirs = [str(p) for p in [course.root / "datasets"] if p.is_dir()]
    if os.environ.get("COURSE_DATA_DIR"):
        data_dirs.append(os.path.realpath(os.environ["COURSE_DATA_DIR"]))
    return kernel_policy(data_dirs=data_dirs,
                         private_paths=[course.source, course.root / "gradebook.db", course.examples])
