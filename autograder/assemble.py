"""Rebuild a submission around the grader's own cells, ready to run.

Only answers come from the student. Everything else comes from the source notebook, in the
source's order: narrative, locked cells, and test cells with their hidden tests, points and ids.
Locked cells are used as students received them (a task cell without its mark scheme), and the
student's cells are compared with that version, so only a real edit gives a note.
So a submission that edits, deletes, retypes, duplicates or renumbers a test cell changes nothing
about what is run or what it is worth; the notes say what was put back.

Cells the student added (helpers, scratch work) are kept, after the grader cell they followed.
Before every test cell goes a guard cell that raises the sentinel's `autograder.enter` event; at
the end of every test cell goes one statement whose execution proves the test ran to the end.
"""
from __future__ import annotations

import ast
import copy
import uuid
from dataclasses import dataclass, field

import nbformat
from IPython.core.inputtransformer2 import TransformerManager

from autograder import cells as C
from autograder.measure import Declaration, declarations
from autograder.parameters import PAPERMILL_TAGS
from autograder.receipt import as_ipython_runs_it, expected_statements, guard_source, sequence_digest, with_trail
from autograder.release import cleared_sources

GUARD_ROLE = "guard"
TEST_ROLE = "test"
ANSWER_ROLE = "answer"
EXTRA_ROLE = "extra"
FIXED_ROLE = "fixed"


@dataclass
class Part:
    """One graded part of an assignment: an autograded test cell or a hand-graded answer."""

    grade_id: str
    kind: str  # "test" or "manual" (graded by hand: a written answer or an nbgrader task cell)
    points: float
    title: str
    answer_ids: list[str] = field(default_factory=list)
    cell_index: int | None = None  # position in the assembled notebook
    cell_id: str | None = None  # the test cell's id (its position may shift when parameters are injected)
    expected: str | None = None  # sequence digest a valid receipt must carry
    statements: list[str] = field(default_factory=list)  # digests of the test's statements, in order
    measures: dict[int, Declaration] = field(default_factory=dict)  # statement index -> its report() (measure.py)


@dataclass
class Assembled:
    notebook: nbformat.NotebookNode
    parts: list[Part]
    notes: list[str]
    unattempted: set[str]
    recognised: bool  # False when too few of the source's answer and test cells are in the submission
    changed_tests: list[str] = field(default_factory=list)  # test cells edited, retyped, doubled or deleted


def _cell_aliases(cell) -> dict[str, tuple[str, str, str | None]]:
    aliases: dict[str, tuple[str, str, str | None]] = {}
    try:
        tree = ast.parse(TransformerManager().transform_cell(C.source(cell)))
    except SyntaxError:
        return aliases
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.asname:
                    aliases[alias.asname] = (alias.asname, alias.name, None)
                else:
                    top = alias.name.split(".")[0]
                    aliases[top] = (top, top, None)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                if alias.name != "*":
                    name = alias.asname or alias.name
                    aliases[name] = (name, node.module, alias.name)
    return aliases


def locked_aliases(nb: nbformat.NotebookNode) -> dict[str, tuple[str, str, str | None]]:
    """The names the locked cells bind by import, in order (the part every test cell shares)."""
    aliases: dict[str, tuple[str, str, str | None]] = {}
    for cell in nb.cells:
        if cell.cell_type == "code" and C.is_locked(cell) and not C.is_solution(cell) and not C.is_test(cell):
            aliases.update(_cell_aliases(cell))
    return aliases


def import_aliases(nb: nbformat.NotebookNode, test_cell=None,
                   locked: dict | None = None) -> tuple[tuple[str, str, str | None], ...]:
    """Names bound by import that a test relies on, e.g. ('np', 'numpy', None).

    The locked cells' imports, in order, then the test cell's own imports (which win: two test
    cells may use one name for different things). `locked`: `locked_aliases(nb)`, when the caller
    parsed the locked cells once for every test cell.
    """
    aliases = dict(locked_aliases(nb) if locked is None else locked)
    if test_cell is not None:
        aliases.update(_cell_aliases(test_cell))
    return tuple(sorted(aliases.values()))


def test_measures(body: str, aliases: tuple, grade_id: str) -> dict[int, Declaration]:
    """What a test cell's report() calls declare (measure.py), by statement index as IPython runs
    it; `aliases` as import_aliases gives them for that cell. DeclarationError if one is malformed."""
    return declarations(as_ipython_runs_it(body), {name: (module, attr) for name, module, attr in aliases}, grade_id)


def imported_modules(nb: nbformat.NotebookNode) -> list[str]:
    """Modules the kernel imports before student code, so the sentinel can snapshot them.

    Every module any cell of the source imports, plus the submodules that locked and test cells
    reach through attributes of an imported name (``np.testing.assert_allclose`` -> ``numpy.testing``):
    packages such as numpy load those lazily, and a module first loaded by student code would not
    be protected. Names that turn out not to be modules are skipped by the kernel.
    """
    found: list[str] = []

    def add(name: str) -> None:
        if name not in found:
            found.append(name)

    aliases = {alias: module if attr is None else f"{module}.{attr}"
               for alias, module, attr in locked_aliases(nb).values()}
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        try:
            tree = ast.parse(TransformerManager().transform_cell(C.source(cell)))
        except SyntaxError:
            continue
        local_aliases = dict(aliases)
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    add(alias.name)
                    local_aliases[alias.asname or alias.name.split(".")[0]] = (
                        alias.name if alias.asname else alias.name.split(".")[0])
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                add(node.module)
                for alias in node.names:
                    if alias.name != "*":
                        local_aliases[alias.asname or alias.name] = f"{node.module}.{alias.name}"
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute):
                chain = []
                inner = node
                while isinstance(inner, ast.Attribute):
                    chain.append(inner.attr)
                    inner = inner.value
                if isinstance(inner, ast.Name) and inner.id in local_aliases:
                    base = local_aliases[inner.id]
                    for attr in reversed(chain[1:]):  # the last attribute is a value, not a module
                        base = f"{base}.{attr}"
                        add(base)
    return found


def student_view(source_nb: nbformat.NotebookNode) -> dict[str, str]:
    """Each cell with a grade id as students received it: nbgrader's release of the source (answer
    stubs, test cells without their hidden blocks, task cells without their mark scheme)."""
    return cleared_sources(source_nb)


@dataclass(frozen=True)
class TestCell:
    """What the grader runs for one test cell, from the source alone: its guard cell, its body with
    the trail statement, and what a valid receipt for it must carry."""

    guard: str
    body: str
    statements: tuple[str, ...]
    expected: str
    measures: dict[int, Declaration]


@dataclass(frozen=True)
class Blueprint:
    """Everything `assemble` needs from the source notebook, made once per batch (`prepare`).

    A batch assembles every submission from the same source: each cell as students received it,
    the answer stubs, the narrative, and each test cell's guard, body, statements, digest and
    measures (parsing every locked cell for import aliases, per test cell) do not depend on the
    submission, so they are computed here once.
    """

    source_cells: dict[str, nbformat.NotebookNode]  # grade id -> the source's cell
    received: dict[str, str]  # grade id -> the cell as students received it
    stubs: dict[str, str]  # answer grade id -> its released stub
    narrative: frozenset[str]  # the source's cells without a grade id, normalised
    tests: dict[str, TestCell]  # test grade id -> what runs for it


def prepare(source_nb: nbformat.NotebookNode, released: bool = False,
            view: dict[str, str] | None = None) -> Blueprint:
    """The `Blueprint` of a source notebook (`released` and `view` as for `assemble`)."""
    source_cells = {C.grade_id(c): c for c in source_nb.cells if C.grade_id(c)}
    if released:
        received = {gid: C.source(c) for gid, c in source_cells.items()}
    else:
        received = view if view is not None else student_view(source_nb)
    stubs = {gid: received[gid] for gid, c in source_cells.items() if C.is_solution(c)}
    locked = locked_aliases(source_nb)
    tests = {}
    for gid, cell in source_cells.items():
        if C.is_test(cell) and not C.is_solution(cell):
            aliases = import_aliases(source_nb, cell, locked)
            body = with_trail(C.source(cell), gid)
            statements = tuple(expected_statements(body))
            tests[gid] = TestCell(guard_source(gid, aliases), body, statements, sequence_digest(list(statements)),
                                  test_measures(body, aliases, gid))
    narrative = frozenset(_normal(C.source(c)) for c in source_nb.cells if not C.grade_id(c))
    return Blueprint(source_cells, received, stubs, narrative, tests)


def _normal(text: str) -> str:
    return "\n".join(line.rstrip() for line in text.strip().splitlines())


def _cell(cell_type: str, source: str, metadata: dict) -> nbformat.NotebookNode:
    """A new cell (nbformat 4.5, with a fresh id). Not validated on its own: `assemble` validates
    the whole notebook once (nbformat's new_*_cell would validate every cell against the schema,
    most of assembling's time)."""
    cell = {"cell_type": cell_type if cell_type in ("code", "raw") else "markdown",
            "id": uuid.uuid4().hex[:12], "metadata": metadata, "source": source}
    if cell_type == "code":
        cell.update(outputs=[], execution_count=None)
    return nbformat.from_dict(cell)


def _role(metadata: dict, role: str, **extra) -> dict:
    metadata = copy.deepcopy(metadata)
    metadata["autograder"] = {"role": role, **extra}
    return metadata


def assemble(source_nb: nbformat.NotebookNode, submission: nbformat.NotebookNode,
             released: bool = False, view: dict[str, str] | None = None,
             blueprint: Blueprint | None = None) -> Assembled:
    """Build the notebook the grader runs for one submission.

    `released`: `source_nb` is the release itself (as `check` uses it), so its cells are already
    what students received; clearing them again would turn every answer stub into nbgrader's
    default stub, and a blank answer would not be recognised as not attempted.
    `view`: `student_view(source_nb)`, when the caller made it once for a whole batch.
    `blueprint`: `prepare(source_nb, released, view)`, when the caller made it once for a whole
    batch (then `released` and `view` are not used).
    """
    notes: list[str] = []
    changed_tests: list[str] = []
    plan = blueprint if blueprint is not None else prepare(source_nb, released, view)
    source_cells, received, stubs = plan.source_cells, plan.received, plan.stubs

    # The student's cells: their answers by id (first copy wins) and the cells they added,
    # each remembered after the grader cell it followed.
    answers: dict[str, nbformat.NotebookNode] = {}
    extras: dict[str | None, list] = {}
    anchor: str | None = None
    seen_fixed: set[str] = set()
    narrative = plan.narrative
    for cell in submission.cells:
        gid = C.grade_id(cell)
        if gid in source_cells:
            original = source_cells[gid]
            if C.is_solution(original):
                if gid not in answers:
                    answers[gid] = cell
                    anchor = gid
                    continue
                notes.append(f"answer cell {gid!r} appears twice; the second copy was kept as an extra cell")
            else:
                kind = "test" if C.is_test(original) else "locked"
                note = None
                if gid in seen_fixed:
                    note = f"{kind} cell {gid!r} appears twice; the copy was ignored"
                elif _normal(C.source(cell)) != _normal(received[gid]) or cell.get("cell_type") != original.cell_type:
                    note = f"{kind} cell {gid!r} was changed in the submission; the original was used"
                if note:
                    notes.append(note)
                    if kind == "test" and gid not in changed_tests:
                        changed_tests.append(gid)
                seen_fixed.add(gid)
                anchor = gid
                continue
        elif gid is not None:
            notes.append(f"cell with unknown id {gid!r} was kept as an extra cell")
        elif _normal(C.source(cell)) in narrative:
            continue  # the release's own narrative, unchanged
        if cell.get("cell_type") in ("code", "markdown", "raw"):
            extras.setdefault(anchor, []).append(cell)

    submitted_ids = {C.grade_id(c) for c in submission.cells}
    for gid, original in source_cells.items():
        if not C.is_solution(original) and gid not in submitted_ids:
            kind = "test" if C.is_test(original) else "locked"
            notes.append(f"{kind} cell {gid!r} was missing from the submission; the original was restored")
            if kind == "test":
                changed_tests.append(gid)

    out_cells: list = []
    parts: list[Part] = []
    unattempted: set[str] = set()
    pending_answers: list[str] = []

    def add_extras(key):
        for cell in extras.pop(key, []):
            metadata = {k: v for k, v in cell.get("metadata", {}).items() if k not in ("nbgrader", "autograder")}
            if "tags" in metadata:  # papermill injects parameters by tag: only at the grader's own cell
                metadata["tags"] = [tag for tag in metadata["tags"] if tag not in PAPERMILL_TAGS]
            out_cells.append(_cell(cell.get("cell_type", "code"), C.source(cell), _role(metadata, EXTRA_ROLE)))

    add_extras(None)
    for original in source_nb.cells:
        gid = C.grade_id(original)
        if gid and C.is_solution(original):
            student = answers.get(gid)
            if C.is_manual(original):
                text = C.source(student) if student is not None else stubs.get(gid, "")
                if not text.strip() or _normal(text) == _normal(stubs.get(gid, "")):
                    unattempted.add(gid)  # left as released: nbgrader's "No response."
                out_cells.append(_cell(original.cell_type, text, _role(original.metadata, ANSWER_ROLE, grade_id=gid)))
                parts.append(Part(gid, "manual", C.points(original), C.title_of(gid)))
            elif student is None:
                unattempted.add(gid)
                notes.append(f"answer cell {gid!r} is missing from the submission")
            else:
                text = C.source(student)
                if _normal(text) == _normal(stubs.get(gid, "")):
                    unattempted.add(gid)
                out_cells.append(_cell(original.cell_type, text, _role(original.metadata, ANSWER_ROLE, grade_id=gid)))
            if not C.is_manual(original):
                pending_answers.append(gid)
        elif gid and C.is_test(original):
            test = plan.tests[gid]
            out_cells.append(_cell("code", test.guard, {"autograder": {"role": GUARD_ROLE, "grade_id": gid}}))
            out_cells.append(_cell("code", test.body, _role(original.metadata, TEST_ROLE, grade_id=gid)))
            if not pending_answers and parts:  # a second test of the same answers
                pending_answers = list(parts[-1].answer_ids)
            parts.append(Part(gid, "test", C.points(original), C.title_of(gid), answer_ids=pending_answers,
                              cell_index=len(out_cells) - 1, cell_id=out_cells[-1]["id"],
                              expected=test.expected, statements=list(test.statements),
                              measures=dict(test.measures)))
            pending_answers = []
        else:  # narrative and locked cells, as students received them (a task cell without its mark scheme)
            text = received.get(gid, C.source(original)) if gid else C.source(original)
            out_cells.append(_cell(original.cell_type, text, _role(original.metadata, FIXED_ROLE)))
            if gid and C.is_task(original):  # graded by hand, like a written answer
                parts.append(Part(gid, "manual", C.points(original), C.title_of(gid)))
        if gid:
            add_extras(gid)
    for key in list(extras):  # anchors that no longer exist in the source
        add_extras(key)

    nb = nbformat.v4.new_notebook(cells=out_cells, metadata=copy.deepcopy(source_nb.metadata))
    return Assembled(nb, parts, notes, unattempted, is_recognised(source_cells, submission), changed_tests)


#: Share of the source's answer and test cells a submission must hold to be taken for its notebook.
RECOGNISED_SHARE = 0.25


def is_recognised(source_cells: dict, submission: nbformat.NotebookNode) -> bool:
    """Whether `submission` is a notebook of this assignment: it holds at least a quarter of the
    source's answer and test cells (by nbgrader id). Locked cells every notebook of a course shares
    (`parameters`, `setup`) and the odd answer id two assignments both use do not make a match, so a
    notebook of another assignment gets `wrong_notebook` instead of being graded as a blank one."""
    graded = {gid for gid, cell in source_cells.items() if C.is_solution(cell) or C.is_grade(cell)}
    if not graded:  # a source without answer or test cells: any shared cell will do
        return any(C.grade_id(cell) in source_cells for cell in submission.cells)
    found = graded & {C.grade_id(cell) for cell in submission.cells}
    return bool(found) and len(found) >= RECOGNISED_SHARE * len(graded)
