"""A student's outputs are one unit: complete and consistent with each other, or redone.

Per student a batch writes `results/<id>.json` (Gradescope; what each test measured in its
`extra_data`), `feedback/<id>/<notebook>.html`, the
notebook as graded `state/<id>.ipynb` (instructors only: hand grading and re-rendered pages read
it), formgrader's copy `autograded/<id>/<assignment>/<notebook>.ipynb` with its
`submitted/<id>/<assignment>/timestamp.txt` (formgrader.py), and the commit record
`state/<id>.json`. A result is committed in three steps:

1. **stage**: every output is written under `.staging/<id>/` (same relative paths);
2. **commit**: `state/<id>.json` is written atomically. It holds the result, its reuse key (see
   reuse.py) and the sha256 of every output. Its rename is the moment the new result exists;
3. **install**: the staged files are renamed into place, and outputs of the previous result
   that the new one no longer has are removed.

A batch that opens a folder first recovers it (`recover`): staged files that a commit record
names are installed (roll forward), staged files that none names are removed (roll back: the
previous result, still in place, is what every output shows). A student whose installed outputs
match their record neither way is *damaged*: graded again if their submission is in the batch,
otherwise their outputs are rewritten from the record (the feedback page from the notebook as
graded, or the summary of every part when that notebook is damaged too). Outputs of students with
no record at all are removed, so no page ever shows a score no record backs. `grades.csv` and the gradebook are derived from the records.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import socket
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from autograder import cells as C
from autograder import exports, faults, feedback, formgrader, roster
from autograder import results as R
from autograder.leftovers import sweep_temp_files

STATE = "state"
STAGING = ".staging"
FORMAT = 2


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _file_digest(path: Path) -> str | None:
    try:
        return sha256(path.read_bytes())
    except OSError:
        return None


@dataclass
class Committed:
    """One student's commit record."""

    result: R.SubmissionResult
    reuse_key: dict | None
    outputs: dict[str, str]  # relative path -> sha256 of its bytes
    digest: str  # sha256 of the record itself (the gradebook remembers which record it holds)
    damaged: bool = False

    @classmethod
    def parse(cls, data: bytes) -> "Committed":
        record = json.loads(data)
        result = R.SubmissionResult.from_dict(record)
        if record.get("format") != FORMAT:  # written by an older grader: no key, outputs unknown
            return cls(result, None, {}, sha256(data))
        return cls(result, record.get("reuse_key"), dict(record.get("outputs", {})), sha256(data))


@dataclass
class Recovery:
    """What opening a folder found and did."""

    rolled_forward: list[str] = field(default_factory=list)
    rolled_back: list[str] = field(default_factory=list)
    damaged: list[str] = field(default_factory=list)
    unreadable: list[str] = field(default_factory=list)
    orphans_removed: list[str] = field(default_factory=list)
    temp_removed: int = 0

    def lines(self) -> list[str]:
        out = []
        if self.rolled_forward:
            out.append(f"finished installing the outputs of {len(self.rolled_forward)} result(s) a killed batch "
                       f"had committed: {', '.join(self.rolled_forward[:10])}")
        if self.rolled_back:
            out.append(f"discarded the unfinished outputs of {len(self.rolled_back)} result(s) a killed batch had "
                       f"not committed: {', '.join(self.rolled_back[:10])}")
        if self.damaged:
            out.append(f"outputs that do not match their record: {', '.join(self.damaged[:10])}")
        if self.unreadable:
            out.append(f"unreadable records (graded again when submitted): {', '.join(self.unreadable[:10])}")
        if self.orphans_removed:
            out.append(f"removed outputs no record backs: {', '.join(self.orphans_removed[:10])}")
        if self.temp_removed:
            out.append(f"removed {self.temp_removed} temporary file(s) left by a killed process")
        return out


class OutputFolder:
    """The outputs of one assignment in one --out folder.

    With the assignment's source notebook a folder also writes formgrader's files and can render a
    student's feedback page again from the notebook as graded (after hand grades changed);
    `gradebook_notebook` is the gradebook's name for the notebook (formgrader's file name)."""

    def __init__(self, root: Path, assignment: str, notebook_name: str, source_nb=None,
                 gradebook_notebook: str | None = None):
        self.root = Path(root)
        self.assignment = assignment
        self.stem = notebook_name[:-6] if notebook_name.endswith(".ipynb") else notebook_name
        self.source_nb = source_nb
        self.secret = C.hidden_lines(source_nb) if source_nb is not None else set()
        # parts whose results json entry waits for the due date (None: unknown, so every one waits)
        self.hidden_parts = C.parts_with_hidden_tests(source_nb) if source_nb is not None else None
        self.gradebook_notebook = gradebook_notebook or assignment
        self.committed: dict[str, Committed] = {}

    # -- paths ---------------------------------------------------------------------------
    def results_path(self, student: str) -> str:
        return f"results/{student}.json"

    def feedback_path(self, student: str) -> str:
        return f"feedback/{student}/{self.stem}.html"

    def graded_path(self, student: str) -> str:
        return f"{STATE}/{student}.ipynb"

    def formgrader_paths(self, student: str) -> tuple[str, str]:
        """formgrader's copy of the graded notebook, and the submission's timestamp.txt."""
        return (f"{formgrader.AUTOGRADED}/{student}/{self.assignment}/{self.gradebook_notebook}.ipynb",
                f"{formgrader.SUBMITTED}/{student}/{self.assignment}/timestamp.txt")

    def _record_path(self, student: str) -> Path:
        return self.root / STATE / f"{student}.json"

    def _staged(self, student: str, relative: str) -> Path:
        return self.root / STAGING / student / relative

    # -- opening -------------------------------------------------------------------------
    def recover(self) -> Recovery:
        """Roll every student forward or back (see the module docstring) and load the records."""
        report = Recovery(temp_removed=len(sweep_temp_files(self.root)))
        self.committed = {}
        state = self.root / STATE
        for path in sorted(state.glob("*.json")) if state.is_dir() else []:
            student = path.stem
            try:
                record = Committed.parse(path.read_bytes())
            except (OSError, ValueError, TypeError, KeyError):
                report.unreadable.append(student)
                continue
            if record.result.assignment != self.assignment:
                from autograder.errors import UsageError

                raise UsageError(f"{self.root} holds results of {record.result.assignment}, not {self.assignment}: "
                                 "grade each assignment into its own --out folder")
            forwarded = False
            for relative, digest in record.outputs.items():
                target = self.root / relative
                if _file_digest(target) == digest:
                    continue
                staged = self._staged(student, relative)
                if _file_digest(staged) == digest:
                    target.parent.mkdir(parents=True, exist_ok=True)
                    os.replace(staged, target)
                    forwarded = True
                else:
                    record.damaged = True
            if forwarded:
                report.rolled_forward.append(student)
            if record.damaged:
                report.damaged.append(student)
            self.committed[student] = record
        staging = self.root / STAGING
        if staging.is_dir():
            for folder in sorted(staging.iterdir()):
                if folder.name not in report.rolled_forward:
                    report.rolled_back.append(folder.name)
            shutil.rmtree(staging)
        report.orphans_removed = self._remove_orphans(set(self.committed) | set(report.unreadable))
        return report

    def _remove_orphans(self, known: set[str]) -> list[str]:
        removed = set()
        results = self.root / "results"
        for path in results.glob("*.json") if results.is_dir() else []:
            if path.stem not in known:
                path.unlink()
                removed.add(path.stem)
        pages = self.root / "feedback"
        for folder in pages.iterdir() if pages.is_dir() else []:
            if folder.is_dir() and folder.name not in known:
                shutil.rmtree(folder)
                removed.add(folder.name)
        state = self.root / STATE
        for path in state.glob("*.ipynb") if state.is_dir() else []:
            if path.stem not in known:
                path.unlink()
                removed.add(path.stem)
        for top in (formgrader.AUTOGRADED, formgrader.SUBMITTED):  # only the files a batch writes there
            folder = self.root / top
            for student in folder.iterdir() if folder.is_dir() else []:
                if student.is_dir() and student.name not in known:
                    for relative in self.formgrader_paths(student.name):
                        path = self.root / relative
                        if path.parent.parent.parent.name == top and path.exists():
                            path.unlink()
                            removed.add(student.name)
                    _remove_empty(self.root / top / student.name / self.assignment, stop=folder)
        return sorted(removed)

    # -- writing -------------------------------------------------------------------------
    def render(self, result: R.SubmissionResult, graded: str | None) -> dict[str, bytes]:
        """Every file output of `result` (`graded`: the notebook as graded, JSON, if there is one)."""
        student = result.student_id
        page = result.feedback_html or _summary_page(result)
        files = {self.results_path(student): results_text(result, self.hidden_parts).encode(),
                 self.feedback_path(student): page.encode()}
        if graded:
            files[self.graded_path(student)] = graded.encode()
        if self.source_nb is not None:
            graded_nb = nbformat.reads(graded, as_version=4) if graded else None
            copy, stamp = formgrader.student_files(result, graded_nb, self.source_nb)
            autograded, timestamp = self.formgrader_paths(student)
            files[autograded], files[timestamp] = copy, stamp
        return files

    def graded_notebook(self, student: str) -> str | None:
        """The student's notebook as graded, if the folder holds it intact (as its record says)."""
        record = self.committed.get(student)
        relative = self.graded_path(student)
        if record is None or relative not in record.outputs:
            return None
        try:
            data = (self.root / relative).read_bytes()
        except OSError:
            return None
        return data.decode("utf-8") if sha256(data) == record.outputs[relative] else None

    def render_page(self, result: R.SubmissionResult, graded: str | None) -> None:
        """Render the feedback page again (the hand grades on `result` changed), from the notebook
        as graded; without it, the summary of every part."""
        graded_nb = nbformat.reads(graded, as_version=4) if graded else None
        try:
            result.feedback_html = feedback.render(result, graded_nb, graded_nb, self.secret)
        except Exception as error:  # noqa: BLE001 - a page must exist whatever happened
            result.notes.append(f"feedback could not be rendered: {type(error).__name__}: {error}")
            result.feedback_html = ""

    def commit(self, result: R.SubmissionResult, reuse_key: dict | None, graded: str | None = None) -> Committed:
        """Make `result` the student's result in every file output (stage, commit, install)."""
        student = result.student_id
        files = self.render(result, graded)
        staging = self.root / STAGING / student
        if staging.exists():
            shutil.rmtree(staging)
        for relative, data in files.items():
            exports.write_atomic(self._staged(student, relative), data)
        faults.reach("staged")
        record = {"format": FORMAT, **result.to_dict(), "reuse_key": reuse_key,
                  "outputs": {relative: sha256(data) for relative, data in files.items()}}
        text = (json.dumps(record, indent=1) + "\n").encode()
        exports.write_atomic(self._record_path(student), text)
        faults.reach("committed")
        previous = self.committed.get(student)
        for relative in files:
            target = self.root / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(self._staged(student, relative), target)
        for relative in (previous.outputs if previous else {}):
            if relative not in files:
                (self.root / relative).unlink(missing_ok=True)
        shutil.rmtree(staging, ignore_errors=True)
        try:
            staging.parent.rmdir()  # only when no other student is half-way
        except OSError:
            pass
        faults.reach("installed")
        committed = Committed(R.SubmissionResult.from_dict(record), reuse_key, record["outputs"], sha256(text))
        self.committed[student] = committed
        return committed

    def recommit(self, result: R.SubmissionResult) -> Committed:
        """Commit a changed copy of a student's committed result (hand grades given or cleared):
        same reuse key, same notebook as graded, the page rendered again."""
        record = self.committed[result.student_id]
        graded = self.graded_notebook(result.student_id)
        self.render_page(result, graded)
        return self.commit(result, record.reuse_key, graded)

    def repair(self, student: str) -> Committed:
        """Rewrite a damaged student's outputs from their record (no submission to grade)."""
        return self.recommit(self.committed[student].result)

    def write_csv(self, template: list[R.PartResult] | None = None) -> None:
        """grades.csv: a row per committed record, and with a roster (roster.py) an `absent` row for
        each student on it never graded (their parts as in `template`)."""
        ids = roster.load(self.root)
        rows = [c.result for c in self.committed.values()]
        if template is None:
            template = max((r.parts for r in rows), key=len, default=[])
        rows += roster.absent_results(ids, set(self.committed), self.assignment, template)
        exports.write_atomic(self.root / "grades.csv", exports.grades_csv(rows, set(ids) if ids is not None else None))


def results_text(result: R.SubmissionResult, hidden_parts: set[str] | None = None) -> str:
    """results/<id>.json: Gradescope's results.json, each test with what it measured (measure.py)
    under its `extra_data`, which Gradescope stores with the result."""
    data = exports.gradescope_json(result, hidden_parts)
    measured = {p.grade_id: p.measured for p in result.parts if p.kind == "test" and p.measured}
    for test in data.get("tests", []):
        tags = test.get("tags") or []
        if tags and tags[0] in measured:
            test["extra_data"] = {"measured": measured[tags[0]]}
    return json.dumps(data, indent=2) + "\n"


def folder_id(root: Path) -> str:
    """This output folder's name in a shared gradebook: a random id kept in the folder (so a moved
    folder is still itself), with where it is, for messages."""
    path = Path(root) / ".folder-id"
    try:
        found = path.read_text().strip()
    except OSError:
        found = ""
    if not found:
        found = uuid.uuid4().hex[:12]
        exports.write_atomic(path, found + "\n")
    return f"{found} {socket.gethostname()}:{root}"


def _remove_empty(folder: Path, stop: Path) -> None:
    """Remove `folder` and its parents up to (not including) `stop` while they are empty."""
    folder, stop = Path(folder), Path(stop)
    while folder != stop and stop in folder.parents:
        try:
            folder.rmdir()
        except OSError:
            return
        folder = folder.parent


def _summary_page(result: R.SubmissionResult) -> str:
    """The feedback page when the full one could not be made: the summary of every part."""
    try:
        return feedback.render(result, None, None, set())
    except Exception:  # noqa: BLE001 - a page must exist whatever happened
        import html

        return (f"<!doctype html><html lang=en><head><meta charset=utf-8></head><body>"
                f"<h1>{html.escape(result.assignment)}</h1>"
                f'<p class="score"><b>{result.total_score:g} / {result.total_max:g} points in all</b>'
                f" &middot; {result.raw_score:g} / {result.max_score:g} autograded points"
                f" &middot; status: {html.escape(result.status)}</p>"
                f"<p>{html.escape(result.reason)}</p></body></html>\n")


def load_results(root: Path) -> list[R.SubmissionResult]:
    """Every committed result in an output folder, for readers (the report)."""
    results = []
    state = Path(root) / STATE
    for path in sorted(state.glob("*.json")) if state.is_dir() else []:
        try:
            results.append(Committed.parse(path.read_bytes()).result)
        except (OSError, ValueError, TypeError, KeyError):
            continue
    return results
