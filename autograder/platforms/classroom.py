"""GitHub Classroom: a student repository for an assignment, whose workflow runs the visible tests
on every push and reports points the way Classroom reads them.

    autograder classroom ASSIGNMENT --out DIR          # the template repository for the assignment
    autograder classroom-result NOTEBOOK --assignment ASSIGNMENT   # what its workflow runs

The repository is the student distribution of that one assignment (pip-installable: the `course`
package with the release inside, and `autograder` for the check; no solution, no hidden test) plus
the student's work folder `ASSIGNMENT/` and `.github/workflows/classroom.yml`. Make it a template
repository and give it to a Classroom assignment; each student gets a copy.

How Classroom reads points (checked in the sources of GitHub's own actions):
classroom-resources/autograding-grading-reporter (src/main.js, src/notify-classroom.js) takes a
comma-separated list of `runners` (step ids); for each it reads the environment variable
`<RUNNER-ID in capitals>_RESULTS`, a base64 JSON result as the grader actions write it
(classroom-resources/autograding-command-grader, src/main.js: `{"version": 1, "status",
"max_score", "tests": [{"name", "status", "score", "message", "test_code", "filename", "line_no",
"duration"}]}`, status "pass", "fail" or "error"); it adds up every test's `score` and every
runner's `max_score` and posts them as the annotation "Points <total>/<max>" titled "Autograding
complete", which Classroom shows as the student's points; the job fails if any runner failed.
Here each graded part is one runner (`part01`, `part02`, ... in notebook order) with one test worth
the part's points, so both the reporter's table and Classroom's total are exact.

These are the *visible* tests only (what `autograder check` runs): the grade itself comes from
`autograder grade`, with the hidden tests, on the instructor's side.
"""
from __future__ import annotations

import base64
import json
import os
import re
import shlex
import sys
from pathlib import Path

import nbformat
import yaml

from autograder import cells as C
from autograder import results as R
from autograder.distribution import MARKER as DIST_MARKER
from autograder.distribution import MATERIALS, student_files, write_tree
from autograder.errors import UsageError
from autograder.layout import Course

MARKER = ".autograder-classroom.json"
REPORTER = "classroom-resources/autograding-grading-reporter@v1"
STEP_ID = "check"


def parts_of(release_nb: nbformat.NotebookNode) -> list[tuple[str, str, float]]:
    """(runner id, grade id, points) of each autograded part, in notebook order."""
    tests = [c for c in release_nb.cells if C.is_test(c)]
    return [(f"part{i:02d}", C.grade_id(c), C.points(c)) for i, c in enumerate(tests, start=1)]


def _python_version(requires: str) -> str:
    match = re.search(r">=\s*(\d+\.\d+)", requires or "")
    return match.group(1) if match else "3.11"


def workflow(assignment: str, parts: list[tuple[str, str, float]], python_version: str) -> str:
    notebook = f"{assignment}/{assignment}.ipynb"
    runners = [runner for runner, _, _ in parts]
    doc = {
        "name": "Autograding Tests",
        "on": ["push", "workflow_dispatch", "repository_dispatch"],
        "permissions": {"checks": "write", "actions": "read", "contents": "read"},
        "jobs": {"run-autograding-tests": {
            "runs-on": "ubuntu-latest",
            "if": "github.actor != 'github-classroom[bot]'",
            "steps": [
                {"name": "Checkout code", "uses": "actions/checkout@v4"},
                {"name": "Set up Python", "uses": "actions/setup-python@v5", "with": {"python-version": python_version}},
                {"name": "Install the course", "run": "python -m pip install -c constraints.txt ."},
                {"name": "Visible tests", "id": STEP_ID,
                 "run": f"autograder classroom-result {shlex.quote(notebook)} --assignment {shlex.quote(assignment)}"},
                {"name": "Autograding Reporter", "uses": REPORTER,
                 "env": {f"{runner.upper()}_RESULTS": f"${{{{steps.{STEP_ID}.outputs.{runner}}}}}" for runner in runners},
                 "with": {"runners": ",".join(runners)}},
            ],
        }},
    }
    header = (f"# Runs the visible tests of {assignment} on every push and reports the points to GitHub Classroom\n"
              "# (written by `autograder classroom`; the hidden tests run when the instructor grades).\n")
    return header + yaml.safe_dump(doc, sort_keys=False, width=200)


def repository_readme(assignment: str, title: str) -> str:
    return f"""# {assignment}

Your repository for this assignment of *{title}*. Your work goes in `{assignment}/{assignment}.ipynb`.

## Set up (once)

```
python3 -m venv .venv
.venv/bin/pip install -c constraints.txt .
```

## Work

```
.venv/bin/jupyter lab {assignment}/
.venv/bin/autograder check {assignment}/{assignment}.ipynb
```

Fill in every `# YOUR CODE HERE` and `YOUR ANSWER HERE`, then commit and push. Each push runs the
assignment's visible tests in GitHub Actions (the Actions tab shows one line per part) and reports
their points to GitHub Classroom. Those are the visible tests only: your grade also counts hidden
tests and the parts graded by hand, so full marks here are necessary, not sufficient.

Change only the notebook (and files of your own next to it): the course package and the workflow
are the course's, and grading uses its own copy of every test anyway.
"""


GITIGNORE = ".venv/\n__pycache__/\n.ipynb_checkpoints/\n*.egg-info/\nbuild/\n"


def repository_files(course: Course, assignment: str) -> dict[str, bytes]:
    dist = student_files(course, [assignment])
    files = {name: data for name, data in dist.files.items() if name != DIST_MARKER}
    release_prefix = f"{MATERIALS}/release/{assignment}/"
    work = {name[len(release_prefix):]: data for name, data in files.items() if name.startswith(release_prefix)}
    for name, data in work.items():
        files[f"{assignment}/{name}"] = data
    release_nb = nbformat.reads(work[f"{assignment}.ipynb"].decode("utf-8"), as_version=4)
    import tomllib

    project = tomllib.loads(files["pyproject.toml"].decode("utf-8"))["project"]
    files[".github/workflows/classroom.yml"] = workflow(
        assignment, parts_of(release_nb), _python_version(project.get("requires-python", ""))).encode()
    files["README.md"] = repository_readme(assignment, project.get("description", "the course")).encode()
    files[".gitignore"] = GITIGNORE.encode()
    files[MARKER] = (json.dumps({"built_by": "autograder classroom", "assignment": assignment}, indent=1) + "\n").encode()
    return files


def layout_repository(course: Course, assignment: str, out: Path) -> Path:
    """Write the student repository (template) for `assignment` to `out`."""
    course.check_assignment(assignment)
    return write_tree(repository_files(course, assignment), out, marker=MARKER)


# --- in the student's repository: what the workflow's "Visible tests" step runs ---

def runner_result(title: str, points: float, outcome: str, message: str) -> dict:
    """One part as a grader action's result (the format the reporter decodes)."""
    status = "pass" if outcome == R.PASSED else "fail"
    return {"version": 1, "status": status, "max_score": points,
            "tests": [{"name": title, "status": status, "score": points if status == "pass" else 0,
                       "message": message or outcome.replace("_", " "), "test_code": "", "filename": "",
                       "line_no": 0, "duration": 0}]}


def classroom_results(notebook: Path, assignment: str, release: Path | None = None) -> tuple[dict[str, dict], str]:
    """Check `notebook` and return each part's runner result (by runner id), and the check's report."""
    import io

    from autograder.check import check_notebook, print_report
    from autograder.layout import find_release

    found = find_release(Path(notebook), release)
    if assignment not in found.assignments():
        raise UsageError(f"no assignment {assignment!r} in {found.folder}")
    parts = parts_of(nbformat.read(found.notebook(assignment), as_version=4))
    outcomes: dict[str, tuple[str, str]] = {}
    titles = {gid: C.title_of(gid) for _, gid, _ in parts}
    buffer = io.StringIO()
    try:
        report = check_notebook(Path(notebook), release=release)
        print_report(report, buffer)
        for part in report.parts:
            outcomes[part.grade_id] = (part.outcome, part.message)
            titles[part.grade_id] = part.title
    except UsageError as error:  # every part still gets a (failed) result, so the points read 0
        buffer.write(f"autograder: error: {error}\n")
    results = {}
    for runner, gid, points in parts:
        outcome, message = outcomes.get(gid, (R.NOT_RUN, "the notebook could not be checked (see the log above)"))
        results[runner] = runner_result(titles[gid], points, outcome, message)
    return results, buffer.getvalue()


def write_outputs(results: dict[str, dict], path: str | None) -> None:
    """`name=value` lines for $GITHUB_OUTPUT (each value the base64 JSON the reporter decodes)."""
    lines = "".join(f"{runner}={base64.b64encode(json.dumps(result).encode()).decode()}\n"
                    for runner, result in results.items())
    if path:
        with open(path, "a", encoding="utf-8") as handle:
            handle.write(lines)
    else:
        sys.stdout.write(lines)


def run_result_step(notebook: Path, assignment: str, output: str | None, release: Path | None = None) -> int:
    results, report = classroom_results(notebook, assignment, release)
    print(report)
    write_outputs(results, output or os.environ.get("GITHUB_OUTPUT"))
    earned = sum(r["tests"][0]["score"] for r in results.values())
    total = sum(r["max_score"] for r in results.values())
    print(f"points from the visible tests: {earned:g}/{total:g}")
    return 0
