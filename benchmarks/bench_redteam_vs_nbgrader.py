"""The red-team scenarios through stock `nbgrader autograde` and through `autograder grade`.

    .venv/bin/python benchmarks/bench_redteam_vs_nbgrader.py

Builds the tiny 00-mini course, writes every scenario of tests/test_redteam.py as a submission,
grades the same submissions with nbgrader 0.9 (its own generate_assignment + autograde, in the
nbgrader course layout) and with ours, and prints one row per scenario: the score each grader
gave, the blank score, and whether the outcome is right (attacks: no more than blank; honest
scenarios: full marks). Stock nbgrader runs student code unsandboxed, so the one scenario that
writes to a gradebook is confined here to the benchmark's own course folder.
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

from autograder.execute import Settings  # noqa: E402
from autograder.grade import GradeOptions, grade_assignment  # noqa: E402
from autograder.sandbox.isolation import Limits  # noqa: E402
from tests import minicourse as M  # noqa: E402
from tests import test_redteam as T  # noqa: E402

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
            nb = T._mangle_tests(nb)
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
    settings = Settings(cell_timeout=6, notebook_timeout=90, output_limit_bytes=256 * 1024,
                        limits=Limits(memory_bytes=1536 * 1024**2))
    started = time.perf_counter()
    results = grade_assignment(course, M.ASSIGNMENT, submissions, work / "ours",
                               GradeOptions(workers=1, settings=settings, progress=False), log=lambda *a: None)
    seconds = time.perf_counter() - started
    return {r.student_id: (r.score, r.status) for r in results}, seconds


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
        escaped = [p for p in (Path(T.ESCAPE_MARKER), Path(T.course_pkg.__file__).parent / "escape.txt") if p.exists()]
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
        print(json.dumps({"stock_wrong": wrong_stock, "ours_wrong": wrong_ours}), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
