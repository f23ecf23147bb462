"""Parameters a notebook is run with, injected by papermill after its `parameters` cell.

A course notebook declares its knobs (a seed, data sizes) in one locked cell tagged `parameters`.
An instructor grades with other values by naming them (`autograder grade ... -p SEED 7`, as
papermill's own `-p NAME VALUE`); papermill's `parameterize_notebook` writes them into a new cell
tagged `injected-parameters` right after that cell, so they override the defaults before any
answer or test runs. Parameters are not secret: the notebook's own code can read them.

Only names the `parameters` cell declares are accepted (papermill's parameter inspection finds
them), so a typo is a usage error instead of a silently ignored value.
"""
from __future__ import annotations

import nbformat
from papermill.parameterize import parameterize_notebook
from papermill.translators import papermill_translators

from autograder.errors import UsageError

PARAMETERS_TAG = "parameters"
INJECTED_TAG = "injected-parameters"
#: tags papermill acts on; only the grader's own cells may carry them in a notebook it runs
PAPERMILL_TAGS = (PARAMETERS_TAG, INJECTED_TAG)


def tagged(nb: nbformat.NotebookNode, tag: str) -> int:
    """The index of the first cell carrying `tag`, or -1 (papermill's rule: the first one counts)."""
    for index, cell in enumerate(nb.cells):
        if tag in (cell.get("metadata", {}).get("tags") or []):
            return index
    return -1


def value_of(text: str):
    """A command-line value as papermill's `-p` reads it: a whole number, a decimal number,
    True/False/None, or else the text itself."""
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return {"True": True, "False": False, "None": None}.get(text, text)


def from_pairs(pairs: list[tuple[str, str]] | None) -> dict:
    """`-p NAME VALUE` pairs as a dict (the last value of a name repeated wins, as in papermill)."""
    values = {}
    for name, text in pairs or ():
        if not name.isidentifier():
            raise UsageError(f"-p {name} {text}: {name!r} is not a Python name; pass -p NAME VALUE, e.g. -p SEED 7")
        values[name] = value_of(text)
    return values


def declared(nb: nbformat.NotebookNode, language: str = "python") -> list[str] | None:
    """The names the notebook's `parameters` cell assigns (None when it has no such cell)."""
    index = tagged(nb, PARAMETERS_TAG)
    if index < 0:
        return None
    translator = papermill_translators.find_translator(language, language)
    return [p.name for p in translator.inspect(nb.cells[index])]


def check(nb: nbformat.NotebookNode, parameters: dict, notebook_name: str) -> None:
    """UsageError unless every name in `parameters` is declared by the notebook's `parameters` cell."""
    if not parameters:
        return
    names = declared(nb)
    if names is None:
        raise UsageError(f"{notebook_name} has no cell tagged 'parameters', so -p {next(iter(parameters))} has "
                         "nowhere to go: tag the cell that sets the notebook's parameters, or grade without -p")
    unknown = [name for name in parameters if name not in names]
    if unknown:
        raise UsageError(f"{notebook_name} declares no parameter {', '.join(unknown)}: its 'parameters' cell "
                         f"declares {', '.join(names) or 'nothing'}")


def inject(nb: nbformat.NotebookNode, parameters: dict, kernel_name: str, engine_name: str) -> nbformat.NotebookNode:
    """A copy of `nb` with papermill's injected-parameters cell after its `parameters` cell; the
    injected cell counts among the grader's own cells (its output budget, see engine.py)."""
    from autograder.assemble import FIXED_ROLE

    nb = parameterize_notebook(nb, parameters, kernel_name=kernel_name, language="python", engine_name=engine_name)
    index = tagged(nb, INJECTED_TAG)
    nb.cells[index].metadata["autograder"] = {"role": FIXED_ROLE}
    return nb
