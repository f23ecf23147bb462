"""A tiny course whose hidden tests report what they measured (autograder/measure.py), as the
capstone's criteria do: a detector's threshold judged on a hidden day at a 10% prevalence, by
precision (a guardrail), recall (the primary metric) and the cost of its errors.

`build(root)` writes and releases the course; `submission(course, threshold, extra_cells)` fills
in the answer. PERFECT_THRESHOLD meets every target; BALANCED_THRESHOLD (chosen as if frowns were
half the data) misses the precision floor.
"""
from __future__ import annotations

import copy
from pathlib import Path

import nbformat

from autograder import cells as C
from autograder.authoring import answer, locked, markdown, notebook, parameters, tests, written
from autograder.layout import Course
from tests import minicourse

ASSIGNMENT = "00-measured"
PERFECT_THRESHOLD = 0.6
BALANCED_THRESHOLD = 0.35

# the hidden day: 10% positives; scores of positives ~ Beta(9, 2), of negatives ~ Beta(2, 9)
DAY = """_rng = np.random.default_rng(SEED + 41)
_labels = _rng.random(4000) < 0.10
_scores = np.where(_labels, _rng.beta(9, 2, 4000), _rng.beta(2, 9, 4000))
_fired = np.asarray(detect(_scores), dtype=bool)
_tp = int((_fired & _labels).sum()); _fp = int((_fired & ~_labels).sum()); _fn = int((~_fired & _labels).sum())
"""


def source_notebook() -> nbformat.NotebookNode:
    return notebook([
        markdown("# Ship a detector\n\nChoose the threshold your detector ships with."),
        parameters("SEED = 0"),
        locked("imports", "import numpy as np"),
        answer("threshold", "THRESHOLD = 0.5\n### BEGIN SOLUTION\nTHRESHOLD = 0.6\n### END SOLUTION\n\n"
                            "def detect(scores):\n    return np.asarray(scores) >= THRESHOLD"),
        tests("test_quality", 2,
              visible="assert 0 < THRESHOLD < 1, 'THRESHOLD is a probability'",
              hidden="from autograder.measure import report as _measure\n" + DAY +
                     "_precision = _tp / max(1, _tp + _fp)\n_recall = _tp / max(1, _tp + _fn)\n"
                     "print(f'measured on a day you did not see: precision {_precision:.3f}, recall {_recall:.3f}')\n"
                     "_measure('precision', float(_precision), target=0.9, unit='fraction', role='guardrail')\n"
                     "_measure('recall', float(_recall), target=0.6, unit='fraction', role='primary')\n"
                     "assert _precision >= 0.9, f'precision {_precision:.3f} is below the floor of 0.9'\n"
                     "assert _recall >= 0.6, f'recall {_recall:.3f} is below the target of 0.6'"),
        tests("test_cost", 1,
              visible="assert callable(detect)",
              hidden="from autograder.measure import report as _measure\n" + DAY +
                     "_cost = (_fp * 1 + _fn * 3) / 4000\n"
                     "_measure('cost_per_item', float(_cost), target=0.04, better='lower')\n"
                     "assert _cost <= 0.04, f'cost {_cost:.4f} per item is over 0.04'"),
        *written("memo", 2, rubric="Names the prevalence the threshold was chosen at.",
                 prompt="Why this threshold?"),
    ])


def build(root: Path) -> Course:
    return minicourse.build(root, source_notebook(), ASSIGNMENT)


def submission(course: Course, threshold: float | None, extra_cells: list | None = None,
               memo: str | None = None) -> nbformat.NotebookNode:
    nb = copy.deepcopy(nbformat.read(course.release_notebook(ASSIGNMENT), as_version=4))
    for cell in nb.cells:
        if C.grade_id(cell) == "threshold" and threshold is not None:
            cell.source = (f"THRESHOLD = {threshold}\n\ndef detect(scores):\n"
                           "    return np.asarray(scores) >= THRESHOLD")
        if C.grade_id(cell) == "memo" and memo is not None:
            cell.source = memo
    nb.cells.extend(nbformat.v4.new_code_cell(text) for text in (extra_cells or []))
    return nb
