"""Where a course's files live.

A course root holds `source/NN-name/NN-name.ipynb` (one notebook per assignment, nbgrader's unit),
the generated `release/`, and `nbgrader_config.py`. The root is found from the current directory
upwards, or given with --course / the AUTOGRADER_COURSE_ROOT environment variable.
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from autograder.errors import UsageError

ASSIGNMENT_PATTERN = re.compile(r"^\d\d-[a-z0-9]+(?:-[a-z0-9]+)*$")
ENV_VAR = "AUTOGRADER_COURSE_ROOT"


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
