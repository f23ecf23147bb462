"""Red team: hostile and broken submissions against the real grader (sandbox, kernel, gradebook).

Every scenario is one submission of the tiny 00-mini assignment, graded in a single batch. The
"wrong" answers are hard-coded to pass the visible tests and fail the hidden ones, so each attack
is trying to turn hidden-test failures into points. A blank submission scores 0; no attack may
score more. Honest scenarios (warnings on stderr, weird but harmless cells) keep full marks.

A low score alone proves nothing (a cell that crashed before its attack did anything scores low
too), so every attack also shows that it ran: ATTACK_EVIDENCE names, per attack, the sentinel's
diagnostic, the grader's note, the part message, the status or the marker the attack printed.
"""
from __future__ import annotations

import os
import sqlite3
import subprocess
from pathlib import Path

import nbformat
import pytest

import course as course_pkg
from autograder import results as R
from autograder.sandbox.config import KernelConfig
from autograder.grade import GradeOptions, grade_assignment
from autograder.sandbox.isolation import detect
from autograder.sandbox.memory import reserve_for
from tests import minicourse as M
from tests.redteam_scenarios import (ATTACK_EVIDENCE, ATTACKS, ESCAPE_MARKER, EVIDENCE_IN_ITS_OWN_TEST, HONEST,
                                     OTHER_MARKER, SECRET_ENV, SLEEP_MARKER, TRIGGER_FOLDERS, malformed,
                                     mangle_tests, outputs, trigger_code)


@pytest.fixture(scope="module")
def batch(tmp_path_factory):
    base = tmp_path_factory.mktemp("redteam")
    os.chmod(base, 0o755)
    course = M.build(base / "course")
    submissions = base / "submissions"
    submissions.mkdir()
    for name, (answers, extra, after) in {**ATTACKS, **HONEST}.items():
        nb = M.submission(course, answers, extra, after)
        if name == "gradebook_trigger_first_in_line":  # also aim at the folder this batch grades into
            nb = M.submission(course, answers, [trigger_code(f"{TRIGGER_FOLDERS} + [{str(base)!r}]")], after)
        if name in ("edited_test_cells", "deleted_and_retyped_tests"):
            nb = mangle_tests(nb)
        folder = submissions / name
        folder.mkdir()
        nbformat.write(nb, folder / f"{M.ASSIGNMENT}.ipynb")
    blank = M.submission(course)
    (submissions / "blank").mkdir()
    nbformat.write(blank, submissions / "blank" / f"{M.ASSIGNMENT}.ipynb")
    (submissions / "zz_honest_after_trigger").mkdir()
    bob = M.submission(course, M.PERFECT, [f"# {OTHER_MARKER}"], None)
    nbformat.write(bob, submissions / "zz_honest_after_trigger" / f"{M.ASSIGNMENT}.ipynb")
    malformed(submissions)

    os.environ["AUTOGRADER_TEST_SECRET"] = SECRET_ENV
    config = KernelConfig(cell_timeout=6, notebook_timeout=90, output_limit_bytes=256 * 1024, memory_bytes=1536 * 1024**2)
    out = base / "out"
    results = grade_assignment(course, M.ASSIGNMENT, submissions, out,
                               GradeOptions(workers=2, config=config, progress=False), log=lambda *a: None)
    by_student = {r.student_id: r for r in results}
    feedback = {}
    for student in by_student:
        page = out / "feedback" / student / f"{M.ASSIGNMENT}.html"
        feedback[student] = page.read_text() if page.exists() else ""
    return {"results": by_student, "feedback": feedback, "out": out, "course": course,
            "isolation": detect()}


def test_blank_scores_zero_and_perfect_full(batch):
    assert batch["results"]["blank"].score == 0
    assert batch["results"]["perfect"].score == M.MAX_SCORE


def evidence_found(batch, scenario: str) -> tuple[bool, str]:
    """Whether the proof that `scenario` ran is there, and what was looked at (for the message)."""
    where, wanted = ATTACK_EVIDENCE[scenario]
    result = batch["results"][scenario]
    seen = {
        "diagnostic": result.diagnostics,
        "note": result.notes,
        "message": [p.message for p in result.parts],
        "status": [result.status],
        "printed": [outputs(batch["feedback"][scenario])],
    }[where]
    found = any(wanted == item if where == "status" else wanted in item for item in seen)
    return found, f"{where}: {seen!r}"[:2000]


def test_every_attack_names_its_evidence():
    assert set(ATTACKS) == set(ATTACK_EVIDENCE) | EVIDENCE_IN_ITS_OWN_TEST


@pytest.mark.parametrize("scenario", sorted(ATTACKS))
def test_attack_gains_nothing(batch, scenario):
    result = batch["results"][scenario]
    blank = batch["results"]["blank"]
    if scenario in ATTACK_EVIDENCE:
        ran, looked_at = evidence_found(batch, scenario)
        assert ran, f"{scenario} did not show that it ran, so its score proves nothing; {looked_at}"
    assert result.score <= blank.score, (
        f"{scenario} scored {result.score}: " + "; ".join(f"{p.grade_id}={p.outcome}" for p in result.parts))
    assert result.max_score == M.MAX_SCORE, "points and ids come from the source, never the submission"


@pytest.mark.parametrize("scenario", sorted(set(HONEST) - {"memory_bomb", "orphan_processes",
                                                           "memory_kept_then_native_abort",
                                                           "memory_kept_then_matrix_product"}))
def test_honest_submission_keeps_points(batch, scenario):
    result = batch["results"][scenario]
    assert result.score == M.MAX_SCORE, "; ".join(f"{p.grade_id}={p.outcome}: {p.message}" for p in result.parts)


def test_memory_bomb_fails_its_cell_but_not_the_batch(batch):
    result = batch["results"]["memory_bomb"]
    assert result.score == M.MAX_SCORE
    assert "MemoryError" in batch["feedback"]["memory_bomb"]


def test_memory_filled_to_the_limit_fails_its_cell_and_the_kernel_lives(batch):
    result = batch["results"]["memory_filled_row_by_row"]
    assert result.status == R.GRADED, result.reason
    printed = outputs(batch["feedback"]["memory_filled_row_by_row"])
    assert "Unable to allocate" in printed, "the cell that filled the memory should fail with a MemoryError"
    # the memory the failed function held was given back: the next cell could allocate 64 MiB
    assert "LATER CELL GOT 64 MiB" in printed, printed[-2000:]
    assert all(p.passed for p in result.parts if p.kind == "test"), [(p.grade_id, p.message) for p in result.parts]


def test_matrix_product_after_memory_is_used_up_does_not_end_the_kernel(batch):
    # OpenBLAS exits the process when it cannot map its work buffer: the kernel maps it at start-up
    result = batch["results"]["memory_kept_then_matrix_product"]
    printed = outputs(batch["feedback"]["memory_kept_then_matrix_product"])
    assert "HOARDED" in printed, "the hoard cell did not run"
    assert result.status == R.GRADED, (result.status, result.reason)
    assert "PRODUCT 27000000.0" in printed, printed[-2000:]


def test_kernel_death_from_memory_names_the_cell_and_the_cause(batch):
    result = batch["results"]["memory_kept_then_native_abort"]
    assert "HOARDED" in outputs(batch["feedback"]["memory_kept_then_native_abort"]), "the hoard cell did not run"
    assert result.status == R.KERNEL_DIED, (result.status, result.reason)
    assert "os.abort()" in result.reason, f"the reason should name the cell: {result.reason}"
    assert "memory was used up" in result.reason and "aborted" in result.reason, result.reason
    later = [p for p in result.parts if p.grade_id in ("test_add", "test_mean", "test_scale")]
    assert later and all(p.outcome == R.NOT_RUN and "memory was used up" in p.message for p in later), later


def test_stderr_warnings_are_fair(batch):
    assert batch["results"]["warnings_on_stderr"].status == R.GRADED


def test_infinite_loop_is_interrupted_and_the_rest_still_runs(batch):
    result = batch["results"]["infinite_loop_interrupted"]
    assert result.status == R.GRADED
    assert "TimeoutError" in batch["feedback"]["infinite_loop_interrupted"]


def test_kernel_death_is_a_status_not_a_crash(batch):
    for scenario in ("kernel_exits_with_os_exit", "kernel_kills_itself"):
        result = batch["results"][scenario]
        assert result.status == R.KERNEL_DIED, (scenario, result.status, result.reason)
        later = [p for p in result.parts if p.grade_id in ("test_mean", "test_scale")]
        assert all(p.outcome == R.NOT_RUN for p in later)


def test_huge_output_is_cut(batch):
    result = batch["results"]["huge_output"]
    assert any("output limit" in n for n in result.notes)
    assert len(batch["feedback"]["huge_output"]) < 2_000_000


def test_interpreter_tampering_is_refused(batch):
    assert "settrace refused" in outputs(batch["feedback"]["trace_function_skips_asserts"])
    assert "code swap refused" in outputs(batch["feedback"]["replace_code_of_helpers"])


def test_string_keys_with_hostile_equality_see_no_sentinel_state(batch):
    printed = outputs(batch["feedback"]["evil_string_keys"])
    assert "EVIL KEYS PLANTED 1" in printed, printed
    assert "EVIL KEYS LEFT 0" in printed, f"the sentinel removed the planted key before the tests: {printed}"
    assert "SAW []" in printed, printed


def test_forged_receipts_are_flagged(batch):
    result = batch["results"]["forged_receipts"]
    assert any("invalid signatures" in n for n in result.notes), result.notes


def test_edited_test_cells_are_restored(batch):
    for scenario in ("deleted_and_retyped_tests", "edited_test_cells"):
        notes = batch["results"][scenario].notes
        assert "test cell 'test_add' was missing from the submission; the original was restored" in notes
        assert "test cell 'test_mean' was changed in the submission; the original was used" in notes
        assert "test cell 'test_scale' appears twice; the copy was ignored" in notes
    assert batch["results"]["edited_test_cells"].max_score == M.MAX_SCORE, "the copy's 100 points count for nothing"


def test_task_cells_show_no_mark_scheme_and_no_false_notes(batch):
    """nbgrader's manually graded task cells: the mark scheme stays with the grader, and a task
    cell the student did not touch is not reported as changed."""
    for student, page in batch["feedback"].items():
        assert M.MARK_SCHEME not in page and "MARK SCHEME" not in page, student
    for path in (batch["out"] / "results").glob("*.json"):
        assert M.MARK_SCHEME not in path.read_text(), path.name
    assert "Task: in a cell of your own" in batch["feedback"]["perfect"], "the task itself is shown"
    for student, result in batch["results"].items():
        if result.status != R.WRONG_NOTEBOOK:  # another notebook lacks every cell, and says so
            assert not [n for n in result.notes if "locked cell" in n], (student, result.notes)


def test_no_hidden_test_source_in_any_feedback(batch):
    source = nbformat.read(batch["course"].source_notebook(M.ASSIGNMENT), as_version=4)
    from autograder import cells as C

    hidden = C.hidden_lines(source)
    assert hidden
    for student, page in batch["feedback"].items():
        if student != "reads_source_and_secrets":  # that one prints the (public) autograder package
            assert "BEGIN HIDDEN TESTS" not in page, student
        for line in hidden:
            assert line not in page, (student, line)


def test_code_called_by_a_test_cannot_read_its_source(batch):
    printed = outputs(batch["feedback"]["leaks_hidden_tests_through_frames"])
    assert "LEAK [" in printed and "LEAK []" not in printed, f"the answer recorded what the frames showed: {printed}"
    assert "assert_allclose" not in printed and "rtol" not in printed and "rng" not in printed


def test_confidentiality_of_files_environment_and_network(batch):
    page = batch["feedback"]["reads_source_and_secrets"]
    printed = outputs(page)
    assert SECRET_ENV not in page
    assert OTHER_MARKER not in page
    private = [str(batch["course"].source), str(batch["out"]), str(batch["out"].parent / "submissions")]
    found = [line for line in printed.splitlines() if line.startswith("FOUND")]
    assert not [line for line in found if any(p in line for p in private)], found
    assert "files read:" in printed
    assert "network blocked" in printed and "network open" not in printed
    assert "package write blocked" in printed
    assert not os.path.exists(ESCAPE_MARKER), "writes outside the scratch folder never reach the machine"
    assert not (Path(course_pkg.__file__).parent / "escape.txt").exists()
    trigger = outputs(batch["feedback"]["gradebook_trigger_first_in_line"])
    assert "TRIGGER SEARCH DONE" in trigger, f"the search for gradebooks ran to its end: {trigger}"
    assert "TRIGGER INSTALLED" not in trigger


def test_gradebook_is_untouched_by_students(batch):
    db = sqlite3.connect(batch["out"] / "gradebook.db")
    triggers = db.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'").fetchall()
    assert triggers == []
    from autograder.gradebook import GradebookWriter

    total = GradebookWriter(f"sqlite:///{batch['out']}/gradebook.db").total(M.ASSIGNMENT, "zz_honest_after_trigger")
    assert total == M.MAX_SCORE


def test_resource_limits_are_in_force(batch):
    printed = outputs(batch["feedback"]["reports_its_limits"])
    soft, hard, processes = (int(v) for v in printed.split("LIMITS")[1].split()[:3])
    assert hard == 1536 * 1024**2
    assert soft == hard - reserve_for(hard), "code in cells runs below the hard limit, leaving the kernel room"
    if batch["isolation"].uid is not None:
        assert processes == KernelConfig().processes


def test_no_process_outlives_grading(batch):
    printed = outputs(batch["feedback"]["orphan_processes"])
    assert "ORPHANS STARTED" in printed or "ORPHANS REFUSED" in printed, printed
    found = subprocess.run(["pgrep", "-f", f"sleep {SLEEP_MARKER}"], capture_output=True, text=True)
    assert found.stdout.strip() == "", f"processes left behind: {found.stdout}"


def test_malformed_submissions_become_rows_with_reasons(batch):
    results = batch["results"]
    expected = {
        "not_json": R.INVALID_NOTEBOOK, "not_utf8": R.INVALID_NOTEBOOK, "json_not_notebook": R.INVALID_NOTEBOOK,
        "wrong_assignment": R.WRONG_NOTEBOOK, "empty_folder": R.MISSING_NOTEBOOK,
        "zip_traversal": R.MISSING_NOTEBOOK, "broken_zip": R.INVALID_NOTEBOOK,
    }
    for student, status in expected.items():
        assert results[student].status == status, (student, results[student].status, results[student].reason)
        assert results[student].reason
        assert results[student].score == 0
    rows = (batch["out"] / "grades.csv").read_text().splitlines()
    assert len(rows) == 1 + len(results)


def test_isolation_is_reported(batch):
    result = batch["results"]["perfect"]
    assert result.isolation.startswith("isolation:")
    if batch["isolation"].bwrap:
        assert "namespaces" in result.isolation
