"""Where a course's files live.

A course root holds `nbgrader_config.py`, `source/` and the generated `release/` (or the folders
its nbgrader_config.py names). This course writes `source/NN-name/NN-name.ipynb`, one notebook per
assignment; any nbgrader course works too: any assignment name, several notebooks each. The root is found from the current directory
upwards, or given with --course / the AUTOGRADER_COURSE_ROOT environment variable.

Students never need `source/`: `autograder check` and `autograder fetch` read a *release folder*
(released assignments with their files), found from the notebook being checked, or given with
--release / AUTOGRADER_RELEASE: a course checkout's `release/`, or the one a student distribution
installs inside the `course` package (`course/materials/release/`).
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass, replace
from pathlib import Path

from autograder.errors import UsageError

ASSIGNMENT_PATTERN = re.compile(r"^\d\d-[a-z0-9]+(?:-[a-z0-9]+)*$")
ENV_VAR = "AUTOGRADER_COURSE_ROOT"
RELEASE_ENV_VAR = "AUTOGRADER_RELEASE"
_SKIP_PARTS = {".ipynb_checkpoints", "__pycache__"}


def assignment_files(folder: Path) -> dict[str, bytes]:
    """The files an assignment's notebook gets in its working folder when it runs (graded or
    checked): every file of its released folder but notebooks, by relative posix path."""
    return {path.relative_to(folder).as_posix(): path.read_bytes() for path in sorted(folder.rglob("*"))
            if path.is_file() and path.suffix != ".ipynb" and not _SKIP_PARTS & set(path.parts)}


@dataclass(frozen=True)
class Course:
    """A course folder. Any nbgrader course works: its folders are where its nbgrader_config.py
    says (source/ and release/ by default), an assignment is any folder of source/ holding a
    notebook, and an assignment may hold several notebooks (`notebook` picks the one being
    graded; `with_notebook` makes that view)."""

    root: Path
    notebook: str | None = None  # the notebook being worked on, for assignments with several

    @property
    def source(self) -> Path:
        from autograder.nbgrader_course import course_folder

        return course_folder(self.root, "source")

    @property
    def release(self) -> Path:
        from autograder.nbgrader_course import course_folder

        return course_folder(self.root, "release")

    @property
    def examples(self) -> Path:
        return self.root / "examples"

    def with_notebook(self, name: str) -> "Course":
        return replace(self, notebook=name)

    def assignments(self) -> list[str]:
        if not self.source.is_dir():
            return []
        return sorted(p.name for p in self.source.iterdir()
                      if p.is_dir() and not p.name.startswith(".") and any(p.glob("*.ipynb")))

    def check_assignment(self, assignment: str) -> str:
        known = self.assignments()
        if assignment not in known:
            hint = f"known assignments: {', '.join(known)}" if known else f"no assignments under {self.source}"
            close = [a for a in known if assignment in a or a.startswith(assignment[:2])]
            if close:
                hint = f"did you mean {close[0]!r}? " + hint
            raise UsageError(f"unknown assignment {assignment!r} (an assignment is a folder of {self.source} "
                             f"holding a notebook); {hint}")
        return assignment

    def rules(self, assignment: str) -> str:
        """'strict' (this course's authoring rules) or 'nbgrader' (any nbgrader assignment)."""
        from autograder.nbgrader_course import authoring_rules

        names = sorted(p.name for p in (self.source / assignment).glob("*.ipynb"))
        main = f"{assignment}.ipynb" if f"{assignment}.ipynb" in names else (names[0] if len(names) == 1 else "")
        return authoring_rules(self.root, assignment, main)

    def notebooks(self, assignment: str) -> list[str]:
        """The graded notebooks of an assignment: the one named after it under the strict rules,
        every notebook at the top of its folder under nbgrader's."""
        folder = self.source / assignment
        names = sorted(p.name for p in folder.glob("*.ipynb") if not p.name.startswith("."))
        if self.rules(assignment) == "strict" and f"{assignment}.ipynb" in names:
            return [f"{assignment}.ipynb"]
        return names

    def notebook_name(self, assignment: str) -> str:
        if self.notebook:
            return self.notebook
        names = self.notebooks(assignment) if (self.source / assignment).is_dir() else []
        if f"{assignment}.ipynb" in names or not names:
            return f"{assignment}.ipynb"
        if len(names) == 1:
            return names[0]
        raise UsageError(f"{assignment} has several notebooks ({', '.join(names)}); each is graded on its own")

    def source_notebook(self, assignment: str) -> Path:
        path = self.source / assignment / self.notebook_name(assignment)
        if not path.exists():
            raise UsageError(f"{path} is missing: each assignment folder holds one notebook named after it")
        return path

    def release_notebook(self, assignment: str) -> Path:
        return self.release / assignment / self.notebook_name(assignment)

    def _assignment_paths(self, assignment: str) -> list[Path]:
        folder = self.source / assignment
        return sorted(p for p in folder.rglob("*") if p.is_file()
                      and ".ipynb_checkpoints" not in p.parts and "__pycache__" not in p.parts)

    def supporting_files(self, assignment: str) -> list[Path]:
        """Files shipped with an assignment besides notebooks (copied into the release after the
        leak check)."""
        return [p for p in self._assignment_paths(assignment) if p.suffix != ".ipynb"]

    def extra_notebooks(self, assignment: str) -> list[Path]:
        """Notebooks in an assignment's folder other than the graded ones (released through
        nbgrader like them, or refused)."""
        graded = {self.source / assignment / name for name in self.notebooks(assignment)}
        return [p for p in self._assignment_paths(assignment) if p.suffix == ".ipynb" and p not in graded]

def find_course(start: str | os.PathLike | None = None) -> Course:
    """The course whose root contains `start` (default: the working directory)."""
    if start is None and os.environ.get(ENV_VAR):
        root = Path(os.environ[ENV_VAR]).expanduser().resolve()
        if not Course(root).source.is_dir():
            raise UsageError(f"{ENV_VAR}={root} has no source/ folder")
        return Course(root)
    here = Path(start or os.getcwd()).resolve()
    for candidate in [here, *here.parents]:
        if (candidate / "nbgrader_config.py").exists() and Course(candidate).source.is_dir():
            return Course(candidate)
    raise UsageError(
        f"no course found at or above {here}: a course root has a source/ folder and nbgrader_config.py. "
        f"Run from inside the course, pass --course DIR, or set {ENV_VAR}."
    )


@dataclass(frozen=True)
class ReleaseFolder:
    """Released assignments, `<folder>/<assignment>/<notebook>.ipynb` with their files (this
    course: one notebook named after its assignment; an nbgrader course: any, several)."""

    folder: Path

    def assignments(self) -> list[str]:
        """Folders holding a notebook named after them, and (in a release folder our release
        wrote, which keeps a record) any folder the record names: so a student's own work
        folder is never taken for a release."""
        if not self.folder.is_dir():
            return []
        from autograder.release_record import read_record

        recorded = set(read_record(self.folder))
        return sorted(p.name for p in self.folder.iterdir() if p.is_dir() and not p.name.startswith(".")
                      and ((p / f"{p.name}.ipynb").is_file() or (p.name in recorded and any(p.glob("*.ipynb")))))

    def notebook(self, assignment: str, name: str | None = None) -> Path:
        """The released notebook of `assignment`: the one named after it, else the one called
        `name` (the file being checked), else its only notebook."""
        folder = self.folder / assignment
        for candidate in (f"{assignment}.ipynb", name):
            if candidate and (folder / candidate).is_file():
                return folder / candidate
        found = sorted(folder.glob("*.ipynb"))
        return found[0] if len(found) == 1 else folder / f"{assignment}.ipynb"

    def files(self, assignment: str) -> dict[str, bytes]:
        return assignment_files(self.folder / assignment)


def release_folder_at(path: Path) -> ReleaseFolder | None:
    """The release folder `path` is or holds (a course root, a student distribution), if any."""
    for candidate in (path / "release", path):
        found = ReleaseFolder(candidate)
        if found.assignments():
            return found
    return None


def find_release(notebook: Path, given: str | os.PathLike | None = None) -> ReleaseFolder:
    """Where the released version of `notebook`'s assignment lives.

    In order: `given` (--release), $AUTOGRADER_RELEASE, a `release/` folder at or above the
    notebook or the working directory, the checkout that holds the installed `course` package, and
    the release a student distribution installed with it (`course/materials/release/`). Found
    upwards, only a folder named release/ counts, so a student's own copies are never taken for the
    release.
    """
    for origin, value in (("--release", given), (RELEASE_ENV_VAR, os.environ.get(RELEASE_ENV_VAR))):
        if value:
            path = Path(value).expanduser().resolve()
            found = release_folder_at(path)
            if found is None:
                raise UsageError(f"{origin} {path} holds no released assignment: give a course folder (with "
                                 "release/NN-name/NN-name.ipynb) or the release folder itself")
            return found
    starts = [Path(notebook).resolve().parent, Path.cwd().resolve()]
    for start in starts:
        for candidate in [start, *start.parents]:
            found = ReleaseFolder(candidate / "release")
            if found.assignments():
                return found
    try:
        import course

        package = Path(course.__file__).resolve().parent
        for candidate in (package.parent / "release", package / "materials" / "release"):
            found = ReleaseFolder(candidate)
            if found.assignments():
                return found
    except ImportError:
        pass
    raise UsageError(f"cannot find the release of {notebook}: run the check inside the course folder, or pass "
                     "--release DIR (the course folder or its release/ folder), or set "
                     f"{RELEASE_ENV_VAR}=DIR")
