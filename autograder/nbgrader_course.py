"""What an instructor's own nbgrader course brings with it, read the way nbgrader reads it.

- `nbgrader_config.py` at the course root: its folders (`CourseDirectory.source_directory`,
  `release_directory`), the stubs the release puts in answer cells (`ClearSolutions.code_stub`,
  `text_stub`) and the cell timeout (`Execute.timeout`, or the older
  `ExecutePreprocessor.timeout`). The file is loaded with traitlets, as nbgrader loads it.
- `### AUTOTEST` / `### HASHED AUTOTEST` lines in test cells (nbgrader 0.9), expanded with
  nbgrader's own `InstantiateTests` and the course's `autotests.yml`.
- Kernels: the grader runs Python notebooks only. Python kernels go by many names (`python`,
  `python3`, `conda-env-NAME-py`, a kernel named after a virtualenv); those named in
  `PYTHON_KERNEL_NAMES` / `PYTHON_KERNEL_PATTERNS`, or whose kernelspec says `language: python`,
  are graded on the grader's own Python; any other kernel is refused as "Python only".

Which authoring rules apply: this course's own assignments (`NN-name/NN-name.ipynb`) keep the
strict rules of `release.validate_source`; any other assignment is an nbgrader assignment, whose
habits (code cells without metadata, tests without hidden blocks, whole-cell solutions, no
`parameters` cell) are warnings, listed by `autograder lint`. `c.Autograder.authoring_rules =
"nbgrader"` (or `"strict"`) in the course's config overrides the choice for every assignment.
"""
from __future__ import annotations

import copy
import functools
import re
from pathlib import Path

import nbformat

from autograder.errors import SourceNotebookError, UsageError

CONFIG_FILE = "nbgrader_config.py"
DEFAULT_CODE_STUB = "# YOUR CODE HERE\nraise NotImplementedError()"
DEFAULT_TEXT_STUB = "YOUR ANSWER HERE"
AUTOTEST_MARK = re.compile(r"^\s*###\s+(HASHED\s+)?AUTOTEST\b", re.M)
PYTHON_KERNEL_NAMES = {"python", "python3", "python2", "ipykernel", "ipython", "python3-ipykernel", "pyodide",
                       "xpython", "conda-root-py", "conda-base-py"}
PYTHON_KERNEL_PATTERNS = [re.compile(r"^conda-env-.+-py$"), re.compile(r"^python[0-9.]*(-.+)?$"),
                          re.compile(r"^(venv|virtualenv|pyenv)-.+$")]
STRICT, NBGRADER = "strict", "nbgrader"
_COURSE_STYLE = re.compile(r"^\d\d-[a-z0-9]+(?:-[a-z0-9]+)*$")


@functools.lru_cache(maxsize=16)
def _load(root: str, text: bytes):  # keyed on the file's bytes: an edit is always seen
    from traitlets.config import Config
    from traitlets.config.loader import ConfigFileNotFound, PyFileConfigLoader

    try:
        return PyFileConfigLoader(CONFIG_FILE, path=root).load_config()
    except ConfigFileNotFound:
        return Config()
    except Exception as error:  # noqa: BLE001 - an instructor's Python file can raise anything
        raise UsageError(f"{Path(root) / CONFIG_FILE} could not be read ({type(error).__name__}: {error}); "
                         "fix it so that `nbgrader` itself can load it") from None


def load_config(root: Path):
    """The course's nbgrader configuration (a traitlets Config; empty if there is no file)."""
    path = Path(root) / CONFIG_FILE
    return _load(str(Path(root)), path.read_bytes() if path.is_file() else b"")


def _value(config, section: str, name: str, default=None):
    part = config.get(section)
    if part is not None and name in part:
        return part[name]
    return default


def course_folder(root: Path, kind: str) -> Path:
    """`source` or `release`: where nbgrader_config.py says that folder is (relative to the root
    the config names, itself relative to the course folder)."""
    config = load_config(root)
    base = Path(root)
    configured_root = _value(config, "CourseDirectory", "root")
    if configured_root and configured_root != ".":
        base = (base / str(configured_root)).resolve()
    name = _value(config, "CourseDirectory", f"{kind}_directory", kind)
    return base / str(name)


def stubs(root: Path) -> dict:
    """The stubs nbgrader's ClearSolutions writes into answer cells, from the course config."""
    config = load_config(root)
    code = _value(config, "ClearSolutions", "code_stub", None)
    if isinstance(code, dict):
        code = code.get("python", DEFAULT_CODE_STUB)
    return {"code_stub": code if isinstance(code, str) else DEFAULT_CODE_STUB,
            "text_stub": _value(config, "ClearSolutions", "text_stub", DEFAULT_TEXT_STUB)}


def cell_timeout(root: Path) -> float | None:
    """Seconds per cell the course config asks for (Execute.timeout, ExecutePreprocessor.timeout)."""
    config = load_config(root)
    for section in ("Execute", "ExecutePreprocessor"):
        value = _value(config, section, "timeout")
        if isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0:
            return float(value)
    return None


def authoring_rules(root: Path, assignment: str, notebook_name: str) -> str:
    """STRICT for this course's own assignments, NBGRADER for any other (see the module doc)."""
    chosen = _value(load_config(root), "Autograder", "authoring_rules")
    if chosen in (STRICT, NBGRADER):
        return chosen
    if chosen is not None:
        raise UsageError(f"c.Autograder.authoring_rules = {chosen!r} in {CONFIG_FILE}: use 'strict' or 'nbgrader'")
    return STRICT if _COURSE_STYLE.match(assignment) and notebook_name == f"{assignment}.ipynb" else NBGRADER


# -- release preprocessors with the course's settings ----------------------------------------------
STUBS_KEY = "nbgrader_stubs"


def with_stubs(nb: nbformat.NotebookNode, root: Path) -> nbformat.NotebookNode:
    """Remember the course's answer stubs in the notebook's metadata, so every later step that
    clears solutions (the release, the student view the grader compares answers with) uses them,
    wherever it runs (a worker process, a Dask worker)."""
    nb.metadata.setdefault("autograder", {})[STUBS_KEY] = stubs(root)
    return nb


def preprocessor_config(nb: nbformat.NotebookNode):
    """A traitlets Config for nbgrader's ClearSolutions from the stubs `with_stubs` recorded."""
    from traitlets.config import Config

    config = Config()
    recorded = nb.get("metadata", {}).get("autograder", {}).get(STUBS_KEY)
    if recorded:
        config.ClearSolutions.code_stub = {"python": recorded["code_stub"]}
        config.ClearSolutions.text_stub = recorded["text_stub"]
    return config


# -- kernels --------------------------------------------------------------------------------------
def kernel_problem(nb: nbformat.NotebookNode) -> str | None:
    """None when the notebook is a Python notebook; otherwise what is wrong ("Python only")."""
    spec = nb.get("metadata", {}).get("kernelspec") or {}
    info = nb.get("metadata", {}).get("language_info") or {}
    name = str(spec.get("name") or "")
    language = str(spec.get("language") or info.get("name") or "").lower()
    if not name and language in ("", "python"):
        return None
    if name in PYTHON_KERNEL_NAMES or any(p.match(name) for p in PYTHON_KERNEL_PATTERNS):
        return None
    if language == "python":
        return None
    return (f"its kernel is {name or '?'!r} (language {language or 'unknown'}), and the grader runs Python "
            "notebooks only; a Python notebook under another kernel name needs `\"language\": \"python\"` in "
            "its kernelspec metadata")


# -- autotests ------------------------------------------------------------------------------------
def has_autotests(nb: nbformat.NotebookNode) -> bool:
    return any(c.get("cell_type") == "code" and AUTOTEST_MARK.search(_text(c)) for c in nb.cells)


def _text(cell) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else str(source)


def expand_autotests(nb: nbformat.NotebookNode, notebook_dir: Path, course_root: Path) -> nbformat.NotebookNode:
    """A copy of `nb` with its AUTOTEST lines turned into asserts by nbgrader's InstantiateTests.

    The snippets are evaluated on the instructor's solution in a kernel started in the notebook's
    folder (what nbgrader's generate_assignment does); `autotests.yml` is looked up beside the
    notebook, then at the course root. Hashed autotests get a salt each time, so the release and
    the copy a batch grades with may differ in salt only; both check the same values.
    """
    if not has_autotests(nb):
        return nb
    from nbgrader.preprocessors import InstantiateTests

    for folder in (Path(notebook_dir), Path(course_root)):
        templates = folder / "autotests.yml"
        if templates.is_file():
            break
    else:
        raise SourceNotebookError(f"{notebook_dir.name}: test cells use '### AUTOTEST' but there is no autotests.yml "
                                  "beside the notebook or at the course root (nbgrader's autotest templates)")
    work = copy.deepcopy(nb)
    original = work.metadata.get("kernelspec")
    work.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    preprocessor = InstantiateTests(autotest_filename=str(templates.resolve()))
    resources = {"metadata": {"path": str(Path(notebook_dir).resolve())}}
    try:
        work, _ = preprocessor.preprocess(work, resources)
    except Exception as error:  # noqa: BLE001 - the instructor's solution or templates failed
        raise SourceNotebookError(f"{notebook_dir.name}: expanding the AUTOTEST lines failed ({type(error).__name__}: "
                                  f"{error}); run the source notebook to check its solutions, and check "
                                  "autotests.yml") from None
    if original is not None:
        work.metadata["kernelspec"] = original
    else:
        work.metadata.pop("kernelspec", None)
    return work


def prepare_source(nb: nbformat.NotebookNode, notebook_path: Path, course_root: Path) -> nbformat.NotebookNode:
    """The source notebook as the grader works with it: a Python notebook, autotests expanded,
    the course's answer stubs recorded. Raises SourceNotebookError for a notebook in another
    language."""
    problem = kernel_problem(nb)
    if problem:
        raise SourceNotebookError(f"{notebook_path.name}: {problem}")
    nb = expand_autotests(nb, notebook_path.parent, course_root)
    return with_stubs(nb, course_root)
