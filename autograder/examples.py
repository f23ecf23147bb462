"""Example submissions for every assignment: perfect, partial and blank.

    python -m autograder.examples [ASSIGNMENT ...]

writes examples/<assignment>/{perfect,partial,blank}/<assignment>.ipynb from the release (what a
student receives) and the source (the reference answers):
* perfect: every answer cell holds the reference solution, without nbgrader's markers;
* partial: the first half of the answer cells are solved, the rest left as released;
* blank: the release as is.
`make demo` grades them, and the tests check that they stay in sync with the source.
"""
from __future__ import annotations

import copy
import re
import sys

import nbformat

from autograder import cells as C
from autograder.layout import Course, find_course
from autograder.release import make_release_notebook, write_notebook

_MARKERS = re.compile(r"^[ \t]*### (BEGIN|END) SOLUTION[ \t]*\n?", re.M)
_MARK_SCHEME = re.compile(r"\n*=== BEGIN MARK SCHEME ===.*?=== END MARK SCHEME ===\n*", re.S)
KINDS = ("perfect", "partial", "blank")


def reference_answer(source_text: str) -> str:
    """A source answer cell as a student who solved it would submit it."""
    text = _MARK_SCHEME.sub("\n\n", source_text)
    text = _MARKERS.sub("", text)
    return text.replace("YOUR ANSWER HERE", "").strip("\n")


def example_notebooks(source_nb: nbformat.NotebookNode) -> dict[str, nbformat.NotebookNode]:
    release_nb = make_release_notebook(source_nb)
    answers = {C.grade_id(c): c for c in source_nb.cells if C.is_solution(c) and C.grade_id(c)}
    order = [gid for gid in answers]
    solved_in_partial = set(order[: len(order) // 2])
    made = {}
    for kind in KINDS:
        nb = copy.deepcopy(release_nb)
        if kind != "blank":
            for cell in nb.cells:
                gid = C.grade_id(cell)
                if gid in answers and (kind == "perfect" or gid in solved_in_partial):
                    cell.source = reference_answer(C.source(answers[gid]))
        made[kind] = nb
    return made


def write_examples(course: Course, assignment: str) -> list:
    source_nb = nbformat.read(course.source_notebook(assignment), as_version=4)
    written = []
    for kind, nb in example_notebooks(source_nb).items():
        path = course.examples / assignment / kind / course.notebook_name(assignment)
        write_notebook(nb, path)
        written.append(path)
    return written


def main(argv: list[str] | None = None) -> int:
    course = find_course()
    for assignment in (argv if argv is not None else sys.argv[1:]) or course.assignments():
        for path in write_examples(course, course.check_assignment(assignment)):
            print(f"wrote {path.relative_to(course.root)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
