"""Gradescope's "Autograder" assignment: the zip it takes, and what runs inside it.

Gradescope's autograder specification (gradescope-autograders.readthedocs.io, "Autograder
Specifications"; source: github.com/gradescope/autograder_samples, docs/specs.md):
* the zip holds `setup.sh` (run once, when Gradescope builds the image) and `run_autograder` (run
  for each submission) at its root; its contents are extracted to /autograder/source;
* the student's files are in /autograder/submission; the working directory is /autograder;
* the result goes to /autograder/results/results.json: a top-level `score`, `output`,
  `execution_time`, `stdout_visibility`, and `tests`, each with `score`, `max_score`, `status`
  ("passed"/"failed"), `name`, `number`, `output` and `visibility` ("hidden", "after_due_date",
  "after_published" or "visible"); a test without a score is an informational check, and while
  any test is hidden students do not see their total.

    autograder gradescope ASSIGNMENT --out autograder.zip

The zip holds the student distribution (`dist/`, installed by setup.sh into a virtual environment:
the same `course` and `autograder` students get) and two course folders for `autograder grade`:
`grading/`, whose source notebooks have the hidden tests but no solutions (answer cells hold the
release's stubs), and `visible/`, the same without the hidden tests. For each submission,
run_autograder grades each notebook of the assignment (an nbgrader assignment may have several;
their parts are named after their notebook and their scores added up) against both, in the
grader's sandbox:
* each part's visible tests are shown at once (an informational check, like `autograder check`);
* each part's score, from all its tests, hidden ones included, is shown after the due date
  (`--hidden-visibility`), and with it the total;
* parts graded by hand (written answers, tasks) are left out of the autograder's score, with a note
  naming them: no hand grade reaches run_autograder, so Gradescope grades them in the assignment's
  own manually graded questions (`hand_graded_parts` lists them for the instructor).

The root is /autograder, or $GRADESCOPE_ROOT (so the bundle can be tried in a folder laid out the
same way, as the tests do).
"""
from __future__ import annotations

import copy
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
from nbgrader.preprocessors import ClearHiddenTests, ClearMarkScheme, ClearSolutions

from autograder import cells as C
from autograder import results as R
from autograder.distribution import leaks, student_files
from autograder.errors import UsageError
from autograder.layout import Course
from autograder.release import cleared_sources, release_files, secret_lines, validate_source

ROOT_ENV = "GRADESCOPE_ROOT"
SUBMISSION_ID = "submission"
VISIBILITIES = ("hidden", "after_due_date", "after_published", "visible")
CONFIG = "gradescope.json"
HAND_OUTCOMES = (R.MANUAL, R.HAND_GRADED, R.NO_RESPONSE)  # a part graded by hand (exports.gradescope_json)

SETUP_SH = """#!/usr/bin/env bash
# Gradescope runs this once, when it builds the autograder's image (see the autograder
# specification). It makes a Python 3.11 virtual environment with the course and the grader from
# dist/, the same student distribution students install, and bubblewrap for the grading sandbox.
set -euo pipefail
ROOT="${GRADESCOPE_ROOT:-/autograder}"
SOURCE="$ROOT/source"
PYTHON="${GRADESCOPE_PYTHON:-python3.11}"
if ! command -v "$PYTHON" >/dev/null 2>&1 && command -v apt-get >/dev/null 2>&1; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3.11 python3.11-venv
fi
if ! command -v bwrap >/dev/null 2>&1 && command -v apt-get >/dev/null 2>&1; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq bubblewrap \\
        || echo "note: no bubblewrap; grading runs with the other isolation layers" >&2
fi
test -x "$ROOT/venv/bin/python" || "$PYTHON" -m venv "$ROOT/venv"
"$ROOT/venv/bin/python" -m pip install -c "$SOURCE/dist/constraints.txt" "$SOURCE/dist"
"""

RUN_AUTOGRADER = """#!/usr/bin/env bash
# Gradescope runs this for each submission (in /autograder, the submission in
# /autograder/submission); it writes /autograder/results/results.json. Set GRADESCOPE_ROOT to try
# it in another folder laid out the same way.
ROOT="${GRADESCOPE_ROOT:-/autograder}"
export PATH="$ROOT/venv/bin:$PATH"  # the venv's commands (nbgrader runs `alembic`)
exec "$ROOT/venv/bin/python" -m autograder.platforms.gradescope run --root "$ROOT"
"""


@dataclass
class BundleOptions:
    hidden_visibility: str = "after_due_date"
    grade_args: list[str] = field(default_factory=list)  # passed to `autograder grade` (limits, sandbox)


def _stub_with_markers(stub: str) -> str:
    return f"### BEGIN SOLUTION\n{stub}\n### END SOLUTION"


def grading_notebook(source_nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """The source notebook as the grader needs it: hidden tests kept, every solution replaced by
    the stub students got (still between the solution markers, so the authoring rules hold),
    mark schemes removed. Rebuilding a student's notebook from it gives what the source gives."""
    nb = copy.deepcopy(source_nb)
    resources = {"language": "python"}
    stub = ClearSolutions().code_stub["python"]
    nb, resources = ClearSolutions(code_stub={"python": _stub_with_markers(stub)}).preprocess(nb, resources)
    nb, resources = ClearMarkScheme().preprocess(nb, resources)
    if cleared_sources(nb) != cleared_sources(source_nb):
        raise UsageError("cannot strip the solutions from the source notebook without changing what students see; "
                         "check its solution markers")
    return nb


def visible_notebook(grading_nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """The grading notebook without its hidden tests (the markers stay, empty)."""
    nb = copy.deepcopy(grading_nb)
    for cell in nb.cells:
        if C.is_test(cell):
            cell.source = C.visible_part(C.source(cell)).rstrip("\n") + f"\n{C.BEGIN_HIDDEN}\n{C.END_HIDDEN}"
    return nb


def _solution_lines(source_nb: nbformat.NotebookNode) -> set[str]:
    """Lines of the solutions and mark schemes only (the bundle carries the hidden tests on purpose)."""
    nb = copy.deepcopy(source_nb)
    nb, _ = ClearHiddenTests().preprocess(nb, {"language": "python"})
    secret, public = secret_lines(nb)
    return secret - public


def bundle_files(course: Course, assignment: str, options: BundleOptions) -> dict[str, bytes]:
    """Every file of the Gradescope zip (name -> bytes). Every graded notebook of the assignment
    goes in (an nbgrader assignment may have several: each is graded on its own)."""
    if options.hidden_visibility not in VISIBILITIES:
        raise UsageError(f"--hidden-visibility must be one of {', '.join(VISIBILITIES)}")
    course.check_assignment(assignment)
    names = course.notebooks(assignment)
    config_py = course.root / "nbgrader_config.py"
    released = release_files(course, assignment)
    files = {f"dist/{n}": data for n, data in student_files(course, [assignment]).files.items()}
    for label in ("grading", "visible"):
        files[f"{label}/nbgrader_config.py"] = config_py.read_bytes() if config_py.is_file() else b"c = get_config()\n"
        for rel, data in released.items():
            files[f"{label}/release/{assignment}/{rel}"] = data
    solutions: set[str] = set()
    for notebook_file in names:
        source_nb = nbformat.read(course.with_notebook(notebook_file).source_notebook(assignment), as_version=4)
        grading = grading_notebook(source_nb)
        visible = visible_notebook(grading)
        for label, nb in (("grading", grading), ("visible", visible)):
            validate_source(nb, f"{label}/source/{assignment}/{notebook_file}")
            files[f"{label}/source/{assignment}/{notebook_file}"] = (nbformat.writes(nb) + "\n").encode()
        solutions |= _solution_lines(source_nb)
    files[CONFIG] = (json.dumps({"assignment": assignment, "notebooks": names,
                                 "hidden_visibility": options.hidden_visibility,
                                 "grade_args": list(options.grade_args)}, indent=1) + "\n").encode()
    files["setup.sh"] = SETUP_SH.encode()
    files["run_autograder"] = RUN_AUTOGRADER.encode()
    problems = leaks(files, solutions)
    if problems:
        raise UsageError("refusing to build the Gradescope bundle: it would carry a solution\n  - " + "\n  - ".join(problems))
    return files


def hand_graded_parts(course: Course, assignment: str) -> list[tuple[str, str, float]]:
    """(notebook, grade id, points) of every part graded by hand: the manually graded questions to
    add to the Gradescope assignment (Edit Outline), since the autograder's score leaves them out."""
    found = []
    for name in course.notebooks(assignment):
        source_nb = nbformat.read(course.with_notebook(name).source_notebook(assignment), as_version=4)
        found += [(name, C.grade_id(cell), C.points(cell)) for cell in source_nb.cells
                  if C.grade_id(cell) and C.is_hand_graded(cell)]
    return found


def build_bundle(course: Course, assignment: str, out: Path, options: BundleOptions | None = None) -> Path:
    """Write the zip Gradescope's "Autograder" assignment takes (files at the root of the archive)."""
    files = bundle_files(course, assignment, options or BundleOptions())
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.{os.getpid()}.tmp")
    with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in sorted(files.items()):
            info = zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            executable = name in ("setup.sh", "run_autograder")
            info.external_attr = ((0o100755 if executable else 0o100644) & 0xFFFF) << 16
            archive.writestr(info, data)
    tmp.replace(out)
    return out


# --- inside Gradescope: run_autograder -> `python -m autograder.platforms.gradescope run` ---

def _grade(course_dir: Path, assignment: str, submissions: Path, out: Path, grade_args: list[str],
           notebooks: list[str]) -> dict[str, tuple[dict | None, str]]:
    """`autograder grade` (the CLI contract) on one submission: for each notebook of the assignment,
    its results JSON, or why there is none. (With several notebooks, grade writes a folder per
    notebook.)"""
    command = [sys.executable, "-m", "autograder", "--course", str(course_dir), "grade", assignment,
               str(submissions), "--out", str(out), "--workers", "1", "--quiet", *grade_args]
    proc = subprocess.run(command, capture_output=True, text=True)
    print(proc.stdout)
    print(proc.stderr, file=sys.stderr)
    reason = (proc.stderr.strip().splitlines() or [f"exit status {proc.returncode}"])[-1]
    found = {}
    for name in notebooks:
        folder = out if len(notebooks) == 1 else out / Path(name).stem
        path = folder / "results" / f"{SUBMISSION_ID}.json"
        found[name] = (json.loads(path.read_text(encoding="utf-8")), "") if path.is_file() else (None, reason)
    return found


HAND_NOTE = "Graded by hand on Gradescope"


def hand_graded_note(parts: list[dict], number: str) -> dict:
    """The parts graded by hand (written answers, tasks), left out of the autograder's scored tests.

    Inside Gradescope no hand grade ever reaches run_autograder (the grader's gradebook, formgrader
    and `handgrade import` are not there), so a pending entry would stay pending for good, and its
    maximum would count towards the autograder's score. Gradescope grades them itself: the
    assignment's manually graded questions (Edit Outline), one per part with its points. This entry
    (no score: informational) tells students and graders which parts those are."""
    lines = ["These parts are graded by hand, in Gradescope's manually graded questions; the autograder's "
             "score does not include them:"]
    for part in parts:
        points = part.get("max_score", 0)
        line = f"- {part.get('name', '?')}: {points:g} point{'' if points == 1 else 's'}"
        if (part.get("tags") or [None, None])[1] == R.NO_RESPONSE:
            line += " (left blank: No response.)"
        lines.append(line)
    return {"name": HAND_NOTE, "number": number, "status": "passed", "output": "\n".join(lines),
            "visibility": "visible"}


def merge_results(graded: dict | None, visible: dict | None, hidden_visibility: str, problem: str = "") -> dict:
    """One results.json: each part's visible tests now, its score (all tests) per `hidden_visibility`."""
    if graded is None:
        return {"score": 0.0, "output": "The autograder could not grade this submission. " + (problem or "")
                + "\nUpload the assignment's notebook (.ipynb) as you received it, with your answers filled in.",
                "stdout_visibility": "hidden", "tests": []}
    tests, by_hand = [], []
    # both runs grade the same parts in the same order: a part is known by its number and name
    checks = {(t.get("number"), t.get("name")): t for t in (visible or {}).get("tests", [])}
    for index, part in enumerate(graded.get("tests", []), start=1):
        number = part.get("number") or str(index)
        tags = part.get("tags") or []
        if len(tags) > 1 and tags[1] in HAND_OUTCOMES:
            by_hand.append(part)  # graded on Gradescope itself (hand_graded_note)
            continue
        check = checks.get((part.get("number"), part.get("name")))
        if check is not None:
            tests.append({"name": f"{part['name']}: visible tests", "number": f"{number}.1",
                          "status": check.get("status", "failed"), "output": check.get("output", ""),
                          "visibility": "visible"})
        tests.append({**part, "name": f"{part['name']}: all tests", "number": f"{number}.2",
                      "visibility": hidden_visibility})
    if by_hand:
        tests.append(hand_graded_note(by_hand, str(len(graded.get("tests", [])) + 1)))
    tests.append({"name": "Grading notes", "number": f"{len(graded.get('tests', [])) + 2}",
                  "status": "passed", "output": graded.get("output", ""), "visibility": hidden_visibility})
    when = {"after_due_date": "after the due date", "after_published": "when grades are published",
            "hidden": "from your instructor", "visible": "now"}[hidden_visibility]
    lines = ["Each part shows now whether your notebook passes the visible tests (the ones in the notebook). "
             f"Your score, from all tests including hidden ones, appears {when}."]
    if visible:
        lines += [visible.get("output", "")]
    return {"score": graded.get("score", 0.0),
            "execution_time": round(graded.get("execution_time", 0) + (visible or {}).get("execution_time", 0), 2),
            "output": "\n".join(line for line in lines if line),
            "stdout_visibility": "hidden",
            "tests": tests}


def combine(per_notebook: dict[str, dict]) -> dict:
    """One results.json from the merged results of each notebook of an assignment: every part of
    every notebook (named and numbered after its notebook), the scores added up."""
    if len(per_notebook) == 1:
        return next(iter(per_notebook.values()))
    tests, lines = [], []
    for index, (name, results) in enumerate(per_notebook.items(), start=1):
        stem = Path(name).stem
        for test in results.get("tests", []):
            tests.append({**test, "name": f"{stem}: {test.get('name', '')}", "number": f"{index}.{test.get('number', '')}"})
        lines.append(f"{name}:\n{results.get('output', '')}")
    return {"score": round(sum(r.get("score", 0.0) for r in per_notebook.values()), 6),
            "execution_time": round(sum(r.get("execution_time", 0) for r in per_notebook.values()), 2),
            "output": "\n\n".join(lines), "stdout_visibility": "hidden", "tests": tests}


def run(root: Path) -> dict:
    """Grade /autograder/submission with the bundle in /autograder/source; write results.json."""
    bundle = root / "source"
    config = json.loads((bundle / CONFIG).read_text(encoding="utf-8"))
    notebooks = config.get("notebooks") or [config.get("notebook") or f"{config['assignment']}.ipynb"]
    visibility = config.get("hidden_visibility", "after_due_date")
    results_path = root / "results" / "results.json"
    results_path.parent.mkdir(parents=True, exist_ok=True)
    for private in (bundle / "grading", results_path.parent):
        os.chmod(private, 0o700)  # the hidden tests and the results: never readable by the sandbox's user
    started = time.monotonic()
    work = Path(tempfile.mkdtemp(prefix="gradescope-"))  # 0700: the copy of the submission and the outputs
    try:
        submissions = work / "submissions"
        shutil.copytree(root / "submission", submissions / SUBMISSION_ID, symlinks=True,
                        ignore=shutil.ignore_patterns(".git", "__MACOSX"))
        outcomes = {label: _grade(bundle / label, config["assignment"], submissions, work / f"out-{label}",
                                  config.get("grade_args", []), notebooks) for label in ("grading", "visible")}
        merged = {}
        for name in notebooks:
            (graded, problem), (visible, _) = outcomes["grading"][name], outcomes["visible"][name]
            merged[name] = merge_results(graded, visible, visibility, problem)
        results = combine(merged)
    except Exception as error:  # noqa: BLE001 - Gradescope needs a results.json whatever happened
        results = merge_results(None, None, "visible", f"{type(error).__name__}: {error}")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    results["execution_time"] = round(time.monotonic() - started, 2)  # the whole run, both gradings
    tmp = results_path.with_name(f".results.json.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    tmp.replace(results_path)
    print(f"wrote {results_path}: score {results['score']}")
    return results


def main(argv: list[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(prog="python -m autograder.platforms.gradescope",
                                     description="Run inside Gradescope's autograder (run_autograder calls it).")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("run", help="grade /autograder/submission, write /autograder/results/results.json")
    p.add_argument("--root", type=Path, default=Path(os.environ.get(ROOT_ENV, "/autograder")))
    args = parser.parse_args(argv)
    run(args.root.resolve())
    return 0


if __name__ == "__main__":
    sys.exit(main())
