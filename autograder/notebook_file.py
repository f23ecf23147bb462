"""Reading a submitted notebook file: what `grade` and `check` both do before anything runs.

Kept apart from the batch orchestrator (grade.py) so that a student's `autograder check` loads
only what one notebook needs.
"""
from __future__ import annotations

import json

import nbformat

from autograder import cells as C


def parse_notebook(data: bytes) -> nbformat.NotebookNode:
    """Read a submitted notebook, repairing what nbformat can repair; ValueError if unreadable."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise ValueError(f"the file is not UTF-8 text ({error.reason} at byte {error.start})") from None
    # A reason never quotes the file: it reaches grades.csv and the feedback page, and the "notebook"
    # may be any file (JSON errors say where, nbformat's own messages would show the text).
    try:
        json.loads(text)
    except ValueError as error:
        where = f" (line {error.lineno}, column {error.colno}: {error.msg})" if isinstance(error, json.JSONDecodeError) else ""
        raise ValueError(f"the file is not a notebook: it is not valid JSON{where}. Open it in JupyterLab and "
                         "save it again, or submit the .ipynb file itself") from None
    try:
        nb = nbformat.reads(text, as_version=4)
    except Exception as error:  # noqa: BLE001 - nbformat raises many kinds, and may quote the file
        raise ValueError(f"the file is JSON but not a notebook nbformat can read ({type(error).__name__}): open it "
                         "in JupyterLab and save it again") from None
    if not isinstance(nb.get("cells"), list):
        raise ValueError("the notebook has no list of cells")
    for cell in nb.cells:
        if not isinstance(cell, dict) or cell.get("cell_type") not in ("code", "markdown", "raw"):
            raise ValueError("the notebook holds a cell of unknown type")
        if not isinstance(C.source(cell), str):
            raise ValueError("a cell's source is not text")
    return nb
