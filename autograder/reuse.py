"""When a result from an earlier run may be reused instead of grading again.

A result is reused only when everything that decided it is unchanged. Its key has one digest per
ingredient, so the log can say why a submission is graded again:

* `submission`: the submitted bytes (notebook and supporting files);
* `source`: the assignment's source notebook (tests, hidden tests, points);
* `files`: the assignment's other files the notebook reads;
* `course`: the `course` package the notebooks import;
* `datasets`: the course's `datasets/` folder (and COURSE_DATA_DIR, when set);
* `grader`: the grader's own code, as a hash of its files (a version string does not change
  when the code does);
* `packages`: the names and versions of the installed Python packages (numpy, scikit-learn, ...
  compute the answers and the references the tests compare them with);
* `settings`: the kernel's configuration (`KernelConfig.grading_key`: timeouts, memory, output,
  CPU, file size, processes), not how many workers or threads share the machine;
* `parameters`: the values the notebook was run with (`-p NAME VALUE`, parameters.py);
* `late_policy`: the student's late facts (late.py): the assignment's due date and late policy
  from the course config, and when the submission was handed in (its timestamp.txt, an LMS CSV
  or the file's time), so a new due date, policy or time gives the score its new penalty.
"""
from __future__ import annotations

import functools
import hashlib
import json
import os
import sysconfig
from pathlib import Path

import autograder
import course as course_package

LATE_POLICY_SLOT = "late_policy"


def _digest_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def tree_digest(*folders: Path) -> str:
    """One digest for every file (name and bytes) under `folders`, caches and hidden files aside."""
    digest = hashlib.sha256()
    for folder in folders:
        folder = Path(folder)
        if not folder.is_dir():
            digest.update(b"missing:" + str(folder.name).encode())
            continue
        for path in sorted(folder.rglob("*")):
            parts = path.relative_to(folder).parts
            if any(p.startswith(".") or p == "__pycache__" for p in parts) or not path.is_file():
                continue
            digest.update("/".join(parts).encode() + b"\0")
            digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


@functools.lru_cache(maxsize=None)
def grader_digest() -> str:
    return tree_digest(Path(autograder.__file__).parent)


@functools.lru_cache(maxsize=None)
def course_package_digest() -> str:
    # a namespace package (a folder named `course` where the grader was started) has no file
    location = getattr(course_package, "__file__", None) or next(iter(course_package.__path__), "")
    return tree_digest(Path(location).parent if location.endswith(".py") else Path(location))


@functools.lru_cache(maxsize=None)
def packages_digest() -> str:
    """The installed distributions, by their metadata folders' names (`name-version.dist-info`)."""
    names = set()
    for key in ("purelib", "platlib"):
        folder = sysconfig.get_paths().get(key)
        if folder and os.path.isdir(folder):
            names.update(n for n in os.listdir(folder) if n.endswith((".dist-info", ".egg-info")))
    return _digest_bytes("\n".join(sorted(names)).encode())


def settings_digest(config) -> str:
    """The digest of a `KernelConfig`'s settings that can change a grade (not its threads)."""
    return _digest_bytes(json.dumps(config.grading_key(), sort_keys=True).encode())


def assignment_key(source_notebook: Path, files: dict[str, bytes], data_dirs: list[str], config,
                   parameters: dict | None = None) -> dict:
    """Every ingredient of the key except the submission (the same for the whole batch)."""
    files_digest = hashlib.sha256()
    for name in sorted(files):
        files_digest.update(name.encode() + b"\0" + hashlib.sha256(files[name]).digest())
    return {
        "source": _digest_bytes(Path(source_notebook).read_bytes()),
        "files": files_digest.hexdigest(),
        "course": course_package_digest(),
        "datasets": tree_digest(*[Path(d) for d in data_dirs]) if data_dirs else "",
        "grader": grader_digest(),
        "packages": packages_digest(),
        "settings": settings_digest(config),
        "parameters": _digest_bytes(json.dumps(parameters or {}, sort_keys=True).encode()),
    }


def key_for(assignment_parts: dict, content_hash: str, late_facts: dict | None = None) -> dict:
    """The whole key of one submission: its bytes, the batch's ingredients and its late facts."""
    late = _digest_bytes(json.dumps(late_facts or {}, sort_keys=True).encode())
    return {"submission": content_hash, **assignment_parts, LATE_POLICY_SLOT: late}


def changed(old: dict | None, new: dict) -> list[str]:
    """The ingredients that differ (all of them when there is no earlier key)."""
    if not isinstance(old, dict):
        return ["no reuse key"]
    return [name for name in new if old.get(name) != new[name]] + \
        [name for name in old if name not in new]


