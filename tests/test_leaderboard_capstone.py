"""The capstone's leaderboard from a real graded batch.

07's hidden tests print what they measured; to reach the leaderboard they must also report it
(autograder/measure.py). Until they do, this test grades a copy of the course whose 07 source has
the report() statements below added to its hidden tests (the exact change 07 needs: each entry is
put right before the anchor statement, or after it), then grades the perfect example, a wrong
variant (threshold at the validation set's prevalence, a monitor that never alarms) and the blank
example, and reads the class report.
"""
from __future__ import annotations

import re
import shutil

import nbformat
import pytest

from autograder import cells as C
from autograder.layout import Course
from autograder.report import write_report
from tests import helpers as H
from tests.test_assignment_07 import WRONG_A
from tests.test_leaderboard import leaderboard_rows

A = "07-capstone"
pytestmark = pytest.mark.xdist_group("assignment-07")

IMPORT = "from autograder.measure import report as _measure\n"

# grade id -> [(anchor statement, "before" or "after", statements to insert)]
MEASURES = {
    "test_nudge_precision": [(
        'assert _best_case >= _SPEC.min_precision, f"precision {_m[\'precision\']:.3f} is clearly below the floor"',
        "before",
        '_measure("precision", float(_m["precision"]), target=float(_SPEC.min_precision), unit="fraction", '
        'role="guardrail")\n')],
    "test_nudge_recall": [(
        'assert _m["recall"] >= _SPEC.target_recall, f"recall {_m[\'recall\']:.3f} below the target"',
        "before",
        '_measure("recall", float(_m["recall"]), target=float(_SPEC.target_recall), unit="fraction", '
        'role="primary")\n')],
    "test_worst_tone": [(
        'assert _rec[_worst] >= _SPEC.worst_tone_recall, f"worst tone recall {_rec[_worst]:.3f}"',
        "before",
        '_measure("worst_tone_recall", float(_rec[_worst]), target=float(_SPEC.worst_tone_recall), '
        'unit="fraction", role="guardrail")\n')],
    "test_budget": [(
        'assert _size(_sys.model) <= _SPEC.model_mb, f"the model is {_size(_sys.model):.2f} MB, over {_SPEC.model_mb:g} MB"',
        "before",
        '_measure("model_mb", float(_size(_sys.model)), target=float(_SPEC.model_mb), unit="MB", better="lower", '
        'role="guardrail")\n'
        '_measure("latency_ms", float(_lat(_sys.model)), target=float(_SPEC.latency_budget_ms), unit="ms (fake clock)", '
        'better="lower", role="guardrail")\n')],
    "test_monitor_quiet": [(
        'assert _alerts <= max(1, int(_SPEC.max_false_alarm_rate * _hours)), f"{_alerts} false alarms in {_hours} hours"',
        "before",
        '_measure("false_alarm_rate", _alerts / _hours, target=max(1, int(_SPEC.max_false_alarm_rate * _hours)) / _hours, '
        'unit="share of drift-free hours", better="lower")\n')],
}
# the alarm test asserts inside its loop; it reports the worst delay after the loop instead
ALARM_OLD = """    print(f"{_kind} change at hour {_at}: first alert at hour {_first} (spec: within {_SPEC.max_detection_delay} windows)")
    assert _first is not None and _first - _at < _SPEC.max_detection_delay, f"no alert within the spec's delay after the {_kind} change"
"""
ALARM_NEW = """    print(f"{_kind} change at hour {_at}: first alert at hour {_first} (spec: within {_SPEC.max_detection_delay} windows)")
    _delays[_kind] = None if _first is None else int(_first - _at + 1)
_measure("changes_caught", sum(_d is not None and _d <= _SPEC.max_detection_delay for _d in _delays.values()), target=2, unit="of 2")
_worst_delay = max(_delays.values()) if all(_d is not None for _d in _delays.values()) else None
_measure("alarm_delay", _worst_delay, target=_SPEC.max_detection_delay, unit="windows", better="lower", role="guardrail")
for _kind, _d in _delays.items():
    assert _d is not None and _d <= _SPEC.max_detection_delay, f"no alert within the spec's delay after the {_kind} change"
"""


def measured_source(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """07's source with the report() statements added to its hidden tests."""
    for cell in nb.cells:
        gid = C.grade_id(cell)
        text = C.source(cell)
        if gid in MEASURES:
            for anchor, where, insert in MEASURES[gid]:
                assert anchor in text, f"07's hidden test {gid} changed: update MEASURES ({anchor!r} not found)"
                text = text.replace(anchor, insert + anchor if where == "before" else anchor + "\n" + insert)
        elif gid == "test_monitor_alarm":
            assert ALARM_OLD in text, "07's hidden test test_monitor_alarm changed: update ALARM_OLD"
            text = text.replace(ALARM_OLD, ALARM_NEW).replace("_sys = FrownNudgeSystem", "_delays = {}\n_sys = FrownNudgeSystem", 1)
        else:
            continue
        cell.source = text.replace(C.BEGIN_HIDDEN + "\n", C.BEGIN_HIDDEN + "\n" + IMPORT, 1)
    return nb


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    base = tmp_path_factory.mktemp("capstone")
    root = base / "course"
    for folder in (f"source/{A}", f"release/{A}", "datasets"):
        shutil.copytree(H.ROOT / folder, root / folder)
    shutil.copy(H.ROOT / "nbgrader_config.py", root / "nbgrader_config.py")
    path = root / "source" / A / f"{A}.ipynb"
    nbformat.write(measured_source(nbformat.read(path, as_version=4)), path)
    course = Course(root)
    perfect = H.example(A, "perfect")
    notebooks = {"perfect": perfect, "blank": H.example(A, "blank"), "wrong_a": H.with_mistakes(perfect, WRONG_A)}
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("COURSE_DATA_DIR", str(root / "datasets"))  # the course package's data, in the copy
        results = H.grade_notebooks(A, notebooks, base, course=course)
    page = write_report(base / "out").read_text()
    return {"results": results, "page": page, "out": base / "out"}


def _measured(result) -> dict:
    return {f"{p.grade_id}.{name}": m for p in result.parts for name, m in p.measured.items()}


@pytest.mark.slow
def test_capstone_criteria_reach_the_leaderboard(graded):
    perfect, wrong = _measured(graded["results"]["perfect"]), _measured(graded["results"]["wrong_a"])
    expected = {"test_nudge_precision.precision", "test_nudge_recall.recall", "test_worst_tone.worst_tone_recall",
                "test_budget.model_mb", "test_budget.latency_ms", "test_monitor_alarm.changes_caught",
                "test_monitor_alarm.alarm_delay", "test_monitor_quiet.false_alarm_rate"}
    assert set(perfect) == expected, sorted(perfect)
    assert perfect["test_monitor_alarm.changes_caught"]["value"] == 2
    assert perfect["test_nudge_recall.recall"]["value"] >= perfect["test_nudge_recall.recall"]["target"] == 0.85
    assert perfect["test_budget.model_mb"]["value"] <= 1.0 and perfect["test_budget.model_mb"]["unit"] == "MB"
    # the wrong variant's monitor never alarms: it caught no change, and its graded part failed
    assert wrong["test_monitor_alarm.changes_caught"]["value"] == 0
    assert H.outcomes(graded["results"]["wrong_a"])["test_monitor_alarm"] == "failed"
    assert _measured(graded["results"]["blank"]) == {}

    page = graded["page"]
    head = page.split("<table class=leaderboard>")[1].split("</tr>")[0]
    assert re.search(r"recall \(fraction\) <i>primary</i><br>target &ge; 0.85", head), head
    assert re.search(r"latency_ms \(ms \(fake clock\)\) <i>guardrail</i><br>target &le; 20", head), head
    rows = leaderboard_rows(page)
    assert [r["student"] for r in rows] == ["perfect", "wrong_a", "blank"], rows
    assert rows[1]["test_monitor_alarm.changes_caught"] == "0 ✗"
    assert rows[1]["test_monitor_alarm.alarm_delay"] == "n/a ✗"
    assert rows[2]["test_nudge_recall.recall"] == "—"
