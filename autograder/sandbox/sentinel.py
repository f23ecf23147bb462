"""The sentinel: two audit hooks installed in the grading kernel before any student code runs.

A test cell earns its points only on positive proof that the grader's own test code ran to
completion, and that proof is judged by the grader process, which student code cannot reach.
The proof is a *receipt*: a line written to a file descriptor the grader opened, carrying the
test's id, a digest of the code objects that ran and an HMAC under a key the grader made for this
run. Audit hooks (PEP 578) cannot be removed once installed, so they watch the kernel for the
whole run:

* The **receipt hook** holds the key. When the grader's guard cell raises the custom audit event
  ``autograder.enter`` just before a test cell, it

  1. puts back what student code may have changed that would alter how the test behaves: the
     dictionaries of the library modules loaded before the student's first cell (numpy, math,
     builtins, pandas, torch, the course package...), attributes of pre-existing classes and
     functions, IPython's input and AST transformers, exception handler, event callbacks and
     display hook, ``sys.stdout``/``sys.stderr``/``sys.displayhook``, the import machinery and
     the import path;
  2. gives the test a namespace of its own: a copy of the notebook's globals as the student left
     them, without the globals that shadow builtins, with the module aliases the test uses
     (``np``...) bound to the pristine modules. The test's own assignments land there, never in
     the namespace the student's functions read, and it is dropped when the next cell starts
     (the ``autograder.next`` event, raised by an IPython ``pre_execute`` callback registered
     before the snapshot), so after a test the notebook's namespace is as the student left it;
  3. arms itself for that test. It then watches the ``exec`` events of IPython's own
     ``run_code`` coming from one ``run_ast_nodes`` frame (the test cell's), digests each
     top-level statement, and when the statement the grader appended to the end of the test
     runs, checks that nothing put back in step 1 changed while the test ran (any callable,
     class or module entry of a protected module, whatever its name; any attribute of a
     pre-existing class or function) and writes the receipt. IPython stops a cell at the first
     exception, so reaching the last statement means every assert before it passed.

  It never raises (an exception would carry its frame, and so its key, to student code) and never
  calls code the student could have replaced: it uses only references captured at install time.

* The **deny hook** holds no key and refuses, from the moment the kernel is ready, the
  operations that would let code reach into the interpreter: swapping a function's ``__code__``,
  changing a module's class, walking the garbage collector's object lists, tracing or profiling
  hooks, new audit hooks and raw memory access through ctypes. Without bubblewrap it also applies
  the file policy (paths.py), whose list of private paths exists only in its closure.

What this does not defend against (see docs/threat-model.md): code that corrupts interpreter memory
through a path the deny hook does not see, or that captures the receipt hook's frame through a
Python signal handler; both need deliberate attacks on this file's internals.
"""
from __future__ import annotations

import sys
import types

from autograder.sandbox.digest import make_code_digest
from autograder.sandbox.libstate import make_library_state

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

RECEIPT = "R"  # receipt line tag: R <cell_id> <sequence digest> <hmac>
NOTE = "N"  # diagnostic line tag (never worth points): N <cell_id> <reason>

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


def announce_next_cell(_audit=sys.audit) -> None:
    """IPython 'pre_execute' callback (registered by the kernel before the snapshot): a cell is
    about to run. The sentinel ends a test's namespace when the cell after the test starts."""
    _audit("autograder.next")


def install_receipt_hook(*, key: bytes, receipt_fd: int, protected_prefixes: tuple[str, ...]) -> None:
    """Install the receipt hook. Call once, before IPython starts and before any student code."""
    import _hashlib
    import posix

    # --- primitives captured now, so later monkeypatching cannot reach them -----------------
    _type, _id, _len, _tuple, _list, _dict = type, id, len, tuple, list, dict
    _issubclass, _getframe, _write = issubclass, sys._getframe, posix.write
    _getattr, _setattr, _object_setattr, _bytes = getattr, setattr, object.__setattr__, bytes
    _sha256 = _hashlib.openssl_sha256
    _str, _sys, _callable, TypeType = str, sys, callable, type
    import contextvars

    ContextVar = contextvars.ContextVar

    FunctionType, MethodType, ModuleType, CodeType = (
        types.FunctionType, types.MethodType, types.ModuleType, types.CodeType)
    _module_dict = ModuleType.__dict__["__dict__"].__get__
    _class_dict = type.__dict__["__dict__"].__get__
    _class_name = type.__dict__["__name__"].__get__  # no metaclass code runs
    _type_setattr, _type_delattr = type.__setattr__, type.__delattr__
    _dict_get = dict.get
    MISSING = object()
    code_digest = make_code_digest()

    block = 64
    if _len(key) > block:
        key = _sha256(key).digest()
    key = key + b"\x00" * (block - _len(key))
    ipad = _bytes([b ^ 0x36 for b in key])
    opad = _bytes([b ^ 0x5C for b in key])
    del key

    def mac(message: bytes) -> str:
        inner = _sha256(ipad + message).digest()
        return _sha256(opad + inner).hexdigest()

    def emit(line: str) -> None:
        data = line.encode("utf-8", "replace") + b"\n"
        while data:
            written = _write(receipt_fd, data)
            data = data[written:]

    # --- state -----------------------------------------------------------------------------
    st = {
        "ready": False,
        "resetting": False,
        "armed": None,  # dict(cell, trail, runner, digests) while a test cell runs
        "test_ns": None,  # (module, its dict): the namespace of the test being run
        "phase": None,  # "guard" after the guard cell, "test" once the test cell started
        "student_path": None,  # the student's sys.path, put back after the test
    }
    snap: dict = {}
    dirty_classes: dict = {}  # (id(cls), name) -> (cls, name, original value or MISSING)
    dirty_functions: dict = {}  # (id(fn), name) -> (fn, name, original value)
    module_classes: dict = {}  # name -> (module, its class at start-up)
    library: dict = {}  # restore / judge: the protected libraries' state (libstate.py)

    def protected(name) -> bool:
        if _type(name) is not _str:
            return False
        for prefix in protected_prefixes:
            if name == prefix or name.startswith(prefix + "."):
                return True
        return False

    # --- snapshot at kernel start (the 'autograder.init' event) ------------------------------
    def take_snapshot(app) -> None:
        modules = {}
        functions = set()
        for name, module in _list(_sys.modules.items()):
            if _type(module) is not ModuleType and not _issubclass(_type(module), ModuleType):
                continue
            if not protected(name):
                continue
            contents = {k: v for k, v in _module_dict(module).items() if _type(k) is _str and v is not None}
            module_classes[name] = (module, _type(module))
            if name == "builtins":
                for k in KERNEL_MANAGED_BUILTINS:  # ipykernel swaps these per request
                    contents.pop(k, None)
            modules[name] = (module, contents)
            for value in contents.values():
                if _type(value) is FunctionType:
                    functions.add(_id(value))
        restore_lib, judge_lib, _, class_functions, classes = make_library_state(modules, protected)
        functions |= class_functions
        library.update(restore=restore_lib, judge=judge_lib)
        shell = app.shell
        kernel = app.kernel
        shell_cls = _type(shell)
        run_code = None
        run_ast_nodes = None
        for klass in shell_cls.__mro__:
            found = _class_dict(klass)
            if run_code is None and "run_code" in found:
                run_code = found["run_code"].__code__
            if run_ast_nodes is None and "run_ast_nodes" in found:
                run_ast_nodes = found["run_ast_nodes"].__code__
        traits = shell.__dict__["_trait_values"]
        itm = shell.input_transformer_manager
        snap.update(
            modules=modules,
            functions=functions,
            classes=classes,
            shell=shell,
            kernel=kernel,
            shell_dict=_dict(shell.__dict__),
            kernel_dict=_dict(kernel.__dict__),
            shell_class=shell_cls,
            kernel_class=_type(kernel),
            shell_handlers=_dict(kernel.shell_handlers) if _type(_getattr(kernel, "shell_handlers", None)) is _dict else None,
            traits=_dict(traits),
            trait_lists={k: _list(v) for k, v in traits.items() if _type(v) is _list and k in SHELL_STATE},
            itm=itm,
            itm_lists={k: _list(v) for k, v in itm.__dict__.items() if _type(v) is _list},
            events=shell.events,
            callbacks_obj=shell.events.callbacks,
            callbacks={k: _list(v) for k, v in shell.events.callbacks.items()},
            compile=shell.compile,
            compile_flags=shell.compile.flags,
            run_code=run_code,
            run_ast_nodes=run_ast_nodes,
            sys_attrs={k: _getattr(_sys, k) for k in (
                "displayhook", "excepthook", "stdout", "stderr", "stdin", "breakpointhook",
                "meta_path", "path_hooks", "path_importer_cache", "path")},
            # what tests import from: the start-up path without the working folder (kernel.py
            # put it last), so nothing a student writes there is imported while a test runs
            test_path=[p for p in _sys.path if p not in ("", ".", posix.getcwd())],
            meta_path=_list(_sys.meta_path),
            path_hooks=_list(_sys.path_hooks),
            sys_modules={name: module for name, (module, _) in modules.items()},
            builtins=modules["builtins"][1] if "builtins" in modules else {},
            user_ns=shell.user_ns,
            user_module=shell.user_module,
            # the running request's message (its 'code' is the test's whole text)
            shell_parent=_dict_get(kernel.__dict__, "_shell_parent"),
            linecache=_sys.modules["linecache"].cache if "linecache" in _sys.modules else None,
        )
        st["ready"] = True

    # --- putting things back -------------------------------------------------------------------
    def restore_dict(target: dict, saved: dict, changed_names: list | None = None) -> int:
        """Make every key in `saved` map to its saved value again. Returns how many changed."""
        for k in _list(target.keys()):
            if _type(k) is not _str:  # a str subclass could run code when compared; rebuild
                items = [(k2, v2) for k2, v2 in target.items() if _type(k2) is _str]
                target.clear()
                for k2, v2 in items:
                    target[k2] = v2
                break
        changed = 0
        for k, v in saved.items():
            if _dict_get(target, k, MISSING) is not v:
                target[k] = v
                changed += 1
                if changed_names is not None and _len(changed_names) < 8:
                    changed_names.append(k)
        return changed

    def callback_is_pristine(cb) -> bool:
        kind = _type(cb)
        if kind is MethodType:
            return _type(cb.__func__) is FunctionType and _id(cb.__func__) in snap["functions"]
        return kind is FunctionType and _id(cb) in snap["functions"]

    def drop_method_overrides(obj_dict: dict, cls, keep: dict) -> None:
        """Remove instance attributes added since start-up that hide a method of the class."""
        for k in _list(obj_dict.keys()):
            if _type(k) is _str and k not in keep:
                for klass in cls.__mro__:
                    found = _class_dict(klass).get(k, MISSING)
                    if found is not MISSING:
                        if _type(found) is FunctionType or _type(found) in (staticmethod, classmethod):
                            del obj_dict[k]
                        break

    def restore_shell() -> None:
        shell, kernel = snap["shell"], snap["kernel"]
        sdict = shell.__dict__
        if _type(sdict) is _dict:
            drop_method_overrides(sdict, snap["shell_class"], snap["shell_dict"])
            for k in SHELL_STATE:
                saved = _dict_get(snap["shell_dict"], k, MISSING)
                if saved is not MISSING and _dict_get(sdict, k, MISSING) is not saved:
                    sdict[k] = saved
                elif saved is MISSING and k in sdict:
                    del sdict[k]
            traits = _dict_get(sdict, "_trait_values")
            if _type(traits) is _dict:
                for k in SHELL_STATE:
                    saved = _dict_get(snap["traits"], k, MISSING)
                    if saved is not MISSING and _dict_get(traits, k, MISSING) is not saved:
                        traits[k] = saved
        for k, items in snap["trait_lists"].items():
            snap["traits"][k][:] = items
        itm_dict = snap["itm"].__dict__
        if _type(itm_dict) is _dict:
            for k, items in snap["itm_lists"].items():
                current = _dict_get(itm_dict, k)
                if _type(current) is _list:
                    current[:] = items
                else:
                    itm_dict[k] = _list(items)
        events_dict = snap["events"].__dict__
        callbacks = snap["callbacks_obj"]
        if _type(events_dict) is _dict and _type(callbacks) is _dict:
            events_dict["callbacks"] = callbacks
            for name, original in snap["callbacks"].items():
                current = _dict_get(callbacks, name)
                kept = _list(original)
                kept_ids = {_id(cb) for cb in kept}
                if _type(current) is _list:
                    for cb in current:
                        if _id(cb) not in kept_ids and callback_is_pristine(cb):
                            kept.append(cb)
                            kept_ids.add(_id(cb))
                callbacks[name] = kept
        compile_dict = snap["compile"].__dict__
        if _type(compile_dict) is _dict:
            compile_dict["flags"] = snap["compile_flags"]
        kdict = kernel.__dict__
        if _type(kdict) is _dict:
            drop_method_overrides(kdict, snap["kernel_class"], snap["kernel_dict"])
            if _dict_get(kdict, "shell") is not shell and "shell" in snap["kernel_dict"]:
                kdict["shell"] = shell
            if snap["shell_parent"] is not None and _dict_get(kdict, "_shell_parent") is not snap["shell_parent"]:
                kdict["_shell_parent"] = snap["shell_parent"]
            handlers = _dict_get(kdict, "shell_handlers")
            saved_handlers = snap["shell_handlers"]
            if _type(handlers) is _dict and saved_handlers is not None:
                restore_dict(handlers, saved_handlers)

    def restore_everything() -> int:
        st["resetting"] = True
        try:
            names = st["changed_names"] = []
            changed = library["restore"](names)
            modules_now = _sys.modules
            for name, module in snap["sys_modules"].items():
                if _dict_get(modules_now, name, MISSING) is not module:
                    modules_now[name] = module
                    changed += 1
            for name, (module, cls) in module_classes.items():
                if _type(module) is not cls:
                    _object_setattr(module, "__class__", cls)
                    changed += 1
            for (cls, name, original) in _list(dirty_classes.values()):
                if original is MISSING:
                    if name in _class_dict(cls):
                        _type_delattr(cls, name)
                else:
                    _type_setattr(cls, name, original)
            dirty_classes.clear()
            for (fn, name, original) in _list(dirty_functions.values()):
                _object_setattr(fn, name, original)
            dirty_functions.clear()
            for k, v in snap["sys_attrs"].items():
                _setattr(_sys, k, v)
            snap["sys_attrs"]["meta_path"][:] = snap["meta_path"]
            snap["sys_attrs"]["path_hooks"][:] = snap["path_hooks"]
            snap["sys_attrs"]["path_importer_cache"].clear()
            restore_shell()
            return changed
        finally:
            st["resetting"] = False

    def names_of(code, into: set) -> None:
        into.update(code.co_names)
        for const in code.co_consts:
            if _type(const) is CodeType:
                names_of(const, into)

    def behavioural(value) -> bool:
        kind = _type(value)
        return kind is ModuleType or _issubclass(kind, TypeType) or _callable(value)

    def namespace_changes(armed, used: set, problems: list) -> None:
        """Add to `problems` what changed in how the test's own names resolve.

        Invariant: the test runs in st["test_ns"] (made by enter_test_namespace), holding the
        pristine aliases and no global that shadows a builtin; the shell must still run code in it.
        """
        test = st["test_ns"]
        sdict = snap["shell"].__dict__
        if test is None or _type(sdict) is not _dict or _dict_get(sdict, "_user_ns") is not test[1] \
                or _dict_get(sdict, "user_module") is not test[0]:
            problems.append("the namespace the test runs in")
            return
        ns = test[1]
        for k in _list(ns.keys()):
            if _type(k) is not _str:
                problems.append("a non-string global name")
                return
        for alias in armed["aliases"]:
            name, module_name, attr = alias
            entry = snap["modules"].get(module_name)
            if entry is None:
                continue
            expected = entry[0] if attr is None else entry[1].get(attr, MISSING)
            if expected is not MISSING and _dict_get(ns, name, MISSING) is not expected:
                problems.append("the global name " + name)
        for k in _list(ns.keys()):
            if k in snap["builtins"] and not k.startswith("__") and (k in used or behavioural(ns[k])):
                problems.append("a global shadowing the builtin " + k)

    def changed_during_test(armed) -> list:
        """What the test's own run changed among the things its verdict may rest on.

        Everything was put back before the test: the protected libraries' modules, classes,
        closures and descriptors (libstate.py judges them: any callable, class or module,
        whatever its name, so operators reaching a dunder method count too), attributes Python
        audits on classes and functions, module classes, sys.modules, and the test's namespace.
        Only identities are compared.
        """
        used = armed["names"]
        problems = []
        library["judge"](used, problems)
        for (cls, name, original) in _list(dirty_classes.values()):
            if _class_dict(cls).get(name, MISSING) is not original:
                problems.append(_class_name(cls) + "." + name)
        for (fn, name, original) in _list(dirty_functions.values()):
            if _getattr(fn, name, MISSING) is not original:
                problems.append("attribute " + name + " of a library function")
        for name, (module, cls) in module_classes.items():
            if _type(module) is not cls:
                problems.append("the class of module " + name)
        modules_now = _sys.modules
        for name, module in snap["sys_modules"].items():
            if _dict_get(modules_now, name, MISSING) is not module:
                problems.append("sys.modules[" + name + "]")
                break
        namespace_changes(armed, used, problems)
        return problems[:6]

    # --- the test's own namespace --------------------------------------------------------------
    # Invariant: student code never sees a name a test binds, and tests never see the student's
    # globals that shadow builtins or aliases. The student's functions keep reading the
    # notebook's own dict (their __globals__), which the test never writes to.
    def enter_test_namespace(aliases) -> None:
        """Run the coming test cell in a fresh module dict: the student's globals (copied as they
        are now), less those named like builtins, plus pristine aliases. Also the import path."""
        real = snap["user_ns"]
        module = ModuleType("__main__")
        ns = _module_dict(module)
        builtin_names = snap["builtins"]
        for k, v in _list(real.items()):
            if _type(k) is _str and (k not in builtin_names or k.startswith("__")):
                ns[k] = v
        builtins_module = snap["sys_modules"].get("builtins")
        if builtins_module is not None:
            ns["__builtins__"] = builtins_module
        for alias in aliases:
            name, module_name, attr = alias
            entry = snap["modules"].get(module_name)
            if entry is None:
                continue
            value = entry[0] if attr is None else entry[1].get(attr, MISSING)
            if value is not MISSING:
                ns[name] = value
        sdict = snap["shell"].__dict__
        if _type(sdict) is _dict:
            sdict["_user_ns"] = ns
            sdict["user_module"] = module
        path = snap["sys_attrs"]["path"]
        path[:] = snap["test_path"]
        st["test_ns"] = (module, ns)
        st["phase"] = "guard"

    def leave_test_namespace() -> None:
        """The cell after a test is starting: the notebook's own namespace and path are back,
        and IPython's record of the last result (which holds the test's text) is dropped."""
        armed = st["armed"]
        if armed is not None:
            emit(f"{NOTE} {armed['cell']} stopped-before-the-end")
            st["armed"] = None
        sdict = snap["shell"].__dict__
        if _type(sdict) is _dict:
            sdict["_user_ns"] = snap["user_ns"]
            sdict["user_module"] = snap["user_module"]
            traits = _dict_get(sdict, "_trait_values")
            if _type(traits) is _dict:
                traits["last_execution_result"] = None
        student_path = st["student_path"]
        if _type(student_path) is _list:
            snap["sys_attrs"]["path"][:] = student_path
        st["test_ns"] = st["student_path"] = st["phase"] = None

    def forget_request_text() -> None:
        """Blank the code of the request being run (a test's whole text, hidden part included),
        which code the test calls could otherwise read through the kernel's get_parent().
        ipykernel took the code out of the message before running it."""
        var = snap["shell_parent"]
        if _type(var) is not ContextVar:
            return
        message = var.get(None)
        content = _dict_get(message, "content") if _type(message) is _dict else None
        if _type(content) is _dict and "code" in content:
            content["code"] = ""

    # --- the hook ------------------------------------------------------------------------------
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

    def on_enter(args) -> None:
        if _len(args) != 3:
            return
        cell, trail, aliases = args
        if _type(cell) is not _str or _type(trail) is not _str or not valid_aliases(aliases):
            return
        if st["armed"] is not None:
            emit(f"{NOTE} {st['armed']['cell']} window-closed-by-next-guard")
            st["armed"] = None
        if st["test_ns"] is not None:
            leave_test_namespace()
        path = _sys.path
        st["student_path"] = _list(path) if _type(path) is _list else None
        changed = restore_everything()
        enter_test_namespace(aliases)
        st["armed"] = {"cell": cell, "trail": trail, "runner": None, "digests": [], "names": set(),
                       "aliases": aliases}
        if changed:
            emit(f"{NOTE} {cell} restored {changed} changed entries: {','.join(st['changed_names'])}")

    def on_next() -> None:
        """A cell is about to start: the test cell after its guard, or the cell after the test."""
        if st["phase"] == "guard":
            st["phase"] = "test"
        elif st["phase"] == "test":
            leave_test_namespace()

    def on_exec(args) -> None:
        armed = st["armed"]
        if armed is None:
            return
        if _len(args) < 1 or _type(args[0]) is not CodeType:
            return
        caller = _getframe(2)  # 0: on_exec, 1: hook, 2: the frame that called exec()
        if caller is None or caller.f_code is not snap["run_code"]:
            return
        runner = caller.f_back
        if runner is None or runner.f_code is not snap["run_ast_nodes"]:
            return
        if armed["runner"] is None:
            armed["runner"] = runner
            cache = snap["linecache"]
            filename = args[0].co_filename
            if _type(cache) is _dict and _type(filename) is _str:
                cache.pop(filename, None)  # the hidden test's text is not left for code it calls to read
            forget_request_text()
        elif runner is not armed["runner"]:
            emit(f"{NOTE} {armed['cell']} stopped-before-the-end")
            st["armed"] = None
            return
        digest = code_digest(args[0])
        armed["digests"].append(digest)
        names_of(args[0], armed["names"])
        if digest == armed["trail"]:
            st["armed"] = None
            problems = changed_during_test(armed)
            if problems:
                emit(f"{NOTE} {armed['cell']} changed-during-test: {','.join(problems[:6])}")
                return
            sequence = _sha256("\n".join(armed["digests"]).encode()).hexdigest()
            signature = mac(f"{armed['cell']}|{sequence}".encode())
            emit(f"{RECEIPT} {armed['cell']} {sequence} {signature}")

    def on_setattr(args) -> None:
        if st["resetting"] or _len(args) != 3:
            return
        target, name = args[0], args[1]
        if _type(name) is not _str:
            return
        kind = _type(target)
        if name in ("__code__", "__class__"):
            return  # refused outright by the deny hook
        if kind is FunctionType:
            if _id(target) in snap["functions"] and (_id(target), name) not in dirty_functions:
                dirty_functions[(_id(target), name)] = (target, name, _getattr(target, name, None))
        elif _issubclass(kind, type) and _id(target) in snap["classes"]:
            key2 = (_id(target), name)
            if key2 not in dirty_classes:
                dirty_classes[key2] = (target, name, _class_dict(target).get(name, MISSING))

    def hook(event, args):
        try:
            if event == "exec":
                if st["ready"]:
                    on_exec(args)
            elif event == "object.__setattr__" or event == "object.__delattr__":
                if st["ready"]:
                    on_setattr(args if _len(args) == 3 else (args + (None,)))
            elif event == "autograder.enter":
                if st["ready"]:
                    on_enter(args)
            elif event == "autograder.next":
                if st["ready"]:
                    on_next()
            elif event == "autograder.init":
                if not st["ready"] and _len(args) == 1:
                    take_snapshot(args[0])
        except Exception as error:  # noqa: BLE001 - never let an exception (and this frame) escape
            st["armed"] = None
            try:
                lines = []
                tb = error.__traceback__
                while tb is not None:
                    lines.append(_str(tb.tb_lineno))
                    tb = tb.tb_next
                emit(f"{NOTE} - sentinel-error {_type(error).__name__} at lines {'/'.join(lines)}")
            except Exception:  # noqa: BLE001
                pass
            del error
        return None

    _sys.addaudithook(hook)


PROCESS_EVENTS = frozenset({
    "subprocess.Popen", "os.system", "os.posix_spawn", "os.exec", "os.spawn", "os.fork", "os.forkpty",
    "pty.spawn",
})


def _class_ids() -> set:
    """Ids of every class that exists right now."""
    seen, stack = set(), [object]
    while stack:
        cls = stack.pop()
        try:
            subs = type.__subclasses__(cls)
        except TypeError:
            continue
        for sub in subs:
            if id(sub) not in seen:
                seen.add(id(sub))
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
    startup_classes = frozenset(_class_ids())
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
