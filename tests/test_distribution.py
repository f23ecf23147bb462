"""The student distribution (issue: students never get the instructor's repository) and a student's
own work folder (`autograder fetch`): what is in it, what is not, and the student's whole path."""
from __future__ import annotations

import builtins
import io
import keyword
import os
import re
import subprocess
import sys
import tokenize
from pathlib import Path

import nbformat
import pytest

from autograder import cells as C
from autograder.distribution import build_distribution, fetch, generic_line, leaks
from autograder.errors import UsageError
from autograder.layout import ReleaseFolder
from tests import minicourse as M
from tests.helpers import COURSE
from tests.venvs import borrowed_venv, pip_install

PROJECT_ROOT = Path(__file__).resolve().parent.parent
_SOLUTION = re.compile(r"### BEGIN SOLUTION(.*?)### END SOLUTION", re.S)
_HIDDEN = re.compile(r"### BEGIN HIDDEN TESTS(.*?)### END HIDDEN TESTS", re.S)
_MARK_SCHEME = re.compile(r"=== BEGIN MARK SCHEME ===(.*?)=== END MARK SCHEME ===", re.S)
# Lines of the source's secret blocks that also occur in the shipped `course`/`autograder` code
# because they are ordinary code, not because anything leaked (checked by hand, each once).
ORDINARY = {
    "return pd.DataFrame({",  # course/stream.py builds its frames the same way
    "folder = Path(folder)",  # autograder/collect.py and release_record.py normalise an argument so
}


def _ordinary(line: str) -> bool:
    """Imports, `return name` and lines made only of keywords and builtins (`except ValueError:`)
    prove nothing."""
    if line in ORDINARY or re.match(r"(import|from)\s+[\w.]+", line) or re.fullmatch(r"return \w+", line):
        return True
    if generic_line(line):  # and what the distribution's own check calls generic (tested below)
        return True
    try:
        names = [t.string for t in tokenize.generate_tokens(io.StringIO(line).readline) if t.type == tokenize.NAME]
    except (tokenize.TokenError, IndentationError, SyntaxError):
        return False
    return all(keyword.iskeyword(n) or hasattr(builtins, n) for n in names)


def secret_source_lines(source_dir: Path, min_length: int = 12) -> set[str]:
    """Every line (of at least `min_length` characters) of every solution, hidden test and mark
    scheme in the source notebooks, except lines the source also shows students outside them.
    Written independently of the release's own leak check, on the raw cell text."""
    secret, public = set(), []
    for path in sorted(source_dir.rglob("*.ipynb")):
        for cell in nbformat.read(path, as_version=4).cells:
            text = C.source(cell)
            blocks = _SOLUTION.findall(text) + _HIDDEN.findall(text) + _MARK_SCHEME.findall(text)
            whole_answer = C.is_solution(cell) and cell.cell_type == "markdown" and not _SOLUTION.search(text)
            if whole_answer:  # nbgrader replaces a written answer cell entirely (by its stub text)
                blocks.append(_MARK_SCHEME.sub("", text).replace("YOUR ANSWER HERE", ""))
            secret |= {line.strip() for block in blocks for line in block.splitlines()}
            if not whole_answer:
                public.append(_MARK_SCHEME.sub("", _HIDDEN.sub("", _SOLUTION.sub("", text))))
    shown = Searched("\n".join(public))  # what the source shows students anyway (narrative, signatures...)
    return {line for line in secret if len(line) >= min_length and not _ordinary(line) and line not in shown}


class Searched:
    """A text to search for lines: a short line must be a whole line of it; a long one (distinctive
    enough) may also sit inside a line, between non-identifier characters (in a string, say)."""

    def __init__(self, text: str):
        self.text = text
        self.rows = {row.strip() for row in text.splitlines()}

    def __contains__(self, line: str) -> bool:
        if line in self.rows:
            return True
        return len(line) >= 30 and line in self.text and \
            re.search(r"(?<![\w.])" + re.escape(line) + r"(?!\w)", self.text) is not None


def readable_text(path: Path) -> str:
    """A file's text, and for a notebook also its cells' text as written (JSON escapes quotes)."""
    text = path.read_bytes().decode("utf-8", errors="replace")
    if path.suffix == ".ipynb":
        try:
            nb = nbformat.reads(text, as_version=4)
            text += "\n".join(C.source(cell) + "\n" + "\n".join(str(o.get("text", "")) for o in cell.get("outputs", []))
                              for cell in nb.cells)
        except Exception:  # noqa: BLE001 - not a notebook after all: its raw text was searched
            pass
    return text


def found_in(folder: Path, lines: set[str]) -> dict[str, set[str]]:
    hits = {}
    for path in folder.rglob("*"):
        if path.is_file():
            text = Searched(readable_text(path))
            present = {line for line in lines if line in text}
            if present:
                hits[path.relative_to(folder).as_posix()] = present
    return hits


@pytest.fixture(scope="module")
def course_dist(tmp_path_factory):
    out = tmp_path_factory.mktemp("dist") / "student"
    return build_distribution(COURSE, out)


def test_the_distribution_holds_no_solution_hidden_test_or_instructor_file(course_dist):
    folder = course_dist.folder
    names = {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()}
    assert not [n for n in names if n.split("/")[0] in ("source", "examples", "tests", "out")], names
    assert not [n for n in names if n.endswith((".db", ".sqlite", "nbgrader_config.py"))]
    secrets = secret_source_lines(COURSE.source)
    assert len(secrets) > 1000, "the search covers every solution and hidden-test line of the course"
    control = found_in(COURSE.source, secrets)
    assert set().union(*control.values()) == secrets, "the search finds each line where it is"
    assert found_in(COURSE.examples, secrets), "and finds solutions in a full-marks example: it would see a leak"
    assert found_in(folder, secrets) == {}, "no line of a solution, hidden test or mark scheme is in the distribution"
    markers = [n for n in names if re.search(r"(BEGIN|END) (SOLUTION|HIDDEN TESTS|MARK SCHEME)",
                                             readable_text(folder / n))
               and not n.startswith("autograder/")]  # the grader's own code names the markers it looks for
    assert markers == []


def test_the_distribution_has_everything_a_student_needs(course_dist):
    folder = course_dist.folder
    for assignment in COURSE.assignments():
        released = folder / "course" / "materials" / "release" / assignment / f"{assignment}.ipynb"
        assert released.read_bytes() == COURSE.release_notebook(assignment).read_bytes()
    assert (folder / "course" / "materials" / "datasets" / "penguins.csv").read_bytes() == \
        (COURSE.root / "datasets" / "penguins.csv").read_bytes()
    assert (folder / "autograder" / "check.py").is_file() and (folder / "course" / "frowns.py").is_file()
    assert not list(folder.rglob("__pycache__"))
    import tomllib

    project = tomllib.loads((folder / "pyproject.toml").read_text())["project"]
    assert project["scripts"]["autograder"] == "autograder.cli:main"
    assert any(d.startswith("torch==") for d in project["dependencies"])
    assert "autograder fetch" in (folder / "README.md").read_text()


def _mini_course(root: Path):
    course = M.build(root)
    (root / "pyproject.toml").write_bytes((PROJECT_ROOT / "pyproject.toml").read_bytes())
    (root / "datasets").mkdir()
    (root / "datasets" / "offset.txt").write_text("0\n")
    return course


def test_student_dist_refuses_a_leak_and_foreign_output_folders(tmp_path):
    course = _mini_course(tmp_path / "course")
    hidden = "for a, b in rng.normal(size=(20, 2)):"
    (course.root / "datasets" / "notes.txt").write_text(f"draft\n{hidden}\n")
    with pytest.raises(UsageError, match="would leak") as error:
        build_distribution(course, tmp_path / "dist")
    assert "datasets/notes.txt" in str(error.value) and not (tmp_path / "dist").exists()
    (course.root / "datasets" / "notes.txt").unlink()
    assert leaks({"course/helpers.py": f"x = 1\n    {hidden}\n".encode()}, {hidden}), "a helper that repeats it"
    assert leaks({"source/00-mini/00-mini.ipynb": b"{}"}, set())
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "thesis.tex").write_text("mine")
    with pytest.raises(UsageError, match="refusing to replace"):
        build_distribution(course, tmp_path / "mine")
    with pytest.raises(UsageError, match="folder of its own"):
        build_distribution(course, course.root / "release" / "dist")
    built = build_distribution(course, tmp_path / "dist")
    (built.folder / ".git").mkdir()
    (built.folder / ".git" / "HEAD").write_text("ref: refs/heads/main\n")
    build_distribution(course, tmp_path / "dist")  # rebuilt in place: its git history is kept
    assert (built.folder / ".git" / "HEAD").read_text() == "ref: refs/heads/main\n"


def test_fetch_makes_a_work_folder_and_never_replaces_a_students_file(tmp_path):
    course = _mini_course(tmp_path / "course")
    data = course.source / M.ASSIGNMENT / "data"
    data.mkdir()
    (data / "x.txt").write_text("0\n")
    from autograder.release import release_assignment

    release_assignment(course, M.ASSIGNMENT)
    release = ReleaseFolder(course.release)
    got = fetch(release, M.ASSIGNMENT, tmp_path / "work")
    notebook = got.folder / f"{M.ASSIGNMENT}.ipynb"
    assert sorted(got.copied) == ["00-mini.ipynb", "data/x.txt"] and got.kept == []
    assert notebook.read_bytes() == course.release_notebook(M.ASSIGNMENT).read_bytes()
    nbformat.write(M.submission(course, M.PERFECT), notebook)
    mine = notebook.read_bytes()
    (got.folder / "data" / "x.txt").unlink()
    again = fetch(release, M.ASSIGNMENT, tmp_path / "work")
    assert again.copied == ["data/x.txt"] and again.kept == ["00-mini.ipynb"]
    assert notebook.read_bytes() == mine, "the student's notebook is never replaced"
    with pytest.raises(UsageError, match="inside the release"):
        fetch(release, M.ASSIGNMENT, course.release)
    with pytest.raises(UsageError, match="you can fetch: 00-mini"):
        fetch(release, "01-nope", tmp_path / "work")


def _run(python: Path, *args, cwd: Path, env: dict | None = None):
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("AUTOGRADER_", "COURSE_", "PYTHON"))}
    return subprocess.run([str(python), *map(str, args)], capture_output=True, text=True, cwd=cwd, timeout=900,
                          env={**clean, **(env or {})})


def _lab_starts(jupyter: Path, folder: Path) -> None:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("AUTOGRADER_", "COURSE_", "PYTHON"))}
    proc = subprocess.Popen([str(jupyter), "lab", "--no-browser", "--port=0", "--ServerApp.token=", str(folder)],
                            cwd=folder, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=clean)
    seen = []
    try:
        for line in proc.stdout:  # ends when the server exits
            seen.append(line)
            if "is running at" in line:
                break
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    assert any("is running at" in line for line in seen), "jupyter lab did not start as root:\n" + "".join(seen)
    assert not any("nbgrader" in line for line in seen), "no nbgrader server extension is loaded:\n" + "".join(seen)


@pytest.mark.slow
def test_a_student_installs_the_distribution_fetches_and_checks_without_the_course(tmp_path):
    """The student's whole path: build the distribution, pip install it into a fresh venv, fetch
    an assignment into a work folder, fill in answers, and run `check` there, far from the course."""
    course = _mini_course(tmp_path / "instructor" / "course")
    proc = subprocess.run([sys.executable, "-m", "autograder", "--course", str(course.root), "student-dist",
                           "--out", str(tmp_path / "dist")], capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    python = borrowed_venv(tmp_path / "student" / "venv", jupyter_data=True)
    jupyter = python.parent / "jupyter"
    before_install = _run(jupyter, "labextension", "list", cwd=tmp_path)
    assert re.search(r"@jupyter/nbgrader\S* .*enabled", before_install.stdout + before_install.stderr), \
        "nbgrader's lab extension is there to be turned off:\n" + before_install.stdout + before_install.stderr
    installed = pip_install(python, str(tmp_path / "dist"))
    assert installed.returncode == 0, installed.stderr

    # JupyterLab without the instructor's tools: nbgrader's lab extension and server extensions off,
    # and `jupyter lab` allowed to start as root
    lab = _run(jupyter, "labextension", "list", cwd=tmp_path)
    assert re.search(r"@jupyter/nbgrader\S* .*disabled", lab.stdout + lab.stderr), lab.stdout + lab.stderr
    server = _run(jupyter, "server", "extension", "list", cwd=tmp_path)
    for extension in ("formgrader", "validate_assignment", "assignment_list", "course_list"):
        assert re.search(rf"nbgrader\.server_extensions\.{extension}\S* .*disabled", server.stdout + server.stderr), \
            server.stdout + server.stderr
    allowed = _run(python, "-c", "from jupyter_server.serverapp import ServerApp; app = ServerApp(); "
                   "app.load_config_file(); print(app.allow_root)", cwd=tmp_path)
    assert allowed.stdout.strip() == "True", allowed.stdout + allowed.stderr
    if os.geteuid() == 0:  # the README's command, as root: it starts, where it used to refuse
        _lab_starts(jupyter, tmp_path)
    home = tmp_path / "student" / "home"
    home.mkdir()
    where = _run(python, "-c", "import course, autograder; print(course.__file__); print(autograder.__file__)", cwd=home)
    assert where.returncode == 0 and all(str(tmp_path / "student" / "venv") in line
                                         for line in where.stdout.splitlines()), where.stdout + where.stderr
    autograder = python.parent / "autograder"

    listed = _run(autograder, "fetch", cwd=home)
    assert listed.returncode == 0 and M.ASSIGNMENT in listed.stdout, listed.stderr
    fetched = _run(autograder, "fetch", M.ASSIGNMENT, "--into", "work", cwd=home)
    assert fetched.returncode == 0, fetched.stderr
    notebook = home / "work" / M.ASSIGNMENT / f"{M.ASSIGNMENT}.ipynb"
    uses_data = ("def add(a, b):\n    import course\n"
                 "    return a + b + int(open(course.dataset_path('offset.txt')).read())")
    nbformat.write(M.submission(course, {"add": uses_data, "mean": M.WRONG["mean"]}), notebook)
    before = notebook.read_bytes()

    checked = _run(autograder, "check", notebook, cwd=home / "work")
    assert checked.returncode == 1, checked.stderr  # a visible test failed
    lines = checked.stdout.splitlines()
    assert "site-packages" in lines[0] and "materials" in lines[0], f"checked against the installed release: {lines[0]}"
    assert any(line.startswith("add") and "passed" in line for line in lines), \
        f"the answer read the distribution's data set:\n{checked.stdout}"
    assert any(line.startswith("mean") and "FAILED" in line for line in lines), checked.stdout
    assert any(line.startswith("scale") and "not attempted" in line for line in lines), checked.stdout
    assert notebook.read_bytes() == before

    again = _run(autograder, "fetch", M.ASSIGNMENT, "--into", "work", cwd=home)
    assert again.returncode == 0 and "kept your 00-mini.ipynb" in again.stdout
    assert notebook.read_bytes() == before, "fetching again keeps the student's work"


@pytest.mark.parametrize("line, generic", [
    ("import numpy as np", True),
    ("except ValueError:", True),
    ("for i in range(n):", True),   # a shared helper may loop like a solution does
    ("return x", True),
    ("def __init__(self):", True),
    ("return recall >= SPEC.recall_target", False),
    ("labels = np.asarray(labels)", True),
    ("return ProblemSpec(", True),  # 01 derives the spec; course/spec.py builds the same type
    ("threshold = scores[np.argmax(precision >= 0.9)]", False),
    ("labels = np.asarray(labels) > 0", False),
])
def test_only_distinctive_lines_count_as_a_leak(line, generic):
    assert generic_line(line) is generic
