"""The tests every assignment gets, fed by the assignment's table of wrong answers.

Each ``tests/test_assignment_NN.py`` subclasses :class:`AssignmentBatch`, names its assignment and
its variants module (``tests/variants/aNN.py``), and adds only the tests of its own. One batch per
class goes through the real grader (a whole notebook costs half a minute of CPU, so every notebook
the assignment needs is graded together, once):

* the ``perfect``, ``partial`` and ``blank`` examples;
* one notebook per entry of the variants module's ``VARIANTS`` (several wrong-but-plausible answers
  in different parts of the perfect example);
* the honest-globals notebook (issue 19) and the memory mistake, in one notebook or two;
* whatever :meth:`AssignmentBatch.extra_notebooks` adds.

Then: the perfect example gets full marks, the blank zero, the partial something in between; every
mistake fails each part it must fail (one test per mistake, named after it); every wrong notebook
loses nothing the mistakes in it do not explain; every graded part has a mistake that must fail it,
and every mistake still finds its text in the perfect example.
"""
from __future__ import annotations

from types import ModuleType

import nbformat
import pytest

from autograder import cells as C
from tests import helpers as H
from tests import honest_globals as HG
from tests import variants as V

#: How the batch checks the two promises of the honest-globals and memory-mistake notebooks.
HONEST_WITH_MEMORY = "one notebook"     # H.honest_with_memory_mistake: both promises in one run
HONEST_APART = "two notebooks"          # HG.for_assignment and H.with_memory_mistake, one run each
NO_HONEST = "none"                      # (then set the two tests of these notebooks to None)


class AssignmentBatch:
    """Subclass with the class attributes below; pytest collects the subclass (``Test...``)."""

    ASSIGNMENT: str
    VARIANTS: ModuleType                      # tests/variants/aNN.py
    MIN_PARTS: int                            # the perfect example has at least this many parts
    BLANK_ALL_NOT_ATTEMPTED = True            # every part of the blank example says "not attempted"
    HONEST = HONEST_WITH_MEMORY
    HONEST_MAY: frozenset[str] = frozenset()  # parts the honest-globals notebook may lose
    MEMORY_MAY: frozenset[str] = frozenset()  # parts the memory mistake may cost (they rerun its cell)
    #: a wrong notebook loses exactly the points of its mistakes' parts (no partial credit, no knock-on)
    EXACT_LOSS = True
    GRADE_OPTIONS: dict = {}                  # GradeOptions keywords for the batch

    # -- the batch ---------------------------------------------------------------------------------
    @classmethod
    def extra_notebooks(cls, perfect: nbformat.NotebookNode) -> dict[str, nbformat.NotebookNode]:
        """Further notebooks for this assignment's own tests, graded in the same batch."""
        return {}

    @pytest.fixture(scope="class")
    @classmethod
    def batch(cls, tmp_path_factory) -> dict:
        """{"results": {student: SubmissionResult}, "out": the output folder}."""
        perfect = H.example(cls.ASSIGNMENT, "perfect")
        notebooks = {kind: H.example(cls.ASSIGNMENT, kind) for kind in ("perfect", "partial", "blank")}
        notebooks.update({variant: cls.VARIANTS.build(perfect, variant) for variant in cls.VARIANTS.VARIANTS})
        if cls.HONEST == HONEST_WITH_MEMORY:
            notebooks["honest_and_memory"] = H.honest_with_memory_mistake(cls.ASSIGNMENT)
        elif cls.HONEST == HONEST_APART:
            notebooks["honest_globals"] = HG.for_assignment(cls.ASSIGNMENT)
            notebooks["memory_mistake"] = H.with_memory_mistake(perfect)
        notebooks.update(cls.extra_notebooks(perfect))
        base = tmp_path_factory.mktemp(cls.ASSIGNMENT.split("-")[0])
        return {"results": H.grade_notebooks(cls.ASSIGNMENT, notebooks, base, **cls.GRADE_OPTIONS),
                "out": base / "out"}

    @pytest.fixture(scope="class")
    @classmethod
    def graded(cls, batch) -> dict:
        return batch["results"]

    def pytest_generate_tests(self, metafunc):
        """One test per mistake and one per wrong notebook, named after them."""
        if "mistake" in metafunc.fixturenames:
            mistakes = V.mistakes(self.VARIANTS)
            metafunc.parametrize("mistake", mistakes, ids=[m.name for m in mistakes])
        if "variant" in metafunc.fixturenames:
            metafunc.parametrize("variant", list(self.VARIANTS.VARIANTS))

    def source(self) -> nbformat.NotebookNode:
        return nbformat.read(H.COURSE.source_notebook(self.ASSIGNMENT), as_version=4)

    # -- the examples ------------------------------------------------------------------------------
    def test_perfect_gets_full_marks(self, graded):
        H.check_perfect(graded["perfect"], min_parts=self.MIN_PARTS)

    def test_blank_gets_zero(self, graded):
        H.check_blank(graded["blank"], all_not_attempted=self.BLANK_ALL_NOT_ATTEMPTED)

    def test_partial_is_in_between(self, graded):
        H.check_partial(graded["partial"])

    # -- issue 19 and the memory mistake -----------------------------------------------------------
    def test_honest_globals_named_like_test_names_keep_full_marks(self, graded):
        """A test's temporaries and the grader's aliases never reach the student's globals."""
        name = "honest_and_memory" if self.HONEST == HONEST_WITH_MEMORY else "honest_globals"
        HG.check_full_marks(graded[name], may=set(self.HONEST_MAY))

    def test_memory_mistake_costs_no_other_part(self, graded):
        name = "honest_and_memory" if self.HONEST == HONEST_WITH_MEMORY else "memory_mistake"
        H.check_memory_mistake(graded[name], may=set(self.MEMORY_MAY))

    # -- wrong but plausible (issue 20) ------------------------------------------------------------
    def test_each_mistake_fails_its_parts(self, graded, mistake):
        got = H.outcomes(graded[mistake.variant])
        missing = [part for part in mistake.must if part not in got]
        assert not missing, f"{mistake.name!r} names parts the notebook does not have: {missing}"
        kept = {part: got[part] for part in mistake.must if got[part] != "failed"}
        assert not kept, f"{mistake.name!r} ({mistake.variant}) should fail {sorted(kept)}, got {kept}"

    def test_each_wrong_notebook_loses_nothing_else(self, graded, variant):
        mistakes = [m for m in V.mistakes(self.VARIANTS) if m.variant == variant]
        must = {part for m in mistakes for part in m.must}
        may = {part for m in mistakes for part in m.may}
        result = graded[variant]
        H.check_lost_exactly(result, must=must, may=may)
        if self.EXACT_LOSS:
            points = {p.grade_id: p.max_points for p in result.parts}
            assert result.max_score - result.score == sum(points[part] for part in must), H.summary(result)

    def test_every_graded_part_has_a_mistake(self):
        parts = {C.grade_id(c) for c in self.source().cells if C.is_test(c)}
        covered = {part for m in V.mistakes(self.VARIANTS) for part in m.must}
        assert parts - covered == set(), f"parts without a wrong-but-plausible variant: {sorted(parts - covered)}"
        assert covered <= parts, f"mistakes name parts the notebook does not have: {sorted(covered - parts)}"

    def test_every_wrong_notebook_differs_from_the_perfect_one_in_each_mistakes_cell(self, variant):
        """A stale mistake (its text no longer in the reference answer) would test nothing."""
        perfect = H.example(self.ASSIGNMENT, "perfect")
        before = {C.grade_id(c): c.source for c in perfect.cells if C.grade_id(c)}
        after = {C.grade_id(c): c.source for c in self.VARIANTS.build(perfect, variant).cells if C.grade_id(c)}
        unchanged = sorted({m.cell for m in V.mistakes(self.VARIANTS)
                            if m.variant == variant and before.get(m.cell) == after.get(m.cell)})
        assert not unchanged, f"{variant}: these answer cells are unchanged, a mistake's text is stale: {unchanged}"
