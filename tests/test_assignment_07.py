"""Assignment 07 (capstone): the examples and wrong-but-plausible designs, graded for real.

One batch through the real grader: perfect, partial and blank examples and three variants of the
perfect example, each carrying wrong answers in different parts (grouped so that no two mistakes of
one variant move the same measurement: a mistake that raises recall never shares a notebook with one
that should lower it). Each wrong answer loses the
points of the part meant to catch it, and nothing else.

The same batch feeds the capstone's leaderboard: 07's hidden tests report what they measure
(autograder/measure.py: nudge precision and recall, worst-tone recall, model size and latency, the
monitor's alarms and false alarms), and the tests at the end read what reached the parts and the
class report (one batch, since every run of 07 costs half a minute of CPU).
"""
from __future__ import annotations

import math
import re

import pytest

from autograder.sandbox.config import KernelConfig
from autograder.measure import GUARDRAIL, meets
from autograder.report import write_report
from course.spec import SPEC
from tests import helpers as H
from tests.test_leaderboard import leaderboard_rows

A = "07-capstone"
pytestmark = pytest.mark.xdist_group("assignment-07")

# name -> (answer cell, text of the reference answer, replacement, the test cells that must fail)
WRONG_A = {
    "threshold chosen at the validation set's prevalence": (
        "system", "THRESHOLD = choose_threshold(_valid_labels, _valid_votes, weights=production_weights(_valid_labels))",
        "THRESHOLD = choose_threshold(_valid_labels, _valid_votes, weights=np.ones(len(_valid_labels)))",
        "test_threshold"),
    "a monitor that never alarms": (
        "system", "        hours[\"alert\"] = alert\n", "        hours[\"alert\"] = np.zeros(len(hours), dtype=bool)\n",
        "test_monitor_alarm"),
    "every other pixel instead of 2x2 means": (
        "preprocess", "    faces = (blocks / (4 * 255.0)).astype(np.float32)",
        "    faces = (crops[:, ::2, ::2] / 255.0).astype(np.float32)", "test_preprocess"),
    # "a nudge when a face frowns": each face decides, and a window fires when any of its faces does
    "per-face decisions instead of the window's vote": (
        "system", '        table["vote"] = window_scores(meta, system_scores(self.model, crops))\n',
        '        _faces = pd.Series(system_scores(self.model, crops))\n'
        '        table["vote"] = _faces.groupby([meta["call"].to_numpy(), meta["window"].to_numpy()], sort=False).max().to_numpy()\n',
        "test_nudge_precision"),
    # the detector wrapper kept as .model (the system still runs: it scores with self.model.model)
    "the detector instead of its torch model as .model": (
        "system", "        self.model = detector.model\n", "        self.model = detector\n", "test_budget"),
    "the interview starts with the model": (
        "design", 'for topic in ("goal", "traffic", "latency", "privacy", "labels", "costs"):',
        'interview.ask("model")\n    for topic in ("goal", "traffic", "latency", "privacy", "labels", "costs"):',
        "test_design_asks"),
}

# ...which the rest of that system unwraps to score (so that only the judged .model is wrong)
UNWRAP = {"scores through the detector's model": (
    "system", "system_scores(self.model, crops)", "system_scores(self.model.model, crops)")}

WRONG_B = {
    # a missed frown costs three false nudges, so "when in doubt, nudge" sounds prudent; a covered
    # camera then nudges every two seconds. (Scoring broken crops like any other is harmless here: the
    # model's per-image normalisation maps a constant crop to zeros, which it scores calm.)
    "a broken crop counts as a frown": (
        "system", "    scores = np.zeros(len(faces))\n", "    scores = np.ones(len(faces))\n", "test_fallback"),
    "monitor band of one standard deviation": (
        "system", "    z = float(stdtrit(n - 1, 1 - SPEC.max_false_alarm_rate / 4)) * np.sqrt(1 + 1 / n)", "    z = 1.0",
        "test_monitor_quiet"),
    "the daily average rate for peak QPS": (
        "design", 'peak_qps = facts["daily_users"] * facts["requests_per_user"] / 86_400 * facts["peak_to_mean"]',
        'peak_qps = facts["daily_users"] * facts["requests_per_user"] / 86_400', "test_design_numbers"),
    # the Bayes threshold upside down: "the costlier mistake gets the bigger share"
    "the Bayes threshold inverted": (
        "design", "threshold = c_fp / (c_fp + c_fn)", "threshold = c_fn / (c_fp + c_fn)", "test_design_choices"),
}

# Not yet a variant: "a covered camera gives a flat crop" with a margin (crop std > 30 counts as usable) takes
# low-contrast dark faces for covered cameras and costs only the dark tone's recall (0.68 and 0.79 on two
# unseen days), but the one day the worst-tone criterion replays is easy for that tone (0.90, above 0.8),
# and next to wrong_b's "broken crop counts as a frown" it turns those faces into frowns.
WRONG_C = {
    # "a covered camera never nudges", applied to the whole window: one broken crop silences its window
    "a window with a broken crop stays calm": (
        "system", '        table["fired"] = np.asarray(table["vote"], dtype=float) >= self.threshold\n',
        '        _broken = pd.Series(~preprocess(crops)[1]).groupby([meta["call"].to_numpy(), meta["window"].to_numpy()], sort=False).any().to_numpy()\n'
        '        table["fired"] = (np.asarray(table["vote"], dtype=float) >= self.threshold) & ~_broken\n',
        ("test_nudge_recall", "test_worst_tone")),
}


@pytest.fixture(scope="module")
def batch(tmp_path_factory):
    base = tmp_path_factory.mktemp("a07")
    perfect = H.example(A, "perfect")
    notebooks = {kind: H.example(A, kind) for kind in ("perfect", "partial", "blank")}
    notebooks.update(wrong_a=H.with_mistakes(H.with_mistakes(perfect, WRONG_A), UNWRAP),
                     wrong_b=H.with_mistakes(perfect, WRONG_B), wrong_c=H.with_mistakes(perfect, WRONG_C))
    # a busy machine can take over a minute to start a kernel; these tests judge answers, not start-up times
    results = H.grade_notebooks(A, notebooks, base, config=KernelConfig(start_timeout=300))
    return {"results": results, "page": write_report(base / "out").read_text()}


@pytest.fixture(scope="module")
def graded(batch):
    return batch["results"]


@pytest.mark.slow
def test_perfect_gets_full_marks(graded):
    H.check_perfect(graded["perfect"], min_parts=12)


@pytest.mark.slow
def test_blank_gets_zero(graded):
    H.check_blank(graded["blank"], all_not_attempted=False)


@pytest.mark.slow
def test_partial_is_in_between(graded):
    H.check_partial(graded["partial"])


CASES = H.wrong_answer_cases(wrong_a=WRONG_A, wrong_b=WRONG_B, wrong_c=WRONG_C)


@pytest.mark.slow
@pytest.mark.parametrize("variant,name,part", CASES, ids=[c[1] for c in CASES])
def test_wrong_answer_loses_its_part(graded, variant, name, part):
    outcome = H.outcomes(graded[variant])[part]
    assert outcome == "failed", f"{name!r} should fail {part}, got {outcome}"


# (The threshold chosen at the sample's prevalence may also cost precision on the unseen day; wrong_a's
# per-face decisions must cost it anyway.)
MAY = {"wrong_a": set(), "wrong_b": set(), "wrong_c": set()}


@pytest.mark.slow
@pytest.mark.parametrize("variant,wrong", [("wrong_a", WRONG_A), ("wrong_b", WRONG_B), ("wrong_c", WRONG_C)])
def test_wrong_answers_cost_nothing_else(graded, variant, wrong):
    expected = {part for spec in wrong.values() for part in H.parts_of(spec)}
    H.check_lost_exactly(graded[variant], must=expected, may=MAY[variant])


# -- the capstone's leaderboard ---------------------------------------------------------------------
MEASURED = {"test_nudge_precision.precision", "test_nudge_recall.recall", "test_worst_tone.worst_tone_recall",
            "test_budget.model_mb", "test_budget.latency_ms", "test_monitor_alarm.changes_caught",
            "test_monitor_alarm.alarm_delay", "test_monitor_quiet.false_alarm_rate"}
GUARDRAILS = {"test_nudge_precision.precision", "test_worst_tone.worst_tone_recall", "test_budget.model_mb",
              "test_budget.latency_ms", "test_monitor_alarm.alarm_delay"}


def _measured(result) -> dict:
    return {f"{p.grade_id}.{name}": m for p in result.parts for name, m in p.measured.items()}


def _quiet_allowance(hours: int) -> int:
    """The most false alarms test_monitor_quiet passes in `hours` drift-free hours (its binomial test)."""
    rate = SPEC.max_false_alarm_rate
    tail = lambda k: sum(math.comb(hours, j) * rate ** j * (1 - rate) ** (hours - j) for j in range(k, hours + 1))  # noqa: E731
    return max(k for k in range(hours + 1) if tail(k) >= 0.05)


@pytest.mark.slow
def test_perfect_meets_every_guardrail(batch):
    for student, result in batch["results"].items():
        assert result.status == "graded", f"{student}: {result.reason}"
    perfect = _measured(batch["results"]["perfect"])
    assert set(perfect) == MEASURED, sorted(perfect)
    assert {k for k, m in perfect.items() if m["role"] == GUARDRAIL} == GUARDRAILS
    missed = {k: m for k, m in perfect.items() if meets(m["value"], m["target"], m["better"]) is False}
    assert not missed, f"the reference solution misses: {missed}"
    assert perfect["test_nudge_recall.recall"]["role"] == "primary"
    assert perfect["test_nudge_recall.recall"]["target"] == SPEC.target_recall
    assert perfect["test_nudge_precision.precision"]["target"] == SPEC.min_precision
    assert perfect["test_worst_tone.worst_tone_recall"]["target"] == SPEC.worst_tone_recall
    assert perfect["test_budget.model_mb"]["target"] == SPEC.model_mb and perfect["test_budget.model_mb"]["unit"] == "MB"
    assert perfect["test_budget.latency_ms"]["target"] == SPEC.latency_budget_ms
    assert perfect["test_budget.latency_ms"]["better"] == "lower"
    assert perfect["test_monitor_alarm.changes_caught"]["value"] == perfect["test_monitor_alarm.changes_caught"]["target"] == 2
    assert 1 <= perfect["test_monitor_alarm.alarm_delay"]["value"] <= SPEC.max_detection_delay
    assert perfect["test_monitor_alarm.alarm_delay"]["target"] == SPEC.max_detection_delay
    # the quiet test's target is its own allowance: the most alerts its binomial test passes in its drift-free
    # hours (a 12-hour quiet day and the 8 hours before each change of the alarm days), per hour
    quiet, hours = perfect["test_monitor_quiet.false_alarm_rate"], 12 + 8 + 8
    assert quiet["target"] == pytest.approx(_quiet_allowance(hours) / hours) and quiet["better"] == "lower"
    assert quiet["target"] > SPEC.max_false_alarm_rate, "a day of hours cannot show 2% by itself: the allowance is wider"
    # every part passed, so every reported value stood before a passing assert
    assert batch["results"]["perfect"].score == batch["results"]["perfect"].max_score, H.summary(batch["results"]["perfect"])


@pytest.mark.slow
def test_wrong_variant_misses_precision_and_never_alarms(batch):
    wrong = _measured(batch["results"]["wrong_a"])
    outcome = H.outcomes(batch["results"]["wrong_a"])
    precision = wrong["test_nudge_precision.precision"]
    assert precision["value"] < SPEC.min_precision == precision["target"], precision
    assert outcome["test_nudge_precision"] == "failed"
    # its monitor never alarms: no change caught, no delay to measure, the part failed
    assert wrong["test_monitor_alarm.changes_caught"]["value"] == 0
    assert wrong["test_monitor_alarm.alarm_delay"]["value"] is None
    assert outcome["test_monitor_alarm"] == "failed"
    # .model is the detector wrapper: the budget test stops before it can measure size or latency
    assert outcome["test_budget"] == "failed"
    assert "test_budget.model_mb" not in wrong and "test_budget.latency_ms" not in wrong
    assert _measured(batch["results"]["blank"]) == {}


@pytest.mark.slow
def test_class_report_shows_the_capstone_leaderboard(batch):
    page = batch["page"]
    head = page.split("<table class=leaderboard>")[1].split("</tr>")[0]
    assert re.search(rf"recall \(fraction\) <i>primary</i><br>target &ge; {SPEC.target_recall:.4g}", head), head
    assert re.search(rf"precision \(fraction\) <i>guardrail</i><br>target &ge; {SPEC.min_precision:.4g}", head), head
    assert re.search(rf"latency_ms \(ms \(fake clock\)\) <i>guardrail</i><br>target &le; {SPEC.latency_budget_ms:.4g}",
                     head), head
    rows = leaderboard_rows(page)
    # (the batch's other variants rank among these: a mistake that raises recall can outrank perfect)
    shown = [r for r in rows if r["student"] in ("perfect", "wrong_a", "blank")]
    assert [r["student"] for r in shown] == ["perfect", "wrong_a", "blank"], rows
    perfect, wrong, blank = shown
    assert set(perfect) - {"student", "rank"} == MEASURED
    assert not [k for k in MEASURED if perfect[k].endswith("✗") or perfect[k] == "—"], perfect
    assert wrong["test_nudge_precision.precision"].endswith(" ✗"), wrong
    assert wrong["test_monitor_alarm.changes_caught"] == "0 ✗"
    assert wrong["test_monitor_alarm.alarm_delay"] == "n/a ✗"
    assert wrong["test_budget.model_mb"] == "—"
    assert {blank[k] for k in MEASURED} == {"—"}, blank
