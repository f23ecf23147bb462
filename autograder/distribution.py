"""The student distribution of a course, and a student's own copy of an assignment.

Students never get the instructor's repository (it holds `source/` with every solution and hidden
test, and `examples/` with full-marks submissions). They get a *student distribution*: a folder
with its own `pyproject.toml` that `pip install` turns into the `course` package (with the released
assignments and the data sets inside it, in `course/materials/`) and the `autograder` command, whose
`check` runs the visible tests without the instructor's repository. Nothing else goes in: no
`source/`, no `examples/`, no hidden test, no solution, no gradebook or grading output. Every file
is searched for every secret line of every source notebook before anything is written.

    autograder student-dist --out DIST [ASSIGNMENT ...]     # instructor: build it
    pip install DIST                                         # student: install it (once)
    autograder fetch ASSIGNMENT [--into DIR]                 # student: a work folder of their own

`fetch` copies an assignment into DIR/ASSIGNMENT/ (like nbgrader's fetch) and never replaces a file
that is already there, so running it again restores deleted files and keeps the student's work.
"""
from __future__ import annotations

import builtins
import io
import json
import keyword
import re
import shutil
import tokenize
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from autograder import cells as C
from autograder.errors import UsageError
from autograder.layout import Course, ReleaseFolder
from autograder.release import release_files, secret_lines

MATERIALS = "course/materials"  # the release and the data inside the installed `course` package
MARKER = ".autograder-student-dist.json"
_SKIP_PARTS = {"__pycache__", ".ipynb_checkpoints", "materials"}
_KEEP_ON_REBUILD = (".git",)


def _package_files(package) -> dict[str, bytes]:
    """The files of an importable package as it is installed here (no caches, no `materials/`)."""
    root = Path(package.__file__).resolve().parent
    files = {}
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root)
        if not path.is_file() or _SKIP_PARTS & set(rel.parts) or path.suffix in (".pyc", ".pyo") \
                or any(part.startswith(".") for part in rel.parts):
            continue
        files[f"{root.name}/{rel.as_posix()}"] = path.read_bytes()
    return files


def generic_line(line: str) -> bool:
    """A line of code so common that finding it proves nothing (an import, `except ValueError:`,
    `for i in range(n):`, `labels = np.asarray(labels)`): its names are all keywords, builtins or
    one-letter names, or it only converts a name in place or opens a call."""
    if re.match(r"(import|from)\s+[\w.]+", line) or re.fullmatch(r"return [\w.]+\(", line) \
            or re.fullmatch(r"(\w+) = [\w.]+\(\1\)", line):  # `return Spec(` opens a call; `x = np.asarray(x)`
        return True
    try:
        names = [t.string for t in tokenize.generate_tokens(io.StringIO(line).readline) if t.type == tokenize.NAME]
    except (tokenize.TokenError, IndentationError, SyntaxError):
        return False
    return all(keyword.iskeyword(name) or hasattr(builtins, name) or len(name) == 1 or name in ("self", "cls")
               or (name.startswith("__") and name.endswith("__")) for name in names)


def course_secrets(course: Course, assignments: list[str]) -> set[str]:
    """Every distinctive line of a solution, hidden test or mark scheme in the course's source
    notebooks (of every assignment, released or not: a later assignment's solution is a secret too)."""
    secret: set[str] = set()
    public: set[str] = set()
    for assignment in sorted(set(course.assignments()) | set(assignments)):
        # every graded notebook (an nbgrader assignment may have several) and every other one
        paths = [course.source / assignment / name for name in course.notebooks(assignment)]
        paths += course.extra_notebooks(assignment)
        for path in paths:
            try:
                more_secret, more_public = secret_lines(nbformat.read(path, as_version=4))
            except Exception:  # noqa: BLE001 - an unreadable extra notebook is refused by the release itself
                continue
            secret |= more_secret
            public |= more_public
    return secret - public


def leaks(files: dict[str, bytes], secret: set[str]) -> list[str]:
    """Files of a distribution that show a secret line, or that must never be in one."""
    problems = []
    for name, data in sorted(files.items()):
        parts = name.split("/")
        if parts[0] in ("source", "examples") or name.endswith((".db", ".sqlite", ".sqlite3")):
            problems.append(f"{name}: instructors' files never go to students")
            continue
        text = data.decode("utf-8", errors="replace")
        if name.endswith(".ipynb"):  # a notebook's lines are JSON strings: read its cells' text too
            try:
                text += "\n" + "\n".join(C.source(cell) for cell in nbformat.reads(text, as_version=4).cells)
            except Exception:  # noqa: BLE001 - not a readable notebook: its raw text is searched
                pass
        lines = {line.strip() for line in text.splitlines()}
        shown = sorted(line for line in secret & lines if not generic_line(line))
        problems += [f"{name} shows a line of a solution, hidden test or mark scheme: {line[:80]!r}" for line in shown[:3]]
    return problems


def _project(course: Course) -> dict:
    path = course.root / "pyproject.toml"
    if not path.is_file():
        raise UsageError(f"{path} is missing: the student distribution takes its name, Python version and pinned "
                         "dependencies from the course's pyproject.toml")
    return tomllib.loads(path.read_text(encoding="utf-8")).get("project", {})


def _toml_list(items: list[str]) -> str:
    return "[\n" + "".join(f"    {json.dumps(item)},\n" for item in items) + "]"


def pyproject(project: dict) -> str:
    name = f"{project.get('name', 'course')}-student"
    lines = [
        "# The student distribution of the course, built by `autograder student-dist`. Install it with",
        "# `pip install .` (add `-c constraints.txt` for exactly the versions grading uses).",
        "[build-system]",
        'requires = ["setuptools>=77", "wheel"]',
        'build-backend = "setuptools.build_meta"',
        "",
        "[project]",
        f"name = {json.dumps(name)}",
        f"version = {json.dumps(project.get('version', '0.0.0'))}",
        f"description = {json.dumps('Student edition: ' + project.get('description', 'the course'))}",
        'readme = "README.md"',
    ]
    if project.get("requires-python"):
        lines.append(f"requires-python = {json.dumps(project['requires-python'])}")
    if isinstance(project.get("license"), str):
        lines.append(f"license = {json.dumps(project['license'])}")
    lines += [f"dependencies = {_toml_list(list(project.get('dependencies', [])))}", "",
              "[project.scripts]", 'autograder = "autograder.cli:main"', "",
              "[tool.setuptools]", 'packages = { find = { include = ["course*", "autograder*"] } }', "",
              "[tool.setuptools.package-data]", 'course = ["materials/**/*"]', "",
              "# Jupyter settings installed into the environment (see jupyter/README.md)",
              "[tool.setuptools.data-files]",
              f'"etc/jupyter/labconfig" = ["{JUPYTER_FOLDER}/page_config.json"]',
              f'"etc/jupyter" = ["{JUPYTER_FOLDER}/jupyter_server_config.json"]',
              f'"etc/jupyter/jupyter_server_config.d" = ["{JUPYTER_FOLDER}/{SERVER_CONFIG_NAME}"]', ""]
    return "\n".join(lines)


#: Where the student edition keeps the Jupyter settings it installs, and the server settings' file
#: name: Jupyter merges the files of ``jupyter_server_config.d`` in name order, so this one comes
#: after nbgrader's own ``nbgrader.json`` and wins.
JUPYTER_FOLDER = "jupyter"
SERVER_CONFIG_NAME = "zz-course-student-edition.json"

#: nbgrader's server extensions. The student edition turns them all off: formgrader and Create
#: Assignment are instructor tools; the assignment and course lists work through nbgrader's exchange,
#: which this course does not use (students `autograder fetch`); Validate runs nbgrader's own check,
#: whose output is not the per-part summary `autograder check` gives.
NBGRADER_SERVER_EXTENSIONS = ("nbgrader.server_extensions.formgrader", "nbgrader.server_extensions.validate_assignment",
                              "nbgrader.server_extensions.assignment_list", "nbgrader.server_extensions.course_list")
NBGRADER_LAB_EXTENSION = "@jupyter/nbgrader"


def jupyter_settings() -> dict[str, bytes]:
    """The Jupyter settings the student edition installs: nbgrader's lab extension (every menu and
    panel of it) and its server extensions off, and ``allow_root`` so that ``jupyter lab`` also
    starts as root (a container's default user)."""
    page = {"disabledExtensions": {NBGRADER_LAB_EXTENSION: True}}
    # the server's own settings file: a `jupyter_server_config.d` file may only switch extensions
    server = {"ServerApp": {"allow_root": True}}
    extensions = {"ServerApp": {"jpserver_extensions": {name: False for name in NBGRADER_SERVER_EXTENSIONS}}}
    note = (
        "# Jupyter settings of the student edition\n\n"
        "`pip install` puts `page_config.json` in `<environment>/etc/jupyter/labconfig/`,\n"
        f"`{SERVER_CONFIG_NAME}` in `<environment>/etc/jupyter/jupyter_server_config.d/` and\n"
        "`jupyter_server_config.json` in `<environment>/etc/jupyter/`. The first two turn off nbgrader's\n"
        "JupyterLab tools (Formgrader, Create Assignment, the assignment and course lists, Validate):\n"
        "check a notebook with `autograder check` in a terminal instead. The third lets `jupyter lab`\n"
        "start as root. Delete the installed files to undo this.\n")
    return {f"{JUPYTER_FOLDER}/page_config.json": (json.dumps(page, indent=2) + "\n").encode(),
            f"{JUPYTER_FOLDER}/{SERVER_CONFIG_NAME}": (json.dumps(extensions, indent=2) + "\n").encode(),
            f"{JUPYTER_FOLDER}/jupyter_server_config.json": (json.dumps(server, indent=2) + "\n").encode(),
            f"{JUPYTER_FOLDER}/README.md": note.encode()}


def readme(project: dict, assignments: list[str]) -> str:
    title = project.get("description", "The course")
    listed = "\n".join(f"* `{a}`" for a in assignments)
    return f"""# {title}: student edition

This folder is what you need to do the assignments: the released notebooks, the `course` package
they import, the data sets, and the `autograder` command that runs the visible tests on your own
machine. (The instructors keep the solutions and the hidden tests; nothing here contains them.)

## Install (once)

With a Python {project.get('requires-python', '3')} (`python3 --version` tells):

```
python3 -m venv .venv
.venv/bin/pip install -c constraints.txt .
```

## Work on an assignment

```
.venv/bin/autograder fetch 01-problem-framing      # copies it to ./01-problem-framing/, your own copy
.venv/bin/jupyter lab 01-problem-framing/
.venv/bin/autograder check 01-problem-framing/01-problem-framing.ipynb
```

`fetch` never replaces a file you already have: run it again to get back a file you deleted.
`check` runs the assignment's visible tests on your notebook, the way grading will, and prints one
line per part. Hidden tests run only when your notebook is graded, so passing here is necessary,
not sufficient. Submit the notebook as your course tells you.

In JupyterLab, run `check` in a terminal (File > New > Terminal). This edition turns off nbgrader's
own JupyterLab tools (Formgrader, Create Assignment, Validate: they are for instructors, or say less
than `check`), and lets `jupyter lab` start as root, e.g. in a container.

Assignments in this edition:

{listed}
"""


@dataclass
class Distribution:
    folder: Path
    assignments: list[str]
    files: dict[str, bytes] = field(default_factory=dict)


def student_files(course: Course, assignments: list[str] | None = None) -> Distribution:
    """Every file of the student distribution (relative posix path -> bytes), leak-checked."""
    import autograder
    import course as course_package

    assignments = assignments or course.assignments()
    for assignment in assignments:
        course.check_assignment(assignment)
    project = _project(course)
    files: dict[str, bytes] = {}
    for assignment in assignments:  # fresh from the source, through the release's own leak check
        for name, data in release_files(course, assignment).items():
            files[f"{MATERIALS}/release/{assignment}/{name}"] = data
    datasets = course.root / "datasets"
    if datasets.is_dir():
        for path in sorted(datasets.rglob("*")):
            if path.is_file() and not _SKIP_PARTS & set(path.parts) and not path.name.startswith("."):
                files[f"{MATERIALS}/datasets/{path.relative_to(datasets).as_posix()}"] = path.read_bytes()
    files.update(_package_files(course_package))
    files.update(_package_files(autograder))
    files["pyproject.toml"] = pyproject(project).encode()
    files.update(jupyter_settings())
    files["README.md"] = readme(project, assignments).encode()
    constraints = course.root / "constraints.txt"
    if constraints.is_file():
        files["constraints.txt"] = constraints.read_bytes()
    problems = leaks(files, course_secrets(course, assignments))
    if problems:
        raise UsageError("refusing to build the student distribution: it would leak\n  - " + "\n  - ".join(problems)
                         + "\nMove that text out of the file (a shared helper must not repeat a solution line).")
    files[MARKER] = (json.dumps({"built_by": "autograder student-dist", "assignments": assignments}, indent=1)
                     + "\n").encode()
    return Distribution(Path(), assignments, files)


def write_tree(files: dict[str, bytes], out: Path, marker: str = MARKER) -> Path:
    """Write `files` as the folder `out`, atomically: built beside it and swapped in. An existing
    `out` is replaced only if it was built by this command (it holds `marker`); its `.git` is kept."""
    out = Path(out).resolve()
    if out.exists() and (not out.is_dir() or (any(out.iterdir()) and not (out / marker).exists())):
        raise UsageError(f"refusing to replace {out}: it exists and was not built by this command. "
                         "Choose a new folder for --out, or remove that one first")
    staging = out.with_name(f".{out.name}.staging")
    shutil.rmtree(staging, ignore_errors=True)
    for name, data in files.items():
        target = staging / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    for name in _KEEP_ON_REBUILD:
        if (out / name).exists():
            (out / name).rename(staging / name)
    old = out.with_name(f".{out.name}.old")
    shutil.rmtree(old, ignore_errors=True)
    if out.exists():
        out.rename(old)
    staging.rename(out)
    shutil.rmtree(old, ignore_errors=True)
    return out


def build_distribution(course: Course, out: Path, assignments: list[str] | None = None) -> Distribution:
    dist = student_files(course, assignments)
    resolved, root = Path(out).resolve(), course.root.resolve()
    own = [root / name for name in ("source", "release", "examples", "course", "autograder", "datasets")]
    if resolved == root or any(resolved == folder or folder in resolved.parents for folder in own):
        raise UsageError(f"--out {out} is the course folder or one of its own folders; choose a folder of its own "
                         "(e.g. dist/student)")
    dist.folder = write_tree(dist.files, out)
    return dist


@dataclass
class Fetched:
    folder: Path
    copied: list[str]
    kept: list[str]


def fetch(release: ReleaseFolder, assignment: str, into: Path) -> Fetched:
    """Copy a released assignment into `into/assignment/`, never replacing a file already there."""
    known = release.assignments()
    if assignment not in known:
        raise UsageError(f"no assignment {assignment!r} in {release.folder}; you can fetch: {', '.join(known) or '(none)'}")
    source = (release.folder / assignment).resolve()
    dest = (Path(into) / assignment).resolve()
    if dest == source or source in dest.parents or release.folder.resolve() in dest.parents:
        raise UsageError(f"{dest} is inside the release itself: fetch into a folder of your own, e.g. --into work")
    copied, kept = [], []
    for path in sorted(source.rglob("*")):
        rel = path.relative_to(source)
        if not path.is_file() or {"__pycache__", ".ipynb_checkpoints"} & set(rel.parts):
            continue
        target = dest / rel
        if target.exists() or target.is_symlink():
            kept.append(rel.as_posix())
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            with open(target, "xb") as handle:  # exclusive: a file that appeared meanwhile is never replaced
                handle.write(path.read_bytes())
            copied.append(rel.as_posix())
        except FileExistsError:
            kept.append(rel.as_posix())
    return Fetched(dest, copied, kept)
