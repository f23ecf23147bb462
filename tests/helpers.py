"""Shared helpers for the tests: grade notebooks through the real grader, cheaply.

`grade_notebooks` writes submissions into a temporary folder and runs `grade_assignment` once for
all of them (two workers), so a test that needs several variants of an assignment pays for one
batch. Variants are built from the perfect example by replacing answer cells.
"""
from __future__ import annotations

import copy
from pathlib import Path

import nbformat

from autograder import cells as C
from autograder.grade import GradeOptions, grade_assignment
from autograder.layout import Course

ROOT = Path(__file__).resolve().parent.parent
COURSE = Course(ROOT)


def example(assignment: str, kind: str = "perfect") -> nbformat.NotebookNode:
    return nbformat.read(COURSE.examples / assignment / kind / f"{assignment}.ipynb", as_version=4)


def with_answers(nb: nbformat.NotebookNode, replacements: dict[str, str]) -> nbformat.NotebookNode:
    """A copy of `nb` whose answer cells named in `replacements` hold the given code."""
    nb = copy.deepcopy(nb)
    missing = set(replacements)
    for cell in nb.cells:
        gid = C.grade_id(cell)
        if gid in replacements:
            cell.source = replacements[gid]
            missing.discard(gid)
    assert not missing, f"no answer cells named {sorted(missing)}"
    return nb


def replace_in_answer(nb: nbformat.NotebookNode, grade_id: str, old: str, new: str) -> nbformat.NotebookNode:
    """A copy of `nb` with `old` replaced by `new` in one answer cell (the text must be there)."""
    nb = copy.deepcopy(nb)
    for cell in nb.cells:
        if C.grade_id(cell) == grade_id:
            assert old in cell.source, f"{old!r} not found in answer cell {grade_id!r}"
            cell.source = cell.source.replace(old, new)
            return nb
    raise AssertionError(f"no answer cell {grade_id!r}")


def grade_notebooks(assignment: str, notebooks: dict[str, nbformat.NotebookNode], tmp_path: Path,
                    course: Course = COURSE, workers: int = 2, **option_kwargs):
    """Grade {student_id: notebook} in one batch; returns {student_id: SubmissionResult}."""
    submissions = tmp_path / "submissions"
    for student, nb in notebooks.items():
        folder = submissions / student
        folder.mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, folder / f"{assignment}.ipynb")
    options = GradeOptions(workers=workers, progress=False, **option_kwargs)
    out = tmp_path / "out"
    results = grade_assignment(course, assignment, submissions, out, options, log=lambda *a: None)
    for result in results:  # the page each student gets, as written into the output folder
        page = out / "feedback" / result.student_id / f"{Path(course.notebook_name(assignment)).stem}.html"
        result.feedback_html = page.read_text() if page.exists() else ""
    return {r.student_id: r for r in results}


def lost_points(result, part_ids) -> dict[str, str]:
    """For each named part, its outcome (helps assertion messages)."""
    by_id = {p.grade_id: p for p in result.parts}
    return {gid: by_id[gid].outcome for gid in part_ids}


# -- checks shared by the assignment tests ---------------------------------------------------------
def outcomes(result) -> dict[str, str]:
    """Outcome of every autograded part, by grade id."""
    return {p.grade_id: p.outcome for p in result.parts if p.kind == "test"}


def summary(result) -> str:
    """The parts that did not pass, with the start of their messages (for assertion messages)."""
    return "; ".join(f"{p.grade_id}: {p.outcome} {p.message[:120]}" for p in result.parts
                     if p.kind == "test" and not p.passed)


def check_perfect(result, min_parts: int) -> None:
    """The reference solution: graded normally, full autograded marks, enough parts."""
    assert result.status == "graded", result.reason
    assert result.score == result.max_score, f"the reference solution lost points: {summary(result)}"
    assert len(outcomes(result)) >= min_parts, f"{len(outcomes(result))} autograded parts, want {min_parts}"


def check_blank(result, all_not_attempted: bool = True) -> None:
    """The release as it is: runs to the end, scores zero, every part 'not attempted'."""
    assert result.status == "graded", result.reason
    assert result.score == 0, {gid: o for gid, o in outcomes(result).items() if o == "passed"}
    if all_not_attempted:
        assert set(outcomes(result).values()) == {"not_attempted"}, summary(result)


def check_partial(result) -> None:
    assert result.status == "graded", result.reason
    assert 0 < result.score < result.max_score, summary(result)


def check_lost_exactly(result, must: set[str], may: set[str] = frozenset()) -> None:
    """A notebook with wrong answers: every part in `must` failed, and nothing else was lost
    except parts in `may` (parts that build on a wrong one)."""
    assert result.status == "graded", result.reason
    got = outcomes(result)
    unknown = (set(must) | set(may)) - set(got)
    assert not unknown, f"no such parts: {sorted(unknown)}"
    should_fail = {part for part in must if got[part] != "failed"}
    assert not should_fail, f"should have failed: {sorted(should_fail)} ({summary(result)})"
    lost = {gid for gid, outcome in got.items() if outcome != "passed"}
    assert lost <= set(must) | set(may), f"lost parts no wrong answer explains: {sorted(lost - set(must) - set(may))}"


def with_mistakes(nb: nbformat.NotebookNode, mistakes: dict) -> nbformat.NotebookNode:
    """`nb` with wrong answers put in: {name: (answer cell, old text or None, new text, parts...)}.

    With old text None the whole answer cell is replaced by the new text.
    """
    for cell, old, new, *_ in mistakes.values():
        nb = with_answers(nb, {cell: new}) if old is None else replace_in_answer(nb, cell, old, new)
    return nb


def grade_examples(assignment: str, tmp_path: Path, **variants) -> dict:
    """Grade the perfect, partial and blank examples of an assignment together with the named
    variant notebooks, in one batch."""
    notebooks = {kind: example(assignment, kind) for kind in ("perfect", "partial", "blank")}
    notebooks.update(variants)
    return grade_notebooks(assignment, notebooks, tmp_path)


def parts_of(spec) -> tuple[str, ...]:
    """The part(s) a wrong-answer spec (cell, old, new, part or parts) should fail."""
    return (spec[3],) if isinstance(spec[3], str) else tuple(spec[3])


def wrong_answer_cases(**variants) -> list[tuple[str, str, str]]:
    """(variant, mistake name, first part it should fail) for every mistake of every variant."""
    return [(variant, name, parts_of(spec)[0]) for variant, mistakes in variants.items()
            for name, spec in mistakes.items()]


# -- a memory mistake (red team) -------------------------------------------------------------------
# The full pairwise-distance matrix of 131072 points (128 GiB), kept row by row in a local list
# until the kernel's memory limit stops it. np.zeros stands for each computed row: it takes address
# space (what the grader's --memory-limit counts) without touching the machine's RAM.
MEMORY_MISTAKE = '''

def _all_pairwise_distances(n=131_072):
    import numpy
    rows = []
    for i in range(n):
        rows.append(numpy.zeros(n))
    return rows


_distances = _all_pairwise_distances()
'''


def with_memory_mistake(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """`nb` whose first answer cell, after defining its answer, runs out of memory."""
    nb = copy.deepcopy(nb)
    cell = next(c for c in nb.cells if C.is_solution(c) and c.cell_type == "code")
    cell.source = cell.source.rstrip() + "\n" + MEMORY_MISTAKE
    return nb


def honest_with_memory_mistake(assignment: str) -> nbformat.NotebookNode:
    """One notebook for two promises, graded once (a whole notebook costs half a minute of CPU):
    a correct submission whose helpers read globals named like the tests' temporaries
    (tests/honest_globals.py), whose first answer cell then runs out of memory. Check it with both
    `honest_globals.check_full_marks` and `check_memory_mistake`."""
    from tests import honest_globals as HG

    # the memory mistake first: the honest student then leaves alone the names it uses (range...)
    source = nbformat.read(COURSE.source_notebook(assignment), as_version=4)
    return HG.variant(source, with_memory_mistake(example(assignment, "perfect")))


def check_memory_mistake(result, may: set[str] = frozenset()) -> None:
    """The cell that ran out of memory failed with a MemoryError; the kernel lived on and every
    part kept its points (the mistake comes after the answer's definitions) except those in `may`."""
    assert result.status == "graded", f"{result.status}: {result.reason}"
    assert "MemoryError" in result.feedback_html, "the memory mistake should show as a MemoryError in its cell"
    lost = {p.grade_id for p in result.parts if p.kind == "test" and not p.passed}
    assert lost <= set(may), f"the memory mistake cost other parts: {summary(result)}"
