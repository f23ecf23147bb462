"""Every public function and method of ``course`` has a numpydoc docstring.

Read from the source (nothing is imported): a function that takes arguments has a ``Parameters``
section, one that returns a value a ``Returns`` section (``Yields`` for a context manager), and a
public class that takes constructor arguments documents them.
"""
import ast
from pathlib import Path

import pytest

COURSE = Path(__file__).resolve().parents[1] / "course"


def _has_section(doc: str, title: str) -> bool:
    lines = doc.splitlines()
    return any(line.strip() == title and i + 1 < len(lines) and set(lines[i + 1].strip()) == {"-"}
               for i, line in enumerate(lines))


def _parameters(function: ast.FunctionDef, method: bool) -> list[str]:
    args = function.args
    names = [a.arg for a in args.posonlyargs + args.args + args.kwonlyargs]
    if method and names[:1] in (["self"], ["cls"]):
        names = names[1:]
    names += [f"*{args.vararg.arg}"] if args.vararg else []
    names += [f"**{args.kwarg.arg}"] if args.kwarg else []
    return names


def _own_nodes(function: ast.FunctionDef):
    """The nodes of ``function`` outside the functions and lambdas defined inside it."""
    todo = list(function.body)
    while todo:
        node = todo.pop()
        yield node
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)):
            todo.extend(ast.iter_child_nodes(node))


def _returns_a_value(function: ast.FunctionDef) -> bool:
    return any(isinstance(n, ast.Return) and n.value is not None
               and not (isinstance(n.value, ast.Constant) and n.value.value is None)
               for n in _own_nodes(function))


def _is_property(function: ast.FunctionDef) -> bool:
    return any(isinstance(d, ast.Name) and d.id == "property" for d in function.decorator_list)


def _problems(path: Path) -> list[str]:
    problems = []

    def check(function, where, method):
        doc = ast.get_docstring(function) or ""
        if not doc:
            return problems.append(f"{where}: no docstring")
        if _is_property(function):
            return None
        params = _parameters(function, method)
        if params and not _has_section(doc, "Parameters"):
            problems.append(f"{where}: no Parameters section for {params}")
        if any(isinstance(n, (ast.Yield, ast.YieldFrom)) for n in _own_nodes(function)):
            if not _has_section(doc, "Yields"):
                problems.append(f"{where}: no Yields section")
        elif _returns_a_value(function) and not _has_section(doc, "Returns"):
            problems.append(f"{where}: no Returns section")
        return None

    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.FunctionDef) and not node.name.startswith("_"):
            check(node, f"{path.name}:{node.name}", method=False)
        elif isinstance(node, ast.ClassDef) and not node.name.startswith("_"):
            class_doc = ast.get_docstring(node) or ""
            if not class_doc:
                problems.append(f"{path.name}:{node.name}: no docstring")
            for item in node.body:
                if not isinstance(item, ast.FunctionDef):
                    continue
                if item.name == "__init__":
                    if _parameters(item, True) and not _has_section(class_doc, "Parameters"):
                        problems.append(f"{path.name}:{node.name}: constructor arguments not in a Parameters section")
                elif not item.name.startswith("_") or item.name == "__call__":
                    check(item, f"{path.name}:{node.name}.{item.name}", method=True)
    return problems


@pytest.mark.parametrize("path", sorted(COURSE.glob("*.py")), ids=lambda p: p.name)
def test_public_functions_have_numpydoc_sections(path):
    assert _problems(path) == []


def test_the_check_sees_a_missing_section():
    source = 'def f(x):\n    """Doc."""\n    return x\n'
    tmp = ast.parse(source).body[0]
    assert _parameters(tmp, False) == ["x"] and _returns_a_value(tmp)
    assert not _has_section("Doc.", "Parameters")
    assert _has_section("Doc.\n\nParameters\n----------\nx : int\n", "Parameters")
