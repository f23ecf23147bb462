"""What the last `autograder release` wrote, so the next one never overwrites someone's work.

Students work on their own copy (`autograder fetch`), never in release/. But a release folder that
someone opened and edited in place (a student following an old README, an instructor trying an
answer) must not be silently regenerated. So each release records a fingerprint of every file it
wrote, in `release/.autograder-release.json` (committed with the release). Before writing again,
each file now in release/<assignment>/ is compared:

* the same as what this release writes: nothing is lost;
* the same as what the previous release wrote (its recorded fingerprint): a stale generated file,
  replaced;
* anything else (edited, or a file nobody released): somebody's work, so the release refuses and
  says how to keep it, unless `--overwrite` is given.

A notebook's fingerprint covers its cells' types and sources only: running the cells, saving from
JupyterLab or nbgrader's Validate (outputs, metadata) is not work worth keeping, an edited cell is.
Without a record (a course released before records existed) a notebook counts as generated when
it shows no outputs, every nbgrader checksum still matches, every answer cell holds the release's
stub and every other unlocked cell is one the release has.
"""
from __future__ import annotations

import fcntl
import hashlib
import json
import os
from contextlib import contextmanager
from pathlib import Path

import nbformat

from autograder import cells as C
from autograder.errors import OverwriteError

RECORD_NAME = ".autograder-release.json"
_IGNORED_PARTS = {".ipynb_checkpoints", "__pycache__"}


def fingerprint(name: str, data: bytes) -> str:
    """What must not change for a file to count as unedited."""
    if name.endswith(".ipynb"):
        try:
            cells = json.loads(data.decode("utf-8")).get("cells", [])
            text = json.dumps([[c.get("cell_type"), C.source(c)] for c in cells], ensure_ascii=False)
            return "cells:" + hashlib.sha256(text.encode("utf-8")).hexdigest()
        except (ValueError, AttributeError, UnicodeDecodeError):
            pass  # not a readable notebook: compare its bytes
    return "bytes:" + hashlib.sha256(data).hexdigest()


def read_record(release_dir: Path) -> dict[str, dict[str, str]]:
    """Fingerprints of the files each assignment's last release wrote (assignment -> name -> print)."""
    path = Path(release_dir) / RECORD_NAME
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return {a: dict(files) for a, files in data.get("assignments", {}).items()}
    except (OSError, ValueError, AttributeError, TypeError):
        return {}


@contextmanager
def _locked(release_dir: Path):
    """One writer of the record at a time (a lock on the release folder itself: no lock file)."""
    release_dir.mkdir(parents=True, exist_ok=True)
    fd = os.open(release_dir, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def write_record(release_dir: Path, assignment: str, files: dict[str, bytes]) -> None:
    """Record what was just released for `assignment` (atomically, other assignments kept)."""
    release_dir = Path(release_dir)
    with _locked(release_dir):
        record = read_record(release_dir)
        record[assignment] = {name: fingerprint(name, data) for name, data in sorted(files.items())}
        text = json.dumps({"format": 1, "note": "written by `autograder release`: what it wrote, so that it never "
                           "overwrites an edited file", "assignments": dict(sorted(record.items()))},
                          indent=1, sort_keys=False) + "\n"
        tmp = release_dir / f".{RECORD_NAME}.{os.getpid()}.tmp"
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(release_dir / RECORD_NAME)


def _looks_generated(data: bytes, new_data: bytes | None) -> bool:
    """For a release without a record: does this notebook look as nbgrader left it?"""
    from nbgrader.utils import compute_checksum

    try:
        nb = nbformat.reads(data.decode("utf-8"), as_version=4)
        new = nbformat.reads(new_data.decode("utf-8"), as_version=4) if new_data else None
    except Exception:  # noqa: BLE001 - unreadable means "not as generated"
        return False
    if new is None:
        return False
    stubs = {C.grade_id(c): C.source(c) for c in new.cells if C.is_solution(c) and C.grade_id(c)}
    released = {(c.cell_type, C.source(c)) for c in new.cells}
    for cell in nb.cells:
        if cell.cell_type == "code" and (cell.get("outputs") or cell.get("execution_count")):
            return False
        recorded = C.meta(cell).get("checksum")
        if recorded and compute_checksum(cell) != recorded:
            return False
        if C.is_solution(cell):
            if C.source(cell) != stubs.get(C.grade_id(cell)):
                return False
        elif not recorded and (cell.cell_type, C.source(cell)) not in released:
            return False
    return True


def edited_files(folder: Path, recorded: dict[str, str] | None, new_files: dict[str, bytes]) -> list[str]:
    """Files in `folder` (release/<assignment>) that regenerating it would lose."""
    folder = Path(folder)
    if not folder.is_dir():
        return []
    edited = []
    for path in sorted(folder.rglob("*")):
        if not path.is_file() or _IGNORED_PARTS & set(path.relative_to(folder).parts):
            continue
        name = path.relative_to(folder).as_posix()
        data = path.read_bytes()
        mark = fingerprint(name, data)
        if name in new_files and fingerprint(name, new_files[name]) == mark:
            continue  # what this release writes anyway
        if recorded is not None:
            if recorded.get(name) == mark:
                continue  # as the last release wrote it
        elif name.endswith(".ipynb") and _looks_generated(data, new_files.get(name)):
            continue
        edited.append(name)
    return edited


def refuse_to_overwrite(release_dir: Path, assignment: str, new_files: dict[str, bytes]) -> None:
    """Raise OverwriteError if regenerating release/<assignment>/ would lose someone's edits."""
    folder = Path(release_dir) / assignment
    recorded = read_record(release_dir).get(assignment)
    edited = edited_files(folder, recorded, new_files)
    if not edited:
        return
    shown = "\n  - ".join(f"{folder / name}" for name in edited)
    why = ("differs from what the last release wrote" if recorded is not None else
           "differs from what a release writes (no record of the last release, "
           f"{Path(release_dir) / RECORD_NAME}, to compare with)")
    raise OverwriteError(
        f"refusing to regenerate {folder}: someone's work would be lost. Each of these {why}:\n  - {shown}\n"
        f"Keep the work first, e.g. `mkdir -p work && cp -r {folder} work/` (students work in a folder of their own: "
        f"`autograder fetch {assignment}`), then run the release again with --overwrite to discard the edits in "
        "release/.")
