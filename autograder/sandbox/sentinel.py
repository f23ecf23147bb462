"""The sentinel: two audit hooks installed in the grading kernel before any student code runs.

A test cell earns its points only on positive proof that the grader's own test code ran to
completion, and that proof is judged by the grader process, which student code cannot reach.
The proof is a *receipt* (the protocol, both sides of it, is autograder/receipt.py): a line
written to a file descriptor the grader opened, carrying the test's id, a digest of the code
objects that ran and an HMAC under a key the grader made for this run. Audit hooks (PEP 578)
cannot be removed once installed, so they watch the kernel for the whole run.

The receipt hook
----------------
It holds the key. When the grader's guard cell raises ``autograder.enter`` just before a test
cell, it

1. puts back what student code may have changed that would alter how the test behaves: the
   dictionaries of the library modules loaded before the student's first cell (numpy, math,
   builtins, pandas, torch, the course package...), attributes of pre-existing classes and
   functions, IPython's input and AST transformers, exception handler, event callbacks and display
   hook, ``sys.stdout``/``sys.stderr``/``sys.displayhook``, the import machinery and the import path;
2. gives the test a namespace of its own: a copy of the notebook's globals as the student left
   them, without the globals that shadow builtins, with the module aliases the test uses (``np``...)
   bound to the pristine modules. The test's own assignments land there, never in the namespace
   the student's functions read, and it is dropped when the next cell starts (the
   ``autograder.next`` event, raised by an IPython ``pre_execute`` callback registered before the
   snapshot), so after a test the notebook's namespace is as the student left it;
3. arms itself for that test. It then watches the ``exec`` events of IPython's own ``run_code``
   coming from one ``run_ast_nodes`` frame (the test cell's), digests each top-level statement,
   and when the test's trail statement runs, checks that nothing put back in step 1 changed while
   the test ran (any callable, class or module entry of a protected module, whatever its name; any
   attribute of a pre-existing class or function) and writes the receipt. IPython stops a cell at
   the first exception, so reaching the last statement means every assert before it passed.

While armed it also takes what the test measured (autograder/measure.py): a ``autograder.measure``
event counts only when raised by ``measure.report``'s own code, called directly by the test's
current top-level statement as IPython runs it; the statement's last such call is signed, as a
measurement line (receipt.py), once the statement completed (the next one starts) and the change
check below finds nothing changed so far. Anything else is a ``measurement-refused`` note.

It is made of small units, each built when the kernel is ready (the ``autograder.init`` event)
and each tested in this process by tests/test_sentinel_units.py:

* ``protected_names(prefixes)``: which module names are protected;
* ``snapshot_modules(modules, protected)``: the protected modules' dictionaries at start-up;
* ``guard_libraries(snapshot, protected)``: put back, and check for changes, the libraries' state:
  their dictionaries, classes, closures and descriptors (libstate.py), each module's class, its
  ``sys.modules`` entry, and the attributes set on start-up classes and functions (seen through
  the ``object.__setattr__``/``object.__delattr__`` audit events, recorded by ``record_setattr``);
* ``guard_imports()``: ``sys``'s hooks and streams and the import machinery; the import path a
  test runs with (the start-up path without the working folder) and the student's, put back after;
* ``guard_shell(app, functions)``: IPython's shell and the kernel (transformers, callbacks,
  compiler flags, message handlers), and the request text a test must not be able to read;
* ``make_test_namespace(shell, snapshot, imports)``: the namespace of its own each test runs in,
  and the check that the test's names still resolve to what they did;
* ``make_receipt_hook``: the hook itself; it builds those at ``autograder.init``, drives them
  from audit events and writes receipts and notes with ``receipt.make_writer``.
  ``install_receipt_hook`` installs it.

Invariants (held by tests/test_sentinel_units.py and the red-team tests):

* No student code runs inside the hook (its frames lead to the key). Nothing it runs after
  start-up looks up a module global (a test walks every function it reaches): the units use
  only references bound when they were built (builtins such as ``type`` and ``len``, C
  functions, the methods of immutable types); their state lives in closures and in
  ``types.SimpleNamespace`` records, whose type is immutable, never in a class of this package
  (student code could reach such a class through ``object.__subclasses__()`` and patch it).
  Only identities are compared and nothing of the student's is called: a key is used only once
  its type is exactly ``str``, and strings that may be str subclasses are joined with
  ``str.__add__``.
* The hook never raises (an exception would carry its frame, and so its key, to student code):
  an error inside it becomes a note and disarms the test.
* The snapshot keeps every string-keyed entry of every protected module, None values included,
  except the builtins ipykernel swaps during each request (``KERNEL_MANAGED_BUILTINS``); all of
  it is put back before every test and checked after it. The audit events the sentinel's own
  putting back raises are not recorded as changes (``resetting``).
* A receipt is written only when the guard armed that cell, every statement digested was run by
  IPython's ``run_code`` called from one ``run_ast_nodes`` frame (the test cell's), the trail
  statement was reached and the change check found nothing. Anything else is a note.
* Student code never sees a name a test binds, and a test never sees the student's globals that
  shadow builtins or its aliases; the student's functions keep reading the notebook's own dict
  (their ``__globals__``), which the test never writes to.

The deny hook
-------------
It holds no key and refuses, from the moment the kernel is ready, the operations that would let
code reach into the interpreter: swapping a function's ``__code__``, changing a module's class,
walking the garbage collector's object lists, tracing or profiling hooks, new audit hooks and raw
memory access through ctypes. Without bubblewrap it also applies the file policy (paths.py), whose
list of private paths exists only in its closure.

What this does not defend against (see docs/threat-model.md): code that corrupts interpreter memory
through a path the deny hook does not see, or that captures the receipt hook's frame through a
Python signal handler; both need deliberate attacks on this file's internals.
"""
from __future__ import annotations

import sys
import types

from autograder import measure, receipt
from autograder.sandbox.digest import make_code_digest
from autograder.sandbox.libstate import make_library_state

INIT_EVENT = "autograder.init"  # raised once by kernel.py, with the kernel application: take the snapshot
NEXT_EVENT = "autograder.next"  # raised by IPython's pre_execute callback: a cell is about to run
ENTER_EVENT = receipt.ENTER_EVENT  # raised by a guard cell: put back, give the test its namespace, arm
MEASURE_EVENT = measure.EVENT  # raised by measure.report: (name, value, target)
MAX_MEASURE_TEXT = 40  # characters of a rendered value or target (an int can be long)
# Frames from `on_measure` up to the frame that raised the measurement event: on_measure, the hook,
# then (sys.audit being a C function) measure.report's own frame.
REPORT_CALLER_DEPTH = 2

# Where the test stands between its guard cell and the cell after it.
GUARD_RAN = "guard"  # the guard cell ran; the next cell to start is the test cell
TEST_RUNNING = "test"  # the test cell started; the next cell to start ends the test's namespace

# Shell attributes (instance or trait values) that decide how a cell's text becomes running code
# or how its errors and results are handled. They are put back before every test cell; the rest of
# the shell's state (execution count, history, namespaces' contents) is left alone.
SHELL_STATE = (
    "input_transformers_cleanup", "input_transformers_post", "ast_transformers",
    "input_transformer_manager", "events", "custom_exceptions", "CustomTB", "displayhook",
    "display_pub", "display_trap", "builtin_trap", "compile", "InteractiveTB", "SyntaxTB",
    "excepthook", "ast_node_interactivity", "autoawait", "loop_runner", "user_ns", "_user_ns",
    "user_global_ns", "user_module", "showtraceback", "run_cell", "run_cell_async",
    "run_ast_nodes", "run_code", "transform_cell", "transform_ast", "should_run_async",
)

# Builtins that IPython and ipykernel install and swap during each request; not restored.
KERNEL_MANAGED_BUILTINS = ("input", "exit", "quit", "get_ipython", "display", "getpass", "raw_input")

# Attributes of `sys` put back before every test (the object each names; for the import
# machinery's lists also their contents, and the importer cache is emptied).
SYS_HOOKS = ("displayhook", "excepthook", "stdout", "stderr", "stdin", "breakpointhook")
IMPORT_MACHINERY = ("meta_path", "path_hooks", "path_importer_cache", "path")

MAX_PROBLEMS = 6  # changes named in one changed-during-test note
# Frames from `on_exec` up to the frame that called exec(): on_exec itself, the hook, the caller.
EXEC_CALLER_DEPTH = 2

# Operations student code may not perform once the kernel is ready.
DENIED_EVENTS = frozenset({
    "sys.addaudithook",
    "sys.settrace",
    "sys.setprofile",
    "gc.get_objects",
    "gc.get_referrers",
    "gc.get_referents",
    "ctypes.cdata",
    "ctypes.cdata/buffer",
    "ctypes.string_at",
    "ctypes.wstring_at",
    "ctypes.addressof",
    "ctypes.PyObj_FromPtr",
})

_Record = types.SimpleNamespace  # an immutable type: its instances' attributes cannot be redirected
_module_dict = types.ModuleType.__dict__["__dict__"].__get__
_class_dict = type.__dict__["__dict__"].__get__
_class_name = type.__dict__["__name__"].__get__  # no metaclass code runs
_mro = type.__dict__["__mro__"].__get__


def announce_next_cell(_audit=sys.audit) -> None:
    """IPython 'pre_execute' callback (registered by the kernel before the snapshot): a cell is
    about to run. The sentinel ends a test's namespace when the cell after the test starts."""
    _audit(NEXT_EVENT)


# --- which modules are protected, and their state at start-up ------------------------------------
def protected_names(prefixes: tuple[str, ...]):
    """`protected(name) -> bool`: `name` is one of `prefixes` or a submodule of one."""
    _type, _str = type, str
    prefixes = tuple(prefixes)

    def protected(name) -> bool:
        if _type(name) is not _str:
            return False
        for prefix in prefixes:
            if name == prefix or name.startswith(prefix + "."):
                return True
        return False

    return protected


def snapshot_modules(modules: dict, protected) -> dict:
    """{name: (module, {entry: value})}: the string-keyed entries of every protected module in
    `modules` (the kernel's sys.modules) as they are now, less the builtins the kernel swaps.

    Every entry is kept, None values included: an entry that was None at start-up (a hook a
    library calls once it is set) is put back and checked like any other, and a dictionary that
    did not change holds exactly the saved entries, in order, which is what the entry-by-entry
    fast check compares.
    """
    found = {}
    for name, module in list(modules.items()):
        if type(module) is not types.ModuleType and not issubclass(type(module), types.ModuleType):
            continue
        if not protected(name):
            continue
        contents = {k: v for k, v in _module_dict(module).items() if type(k) is str}
        if name == "builtins":
            for k in KERNEL_MANAGED_BUILTINS:  # ipykernel swaps these per request
                contents.pop(k, None)
        found[name] = (module, contents)
    return found


# --- the libraries --------------------------------------------------------------------------------
def guard_libraries(snapshot: dict, protected):
    """Put back, and check for changes, the state of the protected libraries.

    `snapshot` is what `snapshot_modules` returned. Returns a record of:

    * ``restore(notes) -> int``: put everything back; names what changed in `notes`; returns how
      many entries changed (the attributes set through audited events are not counted);
    * ``changes(used, problems)``: add to `problems` what changed since ``restore`` in a way a
      test's verdict can rest on (`used`: the names the test's code uses);
    * ``record_setattr(target, name)``: called on the audited ``object.__setattr__`` and
      ``object.__delattr__`` events: remember the value a start-up class's or function's
      attribute had before its first change, so it can be put back and checked;
    * ``functions``: ids of every function that existed at start-up.
    """
    _type, _id, _list, _str, _getattr, _issubclass = type, id, list, str, getattr, issubclass
    _sys, TypeType, FunctionType = sys, type, types.FunctionType
    _object_setattr, _type_setattr, _type_delattr = object.__setattr__, type.__setattr__, type.__delattr__
    _dict_get = dict.get
    # str's own concatenation: a class's __name__ may have been set to a str subclass whose `+`
    # is student code (the sentinel would run it inside its hook)
    concat = str.__add__
    class_dict, class_name = _class_dict, _class_name
    MISSING = object()

    state = make_library_state(snapshot, protected)
    restore_state, judge_state, classes = state.restore, state.judge, state.classes
    functions = {_id(v) for _, contents in snapshot.values() for v in contents.values() if _type(v) is FunctionType}
    functions |= state.functions
    module_classes = {name: (module, _type(module)) for name, (module, _) in snapshot.items()}
    module_objects = {name: module for name, (module, _) in snapshot.items()}
    dirty_classes: dict = {}  # (id(cls), name) -> (cls, name, value before the first change, or MISSING)
    dirty_functions: dict = {}  # (id(fn), name) -> (fn, name, value before the first change)

    def record_setattr(target, name) -> None:
        if _type(name) is not _str or name in ("__code__", "__class__"):
            return  # refused outright by the deny hook
        kind = _type(target)
        if kind is FunctionType:
            if _id(target) in functions and (_id(target), name) not in dirty_functions:
                dirty_functions[(_id(target), name)] = (target, name, _getattr(target, name, None))
        elif _issubclass(kind, TypeType) and _id(target) in classes:
            key = (_id(target), name)
            if key not in dirty_classes:
                dirty_classes[key] = (target, name, class_dict(target).get(name, MISSING))

    def restore(notes: list) -> int:
        changed = restore_state(notes)
        modules_now = _sys.modules
        for name, module in module_objects.items():
            if _dict_get(modules_now, name, MISSING) is not module:
                modules_now[name] = module
                changed += 1
        for name, (module, cls) in module_classes.items():
            if _type(module) is not cls:
                _object_setattr(module, "__class__", cls)
                changed += 1
        for (cls, name, original) in _list(dirty_classes.values()):
            if original is MISSING:
                if name in class_dict(cls):
                    _type_delattr(cls, name)
            else:
                _type_setattr(cls, name, original)
        dirty_classes.clear()
        for (fn, name, original) in _list(dirty_functions.values()):
            _object_setattr(fn, name, original)
        dirty_functions.clear()
        return changed

    def changes(used: set, problems: list) -> None:
        judge_state(used, problems)
        for (cls, name, original) in _list(dirty_classes.values()):
            if class_dict(cls).get(name, MISSING) is not original:
                problems.append(concat(concat(class_name(cls), "."), name))
        for (fn, name, original) in _list(dirty_functions.values()):
            if _getattr(fn, name, MISSING) is not original:
                problems.append("attribute " + name + " of a library function")
        for name, (module, cls) in module_classes.items():
            if _type(module) is not cls:
                problems.append("the class of module " + name)
        modules_now = _sys.modules
        for name, module in module_objects.items():
            if _dict_get(modules_now, name, MISSING) is not module:
                problems.append("sys.modules[" + name + "]")
                break

    return _Record(restore=restore, changes=changes, record_setattr=record_setattr, functions=functions)


# --- sys and the import machinery ------------------------------------------------------------------
def guard_imports():
    """Put back `sys`'s hooks and streams and the import machinery; switch the import path
    between the student's and the one tests run with.

    The import path tests use is the start-up path without the working folder (kernel.py put it
    last), so nothing a student writes there is imported while a test runs. `sys.path` stays the
    start-up list object; only its contents change. Returns a record of ``restore()``,
    ``remember_student_path()`` (call before ``restore``), ``use_test_path()`` and
    ``back_to_student_path()``.
    """
    import posix

    _sys, _setattr, _getattr, _list, _type = sys, setattr, getattr, list, type
    saved = {k: _getattr(_sys, k) for k in SYS_HOOKS + IMPORT_MACHINERY}
    meta_path, path_hooks = _list(_sys.meta_path), _list(_sys.path_hooks)
    test_path = [p for p in _sys.path if p not in ("", ".", posix.getcwd())]
    path = saved["path"]
    student = _Record(path=None)  # the student's sys.path contents while a test runs

    def restore() -> None:
        for k, v in saved.items():
            _setattr(_sys, k, v)
        saved["meta_path"][:] = meta_path
        saved["path_hooks"][:] = path_hooks
        saved["path_importer_cache"].clear()

    def remember_student_path() -> None:
        now = _sys.path
        student.path = _list(now) if _type(now) is _list else None

    def use_test_path() -> None:
        path[:] = test_path

    def back_to_student_path() -> None:
        if _type(student.path) is _list:
            path[:] = student.path
        student.path = None

    return _Record(restore=restore, remember_student_path=remember_student_path, use_test_path=use_test_path,
                   back_to_student_path=back_to_student_path)


# --- IPython's shell and the kernel ----------------------------------------------------------------
def guard_shell(app, functions: set):
    """Put back IPython's shell and the kernel as they were at start-up.

    `app` is the kernel application (with ``.shell`` and ``.kernel``); `functions` the ids of the
    functions that existed at start-up (a callback registered since is kept only if it is one of
    them). Returns a record of ``restore()``, ``forget_request_text()`` and what other units use:
    ``shell``, ``user_ns`` and ``user_module`` (the notebook's namespace), and the code objects of
    IPython's ``run_code`` and ``run_ast_nodes`` (how the hook knows a statement is a cell's).
    """
    import contextvars

    _type, _id, _list, _dict, _str, _getattr = type, id, list, dict, str, getattr
    FunctionType, MethodType, ContextVar = types.FunctionType, types.MethodType, contextvars.ContextVar
    StaticMethod, ClassMethod = staticmethod, classmethod
    _dict_get = dict.get
    class_dict, mro = _class_dict, _mro
    shell_state = SHELL_STATE
    MISSING = object()

    shell, kernel = app.shell, app.kernel
    shell_class, kernel_class = _type(shell), _type(kernel)
    run_code = run_ast_nodes = None
    for klass in mro(shell_class):
        found = class_dict(klass)
        if run_code is None and "run_code" in found:
            run_code = found["run_code"].__code__
        if run_ast_nodes is None and "run_ast_nodes" in found:
            run_ast_nodes = found["run_ast_nodes"].__code__
    live_traits = shell.__dict__["_trait_values"]
    traits = _dict(live_traits)
    trait_lists = {k: _list(v) for k, v in live_traits.items() if _type(v) is _list and k in shell_state}
    itm = shell.input_transformer_manager
    itm_lists = {k: _list(v) for k, v in itm.__dict__.items() if _type(v) is _list}
    shell_dict, kernel_dict = _dict(shell.__dict__), _dict(kernel.__dict__)
    handlers = _getattr(kernel, "shell_handlers", None)
    saved_handlers = _dict(handlers) if _type(handlers) is _dict else None
    events = shell.events
    callbacks = events.callbacks
    saved_callbacks = {k: _list(v) for k, v in callbacks.items()}
    compiler = shell.compile
    compile_flags = compiler.flags
    # the running request's message (its 'code' is the test's whole text)
    shell_parent = _dict_get(kernel.__dict__, "_shell_parent")

    def restore_dict(target: dict, saved: dict) -> None:
        """Make every key in `saved` map to its saved value again."""
        for k in _list(target.keys()):
            if _type(k) is not _str:  # a str subclass could run code when compared; rebuild
                items = [(k2, v2) for k2, v2 in target.items() if _type(k2) is _str]
                target.clear()
                for k2, v2 in items:
                    target[k2] = v2
                break
        for k, v in saved.items():
            if _dict_get(target, k, MISSING) is not v:
                target[k] = v

    def callback_is_pristine(cb) -> bool:
        kind = _type(cb)
        if kind is MethodType:
            return _type(cb.__func__) is FunctionType and _id(cb.__func__) in functions
        return kind is FunctionType and _id(cb) in functions

    def drop_method_overrides(obj_dict: dict, cls, keep: dict) -> None:
        """Remove instance attributes added since start-up that hide a method of the class."""
        for k in _list(obj_dict.keys()):
            if _type(k) is _str and k not in keep:
                for klass in mro(cls):
                    found = class_dict(klass).get(k, MISSING)
                    if found is not MISSING:
                        if _type(found) is FunctionType or _type(found) in (StaticMethod, ClassMethod):
                            del obj_dict[k]
                        break

    def restore_shell_attributes() -> None:
        sdict = shell.__dict__
        if _type(sdict) is not _dict:
            return
        drop_method_overrides(sdict, shell_class, shell_dict)
        for k in shell_state:
            saved = _dict_get(shell_dict, k, MISSING)
            if saved is not MISSING and _dict_get(sdict, k, MISSING) is not saved:
                sdict[k] = saved
            elif saved is MISSING and k in sdict:
                del sdict[k]
        live = _dict_get(sdict, "_trait_values")
        if _type(live) is _dict:
            for k in shell_state:
                saved = _dict_get(traits, k, MISSING)
                if saved is not MISSING and _dict_get(live, k, MISSING) is not saved:
                    live[k] = saved

    def restore_transformers_and_callbacks() -> None:
        for k, items in trait_lists.items():
            traits[k][:] = items
        itm_dict = itm.__dict__
        if _type(itm_dict) is _dict:
            for k, items in itm_lists.items():
                current = _dict_get(itm_dict, k)
                if _type(current) is _list:
                    current[:] = items
                else:
                    itm_dict[k] = _list(items)
        events_dict = events.__dict__
        if _type(events_dict) is _dict and _type(callbacks) is _dict:
            events_dict["callbacks"] = callbacks
            for name, original in saved_callbacks.items():
                current = _dict_get(callbacks, name)
                kept = _list(original)
                kept_ids = {_id(cb) for cb in kept}
                if _type(current) is _list:
                    for cb in current:
                        if _id(cb) not in kept_ids and callback_is_pristine(cb):
                            kept.append(cb)
                            kept_ids.add(_id(cb))
                callbacks[name] = kept
        compile_dict = compiler.__dict__
        if _type(compile_dict) is _dict:
            compile_dict["flags"] = compile_flags

    def restore_kernel() -> None:
        kdict = kernel.__dict__
        if _type(kdict) is not _dict:
            return
        drop_method_overrides(kdict, kernel_class, kernel_dict)
        if _dict_get(kdict, "shell") is not shell and "shell" in kernel_dict:
            kdict["shell"] = shell
        if shell_parent is not None and _dict_get(kdict, "_shell_parent") is not shell_parent:
            kdict["_shell_parent"] = shell_parent
        live = _dict_get(kdict, "shell_handlers")
        if _type(live) is _dict and saved_handlers is not None:
            restore_dict(live, saved_handlers)

    def restore() -> None:
        restore_shell_attributes()
        restore_transformers_and_callbacks()
        restore_kernel()

    def forget_request_text() -> None:
        """Blank the code of the request being run (a test's whole text, hidden part included),
        which code the test calls could otherwise read through the kernel's get_parent().
        ipykernel took the code out of the message before running it."""
        if _type(shell_parent) is not ContextVar:
            return
        message = shell_parent.get(None)
        content = _dict_get(message, "content") if _type(message) is _dict else None
        if _type(content) is _dict and "code" in content:
            content["code"] = ""

    return _Record(restore=restore, forget_request_text=forget_request_text, shell=shell,
                   user_ns=shell.user_ns, user_module=shell.user_module,
                   run_code=run_code, run_ast_nodes=run_ast_nodes)


# --- the test's own namespace ----------------------------------------------------------------------
def make_test_namespace(shell, snapshot: dict, imports):
    """The namespace of its own each test runs in, and the check that its names still resolve.

    `shell` is what `guard_shell` returned, `snapshot` what `snapshot_modules` returned, `imports`
    what `guard_imports` returned. Returns a record of:

    * ``enter(aliases)``: run the coming cell in a fresh module dict: the student's globals (copied
      as they are now), less those named like builtins, plus the pristine modules and module
      attributes the test's `aliases` name ((name, module, attribute or None) triples); and with
      the import path tests use;
    * ``leave()``: the notebook's own namespace and the student's import path are back, and
      IPython's record of the last result (which holds the test's text) is dropped;
    * ``active() -> bool``: a test's namespace is in use;
    * ``changes(aliases, used, problems)``: add to `problems` what changed in how the test's own
      names resolve: the shell no longer runs code in the test's namespace, an alias no longer
      names its pristine object, a global shadows a builtin the test uses.
    """
    _type, _list, _dict, _str, _callable, _issubclass = type, list, dict, str, callable, issubclass
    ModuleType, TypeType = types.ModuleType, type
    _dict_get = dict.get
    module_dict = _module_dict
    MISSING = object()
    live_shell = shell.shell
    notebook_ns, notebook_module = shell.user_ns, shell.user_module
    builtin_names = snapshot["builtins"][1] if "builtins" in snapshot else {}
    builtins_module = snapshot["builtins"][0] if "builtins" in snapshot else None
    current = _Record(module=None, ns=None)  # the test's namespace while it is in use

    def pristine(module_name: str, attr):
        entry = _dict_get(snapshot, module_name)
        if entry is None:
            return MISSING
        return entry[0] if attr is None else _dict_get(entry[1], attr, MISSING)

    def behavioural(value) -> bool:
        kind = _type(value)
        return kind is ModuleType or _issubclass(kind, TypeType) or _callable(value)

    def enter(aliases: tuple) -> None:
        module = ModuleType("__main__")
        ns = module_dict(module)
        for k, v in _list(notebook_ns.items()):
            if _type(k) is _str and (k not in builtin_names or k.startswith("__")):
                ns[k] = v
        if builtins_module is not None:
            ns["__builtins__"] = builtins_module
        for name, module_name, attr in aliases:
            value = pristine(module_name, attr)
            if value is not MISSING:
                ns[name] = value
        sdict = live_shell.__dict__
        if _type(sdict) is _dict:
            sdict["_user_ns"] = ns
            sdict["user_module"] = module
        imports.use_test_path()
        current.module, current.ns = module, ns

    def leave() -> None:
        sdict = live_shell.__dict__
        if _type(sdict) is _dict:
            sdict["_user_ns"] = notebook_ns
            sdict["user_module"] = notebook_module
            traits = _dict_get(sdict, "_trait_values")
            if _type(traits) is _dict:
                traits["last_execution_result"] = None
        imports.back_to_student_path()
        current.module = current.ns = None

    def active() -> bool:
        return current.ns is not None

    def changes(aliases: tuple, used: set, problems: list) -> None:
        ns = current.ns
        sdict = live_shell.__dict__
        if ns is None or _type(sdict) is not _dict or _dict_get(sdict, "_user_ns") is not ns \
                or _dict_get(sdict, "user_module") is not current.module:
            problems.append("the namespace the test runs in")
            return
        for k in _list(ns.keys()):
            if _type(k) is not _str:
                problems.append("a non-string global name")
                return
        for name, module_name, attr in aliases:
            expected = pristine(module_name, attr)
            if expected is not MISSING and _dict_get(ns, name, MISSING) is not expected:
                problems.append("the global name " + name)
        for k in _list(ns.keys()):
            if k in builtin_names and not k.startswith("__") and (k in used or behavioural(ns[k])):
                problems.append("a global shadowing the builtin " + k)

    return _Record(enter=enter, leave=leave, active=active, changes=changes)


# --- the receipt hook ------------------------------------------------------------------------------
def make_alias_check():
    """`valid_aliases(value) -> bool`: the guard's aliases argument is a tuple of
    (name, module, attribute or None) triples of exact strings."""
    _type, _tuple, _len, _str = type, tuple, len, str

    def valid_aliases(value) -> bool:
        if _type(value) is not _tuple:
            return False
        for item in value:
            if _type(item) is not _tuple or _len(item) != 3:
                return False
            name, module_name, attr = item
            if _type(name) is not _str or _type(module_name) is not _str:
                return False
            if attr is not None and _type(attr) is not _str:
                return False
        return True

    return valid_aliases


def make_name_collector():
    """`names_of(code, into)`: add to the set `into` every name the code object and the code
    objects nested in it use (what a test's verdict may rest on)."""
    _type, CodeType = type, types.CodeType

    def names_of(code, into: set) -> None:
        into.update(code.co_names)
        for const in code.co_consts:
            if _type(const) is CodeType:
                names_of(const, into)

    return names_of


def install_receipt_hook(*, key: bytes, receipt_fd: int, protected_prefixes: tuple[str, ...]) -> None:
    """Install the receipt hook. Call once, before IPython starts and before any student code."""
    sys.addaudithook(make_receipt_hook(key=key, receipt_fd=receipt_fd, protected_prefixes=protected_prefixes))


def make_receipt_hook(*, key: bytes, receipt_fd: int, protected_prefixes: tuple[str, ...],
                      report_depth: int = REPORT_CALLER_DEPTH):
    """The receipt hook, `hook(event, args)`, not yet installed (tests drive it directly, and
    deliver measurement events through one Python frame more: `report_depth`)."""
    # --- what the hook uses, bound now, so later monkeypatching cannot reach it -----------------
    _type, _len, _str, _set, _dict, _Exception = type, len, str, set, dict, Exception
    _getframe, _sys, CodeType = sys._getframe, sys, types.CodeType
    Record = _Record
    write_receipt, write_note = receipt.make_writer(key, receipt_fd)
    write_measure = receipt.make_measure_writer(key, receipt_fd)
    del key
    # report's code object, and its module (held as the module: its namespace is looked at, never used)
    report_code, report_module, module_dict = measure.report.__code__, measure, _module_dict
    float_repr, int_repr, is_identifier, _float, _int = float.__repr__, int.__repr__, str.isidentifier, float, int
    max_text = MAX_MEASURE_TEXT
    code_digest = make_code_digest()
    protected = protected_names(protected_prefixes)
    aliases_ok, names_of = make_alias_check(), make_name_collector()
    take_modules, make_libraries, make_imports, make_shell, make_namespace = (
        snapshot_modules, guard_libraries, guard_imports, guard_shell, make_test_namespace)
    init_event, next_event, enter_event, measure_event = INIT_EVENT, NEXT_EVENT, ENTER_EVENT, MEASURE_EVENT
    guard_ran, test_running = GUARD_RAN, TEST_RUNNING
    max_problems, caller_depth, no_cell = MAX_PROBLEMS, EXEC_CALLER_DEPTH, receipt.NO_CELL

    # ready: the snapshot is taken; resetting: the sentinel is putting things back itself;
    # armed: the test being watched (see arm()); phase: GUARD_RAN, TEST_RUNNING or None.
    state = Record(ready=False, resetting=False, armed=None, phase=None,
                   libraries=None, imports=None, shell=None, namespace=None, linecache=None)

    def take_snapshot(app) -> None:
        snapshot = take_modules(_sys.modules, protected)
        state.libraries = make_libraries(snapshot, protected)
        state.shell = make_shell(app, state.libraries.functions)
        state.imports = make_imports()
        state.namespace = make_namespace(state.shell, snapshot, state.imports)
        state.linecache = _sys.modules["linecache"].cache if "linecache" in _sys.modules else None
        state.ready = True

    def restore_everything(notes: list) -> int:
        state.resetting = True
        try:
            changed = state.libraries.restore(notes)
            state.imports.restore()
            state.shell.restore()
            return changed
        finally:
            state.resetting = False

    def changed_during_test(armed) -> list:
        """What the test's own run changed among the things its verdict may rest on. Everything
        was put back before the test; only identities are compared."""
        problems: list = []
        state.libraries.changes(armed.names, problems)
        state.namespace.changes(armed.aliases, armed.names, problems)
        return problems[:max_problems]

    def arm(cell: str, trail: str, aliases: tuple):
        """The test being watched: its cell id, the digest of its trail statement, its aliases,
        the run_ast_nodes frame running it (set by its first statement), the digests of the
        statements that ran, and every name their code uses."""
        return Record(cell=cell, trail=trail, aliases=aliases, runner=None, digests=[], names=_set(),
                      code=None, pending=None, refused=False)

    def leave_test() -> None:
        """The cell after a test is starting (or the next guard came first)."""
        armed = state.armed
        if armed is not None:
            write_note(armed.cell, "stopped-before-the-end")
            state.armed = None
        state.namespace.leave()
        state.phase = None

    def on_enter(args) -> None:
        if _len(args) != 3:
            return
        cell, trail, aliases = args
        if _type(cell) is not _str or _type(trail) is not _str or not aliases_ok(aliases):
            return
        if state.armed is not None:
            write_note(state.armed.cell, "window-closed-by-next-guard")
            state.armed = None
        if state.namespace.active():
            leave_test()
        state.imports.remember_student_path()
        changed_names: list = []
        changed = restore_everything(changed_names)
        state.namespace.enter(aliases)
        state.phase = guard_ran
        state.armed = arm(cell, trail, aliases)
        if changed:
            write_note(cell, f"restored {changed} changed entries: {','.join(changed_names)}")

    def on_next() -> None:
        """A cell is about to start: the test cell after its guard, or the cell after the test."""
        if state.phase == guard_ran:
            state.phase = test_running
        elif state.phase == test_running:
            leave_test()

    def number_text(value):
        """A plain int or float as text, or None (anything else: nothing of it is called)."""
        kind = _type(value)
        if kind is _float:
            if not value - value == 0.0:  # nan or infinite
                return None
            text = float_repr(value)
        elif kind is _int:
            text = int_repr(value)
        else:
            return None
        return text if _len(text) <= max_text else None

    def refuse(armed, why: str) -> None:
        if not armed.refused:  # one note per test: student code could raise the event in a loop
            armed.refused = True
            write_note(armed.cell, "measurement-refused: " + why)

    def on_measure(args) -> None:
        """measure.report() was called: keep the measurement, if it is the test's own, until the
        statement that made it completes (see flush)."""
        armed = state.armed
        if armed is None or armed.code is None:
            return
        reporter = _getframe(report_depth)  # on_measure, the hook, then the frame that raised the event
        if reporter is None or reporter.f_code is not report_code or reporter.f_globals is not module_dict(report_module):
            return refuse(armed, "not-raised-by-report")
        statement = reporter.f_back
        runner = statement.f_back if statement is not None else None
        if statement is None or statement.f_code is not armed.code or runner is None \
                or runner.f_code is not state.shell.run_code or runner.f_back is not armed.runner:
            return refuse(armed, "report-not-called-by-the-test")
        if _len(args) != 3:
            return refuse(armed, "arguments")
        name, value, target = args
        value_text = "-" if value is None else number_text(value)
        target_text = "-" if target is None else number_text(target)
        if _type(name) is not _str or _len(name) > 64 or not is_identifier(name) or value_text is None \
                or target_text is None:
            return refuse(armed, "arguments")
        armed.pending = (_len(armed.digests) - 1, name, value_text, target_text)

    def flush(armed) -> None:
        """The statement that reported a measurement completed: sign it, unless something the
        test's verdict rests on changed by now (the receipt's own check)."""
        pending, armed.pending = armed.pending, None
        if pending is None:
            return
        index, name, value_text, target_text = pending
        problems = changed_during_test(armed)
        if problems:
            write_note(armed.cell, f"measurement-withheld {name}: changed-during-test: {','.join(problems)}")
            return
        write_measure(armed.cell, index, armed.digests, name, value_text, target_text)

    def on_exec(args) -> None:
        armed = state.armed
        if armed is None:
            return
        if _len(args) < 1 or _type(args[0]) is not CodeType:
            return
        caller = _getframe(caller_depth)
        if caller is None or caller.f_code is not state.shell.run_code:
            return
        runner = caller.f_back
        if runner is None or runner.f_code is not state.shell.run_ast_nodes:
            return
        if armed.runner is None:
            armed.runner = runner
            cache = state.linecache
            filename = args[0].co_filename
            if _type(cache) is _dict and _type(filename) is _str:
                cache.pop(filename, None)  # the hidden test's text is not left for code it calls to read
            state.shell.forget_request_text()
        elif runner is not armed.runner:
            write_note(armed.cell, "stopped-before-the-end")
            state.armed = None
            return
        if armed.pending is not None:
            flush(armed)  # the statement that reported it completed: the next one is starting
        armed.code = args[0]
        digest = code_digest(args[0])
        armed.digests.append(digest)
        names_of(args[0], armed.names)
        if digest == armed.trail:
            state.armed = None
            problems = changed_during_test(armed)
            if problems:
                write_note(armed.cell, f"changed-during-test: {','.join(problems)}")
                return
            write_receipt(armed.cell, armed.digests)

    def on_setattr(args) -> None:
        if state.resetting or not (_len(args) == 2 or _len(args) == 3):
            return
        state.libraries.record_setattr(args[0], args[1])

    def hook(event, args):
        try:
            if event == "exec":
                if state.ready:
                    on_exec(args)
            elif event == "object.__setattr__" or event == "object.__delattr__":
                if state.ready:
                    on_setattr(args)
            elif event == enter_event:
                if state.ready:
                    on_enter(args)
            elif event == measure_event:
                if state.ready:
                    on_measure(args)
            elif event == next_event:
                if state.ready:
                    on_next()
            elif event == init_event:
                if not state.ready and _len(args) == 1:
                    take_snapshot(args[0])
        except _Exception as error:  # noqa: BLE001 - never let an exception (and this frame) escape
            state.armed = None
            try:
                lines = []
                tb = error.__traceback__
                while tb is not None:
                    lines.append(tb.tb_frame.f_code.co_name + ":" + _str(tb.tb_lineno))
                    tb = tb.tb_next
                write_note(no_cell, f"sentinel-error {_type(error).__name__} at {'/'.join(lines)}")
            except _Exception:  # noqa: BLE001
                pass
            del error
        return None

    return hook


PROCESS_EVENTS = frozenset({
    "subprocess.Popen", "os.system", "os.posix_spawn", "os.exec", "os.spawn", "os.fork", "os.forkpty",
    "pty.spawn",
})


def _startup_classes() -> dict:
    """Every class that exists right now, by id. The dict holds the classes themselves, so none of
    those ids can be reused by a class made later (as it could once a class died)."""
    seen, stack = {}, [object]
    while stack:
        cls = stack.pop()
        try:
            subs = type.__subclasses__(cls)
        except TypeError:
            continue
        for sub in subs:
            if id(sub) not in seen:
                seen[id(sub)] = sub
                stack.append(sub)
    return seen


def install_deny_hook(protected_paths: tuple[str, ...] = (), allowed_paths: tuple[str, ...] = (),
                      deny_processes: bool = False, protected_prefixes: tuple[str, ...] = ()) -> None:
    """Install the stateless hook that refuses interpreter-level tampering from now on.

    `protected_paths` (absolute folders and files) cannot be opened, listed or changed, except
    inside `allowed_paths`, whatever name reaches them (see paths.py); links cannot be made at
    all, and with `deny_processes` no process can be started. This file policy only matters when
    the kernel runs without bubblewrap; with it those folders are not in the kernel's file system.
    The two lists end up only in this hook's closure.
    """
    from autograder.sandbox.paths import make_path_guard

    _type, _str, _len, _RuntimeError = type, str, len, RuntimeError
    FunctionType, ModuleType = types.FunctionType, types.ModuleType
    _issubclass = issubclass
    denied = DENIED_EVENTS
    check_paths = make_path_guard(tuple(protected_paths), tuple(allowed_paths))
    process_events = PROCESS_EVENTS if deny_processes else frozenset()
    # Modules whose class may not be swapped for a class made after start-up (libraries such as
    # torch swap the class of their own config modules when they load them; that stays allowed).
    guarded_modules = frozenset(
        id(m) for n, m in list(sys.modules.items())
        if m is not None and any(n == p or n.startswith(p + ".") for p in protected_prefixes))
    startup_classes = _startup_classes()  # id -> class: the hook keeps them alive
    _id = id

    def deny(event, args):
        if event in denied:
            raise _RuntimeError(f"{event} is not allowed while a notebook is being graded")
        if event == "object.__setattr__" and _len(args) >= 2:
            target, name = args[0], args[1]
            if _type(name) is not _str:
                if _type(target) is FunctionType or _issubclass(_type(target), ModuleType):
                    raise _RuntimeError("setting attributes by non-string names is not allowed while grading")
                return
            if name == "__code__" and _type(target) is FunctionType:
                raise _RuntimeError("replacing a function's __code__ is not allowed while a notebook is being graded")
            if (name == "__class__" and _issubclass(_type(target), ModuleType) and _id(target) in guarded_modules
                    and _id(args[2] if _len(args) > 2 else None) not in startup_classes):
                raise _RuntimeError("replacing a library module's class is not allowed while a notebook is being graded")
            return
        reason = check_paths(event, args)
        if reason is not None:
            raise _RuntimeError(reason)
        if event in process_events:
            raise _RuntimeError("starting processes is not allowed while a notebook is being graded here")

    sys.addaudithook(deny)
