"""The per-assignment plan (autograder/plan.py) and the assembly blueprint in it: computed once per
batch, the same notebook as assembling from scratch, and cheap to send to a worker."""
from __future__ import annotations

import pickle

import pytest

from autograder import assemble as A
from autograder import cells as C
from autograder import results as R
from autograder.plan import empty_parts, make_plan
from autograder.sandbox.config import KernelConfig
from tests import minicourse as M


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    return M.build(tmp_path_factory.mktemp("plan") / "course")


@pytest.fixture(scope="module")
def plan(course):
    return make_plan(course, M.ASSIGNMENT, KernelConfig(cell_timeout=30))


def _shape(assembled: A.Assembled):
    """What an assembled notebook is, ignoring the fresh cell ids it is given."""
    cells = [(c.cell_type, c.source, c.metadata.get("autograder")) for c in assembled.notebook.cells]
    parts = [(p.grade_id, p.kind, p.points, p.answer_ids, p.cell_index, p.expected, p.statements, p.measures)
             for p in assembled.parts]
    return cells, parts, assembled.notes, assembled.unattempted, assembled.recognised, assembled.changed_tests


def test_the_plan_holds_what_every_submission_shares(course, plan):
    source = plan.source
    tests = [C.grade_id(c) for c in source.cells if C.is_test(c)]
    assert sorted(plan.blueprint.tests) == sorted(tests) and tests
    assert plan.secret == frozenset(C.hidden_lines(source)) and plan.secret
    assert [p.grade_id for p in plan.parts] == [p.grade_id for p in empty_parts(source)]
    assert all(p.outcome in (R.NOT_RUN, R.MANUAL) and p.points == 0 for p in plan.parts)
    assert "numpy" in plan.preimports
    assert plan.config == KernelConfig(cell_timeout=30)


@pytest.mark.parametrize("answers", [M.PERFECT, M.WRONG, None])
def test_the_blueprint_assembles_the_same_notebook_as_from_scratch(course, plan, answers):
    submission = M.submission(course, answers)
    with_blueprint = A.assemble(plan.source, submission, blueprint=plan.blueprint)
    from_scratch = A.assemble(plan.source, submission)
    assert _shape(with_blueprint) == _shape(from_scratch)


def test_locked_cells_are_parsed_once_per_batch_not_per_test_cell(course, plan, monkeypatch):
    calls = []
    original = A._cell_aliases
    monkeypatch.setattr(A, "_cell_aliases", lambda cell: calls.append(1) or original(cell))
    submissions = [M.submission(course, M.PERFECT), M.submission(course, M.WRONG), M.submission(course)]
    for submission in submissions:
        A.assemble(plan.source, submission, blueprint=plan.blueprint)
    assert calls == [], "with the batch's blueprint no cell is parsed for import aliases again"
    A.assemble(plan.source, submissions[0])
    tests = len(plan.blueprint.tests)
    assert len(calls) > tests, "from scratch: the locked cells and each test cell, per test cell"


def test_empty_parts_are_fresh_copies(plan):
    first = plan.empty_parts()
    first[0].points = 99.0
    assert plan.empty_parts()[0].points == 0.0


def test_the_plan_survives_the_trip_to_a_worker(plan):
    again = pickle.loads(pickle.dumps(plan))
    assert again.blueprint == plan.blueprint
    assert again.secret == plan.secret and again.parts == plan.parts and again.config == plan.config


def test_with_private_adds_paths_and_keeps_the_rest(plan, tmp_path):
    more = plan.with_private(tmp_path)
    assert str(tmp_path.resolve()) in more.policy.private_paths
    assert str(tmp_path.resolve()) not in plan.policy.private_paths
    assert more.blueprint is plan.blueprint
