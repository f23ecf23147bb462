"""course.checks switches things off for the student's code, also when a test runs in a copy of
the notebook's globals (as the grader runs every test cell)."""
from __future__ import annotations

import numpy as np
import pytest

from course.checks import Unavailable, labels_shuffled, unavailable


def _notebook(code: str) -> dict:
    """A namespace like a notebook's: functions defined in it belong to ``__main__``."""
    namespace = {"__name__": "__main__"}
    exec(code, namespace)
    return namespace


WRAPPER = '''
from sklearn.metrics import precision_score
def precision(y_true, y_pred):
    return float(precision_score(y_true, y_pred, zero_division=0))
'''


def test_a_wrapper_imported_by_name_is_switched_off_from_a_copy_of_the_globals():
    notebook = _notebook(WRAPPER)
    test_namespace = dict(notebook)            # what a test cell sees
    with pytest.raises(Unavailable, match="write precision yourself"):
        with unavailable(["sklearn.metrics"], test_namespace, "write precision yourself"):
            test_namespace["precision"]([1, 0], [1, 1])
    assert notebook["precision"]([1, 0], [1, 1]) == 0.5, "everything is put back afterwards"


def test_counting_by_hand_still_works_with_sklearn_switched_off():
    notebook = _notebook('''
import numpy as np
def precision(y_true, y_pred):
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    flagged = y_pred == 1
    return float((y_true[flagged] == 1).mean()) if flagged.any() else 0.0
''')
    with unavailable(["sklearn.metrics"], dict(notebook), "write precision yourself"):
        assert notebook["precision"]([1, 0], [1, 1]) == 0.5


def test_a_classifier_on_the_notebooks_faces_sees_shuffled_labels_from_a_copy_of_the_globals():
    from course.frowns import make_faces

    notebook = _notebook('''
from course.frowns import make_faces
def first_labels():
    return make_faces(30, seed=5).labels.copy()
''')
    before = notebook["first_labels"]()
    with labels_shuffled(dict(notebook)):
        during = notebook["first_labels"]()
    assert not np.array_equal(before, during), "make_faces imported by name returns shuffled labels inside the block"
    assert np.array_equal(notebook["first_labels"](), before), "and the real one afterwards"
    assert notebook["make_faces"] is make_faces


def test_labels_shuffled_rebinds_no_name_of_the_notebook():
    notebook = _notebook('''
from course.frowns import make_faces
from course.calls import make_frames
''')
    before = dict(notebook)
    with labels_shuffled(dict(notebook)):
        assert all(notebook[name] is value for name, value in before.items()), "the notebook's globals stay as they are"
        frames = notebook["make_frames"](participants=2, calls_per_participant=1, call_seconds=4.0, seed=3, render=False)
    assert frames.labels.shape == (len(frames.meta),)
