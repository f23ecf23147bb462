"""The state of the protected libraries: what the sentinel puts back before a test and judges after it.

`make_library_state(modules)` snapshots, before any student code runs:

* the dictionaries of the protected modules (passed in by the sentinel) and of every class those
  modules define that Python lets code change (heap types without the immutable flag);
* the references held inside their functions and descriptors that code can swap without touching
  a dictionary: closure cells, a property's getter/setter/deleter, a staticmethod's or
  classmethod's function, a functools.partial's function and arguments.

It returns a record of three functions the sentinel calls from its audit hook:

* `restore(notes)`: put back every changed entry (before a test); returns how many;
* `judge(used, problems)`: add to `problems` what changed since `restore` in a way a test's
  verdict could rest on (after the test);
* `lazy()`: the changes `judge` let pass, for diagnostics;

and, for diagnostics and benchmarks, `moved()`: the dictionaries the fast check below cannot
clear right now (they are compared entry by entry), and `functions` and `classes`: the ids of
every function and class that existed at start-up (`classes` maps each id to its class, which it
keeps alive: otherwise a class made later could reuse the id of a start-up class that died).

Cost. Comparing every entry of every protected dictionary (about 100,000 with torch) takes tens
of milliseconds. Instead each dictionary's version tag (PEP 509: CPython gives a dictionary a new
version on every change) is read through a ctypes view made here, before the deny hook refuses
ctypes, and only dictionaries whose version moved are compared entry by entry. The layout is
checked on a probe dictionary first; if it does not behave as expected every dictionary is
compared entry by entry instead (slower, same result). Cells and descriptors are compared in one
pass of `operator.is_` in C.

What counts as a change (`judge`): in a module, a callable, class or module replaced or removed
whatever its name, any other value the test names, and a new global named like a builtin (it
would shadow the builtin for the module's own code); in a class, a replaced or removed method,
descriptor or class, any other value the test names, and a new method, descriptor or special
attribute that hides one of a base class (an `__eq__` added where one was inherited); any swapped
cell or descriptor reference.
Lazy library work (a submodule imported on first use, a cache filled, `__slotnames__` added by
copy) changes none of these. Only identities are compared and nothing of the student's is called.
"""
from __future__ import annotations

import functools
import operator
import types

IMMUTABLE_TYPE = 1 << 8  # Py_TPFLAGS_IMMUTABLETYPE: Python refuses to set attributes on these
# Attributes the interpreter itself adds to classes as caches (copyreg, when copying or pickling).
INTERPRETER_CACHES = frozenset({"__slotnames__"})
DICT_VERSION_OFFSET = 24  # PyDictObject: ob_refcnt, ob_type, ma_used, then ma_version_tag (3.11)


def _version_reader(dicts: list):
    """A function returning the version tags of `dicts`, or None if this interpreter's layout
    is not the one expected."""
    try:
        import ctypes

        probe: dict = {}
        view = ctypes.c_uint64.from_address(id(probe) + DICT_VERSION_OFFSET)
        before = view.value
        probe["x"] = 1
        middle = view.value
        probe["x"] = 2
        if not (before != middle != view.value):
            return None
        views = tuple(ctypes.c_uint64.from_address(id(d) + DICT_VERSION_OFFSET) for d in dicts)
    except Exception:  # noqa: BLE001 - no ctypes, another layout: compare entry by entry
        return None
    value = operator.attrgetter("value")
    _tuple, _map = tuple, map

    def read() -> tuple:
        return _tuple(_map(value, views))

    read.keep_alive = (views, dicts)  # the views point into these dictionaries
    return read


def make_library_state(modules: dict, protected) -> types.SimpleNamespace:
    """`modules`: {name: (module, {entry: value at start-up})}; `protected(name) -> bool`.

    Returns the record described in the module docstring: restore, judge, lazy, moved, functions
    and classes.
    """
    import gc

    _type, _id, _len, _list, _str, _dict = type, id, len, list, str, dict
    _is, _all, _map, _getattr, _callable = operator.is_, all, map, getattr, callable
    _issubclass, _enumerate, _zip, _range = issubclass, enumerate, zip, range
    TypeType, PropertyType, StaticMethod, ClassMethod = type, property, staticmethod, classmethod
    FunctionType, ModuleType = types.FunctionType, types.ModuleType
    _module_dict = ModuleType.__dict__["__dict__"].__get__
    _class_dict = type.__dict__["__dict__"].__get__
    _class_name = type.__dict__["__name__"].__get__
    _mro = type.__dict__["__mro__"].__get__
    _type_setattr, _type_delattr = type.__setattr__, type.__delattr__
    _dict_get = dict.get
    _property_init, _static_init, _class_init = property.__init__, staticmethod.__init__, classmethod.__init__
    # Everything below that runs after start-up uses only the names captured above: student code
    # may have replaced builtins (type, range...) by the time a test ends.
    _partial, _partial_setstate = functools.partial, functools.partial.__setstate__
    interpreter_caches = INTERPRETER_CACHES
    MISSING = object()
    import builtins

    builtin_names = frozenset(k for k in vars(builtins) if not k.startswith("__"))

    def behavioural(value) -> bool:
        kind = _type(value)
        if kind is ModuleType or _issubclass(kind, TypeType) or _callable(value):
            return True
        for klass in _mro(kind):  # a descriptor: property, classmethod, a cached_property...
            if "__get__" in _class_dict(klass):
                return True
        return False

    # --- what is watched --------------------------------------------------------------------------
    # containers[i] = (label, owner, live dict, saved {key: value}, kind); owner is the module or class
    containers: list = []
    for name, (module, saved) in modules.items():
        containers.append((name, module, _module_dict(module), saved, "module"))
    functions: set = set()
    # id -> the start-up class itself: holding the class keeps its id its own (a class made later
    # may reuse the id of one that died)
    class_ids: dict = {}
    inner_objects: list = []  # (object, attribute) pairs whose referent is watched
    property_saved: dict = {}  # id(property) -> (fget, fset, fdel, doc) at start-up
    protected_modules: dict = {}  # module name -> protected(name), many classes share a module
    stack = [object]
    while stack:
        cls = stack.pop()
        try:
            subs = type.__subclasses__(cls)
        except TypeError:
            continue
        for sub in subs:
            if _id(sub) in class_ids:
                continue
            class_ids[_id(sub)] = sub
            stack.append(sub)
            proxy = _class_dict(sub)
            for value in proxy.values():
                if _type(value) is FunctionType:
                    functions.add(_id(value))
                elif _type(value) in (staticmethod, classmethod) and _type(value.__func__) is FunctionType:
                    functions.add(_id(value.__func__))
            if sub.__flags__ & IMMUTABLE_TYPE:
                continue
            module_name = proxy.get("__module__")
            is_protected = protected_modules.get(module_name) if _type(module_name) is _str else False
            if is_protected is None:
                is_protected = protected_modules[module_name] = protected(module_name)
            if not is_protected:
                continue
            live = [r for r in gc.get_referents(proxy) if isinstance(r, dict)]
            if _len(live) == 1:
                containers.append((_class_name(sub), sub, live[0], _dict(live[0]), "class"))

    def watch_inside(value) -> None:
        """Watch the references a function or descriptor holds that can be swapped in place.
        To keep the per-test pass short, only those a verdict can run through: a closure cell
        holding a callable, class, module or descriptor (a wrapped function, say), a property's
        getter and its setter and deleter when it has them."""
        kind = _type(value)
        if kind is FunctionType:
            for cell in value.__closure__ or ():
                try:
                    contents = cell.cell_contents
                except ValueError:  # an empty cell: nothing to swap yet
                    continue
                if behavioural(contents):
                    inner_objects.append((cell, "cell_contents"))
        elif kind is property:
            inner_objects.append((value, "fget"))
            inner_objects.extend((value, name) for name in ("fset", "fdel") if _getattr(value, name) is not None)
            property_saved[_id(value)] = (value.fget, value.fset, value.fdel, value.__doc__)
        elif kind is staticmethod or kind is classmethod:
            inner_objects.append((value, "__func__"))
        elif kind is _partial:
            inner_objects.extend(((value, "func"), (value, "args"), (value, "keywords")))

    for container in containers:
        for value in container[3].values():
            watch_inside(value)
    inner_owners = tuple(o for o, _ in inner_objects)
    inner_names = tuple(n for _, n in inner_objects)
    inner_saved = tuple(_map(_getattr, inner_owners, inner_names))
    partial_states = {_id(o): o.__reduce__()[2] for o in inner_owners if _type(o) is _partial}
    del inner_objects

    read_versions = _version_reader([c[2] for c in containers])
    fast = None if read_versions is not None else [
        (tuple(c[3].keys()), tuple(c[3].values())) for c in containers]
    state = {"versions": read_versions() if read_versions else None, "lazy": []}

    # --- finding what changed -----------------------------------------------------------------------
    def identical(index: int) -> bool:
        """Entry-by-entry check (used without version tags): the saved entries are all there, the
        same objects in the same order, and nothing else."""
        keys, values = fast[index]
        live = containers[index][2]
        return _len(live) == _len(keys) and _all(_map(_is, keys, live.keys())) \
            and _all(_map(_is, values, live.values()))

    def changed_indexes() -> list:
        if read_versions is None:
            return [i for i in _range(_len(containers)) if not identical(i)]
        now = read_versions()
        before = state["versions"]
        if now == before:  # tuples of ints: compared in C, nothing of the student's is called
            return []
        return [i for i, (a, b) in _enumerate(_zip(now, before)) if a != b]

    def inner_changed() -> list:
        current = _map(_getattr, inner_owners, inner_names)
        if _all(_map(_is, inner_saved, current)):
            return []
        return [i for i, (o, n) in _enumerate(_zip(inner_owners, inner_names))
                if _getattr(o, n) is not inner_saved[i]]

    # --- judging --------------------------------------------------------------------------------------
    def shadows_builtin(module_name: str, key: str) -> bool:
        """A global added to a library module under a builtin's name hides the builtin from the
        module's own code (the builtins module itself gains and loses entries as ipykernel works)."""
        return module_name != "builtins" and key in builtin_names and not key.startswith("__")

    def hides_inherited(cls, key: str, value) -> bool:
        """An attribute added to `cls` that changes what its instances do: it hides one of a base
        class and is a method, descriptor or class, or a special (dunder) name that is not an
        interpreter cache (`__array_ufunc__ = None` changes how numpy treats operators)."""
        if key in interpreter_caches or not (behavioural(value) or (key.startswith("__") and key.endswith("__"))):
            return False
        for klass in _mro(cls)[1:]:
            if key in _class_dict(klass):
                return True
        return False

    def container_problems(index: int, used: set, problems: list) -> None:
        label, owner, live, saved, kind = containers[index]
        for k in live.keys():
            if _type(k) is not _str:
                problems.append(label + ".<non-string key>")
                return
        for k, v in saved.items():
            now = _dict_get(live, k, MISSING)
            if now is v:
                continue
            if k in used or behavioural(v) or behavioural(now):
                problems.append(label + "." + k)
            else:
                state["lazy"].append(label + "." + k)
        if _len(live) > _len(saved):
            for k in live.keys():
                if k in saved:
                    continue
                if (kind == "module" and shadows_builtin(label, k)) or \
                        (kind == "class" and hides_inherited(owner, k, live[k])):
                    problems.append(label + "." + k + " (added)")

    def judge(used: set, problems: list) -> None:
        state["lazy"] = []
        for index in changed_indexes():
            container_problems(index, used, problems)
        for index in inner_changed():
            owner = inner_owners[index]
            problems.append(f"a reference inside a library {_class_name(_type(owner))} ({inner_names[index]})")

    def lazy() -> list:
        return state["lazy"]

    # --- putting back --------------------------------------------------------------------------------
    def restore_container(index: int, notes: list) -> int:
        label, owner, live, saved, kind = containers[index]
        changed = 0
        if kind == "module":
            for k in _list(live.keys()):
                if _type(k) is not _str:  # a str subclass could run code when compared: rebuild
                    items = [(k2, v2) for k2, v2 in live.items() if _type(k2) is _str]
                    live.clear()
                    for k2, v2 in items:
                        live[k2] = v2
                    break
        for k, v in saved.items():
            if _dict_get(live, k, MISSING) is not v:
                if kind == "module":
                    live[k] = v
                else:
                    _type_setattr(owner, k, v)
                changed += 1
                notes.append(label + "." + k)
        if _len(live) > _len(saved):
            for k in _list(live.keys()):
                if k in saved:
                    continue
                if kind == "module" and shadows_builtin(label, k):
                    del live[k]
                elif kind == "class" and hides_inherited(owner, k, live[k]):
                    _type_delattr(owner, k)
                else:
                    continue
                changed += 1
                notes.append(label + "." + k)
        return changed

    def restore_inner(index: int, notes: list) -> None:
        owner, name, saved = inner_owners[index], inner_names[index], inner_saved[index]
        kind = _type(owner)
        if name == "cell_contents":
            owner.cell_contents = saved
        elif kind is PropertyType:
            fget, fset, fdel, doc = property_saved[_id(owner)]
            _property_init(owner, fget, fset, fdel, doc)
        elif kind is StaticMethod:
            _static_init(owner, saved)
        elif kind is ClassMethod:
            _class_init(owner, saved)
        elif kind is _partial:
            _partial_setstate(owner, partial_states[_id(owner)])
        notes.append(f"a reference inside a library {_class_name(kind)}")

    def restore(notes: list) -> int:
        changed = 0
        moved_now = changed_indexes()
        for index in moved_now:
            changed += restore_container(index, notes)
        for index in inner_changed():
            restore_inner(index, notes)
            changed += 1
        if read_versions is not None and moved_now:  # (putting back cells and descriptors moves no tag)
            state["versions"] = read_versions()
        return changed

    def moved() -> list:
        return [containers[i][0] for i in changed_indexes()]

    return types.SimpleNamespace(restore=restore, judge=judge, lazy=lazy, moved=moved,
                                 functions=functions, classes=class_ids)
