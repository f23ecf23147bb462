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

import io
import json
import os
import sqlite3
import subprocess
import tempfile
import uuid
import zipfile

from pathlib import Path

import nbformat
import pytest

import course as course_pkg

from autograder import results as R
from autograder.execute import Settings
from autograder.grade import GradeOptions, grade_assignment
from autograder.sandbox.isolation import Limits, detect
from autograder.sandbox.memory import reserve_for
from tests import helpers as H
from tests import minicourse as M

def trigger_code(folders: str) -> str:
    """A cell that looks for SQLite gradebooks under `folders` (a Python expression) and installs
    a trigger zeroing every grade written after it; it ends by printing how many it found."""
    return f"""
import glob, os, sqlite3, tempfile, course
found = 0
for base in {folders}:
    for path in glob.glob(base + '/**/*.db', recursive=True)[:20]:
        found += 1
        try:
            db = sqlite3.connect(path)
            db.execute("CREATE TRIGGER zero AFTER UPDATE ON grade BEGIN UPDATE grade SET auto_score = 0; END")
            db.commit()
            print('TRIGGER INSTALLED', path)
        except Exception as error:
            print('blocked', path, type(error).__name__)
print('TRIGGER SEARCH DONE', found)
"""


# Where a student would look for gradebooks: the kernel's temporary folder, the folder above its
# working directory, its home, and the folder that holds the course checkout (found from the
# `course` package). The batch adds the folder it grades into.
TRIGGER_FOLDERS = ("[tempfile.gettempdir(), os.path.dirname(os.getcwd()), os.path.expanduser('~'), "
                   "os.path.dirname(os.path.dirname(os.path.dirname(course.__file__)))]")


CHEAT = {  # pass the visible tests, fail the hidden ones
    "add": "def add(a, b):\n    return 5 if (a, b) == (2, 3) else a - b",
    "mean": "def mean_of(xs):\n    return 2 if list(xs) == [1, 2, 3] else 0.0",
    "scale": "import numpy as np\n\ndef scale(values, factor):\n"
             "    return np.array([3.0, 6.0]) if list(values) == [1, 2] else np.zeros(len(values))",
}
# Code a test calls replaces a global of the digest module that the sentinel's hook once read
# while digesting each statement: the replacement's __rand__ then ran inside the hook, found the
# receipt writer in the frames above it and signed a receipt for the whole test cell (its hidden
# part included), so a wrong answer passed.
FORGE_FROM_INSIDE_THE_HOOK = """import sys

def add(a, b):
    digest = sys.modules['autograder.sandbox.digest']
    if type(digest._FLAG_MASK) is int:
        class Mask:
            busy = False

            def __rand__(self, flags):
                if not Mask.busy:
                    Mask.busy = True
                    try:
                        forge(sys._getframe(1))
                    except Exception as error:
                        print('FORGERY FAILED', type(error).__name__, error)
                    Mask.busy = False
                return flags & 0x3FF
        digest._FLAG_MASK = Mask()
        print('MASK INSTALLED')
    return 5 if (a, b) == (2, 3) else a - b

def forge(frame):
    import ast
    while frame is not None and frame.f_code.co_name != 'on_exec':
        frame = frame.f_back
    hook_locals = frame.f_locals
    runner = frame
    while runner is not None and runner.f_code.co_name != 'run_ast_nodes':
        runner = runner.f_back
    digest = sys.modules['autograder.sandbox.digest']
    codes = [compile(ast.Module([node], []), '<cell>', 'exec', dont_inherit=True) for node in runner.f_locals['nodelist']]
    hook_locals['write_receipt'](hook_locals['armed'].cell, [digest.code_digest(code) for code in codes])
    print('FORGED A RECEIPT FOR', hook_locals['armed'].cell)
"""
SECRET_ENV = f"sekrit-{uuid.uuid4().hex}"
ESCAPE_MARKER = os.path.join(tempfile.gettempdir(), f"autograder-escape-{uuid.uuid4().hex}")
SLEEP_MARKER = f"3071.{uuid.uuid4().int % 10**6:06d}"  # this batch's `sleep` processes must not outlive grading
OTHER_MARKER = f"SECRET-MARKER-{uuid.uuid4().hex}"

ATTACKS = {
    "input_transformer_erases_asserts": (CHEAT, ["""
ip = get_ipython()
def erase(lines):
    return [line for line in lines if 'assert' not in line]
ip.input_transformers_post.append(erase)
ip.input_transformers_cleanup.append(erase)
"""], "imports"),
    "input_transformer_replaces_tests": (CHEAT, ["""
def neuter(lines):
    text = ''.join(lines)
    return ['pass\\n'] if 'assert' in text or 'testing' in text else lines
get_ipython().input_transformers_cleanup.insert(0, neuter)
print('NEUTER INSTALLED', neuter in get_ipython().input_transformers_cleanup)
"""], "imports"),
    "ast_transformer_drops_asserts": (CHEAT, ["""
import ast
class Drop(ast.NodeTransformer):
    def visit_Assert(self, node):
        return ast.Pass()
    def visit_Expr(self, node):
        return ast.Pass() if isinstance(node.value, ast.Call) else node
get_ipython().ast_transformers.append(Drop())
"""], "imports"),
    "custom_exception_handler": (CHEAT, ["""
get_ipython().set_custom_exc((Exception,), lambda shell, etype, value, tb, tb_offset=None: None)
print('HANDLER SET FOR', get_ipython().custom_exceptions)
"""], "imports"),
    "event_callbacks_repatch": (CHEAT, ["""
import math, numpy
def repatch(*args, **kwargs):
    numpy.testing.assert_allclose = lambda *a, **k: None
    math.isclose = lambda *a, **k: True
get_ipython().events.register('pre_run_cell', repatch)
get_ipython().events.register('pre_execute', repatch)
repatch()
"""], "imports"),
    "displayhook_partial_credit": ({
        "add": "import sys\ndef add(a, b):\n    sys.displayhook(2)\n    return 5 if (a, b) == (2, 3) else a - b",
        "mean": "import sys\ndef mean_of(xs):\n    sys.displayhook('ok')\n    return 2 if list(xs) == [1, 2, 3] else 0.0",
        "scale": CHEAT["scale"],
    }, ["print('DISPLAYHOOK ANSWERS RAN', add(1, 1), mean_of([5]))"], None),
    "monkeypatch_testing_helpers": (CHEAT, ["""
import math, numpy, numpy.testing
numpy.testing.assert_allclose = lambda *a, **k: None
numpy.testing._private.utils.assert_allclose = lambda *a, **k: None
math.isclose = lambda *a, **k: True
"""], "imports"),
    "monkeypatch_builtins": (CHEAT, ["""
import builtins
builtins.abs = lambda x: 0.0
builtins.float = lambda x=0.0: 2.0
print('BUILTINS PATCHED', abs(-3), float(7))
"""], "imports"),  # (patching list, len or isinstance hangs the kernel's own code before any test runs)
    "shadow_builtins_with_globals": (CHEAT, ["""
abs = lambda x: 0.0
float = lambda x=0.0: 2.0
print('SHADOWED', abs(-3), float(7))
"""], "imports"),
    "patch_helpers_during_the_test": ({
        "add": "def add(a, b):\n    import math, numpy\n"
               "    numpy.testing.assert_allclose = lambda *a, **k: None\n"
               "    math.isclose = lambda *a, **k: True\n"
               "    globals()['abs'] = lambda x: 0.0\n"
               "    return 5 if (a, b) == (2, 3) else a - b",
        "mean": "def mean_of(xs):\n    import math\n    math.isclose = lambda *a, **k: True\n"
                "    return 2 if list(xs) == [1, 2, 3] else 0.0",
        "scale": "import numpy as np\n\ndef scale(values, factor):\n"
                 "    import numpy\n    numpy.testing.assert_allclose = lambda *a, **k: None\n"
                 "    return np.zeros(3)",
    }, [], None),
    "always_equal_objects": ({
        "add": "class Yes:\n    def __eq__(self, other): return True\n    def __ne__(self, other): return False\n"
               "    def __float__(self): return 0.0\n\ndef add(a, b):\n    return Yes()",
        "mean": "class Yes2(float):\n    def __eq__(self, other): return True\n\ndef mean_of(xs):\n    return Yes2(0.0)",
        "scale": CHEAT["scale"],
    }, ["print('ALWAYS EQUAL', add(1, 1) == 'anything', mean_of([]) == 42)"], None),
    "kernel_exits_with_os_exit": (CHEAT, ["import os\nos._exit(0)"], "add"),
    "raises_system_exit": (CHEAT, ["raise SystemExit(0)"], "add"),
    "sys_exit_inside_answers": ({
        "add": "import sys\ndef add(a, b):\n    if (a, b) != (2, 3):\n        sys.exit(0)\n    return 5",
        "mean": CHEAT["mean"], "scale": CHEAT["scale"]}, [], None),
    "kernel_kills_itself": (CHEAT, ["import os, signal\nos.kill(os.getpid(), signal.SIGKILL)"], "add"),
    "forged_receipts": (CHEAT, ["""
import os
forged = ''.join(f'R {t} {"0" * 64} {"0" * 64}\\n' for t in ('test_add', 'test_mean', 'test_scale'))
for fd in os.listdir('/proc/self/fd'):
    try:
        target = os.readlink(f'/proc/self/fd/{fd}')
    except OSError:
        continue
    if 'receipt' in target:
        os.write(int(fd), forged.encode())
"""], "scale"),
    "trace_function_skips_asserts": (CHEAT, ["""
import sys
try:
    sys.settrace(lambda frame, event, arg: None)
    print('settrace allowed')
except RuntimeError as error:
    print('settrace refused')
"""], "imports"),
    "replace_code_of_helpers": (CHEAT, ["""
import numpy.testing
try:
    numpy.testing.assert_allclose.__code__ = (lambda *a, **k: None).__code__
    print('code swap allowed')
except RuntimeError:
    print('code swap refused')
"""], "imports"),
    "evil_string_keys": ({**CHEAT, "scale": "print('EVIL KEYS LEFT', sum(type(k) is Evil for k in vars(numpy.testing)), "
                                           "'CALLS', len(EVIL_CALLS), 'SAW', sorted(set(EVIL_SAW)))\n"
                                           + CHEAT["scale"]}, ["""
import numpy.testing
EVIL_CALLS, EVIL_SAW = [], []
class Evil(str):
    def __eq__(self, other):
        import sys
        EVIL_CALLS.append(1)
        frame = sys._getframe(1)
        while frame is not None:  # any frame of the grader's own code (the sentinel's hook)
            if str(frame.f_globals.get('__name__', '')).startswith('autograder'):
                EVIL_SAW.append(frame.f_code.co_name)
            frame = frame.f_back
        return False
    __hash__ = str.__hash__
vars(numpy.testing)[Evil('assert_allclose')] = lambda *a, **k: None
vars(numpy.testing)['assert_allclose'] = lambda *a, **k: None
print('EVIL KEYS PLANTED', sum(type(k) is Evil for k in vars(numpy.testing)), 'CALLS', len(EVIL_CALLS))
"""], "imports"),
    # (module shadowing: tests/test_redteam_sentinel.py, where each attack also asserts it ran)
    "edited_test_cells": (CHEAT, [], None),  # test cells rewritten below
    "code_run_inside_the_hook_forges_a_receipt": ({**CHEAT, "add": FORGE_FROM_INSIDE_THE_HOOK}, [], None),
}

HOARD = """
import numpy as np
hoard = []
try:
    while True:
        hoard.append(np.zeros(2**17))  # 1 MiB of address space each, no RAM touched
except MemoryError:
    del hoard[-16:]
print('HOARDED', len(hoard), 'MiB')
"""

PRODUCT = "import numpy as np\nprint('PRODUCT', (np.ones((300, 300)) @ np.ones((300, 300))).sum())"
LATER_ALLOCATION = "import numpy as np\nprint('LATER CELL GOT', np.ones(2**23).nbytes // 2**20, 'MiB')"

HONEST = {
    "perfect": (M.PERFECT, [], None),
    "warnings_on_stderr": ({
        "add": "import sys, warnings\ndef add(a, b):\n    warnings.warn('adding floats')\n"
               "    print('debug: add called', file=sys.stderr)\n    return a + b",
        "mean": M.PERFECT["mean"], "scale": M.PERFECT["scale"]}, [], None),
    "harmless_hooks_and_globals": (M.PERFECT, ["""
get_ipython().events.register('post_run_cell', lambda result: None)
get_ipython().input_transformers_post.append(lambda lines: lines)
from __future__ import annotations
max = 10
"""], "imports"),  # a global named like a builtin that the answers do not use (they see the student's own globals)
    "infinite_loop_interrupted": (M.PERFECT, ["while True:\n    pass"], "add"),
    "memory_bomb": (M.PERFECT, ["blob = bytearray(16 * 1024**3)"], "add"),
    "memory_filled_row_by_row": (M.PERFECT, [H.MEMORY_MISTAKE, LATER_ALLOCATION], "add"),
    # memory held in a global up to the limit, then a native library that aborts when its own
    # allocation fails (as libzmq does): the kernel truly dies, and the reason must say why
    "memory_kept_then_native_abort": (M.PERFECT, [HOARD, "import os\nos.abort()"], "add"),
    # the kernel's first matrix product after the memory is used up (OpenBLAS maps a work buffer)
    "memory_kept_then_matrix_product": (M.PERFECT, [HOARD, PRODUCT], "add"),
    "huge_output": (M.PERFECT, ["for i in range(200_000):\n    print('x' * 100)"], "add"),
    "deleted_and_retyped_tests": (M.PERFECT, [], None),  # test cells mangled below
    "reads_source_and_secrets": (M.PERFECT, [f"""
import os, glob, course
root = os.path.dirname(os.path.dirname(course.__file__))
wanted = ('BEGIN HIDDEN', 'BEGIN SOLUTION', 'SECRET-MARKER', 'grade_cell', 'receipt')
count = 0
import tempfile
for folder in [root, os.path.dirname(root), os.path.dirname(os.getcwd()), tempfile.gettempdir(), os.path.expanduser('~')]:
    for dirpath, dirnames, filenames in os.walk(folder):
        dirnames[:] = [d for d in dirnames if d not in ('.venv', 'site-packages', '.git')]
        for name in filenames:
            path = os.path.join(dirpath, name)
            try:
                with open(path, errors='replace') as handle:
                    text = handle.read(2_000_000)
                count += 1
            except Exception as error:
                continue
            if any(w in text for w in wanted):
                print('FOUND', path)
print('files read:', count)
print(dict(os.environ))
for proc in ('/proc/self/environ', '/proc/1/environ', '/proc/1/cmdline'):
    try:
        print(proc, open(proc, 'rb').read())
    except Exception as error:
        print('blocked', proc, type(error).__name__)
try:
    open('{ESCAPE_MARKER}', 'w').write('escaped')
    print('tmp write went somewhere')
except Exception as error:
    print('tmp write blocked', type(error).__name__)
try:
    open(os.path.join(os.path.dirname(course.__file__), 'escape.txt'), 'w').write('escaped')
    print('package write allowed')
except Exception as error:
    print('package write blocked', type(error).__name__)
import socket
try:
    socket.create_connection(('1.1.1.1', 53), timeout=3)
    print('network open')
except Exception as error:
    print('network blocked', type(error).__name__)
"""], None),
    "leaks_hidden_tests_through_frames": ({
        "add": "import inspect\nLEAK = []\ndef add(a, b):\n    for info in inspect.stack()[1:3]:\n"
               "        LEAK.append(repr(info.code_context))\n    return a + b",
        "mean": M.PERFECT["mean"], "scale": M.PERFECT["scale"]}, ["print('LEAK', LEAK)"], None),
    "reports_its_limits": (M.PERFECT, ["""
import resource
print('LIMITS', *resource.getrlimit(resource.RLIMIT_AS), resource.getrlimit(resource.RLIMIT_NPROC)[0])
"""], None),
    "orphan_processes": (M.PERFECT, [f"""
import os, subprocess, time
try:
    subprocess.Popen(['sleep', '{SLEEP_MARKER}'])
    if os.fork() == 0:
        os.setsid()
        if os.fork() == 0:
            os.execvp('sleep', ['sleep', '{SLEEP_MARKER}'])
        os._exit(0)
    print('ORPHANS STARTED')
except Exception as error:
    print('ORPHANS REFUSED', type(error).__name__)
time.sleep(0.5)
"""], "add"),
    "gradebook_trigger_first_in_line": (M.PERFECT, [trigger_code(TRIGGER_FOLDERS)], None),
}

# Proof that each attack ran: (where to look, what must be there). Where: "diagnostic" (a line the
# sentinel wrote, result.diagnostics), "note" (the grader's notes), "message" (a part's message),
# "status", or "printed" (what the notebook's own cells printed into the feedback page).
ATTACK_EVIDENCE = {
    "input_transformer_erases_asserts": ("note", "test code was altered before it ran"),
    "input_transformer_replaces_tests": ("printed", "NEUTER INSTALLED True"),
    "ast_transformer_drops_asserts": ("note", "no receipt although the cell reported no error"),
    "custom_exception_handler": ("printed", "HANDLER SET FOR (<class 'Exception'>,)"),
    "event_callbacks_repatch": ("diagnostic", "numpy.testing.assert_allclose"),
    "displayhook_partial_credit": ("printed", "2\n'ok'\nDISPLAYHOOK ANSWERS RAN"),  # the hook's values were shown
    "monkeypatch_testing_helpers": ("diagnostic", "numpy.testing._private.utils.assert_allclose"),
    "monkeypatch_builtins": ("diagnostic", "restored 2 changed entries: builtins.abs,builtins.float"),
    "shadow_builtins_with_globals": ("printed", "SHADOWED 0.0 2.0"),
    "patch_helpers_during_the_test": ("diagnostic", "changed-during-test: math.isclose"),
    "always_equal_objects": ("printed", "ALWAYS EQUAL True True"),
    "kernel_exits_with_os_exit": ("status", R.KERNEL_DIED),
    "raises_system_exit": ("printed", "SystemExit: 0"),
    "sys_exit_inside_answers": ("message", "SystemExit"),
    "kernel_kills_itself": ("status", R.KERNEL_DIED),
    "forged_receipts": ("note", "receipts with invalid signatures for test_add, test_mean, test_scale"),
    "trace_function_skips_asserts": ("printed", "settrace refused"),
    "replace_code_of_helpers": ("printed", "code swap refused"),
    "evil_string_keys": ("diagnostic", "restored 1 changed entries: numpy.testing.assert_allclose"),
    "edited_test_cells": ("note", "test cell 'test_add' was missing from the submission"),
    "code_run_inside_the_hook_forges_a_receipt": (
        "diagnostic", "restored 1 changed entries: autograder.sandbox.digest._FLAG_MASK"),
}
# Module shadowing lives in tests/test_redteam_sentinel.py, where each case asserts it ran.
EVIDENCE_IN_ITS_OWN_TEST: set[str] = set()


def outputs(page: str) -> str:
    """Only what cells printed, from a feedback page (not the code that was shown)."""
    import html
    import re

    return "\n".join(html.unescape(m) for m in re.findall(r'<pre class="(?:out|err)">(.*?)</pre>', page, re.S))


def _mangle_tests(nb):
    """Delete one test cell, retype another, neuter and re-point a third, duplicate it."""
    cells = []
    for cell in nb.cells:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        gid = meta.get("grade_id")
        if gid == "test_add":
            continue  # deleted
        if gid == "test_mean":
            cell = nbformat.v4.new_markdown_cell(cell.source, metadata=cell.metadata)
        if gid == "test_scale":
            cell.source = "pass"
            cell.metadata["nbgrader"]["points"] = 100
            cells.append(cell)
            twin = nbformat.from_dict(json.loads(json.dumps(cell)))
            twin["id"] = "twin"
            cell = twin
        cells.append(cell)
    nb.cells = cells
    return nb


def _malformed(folder):
    (folder / "not_json.ipynb").write_text("{not json")
    (folder / "not_utf8.ipynb").write_bytes(b"\xff\xfe\x00garbage")
    (folder / "json_not_notebook.ipynb").write_text('{"hello": "world"}')
    other = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("print('other assignment')")])
    (folder / "wrong_assignment").mkdir()
    nbformat.write(other, folder / "wrong_assignment" / f"{M.ASSIGNMENT}.ipynb")
    (folder / "empty_folder").mkdir()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("../../escape.ipynb", "{}")
        archive.writestr("notes.txt", "no notebook here")
    (folder / "zip_traversal.zip").write_bytes(buffer.getvalue())
    (folder / "broken_zip.zip").write_bytes(b"PK\x03\x04 this is not a zip")


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
            nb = _mangle_tests(nb)
        folder = submissions / name
        folder.mkdir()
        nbformat.write(nb, folder / f"{M.ASSIGNMENT}.ipynb")
    blank = M.submission(course)
    (submissions / "blank").mkdir()
    nbformat.write(blank, submissions / "blank" / f"{M.ASSIGNMENT}.ipynb")
    (submissions / "zz_honest_after_trigger").mkdir()
    bob = M.submission(course, M.PERFECT, [f"# {OTHER_MARKER}"], None)
    nbformat.write(bob, submissions / "zz_honest_after_trigger" / f"{M.ASSIGNMENT}.ipynb")
    _malformed(submissions)

    os.environ["AUTOGRADER_TEST_SECRET"] = SECRET_ENV
    settings = Settings(cell_timeout=6, notebook_timeout=90, output_limit_bytes=256 * 1024,
                        limits=Limits(memory_bytes=1536 * 1024**2))
    out = base / "out"
    results = grade_assignment(course, M.ASSIGNMENT, submissions, out,
                               GradeOptions(workers=2, settings=settings, progress=False), log=lambda *a: None)
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
        assert processes == Limits().processes


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
