"""Pieces of the sentinel, in this process: the file policy's path resolution and the library-state
tracker. (No audit hook is installed here: hooks cannot be removed from a process.)"""
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
    restore, judge, lazy, functions, classes = libstate.make_library_state(modules, lambda name: name == "agfake")
    assert id(module.Value) in classes, (len(classes), module.Value in type.__subclasses__(module.Base), module.Base in type.__subclasses__(object))
    assert id(vars(module.Base)["__eq__"]) in functions

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
