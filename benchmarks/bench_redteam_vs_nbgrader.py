"""The red-team scenarios through stock `nbgrader autograde` and through `autograder grade`.

    .venv/bin/python benchmarks/bench_redteam_vs_nbgrader.py

Builds the tiny 00-mini course, writes every scenario of tests/redteam_scenarios.py as a submission,
grades the same submissions with nbgrader 0.9 (its own generate_assignment + autograde, in the
nbgrader course layout) and with ours, and prints one row per scenario: the score each grader
gave, the blank score, and whether the outcome is right (attacks: no more than blank; honest
scenarios: full marks). Stock nbgrader runs student code unsandboxed, so the one scenario that
writes to a gradebook is confined here to the benchmark's own course folder.

A second table covers what students see outside grading: a second notebook and a supporting file
in the assignment folder (does the release carry a solution or hidden test?), a task cell's mark
scheme (does the feedback page show it?), and a visible test the student edited (does the local
check, nbgrader's validate or our `check`, still pass it?).
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import course  # noqa: E402
from autograder.authoring import answer, tests  # noqa: E402
from autograder.check import check_notebook  # noqa: E402
from autograder.errors import ReleaseLeakError  # noqa: E402
from autograder.sandbox.config import KernelConfig  # noqa: E402
from autograder.grade import GradeOptions, grade_assignment  # noqa: E402
from autograder.release import release_assignment  # noqa: E402
from tests import minicourse as M  # noqa: E402
from tests import redteam_scenarios as T  # noqa: E402

NBGRADER = str(Path(sys.executable).parent / "nbgrader")

# Stock nbgrader has no sandbox: keep the destructive scenario inside the benchmark's course.
LOCAL_TRIGGER = (M.PERFECT, [T.trigger_code("[os.path.join(os.getcwd(), '../../..')]")], None)


def scenarios():
    table = dict(T.ATTACKS)
    table.update(T.HONEST)
    table["gradebook_trigger_first_in_line"] = LOCAL_TRIGGER
    table.pop("orphan_processes")  # would leave processes behind on this machine under stock nbgrader
    return table


def build_submissions(course, folder: Path) -> dict[str, str]:
    kinds = {}
    for name, (answers, extra, after) in scenarios().items():
        nb = M.submission(course, answers, extra, after)
        if name in ("edited_test_cells", "deleted_and_retyped_tests"):
            nb = T.mangle_tests(nb)
        (folder / name).mkdir(parents=True)
        nbformat.write(nb, folder / name / f"{M.ASSIGNMENT}.ipynb")
        kinds[name] = "attack" if name in T.ATTACKS else "honest"
    (folder / "blank").mkdir()
    nbformat.write(M.submission(course), folder / "blank" / f"{M.ASSIGNMENT}.ipynb")
    (folder / "zz_honest_after_trigger").mkdir()
    nbformat.write(M.submission(course, M.PERFECT), folder / "zz_honest_after_trigger" / f"{M.ASSIGNMENT}.ipynb")
    kinds["zz_honest_after_trigger"] = "honest"
    return kinds


def stock_nbgrader(course, submissions: Path, work: Path) -> tuple[dict, float]:
    """Grade with nbgrader's own commands; returns {student: (score or None, note)}, seconds."""
    root = work / "nbgrader-course"
    (root / "source").mkdir(parents=True)
    shutil.copytree(course.source / M.ASSIGNMENT, root / "source" / M.ASSIGNMENT)
    (root / "nbgrader_config.py").write_text(
        "c = get_config()\nc.CourseDirectory.root = %r\nc.Execute.timeout = 6\n" % str(root))
    env = dict(os.environ, HOME=str(work / "home"),
               PATH=str(Path(sys.executable).parent) + os.pathsep + os.environ.get("PATH", ""))
    subprocess.run([NBGRADER, "generate_assignment", M.ASSIGNMENT, "--force"], cwd=root, env=env,
                   capture_output=True, check=True)
    for student in sorted(p.name for p in submissions.iterdir()):
        target = root / "submitted" / student / M.ASSIGNMENT
        target.mkdir(parents=True)
        shutil.copy(submissions / student / f"{M.ASSIGNMENT}.ipynb", target)
    # The whole batch in one command, as an instructor would run it: note where it stops.
    started = time.perf_counter()
    proc = subprocess.run([NBGRADER, "autograde", M.ASSIGNMENT, "--create", "--force"], cwd=root, env=env,
                          capture_output=True, text=True, timeout=3600)
    batch_seconds = time.perf_counter() - started
    (work / "nbgrader-autograde.log").write_text(proc.stdout + proc.stderr)
    errors = [line for line in (proc.stdout + proc.stderr).splitlines() if "ERROR" in line]
    print(f"stock nbgrader, whole batch: exit status {proc.returncode} after {batch_seconds:.0f} s; "
          f"{len(errors)} error lines; first: {errors[0][:150] if errors else '-'}", file=sys.stderr)
    # Then each scenario in its own copy of the course, so one cannot spoil another's gradebook;
    # except the trigger pair, graded in one gradebook (trigger first) to show what it does.
    from nbgrader.api import Gradebook, MissingEntry

    shutil.rmtree(root / "submitted")
    shutil.rmtree(root / "autograded", ignore_errors=True)
    groups = [[s] for s in sorted(p.name for p in submissions.iterdir())
              if s not in ("gradebook_trigger_first_in_line", "zz_honest_after_trigger")]
    groups.append(["gradebook_trigger_first_in_line", "zz_honest_after_trigger"])
    scores = {}
    started = time.perf_counter()
    for group in groups:
        copy = work / f"nbgrader-{group[0]}"
        shutil.copytree(root, copy)
        (copy / "nbgrader_config.py").write_text(
            "c = get_config()\nc.CourseDirectory.root = %r\nc.Execute.timeout = 6\n" % str(copy))
        for student in group:
            target = copy / "submitted" / student / M.ASSIGNMENT
            target.mkdir(parents=True)
            shutil.copy(submissions / student / f"{M.ASSIGNMENT}.ipynb", target)
            subprocess.run([NBGRADER, "autograde", M.ASSIGNMENT, "--create", "--force", "--student", student],
                           cwd=copy, env=env, capture_output=True, text=True, timeout=600)
        with Gradebook(f"sqlite:///{copy}/gradebook.db") as gb:
            for student in group:
                try:
                    scores[student] = (float(gb.find_submission(M.ASSIGNMENT, student).code_score), "")
                except MissingEntry:
                    scores[student] = (None, "no score recorded")
    seconds = time.perf_counter() - started
    return scores, seconds


def ours(course, submissions: Path, work: Path) -> tuple[dict, float]:
    config = KernelConfig(cell_timeout=6, notebook_timeout=90, output_limit_bytes=256 * 1024, memory_bytes=1536 * 1024**2)
    started = time.perf_counter()
    results = grade_assignment(course, M.ASSIGNMENT, submissions, work / "ours",
                               GradeOptions(workers=1, config=config, progress=False), log=lambda *a: None)
    seconds = time.perf_counter() - started
    return {r.student_id: (r.score, r.status) for r in results}, seconds


HIDDEN_LINE = "np.testing.assert_allclose(float(add(a, b)), a + b, rtol=1e-12)"  # of 00-mini's hidden tests
SQUARES_SOLUTION = "return [i * i for i in range(n)]"
SQUARES_HIDDEN = "assert squares(4) == [0, 1, 4, 9], 'four squares from zero'"


def _nbgrader(root: Path, *args: str) -> subprocess.CompletedProcess:
    (root / "nbgrader_config.py").write_text(
        "c = get_config()\nc.CourseDirectory.root = %r\nc.Execute.timeout = 6\n" % str(root))
    env = dict(os.environ, HOME=str(root / "home"),
               PATH=str(Path(sys.executable).parent) + os.pathsep + os.environ.get("PATH", ""))
    return subprocess.run([NBGRADER, *args], cwd=root, env=env, capture_output=True, text=True, timeout=600)


def _extra_files(kind: str) -> dict[str, bytes]:
    if kind == "second_notebook_with_solutions":  # nbgrader's documented problem1 + problem2 layout
        nb = nbformat.v4.new_notebook(cells=[
            answer("squares", f"def squares(n):\n    ### BEGIN SOLUTION\n    {SQUARES_SOLUTION}\n    ### END SOLUTION"),
            tests("test_squares", 2, visible="assert squares(2) == [0, 1]", hidden=SQUARES_HIDDEN)])
        nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
        return {"problem2.ipynb": nbformat.writes(nb).encode()}
    return {"hints.py": f"# worked example\n{HIDDEN_LINE}\n".encode()}


def _leaked(folder: Path) -> list[str]:
    secrets = (HIDDEN_LINE, SQUARES_SOLUTION, SQUARES_HIDDEN, "BEGIN SOLUTION", "BEGIN HIDDEN")
    return sorted({p.name for p in folder.rglob("*") if p.is_file()
                   for secret in secrets if secret in p.read_text(errors="replace")})


def release_row(kind: str, work: Path) -> tuple[str, bool, str, bool]:
    """Release an assignment folder holding an extra file, with both tools; scan what students get."""
    ours_course = M.build(work / f"ours-{kind}")
    stock_root = work / f"stock-{kind}"
    (stock_root / "source").mkdir(parents=True)
    shutil.copytree(ours_course.source / M.ASSIGNMENT, stock_root / "source" / M.ASSIGNMENT)
    for name, data in _extra_files(kind).items():
        for root in (ours_course.root, stock_root):
            (root / "source" / M.ASSIGNMENT / name).write_bytes(data)
    try:
        release_assignment(ours_course, M.ASSIGNMENT)
        ours_outcome = "released"
    except ReleaseLeakError:
        ours_outcome = "refused"
    ours_leaks = _leaked(ours_course.release / M.ASSIGNMENT)
    proc = _nbgrader(stock_root, "generate_assignment", M.ASSIGNMENT, "--force")
    stock_outcome = "released" if proc.returncode == 0 else "failed"
    stock_leaks = _leaked(stock_root / "release" / M.ASSIGNMENT)
    return (f"{stock_outcome}" + (f", leaks {','.join(stock_leaks)}" if stock_leaks else ", no leak"), not stock_leaks,
            f"{ours_outcome}" + (f", leaks {','.join(ours_leaks)}" if ours_leaks else ", no leak"), not ours_leaks)


def feedback_row(work: Path) -> tuple[str, bool, str, bool]:
    """The perfect submission's feedback page from each grader: mark scheme or hidden tests shown?"""
    copy = work / "nbgrader-perfect"
    _nbgrader(copy, "generate_feedback", M.ASSIGNMENT, "--student", "perfect", "--force")
    pages = list((copy / "feedback" / "perfect").rglob("*.html"))
    stock_page = pages[0].read_text() if pages else ""
    ours_page = (work / "ours" / "feedback" / "perfect" / f"{M.ASSIGNMENT}.html").read_text()

    def shown(page):
        found = [label for label, text in (("mark scheme", M.MARK_SCHEME), ("hidden tests", HIDDEN_LINE))
                 if text in page]
        return ("shows " + " and ".join(found)) if found else "shows neither", not found
    if not stock_page:
        return "no page written", False, *shown(ours_page)
    return (*shown(stock_page), *shown(ours_page))


def check_row(course, work: Path) -> tuple[str, bool, str, bool]:
    """A wrong `mean_of` whose visible test the student rewrote to `assert True`: checked locally."""
    folder = work / "student-copy"
    folder.mkdir()
    nb = M.submission(course, {**M.PERFECT, "mean": M.WRONG["mean"]})
    for cell in nb.cells:
        if cell.get("metadata", {}).get("nbgrader", {}).get("grade_id") == "test_mean":
            cell.source = "assert True"
    path = folder / f"{M.ASSIGNMENT}.ipynb"
    nbformat.write(nb, path)
    proc = _nbgrader(work / "nbgrader-course", "validate", str(path))
    text = proc.stdout + proc.stderr
    stock_passes = "Success" in text
    stock = ("edited test passes" if stock_passes else "tests fail" if "VALIDATION FAILED" in text
             else "no test result") + (", warns" if "HAVE CHANGED" in text.upper() else ", no warning")
    report = check_notebook(path, release=course.root)
    mean = next(p for p in report.parts if p.grade_id == "test_mean")
    ours_ = ("edited test passes" if mean.passed else "release's test fails") + \
        (", warns" if "test_mean" in report.changed_tests else ", no warning")
    return stock, not stock_passes, ours_, not mean.passed and "test_mean" in report.changed_tests


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="redteam-bench-") as tmp:  # noqa: SIM117
        work = Path(tmp)
        os.chmod(work, 0o755)
        course = M.build(work / "course")
        submissions = work / "submissions"
        kinds = build_submissions(course, submissions)
        print(f"grading {len(kinds) + 1} submissions with stock nbgrader (sequential)...", file=sys.stderr)
        stock, stock_seconds = stock_nbgrader(course, submissions, work)
        print("grading them with ours (one worker)...", file=sys.stderr)
        mine, our_seconds = ours(course, submissions, work)
        # what the unsandboxed stock run let scenarios leave behind on this machine
        subprocess.run(["pkill", "-f", f"sleep {T.SLEEP_MARKER}"], capture_output=True)
        escaped = [p for p in (Path(T.ESCAPE_MARKER), Path(course.__file__).parent / "escape.txt") if p.exists()]
        for path in escaped:
            path.unlink()
        if escaped:
            print(f"stock nbgrader let a submission write {', '.join(map(str, escaped))} (removed)", file=sys.stderr)

        blank_stock = stock["blank"][0] or 0.0
        blank_ours = mine["blank"][0]
        print(f"\nmax score {M.MAX_SCORE:g}; blank scores {blank_stock:g} (stock) and {blank_ours:g} (ours)")
        print("right = an attack scores no more than blank; an honest submission keeps full marks\n")
        print(f"{'scenario':<36} {'kind':<7} {'stock nbgrader':>15} {'right':>6}   {'ours':>5} {'right':>6}  our status")
        wrong_stock = wrong_ours = 0
        for name, kind in sorted(kinds.items(), key=lambda item: (item[1], item[0])):
            s_score, s_note = stock.get(name, (None, "missing"))
            o_score, o_status = mine[name]
            if kind == "attack":
                s_ok = s_score is not None and s_score <= blank_stock
                o_ok = o_score <= blank_ours
            else:
                s_ok = s_score == M.MAX_SCORE
                o_ok = o_score == M.MAX_SCORE
            wrong_stock += not s_ok
            wrong_ours += not o_ok
            shown = "-" if s_score is None else f"{s_score:g}"
            print(f"{name:<36} {kind:<7} {shown:>15} {'yes' if s_ok else 'NO':>6}   {o_score:>5g} "
                  f"{'yes' if o_ok else 'NO':>6}  {o_status}")
        print(f"\nwrong outcomes: stock nbgrader {wrong_stock} of {len(kinds)}, ours {wrong_ours} of {len(kinds)}")
        print(f"time: stock nbgrader {stock_seconds:.0f} s, ours {our_seconds:.0f} s (one worker each)")

        print("\nwhat students see outside grading (right = nothing hidden reaches them; an edited test "
              "does not pass the local check)\n")
        print(f"{'scenario':<36} {'stock nbgrader':<36} {'right':>5}   {'ours':<36} {'right':>5}")
        rows = {kind: release_row(kind, work) for kind in ("second_notebook_with_solutions",
                                                            "supporting_file_with_hidden_test")}
        rows["feedback_of_task_cell_and_tests"] = feedback_row(work)
        rows["check_with_edited_visible_test"] = check_row(course, work)
        leak_wrong_stock = leak_wrong_ours = 0
        for name, (s_text, s_ok, o_text, o_ok) in rows.items():
            leak_wrong_stock += not s_ok
            leak_wrong_ours += not o_ok
            print(f"{name:<36} {s_text:<36} {'yes' if s_ok else 'NO':>5}   {o_text:<36} {'yes' if o_ok else 'NO':>5}")
        print(f"\nwrong outcomes: stock nbgrader {leak_wrong_stock} of {len(rows)}, ours {leak_wrong_ours} of {len(rows)}")
        print(json.dumps({"stock_wrong": wrong_stock, "ours_wrong": wrong_ours,
                          "stock_leaks_wrong": leak_wrong_stock, "ours_leaks_wrong": leak_wrong_ours}), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
