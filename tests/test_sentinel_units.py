"""Pieces of the sentinel, in this process: the file policy's path resolution, the library-state
tracker, and the receipt hook's units (snapshot, restore, change check, the test's namespace),
up to the whole hook driven by hand through a real IPython shell. No audit hook is installed
here (hooks cannot be removed from a process): the tests call the hook with the events the
interpreter would deliver."""
from __future__ import annotations

import functools
import os
import sqlite3
import sys
import types
from pathlib import Path

import pytest

from autograder.sandbox import libstate
from autograder.sandbox.paths import climbs_above_start, make_path_guard, make_resolver


# -- paths ---------------------------------------------------------------------------------------
@pytest.fixture
def tree(tmp_path):
    private = tmp_path / "course" / "source"
    private.mkdir(parents=True)
    (private / "secret.ipynb").write_text("hidden")
    scratch = tmp_path / "runs" / "run-1" / "scratch"
    scratch.mkdir(parents=True)
    (tmp_path / "public.txt").write_text("public")
    (tmp_path / "alias").symlink_to(tmp_path / "course")
    (tmp_path / "hop1").symlink_to("hop2")
    (tmp_path / "hop2").symlink_to(tmp_path / "course" / "source")
    (tmp_path / "loop").symlink_to(tmp_path / "loop")
    return tmp_path


def test_resolver_follows_links_like_the_kernel(tree):
    resolve = make_resolver()
    real = str((tree / "course" / "source" / "secret.ipynb").resolve())
    assert resolve(str(tree / "alias" / "source" / "secret.ipynb")) == real
    assert resolve(str(tree / "hop1" / "secret.ipynb")) == real  # a relative link to an absolute one
    assert resolve("/proc/self/root" + real) == real
    assert resolve(f"/proc/{os.getpid()}/root" + real) == real
    assert resolve(str(tree / "alias" / ".." / "public.txt")) == str((tree / "public.txt").resolve())
    assert resolve(str(tree / "loop" / "x")) is None
    assert resolve(str(tree / "no" / "such" / ".." / "file")) == str(tree.resolve() / "no" / "file")


def test_resolver_reads_the_working_folder(tree, monkeypatch):
    monkeypatch.chdir(tree / "runs" / "run-1" / "scratch")
    resolve = make_resolver()
    assert resolve("../../../public.txt") == str((tree / "public.txt").resolve())
    assert resolve("/proc/self/cwd/../../../course/source/secret.ipynb") == \
        str((tree / "course" / "source" / "secret.ipynb").resolve())


def test_relative_climbs():
    assert climbs_above_start("../x") and climbs_above_start("a/../../x") and climbs_above_start("./a/b/../../..")
    assert not climbs_above_start("a/../b") and not climbs_above_start("a/b/../c") and not climbs_above_start("x")


def test_guard_refuses_private_paths_under_any_name(tree, monkeypatch):
    scratch = tree / "runs" / "run-1" / "scratch"
    monkeypatch.chdir(scratch)
    check = make_path_guard((str(tree / "runs"), str(tree / "course" / "source")), (str(scratch),))
    secret = str(tree / "course" / "source" / "secret.ipynb")
    refused = [
        ("open", (secret, "r", 0)),
        ("open", ("/proc/self/root" + secret, "r", 0)),
        ("open", ((("/proc/self/root" + secret).encode()), "r", 0)),
        ("open", (str(tree / "alias" / "source" / "secret.ipynb"), "r", 0)),
        ("open", ("/proc/self/cwd/../receipts", None, 0)),  # the run folder, next to the scratch folder
        ("open", ("../../../course/source/secret.ipynb", None, 0)),
        ("open", (str(tree), None, 0)),  # a folder holding private ones (a dir fd into them)
        ("open", ("/", None, 0)),
        ("os.listdir", (str(tree / "course" / "source"),)),
        ("os.rename", (str(scratch / "x"), str(tree / "course" / "source" / "x"), None, None)),
        ("sqlite3.connect", (secret,)),
        ("sqlite3.connect", ("file:" + secret.replace("/", "%2F") + "?mode=ro",)),
        ("sqlite3.connect", ("file://localhost" + secret,)),
        ("os.symlink", (secret, str(scratch / "link"), None)),
    ]
    for event, args in refused:
        assert check(event, args) is not None, (event, args)
    allowed = [
        ("open", (str(tree / "public.txt"), "r", 0)),
        ("open", ("/proc/self/root" + str(tree / "public.txt"), "r", 0)),
        ("open", ("notes.txt", "w", 0)),
        ("open", (str(scratch / "sub" / "x.csv"), "w", 0)),
        ("open", (str(scratch), None, 0)),
        ("open", (3, "r", 0)),
        ("open", (Path(tree / "public.txt"), "r", 0)),
        ("os.listdir", ("/",)),
        ("sqlite3.connect", (":memory:",)),
        ("exec", (compile("1", "x", "eval"),)),
    ]
    for event, args in allowed:
        assert check(event, args) is None, (event, args)


def test_guard_refuses_a_path_object_that_may_answer_twice(tree):
    check = make_path_guard((str(tree / "course"),))

    class Flipping:
        def __fspath__(self):
            return str(tree / "public.txt")

    assert check("open", (Flipping(), None, 0)) is not None
    assert check("open", (Path(tree / "course" / "source" / "secret.ipynb"), "r", 0)) is not None
    assert make_path_guard(())("open", (Flipping(), None, 0)) is None  # nothing protected: no policy


def test_guard_matches_what_sqlite_opens(tree):
    """The sqlite3 file names the guard decodes are the files sqlite really opens."""
    target = tree / "public.db"
    sqlite3.connect(target).close()
    check = make_path_guard((str(target),))
    for name in (str(target), "file:" + str(target).replace("/", "%2F") + "?mode=ro"):
        assert check("sqlite3.connect", (name,)) is not None
        sqlite3.connect(name, uri=name.startswith("file:")).close()  # and it is a name sqlite accepts


# -- library state ----------------------------------------------------------------------------------
def _fake_library():
    """A protected module (`agfake`) with what tests may rest on without naming it."""
    module = types.ModuleType("agfake")
    source = '''
import functools

def helper(x):
    return x + 1

def uses_helper(x):
    return helper(x) == x + 1

def make_closure():
    inner = helper
    def outer(x):
        return inner(x)
    return outer

outer = make_closure()

class Base:
    def __eq__(self, other):
        return type(other) is type(self)
    __hash__ = object.__hash__

class Value(Base):
    counter = 0
    @property
    def twice(self):
        return 2
    @staticmethod
    def make():
        return Value()

bound = functools.partial(helper, 1)

on_error = None  # a hook the library calls once something sets it


def report(x):
    return x if on_error is None else on_error(x)
'''
    exec(compile(source, "agfake.py", "exec"), module.__dict__)
    module.Value.__module__ = module.Base.__module__ = "agfake"
    return module


@pytest.fixture(params=["versions", "entries"])
def library(request, monkeypatch):
    module = _fake_library()
    monkeypatch.setitem(sys.modules, "agfake", module)
    if request.param == "entries":  # the slow path used when dict versions cannot be read
        monkeypatch.setattr(libstate, "_version_reader", lambda dicts: None)
    modules = {"agfake": (module, {k: v for k, v in vars(module).items() if v is not None})}
    state = libstate.make_library_state(modules, lambda name: name == "agfake")
    restore, judge, lazy = state.restore, state.judge, state.lazy
    assert id(module.Value) in state.classes
    assert id(vars(module.Base)["__eq__"]) in state.functions

    def problems(used=()):
        found: list = []
        judge(set(used), found)
        return found

    assert problems() == []
    return module, restore, problems, lazy


def test_any_callable_replaced_in_a_module_counts_whatever_its_name(library):
    module, restore, problems, lazy = library
    original = module.helper
    module.helper = lambda x: 0
    assert problems() == ["agfake.helper"]
    notes: list = []
    assert restore(notes) == 1 and notes == ["agfake.helper"]
    assert module.helper is original and problems() == []


def test_data_changes_count_only_when_the_test_names_them(library):
    module, restore, problems, lazy = library
    module.Value.counter = 5  # a library's own counter, say
    assert problems() == [] and lazy() == ["Value.counter"]
    assert problems(used={"counter"}) == ["Value.counter"]


def test_dunder_methods_reached_through_operators(library):
    module, restore, problems, lazy = library
    module.Base.__eq__ = lambda self, other: True
    assert problems() == ["Base.__eq__"]
    restore([])
    assert not (module.Value() == 3)
    module.Value.__eq__ = lambda self, other: True  # added: hides Base.__eq__
    assert problems() == ["Value.__eq__ (added)"]
    restore([])
    assert "__eq__" not in vars(module.Value)
    module.Value.__slotnames__ = []  # what copyreg adds when copying: not a change
    module.Value.extra_helper = lambda self: 1  # new, hides nothing
    assert problems() == []


def test_references_inside_functions_and_descriptors(library):
    module, restore, problems, lazy = library
    module.outer.__closure__[0].cell_contents = lambda x: 0
    vars(module.Value)["twice"].__init__(lambda self: 3)
    vars(module.Value)["make"].__init__(lambda: None)
    module.bound.__setstate__((lambda *a: 0, (), {}, None))
    assert len(problems()) == 6  # the cell, the getter, the staticmethod, the partial's function, args, keywords
    assert restore([]) == 6
    assert module.outer(1) == 2 and module.Value().twice == 2 and isinstance(module.Value.make(), module.Value)
    assert module.bound() == 2 and problems() == []


def test_a_builtin_named_global_added_to_a_library_module(library):
    module, restore, problems, lazy = library
    module.len = lambda x: 0
    module.lazily_imported_submodule = types.ModuleType("agfake.sub")
    assert problems() == ["agfake.len (added)"]
    restore([])
    assert not hasattr(module, "len") and hasattr(module, "lazily_imported_submodule")


def test_the_version_reader_sees_every_change():
    probe = {"a": 1}
    read = libstate._version_reader([probe])
    assert read is not None, "this interpreter's dicts do not have the expected layout"
    before = read()
    probe["a"] = 2
    after_replace = read()
    probe["b"] = 3
    assert before != after_replace != read()
    del probe["b"]
    assert read() != after_replace


def test_partial_is_still_the_functools_type():
    assert libstate.functools.partial is functools.partial


# -- the receipt hook's units -------------------------------------------------------------------------
from autograder import receipt  # noqa: E402
from autograder.sandbox import sentinel  # noqa: E402

KEY = bytes(range(32))


def _agfake_guard(monkeypatch):
    module = _fake_library()
    monkeypatch.setitem(sys.modules, "agfake", module)
    protected = sentinel.protected_names(("agfake",))
    snapshot = sentinel.snapshot_modules(sys.modules, protected)
    return module, snapshot, sentinel.guard_libraries(snapshot, protected)


def _changes(guard, used=()) -> list:
    found: list = []
    guard.changes(set(used), found)
    return found


def test_protected_names_are_the_prefixes_and_their_submodules():
    protected = sentinel.protected_names(("numpy", "course"))
    assert protected("numpy") and protected("numpy.linalg") and protected("course.metrics")
    assert not protected("numpyx") and not protected("cours") and not protected("numpy_financial")

    class Sneaky(str):
        pass

    assert not protected(3) and not protected(Sneaky("numpy")), "only exact strings are compared"


def test_an_entry_that_was_none_at_start_up_is_checked_and_put_back(monkeypatch):
    """A library global that is None at start-up (a hook the library calls once it is set), set
    while a test runs: the change is seen, and it is put back before the next test."""
    module, snapshot, guard = _agfake_guard(monkeypatch)
    assert module.on_error is None and module.report(1) == 1
    module.on_error = lambda x: 0
    assert _changes(guard) == ["agfake.on_error"]
    notes: list = []
    assert guard.restore(notes) == 1 and notes == ["agfake.on_error"]
    assert module.on_error is None and module.report(1) == 1


@pytest.mark.parametrize("mode", ["versions", "entries"])
def test_an_unchanged_library_is_cleared_by_the_fast_check(monkeypatch, mode):
    """Only dictionaries that changed are compared entry by entry: the one-pass check clears the
    others, with version tags and without them (then by comparing every entry, in order)."""
    module = _fake_library()
    monkeypatch.setitem(sys.modules, "agfake", module)
    if mode == "entries":
        monkeypatch.setattr(libstate, "_version_reader", lambda dicts: None)
    protected = sentinel.protected_names(("agfake",))
    state = libstate.make_library_state(sentinel.snapshot_modules(sys.modules, protected), protected)
    assert state.moved() == []
    module.helper = lambda x: 0
    assert state.moved() == ["agfake"]
    state.restore([])
    assert state.moved() == []


def test_the_snapshot_holds_protected_modules_only(monkeypatch):
    module = _fake_library()
    monkeypatch.setitem(sys.modules, "agfake", module)
    monkeypatch.setitem(sys.modules, "agfake_not_a_module", None)  # sys.modules may hold anything
    snapshot = sentinel.snapshot_modules(sys.modules, sentinel.protected_names(("agfake", "builtins")))
    assert set(snapshot) == {"agfake", "builtins"}
    assert snapshot["agfake"][0] is module and snapshot["agfake"][1]["helper"] is module.helper
    import builtins

    assert snapshot["builtins"][1]["len"] is builtins.len
    assert not set(sentinel.KERNEL_MANAGED_BUILTINS) & set(snapshot["builtins"][1]), "ipykernel swaps those"


def test_libraries_restore_and_check_module_entries_and_sys_modules(monkeypatch):
    module, _, guard = _agfake_guard(monkeypatch)
    assert _changes(guard) == []
    original = module.helper
    module.helper = lambda x: 0
    sys.modules["agfake"] = types.ModuleType("agfake")
    assert _changes(guard) == ["agfake.helper", "sys.modules[agfake]"]
    notes: list = []
    assert guard.restore(notes) == 2 and notes == ["agfake.helper"]
    assert module.helper is original and sys.modules["agfake"] is module and _changes(guard) == []


def test_libraries_put_back_a_modules_class(monkeypatch):
    module, _, guard = _agfake_guard(monkeypatch)

    class Lying(types.ModuleType):
        def __getattribute__(self, name):
            return None

    module.__class__ = Lying  # the deny hook refuses this in the kernel; here it shows the check
    assert _changes(guard) == ["the class of module agfake"]
    assert guard.restore([]) == 1 and type(module) is types.ModuleType and _changes(guard) == []


def test_libraries_record_audited_attribute_changes_and_undo_them(monkeypatch):
    module, _, guard = _agfake_guard(monkeypatch)
    for target, name in ((module.Value, "counter"), (module.Value, "brand_new"), (module.helper, "__defaults__")):
        guard.record_setattr(target, name)  # what the object.__setattr__ event reports before the change
    module.Value.counter = 5
    module.Value.brand_new = 1
    module.helper.__defaults__ = (1,)
    assert _changes(guard) == ["Value.counter", "Value.brand_new", "attribute __defaults__ of a library function"]
    guard.restore([])
    assert module.Value.counter == 0 and "brand_new" not in vars(module.Value) and module.helper.__defaults__ is None
    assert _changes(guard) == []


def test_a_class_name_set_to_a_str_subclass_runs_nothing_in_the_change_check(monkeypatch):
    """A library class renamed to a str subclass while a test runs: naming the class's changed
    attributes must not call the subclass's `+` (it would run inside the hook, near the key)."""
    module, _, guard = _agfake_guard(monkeypatch)
    ran = []

    class Evil(str):
        def __add__(self, other):
            ran.append(other)
            return str.__add__(self, other)

    for name in ("__name__", "counter"):
        guard.record_setattr(module.Value, name)
    module.Value.__name__ = Evil("Value")
    module.Value.counter = 5
    assert _changes(guard) == ["Value.counter"] and ran == []
    assert all(type(problem) is str for problem in _changes(guard))
    guard.restore([])
    module.Value.__name__ = "Value"


def test_libraries_record_only_start_up_classes_and_functions(monkeypatch):
    module, _, guard = _agfake_guard(monkeypatch)

    class Later:
        x = 1

    def later():
        pass

    for target, name in ((Later, "x"), (later, "__defaults__"), (module.Value, 3), (module.helper, "__code__")):
        guard.record_setattr(target, name)
    Later.x = 2
    later.__defaults__ = (1,)
    assert _changes(guard) == []
    guard.restore([])
    assert Later.x == 2, "made after start-up: not the sentinel's to put back"


@pytest.fixture
def sys_state(monkeypatch, tmp_path):
    """Copies of what guard_imports changes in place, so this process keeps its own."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "path", ["", str(tmp_path)] + [p for p in sys.path if p not in ("", str(tmp_path))])
    monkeypatch.setattr(sys, "meta_path", list(sys.meta_path))
    monkeypatch.setattr(sys, "path_hooks", list(sys.path_hooks))
    monkeypatch.setattr(sys, "path_importer_cache", dict(sys.path_importer_cache))
    return tmp_path


def test_imports_put_back_sys_hooks_and_the_import_machinery(sys_state, monkeypatch):
    imports = sentinel.guard_imports()
    start_path, start_meta, displayhook = sys.path, list(sys.meta_path), sys.displayhook
    monkeypatch.setattr(sys, "displayhook", lambda value: None)
    sys.meta_path.insert(0, object())
    sys.path_importer_cache["somewhere"] = None
    imports.restore()
    assert sys.displayhook is displayhook and sys.meta_path == start_meta and sys.path_importer_cache == {}
    assert sys.path is start_path


def test_imports_switch_between_the_students_path_and_the_tests(sys_state, monkeypatch):
    imports = sentinel.guard_imports()
    start_path = sys.path
    monkeypatch.setattr(sys, "path", start_path + ["students_own_folder"])  # a new list, as a student may
    imports.remember_student_path()
    imports.restore()
    imports.use_test_path()
    assert sys.path is start_path
    assert "" not in sys.path and str(sys_state) not in sys.path and "students_own_folder" not in sys.path
    imports.back_to_student_path()
    assert sys.path is start_path and sys.path[-1] == "students_own_folder" and sys.path[0] == ""


# IPython's shell, with the two methods the sentinel watches cut down to what matters here:
# run_ast_nodes runs a cell's statements through run_code, which execs each one. exec raises the
# "exec" audit event; in the kernel the interpreter delivers it to the installed hook, here
# run_code hands it to the hook being tested (so the hook sees the same frames).
_AUDIT: list = []


def _ipython_shell_class():
    from IPython.core.interactiveshell import InteractiveShell

    class DrivenShell(InteractiveShell):
        def run_ast_nodes(self, codes):
            for code in codes:
                self.run_code(code)

        def run_code(self, code):
            _AUDIT[0]("exec", (code,))
            exec(code, self.user_ns)

    return DrivenShell


class FakeKernel:
    """What the sentinel keeps of ipykernel's kernel: its shell, message handlers, running request."""

    def __init__(self, shell):
        import contextvars

        self.shell = shell
        self.shell_handlers = {"execute_request": self.execute_request}
        self._shell_parent = contextvars.ContextVar("shell_parent")

    def execute_request(self, *args):
        return "original handler"


@pytest.fixture
def app(tmp_path, monkeypatch):
    from traitlets.config import Config

    monkeypatch.setenv("IPYTHONDIR", str(tmp_path / "ipython"))
    config = Config()
    config.HistoryManager.enabled = False
    shell = _ipython_shell_class()(config=config)
    return types.SimpleNamespace(shell=shell, kernel=FakeKernel(shell))


def test_shell_puts_back_transformers_handlers_callbacks_and_flags(app):
    shell, kernel = app.shell, app.kernel

    def library_callback():  # a function that existed at start-up (a library's)
        pass

    # traitlets stores a trait's default only once it is read; the snapshot keeps (and puts back)
    # the traits stored by then. Read here as IPython reads them when it runs a cell.
    shell.ast_transformers, shell.input_transformers_post  # noqa: B018
    guard = sentinel.guard_shell(app, functions={id(library_callback)})
    post, cleanup = list(shell.input_transformers_post), list(shell.input_transformer_manager.cleanup_transforms)
    pre_execute, flags, handler = list(shell.events.callbacks["pre_execute"]), shell.compile.flags, shell.CustomTB

    shell.ast_transformers.append(object())
    shell.input_transformers_post.append(lambda lines: [])
    shell.input_transformer_manager.cleanup_transforms.append(lambda lines: [])
    shell.set_custom_exc((Exception,), lambda *a: None)
    shell.events.register("pre_execute", lambda: None)
    shell.events.register("pre_execute", library_callback)
    shell.compile.flags |= 0x1000000
    shell.run_cell = lambda *a, **k: None  # hides the method
    kernel.execute_request = lambda *a: "student"
    kernel.shell_handlers["execute_request"] = lambda *a: "student"
    kernel.shell = None
    guard.restore()

    assert shell.ast_transformers == [] and shell.input_transformers_post == post
    assert shell.input_transformer_manager.cleanup_transforms == cleanup
    assert shell.custom_exceptions == () and shell.CustomTB == handler
    assert shell.events.callbacks["pre_execute"] == pre_execute + [library_callback], "a library's callback stays"
    assert shell.compile.flags == flags
    assert "run_cell" not in vars(shell) and "execute_request" not in vars(kernel)
    assert kernel.shell_handlers["execute_request"]() == "original handler" and kernel.shell is shell


def test_shell_forgets_the_running_requests_text(app):
    guard = sentinel.guard_shell(app, functions=set())
    message = {"content": {"code": "assert secret_hidden_test()"}}
    app.kernel._shell_parent.set(message)
    guard.forget_request_text()
    assert message["content"]["code"] == ""


def _namespace_units(app, monkeypatch):
    import builtins

    module = _fake_library()
    monkeypatch.setitem(sys.modules, "agfake", module)
    snapshot = {"agfake": (module, dict(vars(module))),
                "builtins": (builtins, {"len": len, "abs": abs, "print": print})}
    shell = sentinel.guard_shell(app, functions=set())
    imports = sentinel.guard_imports()
    return module, imports, sentinel.make_test_namespace(shell, snapshot, imports)


def test_a_test_runs_in_a_namespace_of_its_own(app, sys_state, monkeypatch):
    module, imports, namespace = _namespace_units(app, monkeypatch)
    shell = app.shell
    notebook = shell.user_ns
    notebook.update(np="the student's np", len=lambda x: 0, answer=42)
    imports.remember_student_path()  # as the hook does, before it puts anything back
    namespace.enter((("np", "agfake", None), ("helper", "agfake", "helper")))
    assert namespace.active() and shell.user_ns is not notebook
    test_ns = shell.user_ns
    assert test_ns["np"] is module and test_ns["helper"] is module.helper and test_ns["answer"] == 42
    assert "len" not in test_ns, "a global shadowing a builtin stays with the student"
    assert "" not in sys.path, "the test imports from the start-up path"
    test_ns["temporary"] = 1
    namespace.leave()
    assert shell.user_ns is notebook and "temporary" not in notebook and notebook["np"] == "the student's np"
    assert not namespace.active() and sys.path[0] == ""


def test_the_namespace_check_sees_rebound_aliases_and_shadowed_builtins(app, sys_state, monkeypatch):
    module, imports, namespace = _namespace_units(app, monkeypatch)
    aliases = (("np", "agfake", None),)
    found: list = []
    namespace.changes(aliases, set(), found)
    assert found == ["the namespace the test runs in"], "no test namespace in use"
    namespace.enter(aliases)
    namespace.changes(aliases, set(), found := [])
    assert found == []
    ns = app.shell.user_ns
    ns.update(np="other", abs=lambda x: 0, print="data")
    namespace.changes(aliases, {"print"}, found := [])
    assert found == ["the global name np", "a global shadowing the builtin abs", "a global shadowing the builtin print"]
    app.shell.__dict__["_user_ns"] = {}
    namespace.changes(aliases, set(), found := [])
    assert found == ["the namespace the test runs in"]


def test_guard_aliases_must_be_triples_of_exact_strings():
    valid = sentinel.make_alias_check()
    assert valid(()) and valid((("np", "numpy", None), ("isclose", "math", "isclose")))

    class Sneaky(str):
        pass

    for bad in ([("np", "numpy", None)], (("np", "numpy"),), ((Sneaky("np"), "numpy", None),),
                (("np", "numpy", 3),), "np"):
        assert not valid(bad), bad


# -- the whole hook, driven by hand ---------------------------------------------------------------------
def _statements(text: str) -> list:
    """The code objects IPython runs for a test cell's text (one per top-level statement)."""
    import ast

    return [compile(ast.Module([node], []), "<cell>", "exec", dont_inherit=True) for node in ast.parse(text).body]


@pytest.fixture
def driven(app, sys_state, monkeypatch, tmp_path):
    """A receipt hook taken through start-up with the fake library protected; returns
    (run_test(grade_id, text, aliases) -> None, lines() -> receipt lines, module)."""
    module = _fake_library()
    monkeypatch.setitem(sys.modules, "agfake", module)
    path = tmp_path / "receipts"
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    hook = sentinel.make_receipt_hook(key=KEY, receipt_fd=fd, protected_prefixes=("agfake",), report_depth=3)
    _AUDIT[:] = [hook]
    # measure.report's own code, delivering its event to the hook through one Python frame (no audit
    # hook is installed in this process): the hook is built to look one frame further up
    app.shell.user_ns.update(add=lambda a, b: a + b, agfake=module, _measure=_driven_report())
    hook(sentinel.INIT_EVENT, (app,))

    def run_test(grade_id: str, text: str, aliases=(("agfake", "agfake", None),), student=None):
        body = receipt.with_trail(text, grade_id)
        trail = _statements(receipt.trail_statement(grade_id))[0]
        hook(sentinel.ENTER_EVENT, (grade_id, code_digest(trail), aliases))  # the guard cell
        hook(sentinel.NEXT_EVENT, ())  # the test cell starts
        try:
            app.shell.run_ast_nodes(_statements(body))
        except AssertionError:
            pass  # IPython stops the cell at the first exception
        hook(sentinel.NEXT_EVENT, ())  # the cell after the test starts
        if student:
            student()
        return receipt.expected_sequence(body)

    def lines() -> list:
        return path.read_text().splitlines()

    yield hook, run_test, lines, module
    os.close(fd)
    _AUDIT.clear()


from autograder.sandbox.digest import code_digest  # noqa: E402


def _driven_report():
    from autograder import measure

    def deliver(event, *args):
        _AUDIT[0](event, args)

    return measure._make_report(deliver)


def test_a_test_that_ran_to_its_end_earns_a_receipt_the_grader_accepts(driven, app):
    hook, run_test, lines, module = driven
    expected = run_test("test_add", "assert add(2, 3) == 5\nassert agfake.uses_helper(1)")
    found = receipt.read(lines(), KEY)
    assert found.proves("test_add", expected) and found.notes == {}
    assert "__autograder_done__" not in app.shell.user_ns, "the test's own names stay in its namespace"


def test_a_test_that_stopped_or_changed_a_library_earns_no_receipt(driven, app):
    hook, run_test, lines, module = driven
    stopped = run_test("test_stops", "assert add(2, 3) == 6\nx = 1")

    def sneaky_add(a, b):
        module.helper = lambda x: x + 1  # what the test's verdict rests on, swapped while it runs
        return a + b

    app.shell.user_ns["add"] = sneaky_add
    changed = run_test("test_patch", "assert add(2, 3) == 5")
    patched_between = run_test("test_after", "assert agfake.helper(1) == 2", student=None)
    found = receipt.read(lines(), KEY)
    assert not found.proves("test_stops", stopped) and found.notes["test_stops"] == ["stopped-before-the-end"]
    assert not found.proves("test_patch", changed)
    assert found.notes["test_patch"] == ["changed-during-test: agfake.helper"]
    assert found.notes["test_after"] == ["restored 1 changed entries: agfake.helper"]
    assert found.proves("test_after", patched_between), "put back before the next test, which passes"


def test_exec_events_from_anywhere_but_the_test_cell_are_ignored(driven):
    hook, run_test, lines, module = driven
    trail = _statements(receipt.trail_statement("test_x"))[0]
    hook(sentinel.ENTER_EVENT, ("test_x", code_digest(trail), ()))
    hook(sentinel.NEXT_EVENT, ())
    hook("exec", (trail,))  # not from IPython's run_code: not a statement of the cell
    assert lines() == []


def test_an_error_inside_the_hook_becomes_a_note_and_never_escapes(app, tmp_path):
    path = tmp_path / "receipts"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
    hook = sentinel.make_receipt_hook(key=KEY, receipt_fd=fd, protected_prefixes=())
    assert hook(sentinel.INIT_EVENT, (object(),)) is None  # no shell, no kernel: the snapshot fails
    os.close(fd)
    (line,) = path.read_text().splitlines()
    assert line.startswith("N - sentinel-error AttributeError at hook:") and "take_snapshot" in line


# -- invariant: nothing the hook runs after start-up looks a name up in a module ----------------------
# Start-up only: these run once, at 'autograder.init', before any student code.
START_UP_ONLY = {"take_snapshot", "snapshot_modules", "guard_libraries", "guard_imports", "guard_shell",
                 "make_test_namespace", "protected_names", "make_library_state"}


def _global_lookups(code) -> set:
    import dis

    found = {f"{code.co_name}: {i.argval}" for i in dis.get_instructions(code)
             if i.opname in ("LOAD_GLOBAL", "LOAD_NAME", "STORE_GLOBAL", "DELETE_GLOBAL")}
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            found |= _global_lookups(const)
    return found


def _reachable_functions(root) -> list:
    """The grader's functions reachable from `root` through closures, defaults and the sentinel's
    records (what the hook can call once student code runs)."""
    seen, found, stack = set(), [], [root]
    while stack:
        obj = stack.pop()
        if id(obj) in seen:
            continue
        seen.add(id(obj))
        if isinstance(obj, types.FunctionType):
            if not obj.__module__.startswith("autograder") or obj.__name__ in START_UP_ONLY:
                continue
            found.append(obj)
            for cell in obj.__closure__ or ():
                try:
                    stack.append(cell.cell_contents)
                except ValueError:
                    pass
            stack.extend(obj.__defaults__ or ())
            stack.extend((obj.__kwdefaults__ or {}).values())
        elif type(obj) is types.SimpleNamespace:
            stack.extend(vars(obj).values())
        elif type(obj) in (tuple, list, set, frozenset):
            stack.extend(obj)
        elif type(obj) is dict:
            stack.extend(obj.values())
    return found


def test_nothing_the_hook_runs_looks_up_a_module_global(driven):
    """A name looked up when the hook runs can be replaced by student code, which would then run
    inside the hook, with the key in reach of its frames. The hook and every unit it reaches use
    only what they bound when they were built."""
    hook, run_test, lines, module = driven
    functions = _reachable_functions(hook)
    names = {f.__name__ for f in functions}
    assert {"on_exec", "write_receipt", "code_digest", "restore", "changes", "judge", "enter"} <= names, names
    lookups = {f"{f.__module__}.{lookup}" for f in functions for lookup in _global_lookups(f.__code__)}
    assert lookups == set()


def test_code_digests_ignore_later_changes_to_the_digest_module(monkeypatch):
    """Found through the invariant above: `_FLAG_MASK`, read when each statement was digested,
    let code a test called run inside the hook (an object with `__rand__`)."""
    from autograder.sandbox import digest

    made_before = digest.make_code_digest()
    code = compile("x = 1", "<cell>", "exec")
    before = made_before(code)
    ran = []

    class Mask:
        def __rand__(self, other):
            ran.append(other)
            return other

    monkeypatch.setattr(digest, "_FLAG_MASK", Mask())
    assert made_before(code) == before and ran == []


def test_library_judging_ignores_later_changes_to_libstate(library, monkeypatch):
    """Found through the same invariant: `INTERPRETER_CACHES`, read when judging an attribute
    added to a library class, let code a test called run inside the hook."""
    module, restore, problems, lazy = library
    ran = []

    class Caches:
        def __contains__(self, key):
            ran.append(key)
            return True

    monkeypatch.setattr(libstate, "INTERPRETER_CACHES", Caches())
    module.Value.__eq__ = lambda self, other: True
    assert problems() == ["Value.__eq__ (added)"] and ran == []


def test_a_class_made_later_never_passes_for_a_start_up_class_that_died(monkeypatch):
    """Start-up classes are known by id; a class that existed at start-up and died later must not
    lend its id to a class made after start-up (the sentinel would take it for a library's class)."""
    import gc

    def temporary_class():
        return type("Temporary", (), {"x": 1})

    doomed = [temporary_class() for _ in range(20)]
    doomed_ids = {id(cls) for cls in doomed}
    module, _, guard = _agfake_guard(monkeypatch)
    startup = sentinel._startup_classes()
    del doomed
    gc.collect()
    later = [temporary_class() for _ in range(200)]
    reused = [cls for cls in later if id(cls) in doomed_ids]
    for cls in later:
        guard.record_setattr(cls, "x")
        cls.x = 2
    assert _changes(guard) == [], "a class made after start-up is not the sentinel's to check"
    guard.restore([])
    assert all(cls.x == 2 for cls in later), "nor to put back"
    assert not any(id(cls) in startup for cls in later), f"{len(reused)} later classes reuse a dead class's id"


# -- measurements (autograder/measure.py): only the test's own report() statements count ------------
def _measurements(lines, grade_id, text):
    """What the grader keeps of a run's measurement lines for a test of `text`."""
    from autograder.measure import declarations

    body = receipt.with_trail(text, grade_id)
    found = receipt.read(lines, KEY)
    return found, found.measurements(grade_id, receipt.expected_statements(body),
                                     declarations(body, {"_measure": ("autograder.measure", "report")}, grade_id))


def test_a_reported_measurement_reaches_the_grader_signed(driven):
    hook, run_test, lines, module = driven
    text = "got = add(2, 3)\n_measure('precision', got / 10, target=0.4, unit='fraction')\nassert got == 5"
    expected = run_test("test_m", text)
    found, measured = _measurements(lines(), "test_m", text)
    assert found.proves("test_m", expected)
    assert measured == {"precision": (0.5, 0.4)}
    assert [line.split(" ")[0] for line in lines()] == ["M", "R"]


def test_a_failing_test_keeps_what_it_measured_before_it_failed(driven):
    hook, run_test, lines, module = driven
    text = "_measure('recall', 0.25, target=0.85)\nassert add(2, 3) == 6, 'recall below the target'"
    expected = run_test("test_m", text)
    found, measured = _measurements(lines(), "test_m", text)
    assert not found.proves("test_m", expected)
    assert measured == {"recall": (0.25, 0.85)}


def test_a_report_statement_that_raises_reports_nothing(driven, app):
    """Student code run while report()'s arguments are evaluated (here a partial of report, so that
    report's caller is the test's own statement) reports first; the statement then raises before
    the test's own report call: nothing of that statement counts."""
    hook, run_test, lines, module = driven
    app.shell.user_ns["add"] = functools.partial(app.shell.user_ns["_measure"], "precision", 1.0)
    text = "_measure('precision', float(add()))"
    with pytest.raises(TypeError, match="NoneType"):  # add() ran (report returns None), then float() raised
        run_test("test_m", text)
    hook(sentinel.NEXT_EVENT, ())  # the cell after the test starts
    found, measured = _measurements(lines(), "test_m", text)
    assert measured == {} and found.measured == {}
    assert found.notes["test_m"] == ["stopped-before-the-end"]


def test_report_called_by_student_code_during_a_test_is_refused(driven, app):
    hook, run_test, lines, module = driven
    report = app.shell.user_ns["_measure"]

    def add(a, b):
        report("precision", 1.0, target=0.9)  # the genuine report, but called by the student's function
        return a + b

    app.shell.user_ns["add"] = add
    text = "got = add(2, 3)\n_measure('precision', 0.5, target=0.9)\nassert got == 5"
    expected = run_test("test_m", text)
    found, measured = _measurements(lines(), "test_m", text)
    assert found.notes["test_m"] == ["measurement-refused: report-not-called-by-the-test"], "the attack ran"
    assert measured == {"precision": (0.5, 0.9)} and found.proves("test_m", expected)


def test_the_event_raised_by_anything_but_report_is_refused(driven, app):
    hook, run_test, lines, module = driven

    def add(a, b):
        hook("autograder.measure", ("precision", 1.0, None))  # as sys.audit from student code delivers it
        return a + b

    app.shell.user_ns["add"] = add
    text = "got = add(2, 3)\nassert got == 5"
    run_test("test_m", text)
    found, measured = _measurements(lines(), "test_m", text)
    assert found.notes["test_m"] == ["measurement-refused: not-raised-by-report"], "the attack ran"
    assert measured == {} and found.measured == {}


def test_report_called_from_a_statement_that_declares_nothing_is_dropped_by_the_grader(driven, app):
    """A C callable the test calls (a partial of report) makes report's caller the test's own
    statement: the sentinel signs it, and the grader, reading its own copy of the test, finds no
    report() there and drops it."""
    hook, run_test, lines, module = driven
    app.shell.user_ns["add"] = functools.partial(app.shell.user_ns["_measure"], "precision")
    text = "got = add(0.99)\n_measure('recall', 0.5)"
    run_test("test_m", text)
    found, measured = _measurements(lines(), "test_m", text)
    assert [m[2] for m in found.measured["test_m"]] == ["precision", "recall"], "the attack ran and was signed"
    assert measured == {"recall": (0.5, None)}


def test_values_must_be_plain_finite_numbers(driven, app):
    hook, run_test, lines, module = driven

    class Liar(float):
        def __repr__(self):
            raise AssertionError("the sentinel called student code")

    app.shell.user_ns["liar"] = Liar(0.5)
    text = "_measure('a', liar)\n_measure('b', float('nan'))\n_measure('c', True)\n_measure('d', 3, target=2.5)"
    run_test("test_m", text)
    found, measured = _measurements(lines(), "test_m", text)
    assert measured == {"d": (3.0, 2.5)}
    assert found.notes["test_m"] == ["measurement-refused: arguments"]


def test_a_measurement_is_withheld_when_a_library_changed_before_it(driven, app):
    hook, run_test, lines, module = driven

    def add(a, b):
        module.helper = lambda x: x + 1
        return a + b

    app.shell.user_ns["add"] = add
    text = "got = add(2, 3)\n_measure('precision', 0.95)"
    run_test("test_m", text)
    found, measured = _measurements(lines(), "test_m", text)
    assert measured == {}
    assert found.notes["test_m"][0] == "measurement-withheld precision: changed-during-test: agfake.helper"
