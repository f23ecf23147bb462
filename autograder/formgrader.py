"""Make a graded batch's output folder a course nbgrader's formgrader can grade by hand.

Formgrader looks for (relative to the course root in its nbgrader_config.py):
  - the gradebook (`CourseDirectory.db_url`): the batch's own gradebook,
  - `source/<assignment>/`: here the course's own source folder,
  - `submitted/<student>/<assignment>/timestamp.txt`: a submission exists, and when it was made
    (it must equal the gradebook's timestamp, or formgrader treats it as not yet autograded),
  - `autograded/<student>/<assignment>/<notebook>.ipynb`: the notebook as graded, which it shows
    with a points box and a comment box on every written answer and task.
The grader writes all of this into the output folder (a student's two files are part of their
outputs, committed with the rest: outputs.py), which then is the formgrader's course root:
`autograder formgrader OUT_DIR` starts JupyterLab there (with this environment's commands on PATH,
as nbgrader runs `alembic`). Each graded notebook shows the rubric above each written answer.
"""
from __future__ import annotations

import copy
import os
import secrets
import shutil
import sys
from pathlib import Path

import nbformat

from autograder import cells as C
from autograder import results as R
from autograder.assemble import GUARD_ROLE, TEST_ROLE
from autograder.errors import UsageError
from autograder.exports import write_atomic
from autograder.handgrading import rubric_of
from autograder.receipt import without_trail

CONFIG_NAME = "nbgrader_config.py"
AUTOGRADED = "autograded"
SUBMITTED = "submitted"
MARKER = "# written by `autograder grade` for nbgrader's formgrader"


def write_config(out_dir: Path, db_url: str, source_dir: Path) -> Path:
    """OUT_DIR/nbgrader_config.py: this folder is the course root, with the batch's gradebook."""
    out_dir = Path(out_dir).resolve()
    text = "\n".join([
        MARKER + " (rewritten at every grading; edits are lost)",
        "c = get_config()  # noqa: F821",
        f"c.CourseDirectory.root = {str(out_dir)!r}",
        f"c.CourseDirectory.source_directory = {str(Path(source_dir).resolve())!r}",
        f"c.CourseDirectory.submitted_directory = {SUBMITTED!r}",
        f"c.CourseDirectory.autograded_directory = {AUTOGRADED!r}",
        'c.CourseDirectory.feedback_directory = "nbgrader-feedback"',
        f"c.CourseDirectory.db_url = {db_url!r}",
        "",
    ])
    path = out_dir / CONFIG_NAME
    write_atomic(path, text)
    return path


def read_db_url(out_dir: Path) -> str | None:
    """The gradebook URL a batch was graded into (from the config the grader wrote)."""
    from traitlets.config.loader import PyFileConfigLoader

    path = Path(out_dir) / CONFIG_NAME
    if not path.exists():
        return None
    config = PyFileConfigLoader(CONFIG_NAME, path=str(path.parent)).load_config()
    url = config.CourseDirectory.get("db_url")
    return str(url) if url else None


def formgrader_notebook(graded_nb, source_nb) -> nbformat.NotebookNode:
    """The notebook as graded, the way formgrader shows it: the grader's guard cells and markers
    removed, and each written answer or task preceded by its rubric (instructors only)."""
    rubrics = {C.grade_id(c): rubric_of(c) for c in source_nb.cells if C.grade_id(c) and C.is_hand_graded(c)}
    cells = []
    for cell in graded_nb.cells:
        meta = cell.get("metadata", {}).get("autograder", {})
        role = meta.get("role") if isinstance(meta, dict) else None
        if role == GUARD_ROLE:
            continue
        cell = copy.deepcopy(cell)
        cell.metadata.pop("autograder", None)
        gid = C.grade_id(cell)
        if role == TEST_ROLE and gid:
            cell.source = without_trail(C.source(cell), gid)
        if gid and rubrics.get(gid):
            note = nbformat.v4.new_markdown_cell(
                f"**Rubric for `{gid}`** ({C.points(cell):g} point{'' if C.points(cell) == 1 else 's'}; instructors "
                f"only, not in the student's notebook):\n\n{rubrics[gid]}")
            note.metadata["autograder"] = {"role": "rubric"}
            cells.append(note)
        cells.append(cell)
    nb = nbformat.v4.new_notebook(cells=cells, metadata=copy.deepcopy(graded_nb.metadata))
    for index, cell in enumerate(nb.cells):
        cell["id"] = f"graded-{index:04d}"
    return nb


def _placeholder(result: R.SubmissionResult, source_nb) -> nbformat.NotebookNode:
    text = (f"# {result.assignment}: nothing to grade by hand\n\nThis submission was not graded "
            f"(status `{result.status}`): {result.reason}")
    return nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell(text)],
                                    metadata=copy.deepcopy(source_nb.metadata))


def student_files(result: R.SubmissionResult, graded_nb, source_nb) -> tuple[bytes, bytes]:
    """formgrader's copy of the notebook as graded (a placeholder when nothing ran), and the
    submission's timestamp.txt, which must say what the gradebook says (gradebook.py)."""
    from autograder.gradebook import submission_timestamp

    nb = formgrader_notebook(graded_nb, source_nb) if graded_nb is not None else _placeholder(result, source_nb)
    return (nbformat.writes(nb) + "\n").encode(), (submission_timestamp(result).isoformat() + "\n").encode()


# --- starting it ---------------------------------------------------------------------------------

def command(out_dir: Path, port: int, ip: str, token: str, open_browser: bool) -> list[str]:
    args = [sys.executable, "-m", "jupyter", "lab", f"--ServerApp.root_dir={out_dir}", f"--ServerApp.ip={ip}",
            f"--ServerApp.port={port}", "--ServerApp.port_retries=0", f"--IdentityProvider.token={token}"]
    if not open_browser:
        args.append("--no-browser")
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        args.append("--allow-root")
    return args


def environment() -> dict[str, str]:
    """This environment's commands first on PATH (nbgrader runs `alembic`), venv activated or not."""
    env = dict(os.environ)
    bin_dir = str(Path(sys.executable).parent)
    env["PATH"] = bin_dir + os.pathsep + env.get("PATH", "")
    return env


def check_batch(out_dir: Path) -> None:
    out_dir = Path(out_dir)
    if not (out_dir / CONFIG_NAME).exists() or not (out_dir / "autograded").is_dir():
        raise UsageError(f"{out_dir} is not a graded batch ready for formgrader (no {CONFIG_NAME} or autograded/ "
                         "in it): grade into it first with `autograder grade ASSIGNMENT SUBMISSIONS --out "
                         f"{out_dir}`, then run `autograder formgrader {out_dir}` again")
    if shutil.which("jupyter", path=str(Path(sys.executable).parent)) is None:
        raise UsageError("JupyterLab is not installed in this environment: install the course's environment "
                         "(`make setup`)")


def start(out_dir: Path, port: int = 8888, ip: str = "127.0.0.1", open_browser: bool = True) -> None:
    """Replace this process with JupyterLab serving formgrader on the batch (prints the address)."""
    out_dir = Path(out_dir).resolve()
    check_batch(out_dir)
    token = secrets.token_hex(16)
    print(f"formgrader: http://{ip}:{port}/formgrader?token={token}", flush=True)
    print(f"Serving {out_dir}. Grade written answers in Manual Grading, then run `autograder handgrade sync "
          f"{out_dir}` to bring the points into grades.csv, results/ and feedback/. Ctrl-C stops it.",
          file=sys.stderr, flush=True)
    os.chdir(out_dir)  # nbgrader reads nbgrader_config.py from the working directory
    args = command(out_dir, port, ip, token, open_browser)
    os.execve(args[0], args, environment())
