"""Reading nbgrader's cell metadata, and the few cell kinds the grader cares about."""
from __future__ import annotations

import re

from nbformat import NotebookNode

BEGIN_HIDDEN = "### BEGIN HIDDEN TESTS"
END_HIDDEN = "### END HIDDEN TESTS"
_HIDDEN_BLOCK = re.compile(re.escape(BEGIN_HIDDEN) + r".*?" + re.escape(END_HIDDEN) + r"\n?", re.S)


def meta(cell) -> dict:
    value = cell.get("metadata", {}).get("nbgrader", {})
    return value if isinstance(value, dict) else {}


def grade_id(cell) -> str | None:
    gid = meta(cell).get("grade_id")
    return gid if isinstance(gid, str) and gid else None


def is_solution(cell) -> bool:
    return bool(meta(cell).get("solution"))


def is_grade(cell) -> bool:
    return bool(meta(cell).get("grade"))


def is_locked(cell) -> bool:
    return bool(meta(cell).get("locked"))


def is_test(cell) -> bool:
    """An autograded test cell: graded, not an answer cell, code."""
    return is_grade(cell) and not is_solution(cell) and cell.get("cell_type") == "code"


def is_manual(cell) -> bool:
    """A manually graded answer (a written rationale, say)."""
    return is_grade(cell) and is_solution(cell)


def is_task(cell) -> bool:
    """nbgrader's manually graded task: a locked markdown cell; the work is in the cells around it."""
    return bool(meta(cell).get("task")) and not is_grade(cell)


def is_hand_graded(cell) -> bool:
    """A part whose points are given by hand: a written answer or a task."""
    return is_manual(cell) or is_task(cell)


def points(cell) -> float:
    try:
        return float(meta(cell).get("points", 0) or 0)
    except (TypeError, ValueError):
        return 0.0


def source(cell) -> str:
    text = cell.get("source", "")
    return "".join(text) if isinstance(text, list) else str(text)


def visible_part(test_source: str) -> str:
    """A test cell's source as students see it: hidden blocks removed."""
    return _HIDDEN_BLOCK.sub("", test_source)


def parts_with_hidden_tests(nb: NotebookNode) -> set[str]:
    """Grade ids of the test cells that hold hidden tests (a hidden block with any code in it)."""
    found = set()
    for cell in nb.cells:
        gid = grade_id(cell)
        if gid and is_test(cell):
            blocks = _HIDDEN_BLOCK.findall(source(cell))
            code = [line for block in blocks for line in block.splitlines()
                    if line.strip() and not line.strip().startswith("###")]
            if code:
                found.add(gid)
    return found


def hidden_lines(nb: NotebookNode, min_length: int = 12) -> set[str]:
    """Distinctive lines of the hidden tests (used to redact them from anything shown).

    Lines that the notebook also shows outside hidden blocks (an import repeated in a hidden
    test, say) are public and not included.
    """
    lines = set()
    public = set()
    for cell in nb.cells:
        text = source(cell)
        if is_test(cell):
            for block in _HIDDEN_BLOCK.findall(text):
                for line in block.splitlines():
                    line = line.strip()
                    if len(line) >= min_length and not line.startswith("###"):
                        lines.add(line)
            text = visible_part(text)
        public.update(line.strip() for line in text.splitlines())
    return lines - public


def title_of(test_id: str) -> str:
    """A readable name for a part from its grade id: 'test_peak_qps' -> 'peak qps'."""
    name = re.sub(r"^(test|tests|check)[_-]", "", test_id)
    return name.replace("_", " ").replace("-", " ")
