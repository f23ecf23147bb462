"""Red team against the sentinel and the sandbox's file policy, through the real grader.

Two batches of a small course (the 00-mini assignment plus a part whose test compares exact
fractions with `==`): one with the strongest isolation this machine offers, one without
bubblewrap (`--no-namespaces`, as `autograder check` always runs), where the in-kernel file
policy is the only thing between student code and the private files. Every attack asserts both
that it gained nothing and that it actually ran (an output marker or the sentinel's diagnostics).
"""
from __future__ import annotations

import base64
import html
import os
import re
import sqlite3
from pathlib import Path

import nbformat
import pytest

from autograder import cells as C
from autograder import authoring as AU
from autograder.sandbox.config import KernelConfig
from autograder.grade import GradeOptions, grade_assignment
from autograder.layout import Course
from autograder.release import release_assignment
from tests import honest_globals as HG
from tests import minicourse as M

pytestmark = pytest.mark.slow

A = M.ASSIGNMENT
MAX_SCORE = M.MAX_SCORE + 1

HALF_PART = [
    AU.markdown("## Part 4\nWrite `half(n)` returning n / 2 as an exact `fractions.Fraction`."),
    AU.answer("half", "from fractions import Fraction\n\ndef half(n):\n    ### BEGIN SOLUTION\n"
                   "    return Fraction(n, 2)\n    ### END SOLUTION"),
    AU.tests("test_half", 1,
          visible="from fractions import Fraction\n_got = half(3)\n"
                  "assert type(_got) is Fraction and _got == Fraction(3, 2), 'half of 3 is 3/2'",
          hidden="_got = half(7)\nassert type(_got) is Fraction and _got == Fraction(7, 2), 'half of 7 is 7/2'\n"
                 "_got = half(-4)\nassert type(_got) is Fraction and _got == Fraction(-2), 'half of -4 is -2'"),
]
PERFECT = {**M.PERFECT, "half": "from fractions import Fraction\n\ndef half(n):\n    return Fraction(n, 2)"}
WRONG = {**M.WRONG, "half": "from fractions import Fraction\n\ndef half(n):\n    return Fraction(n)"}
CHEAT = {  # pass the visible tests, fail the hidden ones
    "add": "def add(a, b):\n    return 5 if (a, b) == (2, 3) else a - b",
    "mean": "def mean_of(xs):\n    return 2 if list(xs) == [1, 2, 3] else 0.0",
    "scale": "import numpy as np\n\ndef scale(values, factor):\n"
             "    return np.array([3.0, 6.0]) if list(values) == [1, 2] else np.zeros(len(values))",
    "half": "from fractions import Fraction\n\ndef half(n):\n    return Fraction(3, 2) if n == 3 else Fraction(0)",
}
# Inside the answers, during the test: numpy's internal isclose (what assert_allclose calls; the
# test never names it) made to agree with anything.
PATCH_ISCLOSE = ("    import numpy, numpy._core.numeric\n"
                 "    numpy._core.numeric.isclose = lambda a, b, **k: numpy.ones(numpy.broadcast(a, b).shape, bool)\n")
INDIRECT = {
    "add": "def add(a, b):\n" + PATCH_ISCLOSE + "    return 5 if (a, b) == (2, 3) else a - b",
    "mean": CHEAT["mean"],
    "scale": "import numpy as np\n\ndef scale(values, factor):\n" + PATCH_ISCLOSE +
             "    return np.array([3.0, 6.0]) if list(values) == [1, 2] else np.zeros(len(values))",
    "half": CHEAT["half"],
}
# `==` on two Fractions calls Fraction.__eq__: no name in the test's code says so.
DUNDER = {**CHEAT, "half": "from fractions import Fraction\n\ndef half(n):\n"
                           "    Fraction.__eq__ = lambda self, other: True\n    return Fraction(0)"}

SHADOW_TQDM = """
import os, sys
print('NOT YET IMPORTED', 'tqdm' not in sys.modules)
with open('tqdm.py', 'w') as handle:
    handle.write("print('SHADOW MODULE RAN')\\nimport numpy.testing\\nnumpy.testing.assert_allclose = lambda *a, **k: None\\n")
print('WROTE', os.path.abspath('tqdm.py'))
import tqdm
print('TQDM FROM', tqdm.__file__)
"""
SHADOW_DURING_TEST = """
import sys
print('COLORSYS NOT YET IMPORTED', 'colorsys' not in sys.modules)
with open('colorsys.py', 'w') as handle:
    handle.write("import sys\\nsys.modules['__main__'].__dict__.setdefault('LOG', []).append('SHADOW COLORSYS RAN')\\n")
sys.path.insert(0, '')
print('PATH NOW STARTS WITH', repr(sys.path[0]))
LOG = []
"""
SHADOW_ANSWERS = {**CHEAT, "add": "def add(a, b):\n    import colorsys\n    LOG.append('COLORSYS FROM ' + colorsys.__file__)\n"
                                  "    return 5 if (a, b) == (2, 3) else a - b"}
SHADOW_REPORT = "print('LOG', LOG)"

FLOOD = "for _ in range(4000):\n    print('x' * 100, flush=True)"

# A student whose own code relies on globals the grader used to replace while a test ran: an
# alias the locked cells import (`math`) bound to the student's own object, and a global named
# like a builtin (`id`).
OWN_ALIAS_AND_BUILTIN = """
import math as _real_math

class _MyMath:
    def __getattr__(self, name):
        return getattr(_real_math, name)

math = _MyMath()
_my_math = math
id = 'mine'
"""
OWN_ANSWERS = {
    **PERFECT,
    "add": "def add(a, b):\n    assert id == 'mine', f'my global id is {id!r}'\n    return a + b",
    "mean": "def mean_of(xs):\n    assert math is _my_math, 'my math is gone'\n    return math.fsum(xs) / len(xs)",
}

# Code called by a test reads the request that is running it, and a later cell prints, encoded,
# everything IPython remembers about the cells that ran before it.
PARENT_LEAK = {**PERFECT, "add": "def add(a, b):\n    LEAKS.append(get_ipython().kernel.get_parent()['content']['code'])\n"
                                 "    return a + b"}
HISTORY_LEAK = """
import base64
_ip = get_ipython()
_texts = ['LEAK-CHECK'] + list(LEAKS) + list(In) + list(_ip.history_manager.input_hist_raw)
_texts += [str(v) for k, v in globals().items() if k.startswith('_i') and isinstance(v, str)]
_last = _ip.last_execution_result
_texts.append(_last.info.raw_cell if _last is not None else '')
print('BLOB', base64.b64encode('\\n'.join(_texts).encode()).decode())
"""


def source_notebook() -> nbformat.NotebookNode:
    nb = M.source_notebook()
    nb.cells.extend(HALF_PART)
    for index, cell in enumerate(nb.cells):
        cell["id"] = f"cell-{index:03d}"
    return nb


def build(root: Path) -> Course:
    (root / "source" / A).mkdir(parents=True)
    (root / "nbgrader_config.py").write_text("c = get_config()\n")
    nbformat.write(source_notebook(), root / "source" / A / f"{A}.ipynb")
    course = Course(root)
    release_assignment(course, A)
    return course


def submission(course: Course, answers=None, extra=None, after=None):
    return M.submission(course, answers, extra, after)


def outputs(page: str) -> str:
    """Only what cells printed, from a feedback page."""
    return "\n".join(html.unescape(m) for m in re.findall(r'<pre class="(?:out|err)">(.*?)</pre>', page, re.S))


def grade(course: Course, base: Path, notebooks: dict, **options) -> dict:
    submissions = base / "submissions"
    for student, nb in notebooks.items():
        (submissions / student).mkdir(parents=True)
        nbformat.write(nb, submissions / student / f"{A}.ipynb")
    config = KernelConfig(cell_timeout=30, notebook_timeout=120, output_limit_bytes=256 * 1024, memory_bytes=3 * 1024**3)
    out = base / "out"
    results = grade_assignment(course, A, submissions, out,
                               GradeOptions(workers=2, config=config, progress=False, **options), log=lambda *a: None)
    pages = {r.student_id: (out / "feedback" / r.student_id / f"{A}.html") for r in results}
    return {"results": {r.student_id: r for r in results}, "out": out,
            "printed": {s: outputs(p.read_text()) if p.exists() else "" for s, p in pages.items()}}


def why(result) -> str:
    return "; ".join(f"{p.grade_id}={p.outcome}: {p.message[:100]}" for p in result.parts if p.kind == "test") + \
        f" | notes: {result.notes} | diagnostics: {result.diagnostics}"


# -- the batch with the machine's strongest isolation ----------------------------------------------
@pytest.fixture(scope="module")
def batch(tmp_path_factory):
    base = tmp_path_factory.mktemp("redteam-sentinel")
    os.chmod(base, 0o755)
    course = build(base / "course")
    source = nbformat.read(course.source_notebook(A), as_version=4)
    notebooks = {
        "perfect": submission(course, PERFECT),
        "blank": submission(course),
        "indirect_patch_numpy_internal": submission(course, INDIRECT),
        "dunder_patch_through_operator": submission(course, DUNDER),
        "shadow_module_not_yet_imported": submission(course, CHEAT, [SHADOW_TQDM], "imports"),
        "shadow_module_during_a_test": submission(course, SHADOW_ANSWERS, [SHADOW_DURING_TEST], "imports"),
        "shadow_module_during_a_test_report": None,
        "failing_test_after_many_prints": submission(course, WRONG, [FLOOD], "imports"),
        "honest_globals_named_like_test_names": HG.variant(source, submission(course, PERFECT)),
        "honest_own_alias_and_builtin_names": submission(course, OWN_ANSWERS, [OWN_ALIAS_AND_BUILTIN], "imports"),
        "reads_test_source_through_history": submission(course, PARENT_LEAK, ["LEAKS = []"], "imports"),
    }
    del notebooks["shadow_module_during_a_test_report"]
    notebooks["shadow_module_during_a_test"].cells.append(nbformat.v4.new_code_cell(SHADOW_REPORT))
    leak = notebooks["reads_test_source_through_history"]  # the printing cell goes right after the first test
    at = next(i for i, c in enumerate(leak.cells) if C.grade_id(c) == "test_add")
    leak.cells.insert(at + 1, nbformat.v4.new_code_cell(HISTORY_LEAK))
    graded = grade(course, base, notebooks)
    graded["source"] = source
    return graded


def test_controls(batch):
    results = batch["results"]
    assert results["perfect"].score == MAX_SCORE, why(results["perfect"])
    assert results["blank"].score == 0


def test_indirect_patch_of_a_library_internal_gains_nothing(batch):
    result = batch["results"]["indirect_patch_numpy_internal"]
    assert result.score == 0, why(result)
    notes = " ".join(result.diagnostics)
    assert "changed-during-test" in notes and "numpy._core.numeric.isclose" in notes, notes  # the patch ran


def test_dunder_patch_reached_through_an_operator_gains_nothing(batch):
    result = batch["results"]["dunder_patch_through_operator"]
    half = {p.grade_id: p for p in result.parts}["test_half"]
    assert not half.passed, why(result)
    assert result.score == 0, why(result)
    assert "__eq__" in " ".join(result.diagnostics), result.diagnostics  # the patch ran during the test


def test_a_module_written_into_the_scratch_folder_does_not_shadow_one_not_yet_imported(batch):
    result = batch["results"]["shadow_module_not_yet_imported"]
    printed = batch["printed"]["shadow_module_not_yet_imported"]
    assert "NOT YET IMPORTED True" in printed and "WROTE" in printed, printed[:2000]  # the attack ran
    assert "SHADOW MODULE RAN" not in printed, printed[:2000]
    assert "site-packages" in printed.split("TQDM FROM", 1)[1].splitlines()[0]
    assert result.score == 0, why(result)


def test_sys_path_is_pristine_while_a_test_runs(batch):
    result = batch["results"]["shadow_module_during_a_test"]
    printed = batch["printed"]["shadow_module_during_a_test"]
    assert "COLORSYS NOT YET IMPORTED True" in printed and "PATH NOW STARTS WITH ''" in printed, printed[:2000]
    log = printed.split("LOG ", 1)[1].splitlines()[0]
    assert "COLORSYS FROM" in log, printed[:2000]  # the answer imported it while the test ran
    assert "SHADOW COLORSYS RAN" not in log, log
    assert result.score == 0, why(result)


def test_a_failing_test_after_many_prints_reports_its_error(batch):
    result = batch["results"]["failing_test_after_many_prints"]
    assert any("output limit" in n for n in result.notes), (result.status, result.reason, result.notes, why(result))  # the flood did reach the cap
    by_id = {p.grade_id: p for p in result.parts}
    for gid in ("test_add", "test_mean", "test_scale", "test_half"):
        assert by_id[gid].outcome == "failed", why(result)
        assert by_id[gid].message.startswith("AssertionError"), by_id[gid].message
    assert not [n for n in result.notes if "integrity" in n], result.notes


def test_test_temporaries_never_reach_the_students_globals(batch):
    result = batch["results"]["honest_globals_named_like_test_names"]
    assert result.score == MAX_SCORE, why(result)
    # the tests called the student's functions, which checked their globals (and warned on stderr)
    assert {"add", "mean_of", "scale"} <= HG.functions_checked(batch["printed"]["honest_globals_named_like_test_names"])


def test_the_students_own_alias_and_builtin_named_globals_are_left_alone(batch):
    result = batch["results"]["honest_own_alias_and_builtin_names"]
    assert result.score == MAX_SCORE, why(result)


def test_code_run_by_a_test_or_after_it_cannot_read_the_tests_source(batch):
    result = batch["results"]["reads_test_source_through_history"]
    assert result.score == MAX_SCORE, why(result)
    printed = batch["printed"]["reads_test_source_through_history"]
    blob = base64.b64decode(printed.split("BLOB ", 1)[1].split()[0]).decode()
    assert "LEAK-CHECK" in blob and "def add" in blob, blob[:500]  # the attack ran and saw the history
    test_text = C.source(next(c for c in batch["source"].cells if C.grade_id(c) == "test_add"))
    hidden = [line for line in C.hidden_lines(batch["source"]) if line in test_text]
    assert hidden
    for line in hidden:
        assert line not in blob, line


# -- the batch without bubblewrap ------------------------------------------------------------------
def _private_reads(secret_file: str, gradebook: str, alias_file: str, public_file: str) -> str:
    """A cell trying to read private files by names the file policy used not to recognise."""
    return f"""
import os, sqlite3, sys
SECRET, GRADEBOOK, ALIAS, PUBLIC = {secret_file!r}, {gradebook!r}, {alias_file!r}, {public_file!r}

def attempt(label, read):
    try:
        data = read()
        print('READ', label, len(data))
    except Exception as error:
        print('BLOCKED', label, type(error).__name__)

def dir_fd_read(folder, relative):
    fd = os.open(folder, os.O_RDONLY)
    return os.read(os.open(relative, os.O_RDONLY, dir_fd=fd), 100)

class Flipping:
    calls = 0
    def __fspath__(self):
        Flipping.calls += 1
        return SECRET if Flipping.calls % 2 else PUBLIC

def db_read(target, **kwargs):
    return sqlite3.connect(target, **kwargs).execute('SELECT secret FROM vault').fetchall()

attempt('plain', lambda: open(SECRET).read())
attempt('proc_self_root', lambda: open('/proc/self/root' + SECRET).read())
attempt('proc_pid_root', lambda: open(f'/proc/{{os.getpid()}}/root' + SECRET).read())
attempt('proc_thread_self_root', lambda: open('/proc/thread-self/root' + SECRET).read())
attempt('proc_self_cwd', lambda: open('/proc/self/cwd/' + os.path.relpath(SECRET, os.getcwd())).read())
attempt('proc_self_root_bytes', lambda: open(('/proc/self/root' + SECRET).encode()).read())
attempt('symlinked_folder', lambda: open(ALIAS).read())
attempt('dir_fd_of_root', lambda: dir_fd_read('/', SECRET.lstrip('/')))
attempt('dir_fd_climbing', lambda: dir_fd_read('/usr/lib', os.path.relpath(SECRET, '/usr/lib')))
attempt('os_open_flipping_pathlike', lambda: os.read(os.open(Flipping(), os.O_RDONLY), 100))
attempt('sqlite_path', lambda: db_read(GRADEBOOK))
attempt('sqlite_uri', lambda: db_read('file:' + GRADEBOOK.replace('/', '%2F') + '?mode=ro', uri=True))
attempt('control_public', lambda: open(PUBLIC).read())
attempt('control_public_through_proc', lambda: open('/proc/self/root' + PUBLIC).read())
print('CMDLINE', open('/proc/self/cmdline', 'rb').read().replace(b'\\0', b' ').decode())
print('PARENT CMDLINE', open(f'/proc/{{os.getppid()}}/cmdline', 'rb').read().replace(b'\\0', b' ').decode())
"""


PRIVATE_LABELS = ("plain", "proc_self_root", "proc_pid_root", "proc_thread_self_root", "proc_self_cwd",
                  "proc_self_root_bytes", "symlinked_folder", "dir_fd_of_root", "dir_fd_climbing",
                  "os_open_flipping_pathlike", "sqlite_path", "sqlite_uri")


@pytest.fixture(scope="module")
def bare(tmp_path_factory):
    base = tmp_path_factory.mktemp("redteam-bare")
    os.chmod(base, 0o755)
    course = build(base / "course")
    secret = course.source_notebook(A)
    gradebook = course.root / "gradebook.db"  # a private path of every grading run
    with sqlite3.connect(gradebook) as db:
        db.execute("CREATE TABLE vault (secret TEXT)")
        db.execute("INSERT INTO vault VALUES ('SQLITE-SECRET')")
    (base / "alias").symlink_to(course.source)  # the same private folder under another name
    public = base / "public.txt"
    public.write_text("anyone may read this")
    attack = _private_reads(str(secret), str(gradebook), str(base / "alias" / A / f"{A}.ipynb"), str(public))
    notebooks = {
        "perfect": submission(course, PERFECT),
        "reads_private_files_by_other_names": submission(course, PERFECT, [attack], None),
        "shadow_module_not_yet_imported": submission(course, CHEAT, [SHADOW_TQDM], "imports"),
    }
    graded = grade(course, base, notebooks, use_namespaces=False, sandbox_user=None)
    graded["private"] = [str(course.source), str(gradebook), str(graded["out"]), str(base / "submissions"),
                         str(course.examples)]
    return graded


def test_bare_controls(bare):
    result = bare["results"]["perfect"]
    assert result.score == MAX_SCORE, why(result)
    assert "namespaces" not in result.isolation.split("MISSING")[0]


def test_private_files_stay_unreadable_by_any_name_without_bubblewrap(bare):
    printed = bare["printed"]["reads_private_files_by_other_names"]
    lines = dict(line.split(" ", 2)[1::-1] for line in printed.splitlines() if line.startswith(("READ ", "BLOCKED ")))
    assert lines.get("control_public") == "READ" and lines.get("control_public_through_proc") == "READ", printed
    read = [label for label in PRIVATE_LABELS if lines.get(label) != "BLOCKED"]
    assert not read, f"read or not tried: {read}\n{printed}"
    assert "SQLITE-SECRET" not in printed


def test_the_kernel_is_not_told_what_it_must_not_read(bare):
    printed = bare["printed"]["reads_private_files_by_other_names"]
    cmdline = [line for line in printed.splitlines() if "CMDLINE" in line]
    assert len(cmdline) == 2, printed  # the attack ran
    for line in cmdline:
        assert "protected" not in line and "allowed_paths" not in line, line
        for path in bare["private"]:
            assert path not in line, (path, line)


def test_shadowing_without_bubblewrap(bare):
    result = bare["results"]["shadow_module_not_yet_imported"]
    printed = bare["printed"]["shadow_module_not_yet_imported"]
    assert "WROTE" in printed and "NOT YET IMPORTED True" in printed, printed[:2000]
    assert "SHADOW MODULE RAN" not in printed, printed[:2000]
    assert result.score == 0, why(result)
