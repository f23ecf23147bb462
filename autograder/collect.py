"""Finding the submissions in a folder, without ever modifying them.

Accepted layouts, per student (the student id is the folder or file name):
    SUBMISSIONS/<student_id>/<notebook>.ipynb           (plus any supporting files)
    SUBMISSIONS/<student_id>/<assignment>/<notebook>.ipynb   (nbgrader's submitted/ layout)
    SUBMISSIONS/<student_id>.zip                          (a zip of either of the above)
    SUBMISSIONS/<student_id>.ipynb
(suffixes in any case). A submission whose notebook is missing, ambiguous or unreadable is still
collected, with the problem recorded; the grader turns it into a row with a reason.

Every entry of SUBMISSIONS either becomes a submission or is listed with the reason it was not
(`Scan.skipped`). A name that is not a plain id (`John Smith.ipynb`, `josé/`, an LMS download
folder such as `Full Name_123_assignsubmission_file_`) gets a safe id derived from it
(`safe_id`); the original name stays with the result (`origin`). Symbolic links are never
followed, at the top of SUBMISSIONS or inside a student's folder: a link is refused, and no
reason ever quotes the content of a file.
"""
from __future__ import annotations

import hashlib
import io
import re
import unicodedata
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from autograder import results as R
from autograder.errors import UsageError

STUDENT_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@+-]{0,127}$")
MAX_EXTRA_BYTES = 50 * 1024**2
SKIP_PARTS = {".ipynb_checkpoints", "__pycache__", ".git", "__MACOSX"}
# LMS downloads: Moodle's "Full Name_123456_assignsubmission_file_" folders and Canvas's
# "lastfirst_12345_678901_name.ipynb" (or lastfirst_LATE_...) files; the id keeps name and user number.
_MOODLE = re.compile(r"^(?P<name>.+?)_(?P<number>\d+)_assignsubmission_[A-Za-z]+_?$")
_CANVAS = re.compile(r"^(?P<name>[a-z]+)_(?:LATE_)?(?P<number>\d+)_\d+_.+$")


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


def safe_id(name: str) -> str:
    """A student id made from a file or folder name (without its suffix): letters, digits and
    `._@+-` only, accents folded to ASCII, other runs of characters as one `_`."""
    if STUDENT_ID.match(name) and not (_MOODLE.match(name) or _CANVAS.match(name)):
        return name
    text = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    for pattern in (_MOODLE, _CANVAS):
        match = pattern.match(text)
        if match:
            text = f"{match.group('name')}_{match.group('number')}"
            break
    text = re.sub(r"[^A-Za-z0-9._@+-]+", "_", text)
    text = re.sub(r"_+", "_", text).strip("._-+@")[:100]
    if not text:
        text = "student-" + hashlib.sha256(name.encode()).hexdigest()[:8]
    return text


@dataclass
class Scan:
    submissions: list[Submission]
    skipped: list[tuple[str, str]]  # (entry name, why it is not a submission)


def _choose(entries: dict[str, bytes], assignment: str, notebook_name: str, sub: Submission,
            others: frozenset[str] = frozenset()) -> None:
    """Pick the notebook among a student's files (relative posix paths -> bytes). `others`: the
    assignment's other notebooks (an nbgrader assignment may have several); a lone notebook named
    after one of them is that notebook, not a renamed copy of this one."""
    entries = {name: data for name, data in entries.items()
               if not (set(PurePosixPath(name).parts) & SKIP_PARTS) and not PurePosixPath(name).name.startswith(".")}
    prefix = ""
    nested = [n for n in entries if n.startswith(f"{assignment}/")]
    if nested and not any(PurePosixPath(n).name == notebook_name and "/" not in n for n in entries):
        prefix = f"{assignment}/"
        entries = {n[len(prefix):]: d for n, d in entries.items() if n.startswith(prefix)}
    notebooks = sorted(n for n in entries if n.lower().endswith(".ipynb"))
    if notebook_name in notebooks:
        chosen = notebook_name
    elif len(notebooks) == 1 and notebooks[0] in others:
        sub.problem = (R.MISSING_NOTEBOOK, f"{notebook_name} was not submitted ({notebooks[0]} is another notebook "
                                           "of the assignment, graded on its own)")
        return
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
        if name.lower().endswith(".ipynb"):
            continue
        total += len(data)
        if total > MAX_EXTRA_BYTES:
            sub.notes.append(f"supporting files beyond {MAX_EXTRA_BYTES // 1024**2} MB were not copied")
            break
        sub.files[name] = data


def _read_folder(folder: Path, sub: Submission) -> dict[str, bytes]:
    entries = {}
    links = []
    for path in sorted(folder.rglob("*")):
        if path.is_symlink():
            links.append(path.relative_to(folder).as_posix())
        elif path.is_file():
            entries[path.relative_to(folder).as_posix()] = path.read_bytes()
    if links:
        sub.notes.append(f"symbolic links are not followed; ignored: {', '.join(links[:5])}")
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
    if len(tops) == 1 and not any(n.lower().endswith(".ipynb") and "/" not in n for n in entries):
        top = tops.pop()
        entries = {n[len(top) + 1:]: d for n, d in entries.items() if "/" in n}
    return entries


def scan(folder: Path, assignment: str, notebook_name: str, others=frozenset()) -> Scan:
    """Every entry of `folder`: a submission each (sorted by student id), or a reason it is not one.
    `others`: the names of the assignment's other graded notebooks (see `_choose`)."""
    others = frozenset(others) - {notebook_name}
    folder = Path(folder)
    if not folder.is_dir():
        raise UsageError(f"submissions folder {folder} does not exist or is not a folder")
    found: dict[str, Submission] = {}
    skipped: list[tuple[str, str]] = []
    named: list[tuple[Path, str, bool]] = []  # (entry, id, id derived from an odd name)
    # nbgrader's submitted/<student>/<assignment>/ holds every assignment: a student without a
    # folder for this one has not submitted it (no row; an 'absent' row if on the roster), rather
    # than a wrong notebook
    nbgrader_layout = any((p / assignment).is_dir() for p in folder.iterdir() if p.is_dir() and not p.is_symlink())
    for path in sorted(folder.iterdir()):
        if path.name in SKIP_PARTS or path.name.startswith("."):
            skipped.append((path.name, "hidden or tool folder"))
            continue
        suffix = path.suffix.lower()
        if (path.is_dir() and not path.is_symlink() and nbgrader_layout and not (path / assignment).is_dir()
                and not any(path.glob("*.ipynb"))):
            skipped.append((path.name, f"no {assignment} folder in this student's nbgrader submissions"))
            continue
        if path.is_symlink():
            stem = path.stem if suffix in (".zip", ".ipynb") else path.name
        elif path.is_dir():
            stem = path.name
        elif suffix in (".zip", ".ipynb"):
            stem = path.stem
        else:
            skipped.append((path.name, "not a folder, .ipynb or .zip file"))
            continue
        student = safe_id(stem)
        named.append((path, student, student != stem))
    # plain ids first: when a derived id equals a plain one, the plain entry is graded
    for path, student, derived in sorted(named, key=lambda item: (item[2], item[1], item[0].name)):
        if student in found:
            found[student].notes.append(f"also found {path.name}; graded {found[student].origin}")
            skipped.append((path.name, f"a second submission of {student} (graded {found[student].origin})"))
            continue
        sub = Submission(student_id=student, origin=path.name)
        found[student] = sub
        if derived:
            sub.notes.append(f"submitted as {path.name!r}; graded under the id {student}")
        if path.is_symlink():  # as inside a student's folder: a link could point at any file (or at source/)
            sub.problem = (R.INVALID_NOTEBOOK, f"{path.name} is a symbolic link, and links are not followed "
                                               "(a submission cannot point at another file): put the notebook, "
                                               "file or folder itself in the submissions folder")
            continue
        try:
            if path.is_dir():
                _choose(_read_folder(path, sub), assignment, notebook_name, sub, others)
            elif path.suffix.lower() == ".zip":
                _choose(_read_zip(path.read_bytes()), assignment, notebook_name, sub, others)
            else:
                sub.notebook = path.read_bytes()
                if path.name != notebook_name:
                    sub.notes.append(f"graded {path.name} as {notebook_name}")
        except (zipfile.BadZipFile, OSError) as error:
            detail = error.strerror if isinstance(error, OSError) and error.strerror else str(error)
            sub.problem = (R.INVALID_NOTEBOOK, f"could not read {path.name}: {detail}")
    return Scan([found[k] for k in sorted(found)], skipped)


def collect(folder: Path, assignment: str, notebook_name: str) -> list[Submission]:
    """All submissions in `folder`, sorted by student id."""
    return scan(folder, assignment, notebook_name).submissions
