"""Where a course's files live.

A course root holds `source/NN-name/NN-name.ipynb` (one notebook per assignment, nbgrader's unit),
the generated `release/`, and `nbgrader_config.py`. The root is found from the current directory
upwards, or given with --course / the AUTOGRADER_COURSE_ROOT environment variable.

Students never need `source/`: `autograder check` and `autograder fetch` read a *release folder*
(released assignments with their files), found from the notebook being checked, or given with
--release / AUTOGRADER_RELEASE: a course checkout's `release/`, or the one a student distribution
installs inside the `course` package (`course/materials/release/`).
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass
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
    root: Path

    @property
    def source(self) -> Path:
        return self.root / "source"

    @property
    def release(self) -> Path:
        return self.root / "release"

    @property
    def examples(self) -> Path:
        return self.root / "examples"

    def assignments(self) -> list[str]:
        if not self.source.is_dir():
            return []
        return sorted(p.name for p in self.source.iterdir() if p.is_dir() and ASSIGNMENT_PATTERN.match(p.name))

    def check_assignment(self, assignment: str) -> str:
        known = self.assignments()
        if assignment not in known:
            hint = f"known assignments: {', '.join(known)}" if known else f"no assignments under {self.source}"
            close = [a for a in known if assignment in a or a.startswith(assignment[:2])]
            if close:
                hint = f"did you mean {close[0]!r}? " + hint
            raise UsageError(f"unknown assignment {assignment!r}; {hint}")
        return assignment

    def notebook_name(self, assignment: str) -> str:
        return f"{assignment}.ipynb"

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
        """Notebooks in an assignment's folder other than the graded one (released through
        nbgrader like it, or refused)."""
        main = self.source / assignment / self.notebook_name(assignment)
        return [p for p in self._assignment_paths(assignment) if p.suffix == ".ipynb" and p != main]

def find_course(start: str | os.PathLike | None = None) -> Course:
    """The course whose root contains `start` (default: the working directory)."""
    if start is None and os.environ.get(ENV_VAR):
        root = Path(os.environ[ENV_VAR]).expanduser().resolve()
        if not (root / "source").is_dir():
            raise UsageError(f"{ENV_VAR}={root} has no source/ folder")
        return Course(root)
    here = Path(start or os.getcwd()).resolve()
    for candidate in [here, *here.parents]:
        if (candidate / "source").is_dir() and (candidate / "nbgrader_config.py").exists():
            return Course(candidate)
    raise UsageError(
        f"no course found at or above {here}: a course root has a source/ folder and nbgrader_config.py. "
        f"Run from inside the course, pass --course DIR, or set {ENV_VAR}."
    )


@dataclass(frozen=True)
class ReleaseFolder:
    """Released assignments, `<folder>/<assignment>/<assignment>.ipynb` with their files."""

    folder: Path

    def assignments(self) -> list[str]:
        if not self.folder.is_dir():
            return []
        return sorted(p.name for p in self.folder.iterdir() if p.is_dir() and (p / f"{p.name}.ipynb").is_file())

    def notebook(self, assignment: str) -> Path:
        return self.folder / assignment / f"{assignment}.ipynb"

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
