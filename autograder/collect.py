"""Finding the submissions in a folder, without ever modifying them.

Accepted layouts, per student (the student id is the folder or file name):
    SUBMISSIONS/<student_id>/<notebook>.ipynb           (plus any supporting files)
    SUBMISSIONS/<student_id>/<assignment>/<notebook>.ipynb   (nbgrader's submitted/ layout)
    SUBMISSIONS/<student_id>.zip                          (a zip of either of the above)
    SUBMISSIONS/<student_id>.ipynb
A submission whose notebook is missing, ambiguous or unreadable is still collected, with the
problem recorded; the grader turns it into a row with a reason.
"""
from __future__ import annotations

import hashlib
import io
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from autograder import results as R
from autograder.errors import UsageError

STUDENT_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@+-]{0,127}$")
MAX_EXTRA_BYTES = 50 * 1024**2
SKIP_PARTS = {".ipynb_checkpoints", "__pycache__", ".git", "__MACOSX"}


@dataclass
class Submission:
    student_id: str
    origin: str  # where it came from, for messages
    notebook: bytes | None = None
    files: dict[str, bytes] = field(default_factory=dict)
    problem: tuple[str, str] | None = None  # (status, reason) when it cannot be graded
    notes: list[str] = field(default_factory=list)

    @property
    def content_hash(self) -> str:
        digest = hashlib.sha256()
        digest.update(self.notebook or b"")
        for name in sorted(self.files):
            digest.update(name.encode() + b"\0" + hashlib.sha256(self.files[name]).digest())
        return digest.hexdigest()


def _choose(entries: dict[str, bytes], assignment: str, notebook_name: str, sub: Submission) -> None:
    """Pick the notebook among a student's files (relative posix paths -> bytes)."""
    entries = {name: data for name, data in entries.items()
               if not (set(PurePosixPath(name).parts) & SKIP_PARTS) and not PurePosixPath(name).name.startswith(".")}
    prefix = ""
    nested = [n for n in entries if n.startswith(f"{assignment}/")]
    if nested and not any(PurePosixPath(n).name == notebook_name and "/" not in n for n in entries):
        prefix = f"{assignment}/"
        entries = {n[len(prefix):]: d for n, d in entries.items() if n.startswith(prefix)}
    notebooks = sorted(n for n in entries if n.endswith(".ipynb"))
    if notebook_name in notebooks:
        chosen = notebook_name
    elif len(notebooks) == 1:
        chosen = notebooks[0]
        sub.notes.append(f"expected {notebook_name}, graded {chosen} (the only notebook submitted)")
    elif not notebooks:
        sub.problem = (R.MISSING_NOTEBOOK, f"no notebook in the submission (expected {notebook_name})")
        return
    else:
        sub.problem = (R.MISSING_NOTEBOOK,
                       f"{notebook_name} not found and several other notebooks were submitted: {', '.join(notebooks)}")
        return
    sub.notebook = entries.pop(chosen)
    total = 0
    for name, data in sorted(entries.items()):
        if name.endswith(".ipynb"):
            continue
        total += len(data)
        if total > MAX_EXTRA_BYTES:
            sub.notes.append(f"supporting files beyond {MAX_EXTRA_BYTES // 1024**2} MB were not copied")
            break
        sub.files[name] = data


def _read_folder(folder: Path) -> dict[str, bytes]:
    entries = {}
    for path in sorted(folder.rglob("*")):
        if path.is_file() and not path.is_symlink():
            entries[path.relative_to(folder).as_posix()] = path.read_bytes()
    return entries


def _read_zip(data: bytes) -> dict[str, bytes]:
    entries = {}
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        total = 0
        for info in archive.infolist():
            name = PurePosixPath(info.filename)
            if info.is_dir() or name.is_absolute() or ".." in name.parts:
                continue
            total += info.file_size
            if total > 4 * MAX_EXTRA_BYTES:
                raise zipfile.BadZipFile("the archive unpacks to more than 200 MB")
            entries[name.as_posix()] = archive.read(info)
    # a zip of a folder named after the student: strip that one top-level folder
    tops = {PurePosixPath(n).parts[0] for n in entries}
    if len(tops) == 1 and not any(n.endswith(".ipynb") and "/" not in n for n in entries):
        top = tops.pop()
        entries = {n[len(top) + 1:]: d for n, d in entries.items() if "/" in n}
    return entries


def collect(folder: Path, assignment: str, notebook_name: str) -> list[Submission]:
    """All submissions in `folder`, sorted by student id."""
    folder = Path(folder)
    if not folder.is_dir():
        raise UsageError(f"submissions folder {folder} does not exist or is not a folder")
    found: dict[str, Submission] = {}
    for path in sorted(folder.iterdir()):
        if path.name.startswith(".") or path.name in SKIP_PARTS:
            continue
        if path.is_dir():
            student = path.name
        elif path.suffix in (".zip", ".ipynb"):
            student = path.stem
        else:
            continue
        if not STUDENT_ID.match(student):
            continue
        if student in found:
            found[student].notes.append(f"also found {path.name}; graded {found[student].origin}")
            continue
        sub = Submission(student_id=student, origin=path.name)
        found[student] = sub
        if path.is_symlink():  # as inside a student's folder: a link could point at any file (or at source/)
            sub.problem = (R.INVALID_NOTEBOOK, f"{path.name} is a symbolic link; submit the notebook itself "
                                               "(links are not followed, so a submission cannot point at another file)")
            continue
        try:
            if path.is_dir():
                _choose(_read_folder(path), assignment, notebook_name, sub)
            elif path.suffix == ".zip":
                _choose(_read_zip(path.read_bytes()), assignment, notebook_name, sub)
            else:
                sub.notebook = path.read_bytes()
                if path.name != notebook_name:
                    sub.notes.append(f"graded {path.name} as {notebook_name}")
        except (zipfile.BadZipFile, OSError) as error:
            sub.problem = (R.INVALID_NOTEBOOK, f"could not read {path.name}: {error}")
    return [found[k] for k in sorted(found)]
