"""Fingerprints of compiled test code, computed the same way inside the kernel and in the grader.

The grader compiles each test cell itself, statement by statement as IPython does, and expects
the kernel's sentinel to report that exactly these code objects ran. A transformer that rewrote
the test (erasing an assert, renaming a helper) produces different code and so a different
fingerprint. File names, line numbers and position tables are left out: they differ between the
two processes without changing what the code does.

This module is imported inside the sandboxed kernel before any student code runs, so it uses
only the standard library and keeps no state.
"""
from __future__ import annotations

import ast
import hashlib
import types

# Low co_flags bits describe the code itself (generator, coroutine, varargs...). The high bits
# record __future__ imports, which a student cell can switch on for every later cell; they do not
# change what a test does, so they are masked out.
_FLAG_MASK = 0x3FF


def make_code_digest():
    """Build a `code_digest(code) -> str` function bound to the primitives it needs right now.

    Inside the kernel the sentinel calls this before any student code runs, so later changes to
    builtins or to this module cannot change how digests are computed: the functions made here
    look up no global name when they run (one that did, `_FLAG_MASK`, let code a test called
    replace it with an object whose `__rand__` then ran inside the sentinel's hook). Only constants of the
    immutable types a compiler emits are rendered with repr; anything else (a code object built
    by hand with an exotic constant) gets a fixed token and so can never match real test code.
    """
    sha256 = hashlib.sha256
    CodeType = types.CodeType
    _type, _repr, _sorted, _len, _frozenset, _tuple = type, repr, sorted, len, frozenset, tuple
    flag_mask = _FLAG_MASK
    plain = frozenset((str, bytes, int, float, complex, bool, type(None), type(Ellipsis)))

    def const_token(value) -> bytes:
        kind = _type(value)
        if kind is CodeType:
            return b"code:" + code_digest(value).encode()
        if kind is _frozenset:
            return b"frozenset(" + b",".join(_sorted([const_token(v) for v in value])) + b")"
        if kind is _tuple:
            return b"tuple(" + b",".join([const_token(v) for v in value]) + b")"
        if kind in plain:
            return kind.__name__.encode() + b":" + _repr(value).encode()
        return b"<unsupported constant>"

    def code_digest(code) -> str:
        if _type(code) is not CodeType:
            return "not-code"
        h = sha256()
        for part in (
            code.co_code,
            code.co_exceptiontable,
            _repr(code.co_names).encode(),
            _repr(code.co_varnames).encode(),
            _repr(code.co_freevars).encode(),
            _repr(code.co_cellvars).encode(),
            _repr((code.co_argcount, code.co_posonlyargcount, code.co_kwonlyargcount)).encode(),
            _repr(code.co_flags & flag_mask).encode(),
            _repr(code.co_name).encode(),
        ):
            h.update(_len(part).to_bytes(8, "little"))
            h.update(part)
        for const in code.co_consts:
            token = const_token(const)
            h.update(_len(token).to_bytes(8, "little"))
            h.update(token)
        return h.hexdigest()

    return code_digest


code_digest = make_code_digest()


def statement_digests(source: str, filename: str = "<test>") -> list[str]:
    """Digests of the code objects IPython runs for `source`, one per top-level statement.

    IPython (with its default `ast_node_interactivity = 'last_expr'`) compiles every top-level
    statement on its own, in 'exec' mode, except a final expression statement, which it compiles
    in 'single' mode so that its value is displayed.
    """
    tree = ast.parse(source, filename=filename)
    body = tree.body
    digests = []
    for index, node in enumerate(body):
        last_expr = index == len(body) - 1 and isinstance(node, ast.Expr)
        if last_expr:
            module: ast.mod = ast.Interactive([node])
            mode = "single"
        else:
            module = ast.Module([node], [])
            mode = "exec"
        digests.append(code_digest(compile(module, filename, mode, dont_inherit=True)))
    return digests
