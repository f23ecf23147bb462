"""Assignment 07 (capstone): the examples and wrong-but-plausible designs, graded for real.

The tests every assignment gets (tests/assignment_batch.py) on one batch: perfect, partial and blank
examples and three variants of the perfect example (tests/variants/a07.py), each carrying wrong
answers in different parts (grouped so that no two mistakes of one variant move the same
measurement: a mistake that raises recall never shares a notebook with one that should lower it).
Each wrong answer loses the points of the part meant to catch it, and nothing else.

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
from tests import variants
from tests.assignment_batch import NO_HONEST, AssignmentBatch
from tests.test_leaderboard import leaderboard_rows

pytestmark = pytest.mark.slow

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


class TestAssignment07(AssignmentBatch):
    ASSIGNMENT = "07-capstone"
    VARIANTS = variants.module("07")
    MIN_PARTS = 12
    BLANK_ALL_NOT_ATTEMPTED = False
    HONEST = NO_HONEST
    EXACT_LOSS = False
    # a busy machine can take over a minute to start a kernel; these tests judge answers, not start-up times
    GRADE_OPTIONS = {"config": KernelConfig(start_timeout=300)}
    # the capstone is graded without the honest-globals and memory-mistake notebooks (01-06 have them)
    test_honest_globals_named_like_test_names_keep_full_marks = None
    test_memory_mistake_costs_no_other_part = None

    def test_perfect_meets_every_guardrail(self, batch):
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


    def test_wrong_variant_misses_precision_and_never_alarms(self, batch):
        wrong = _measured(batch["results"]["wrong_a"])
        outcome = H.outcomes(batch["results"]["wrong_a"])
        precision = wrong["test_nudge_precision.precision"]
        assert precision["value"] < SPEC.min_precision == precision["target"], precision
        assert outcome["test_nudge_precision"] == "failed"
        # its monitor never alarms: the visible check (bands no hour fits) stops the part before the
        # hidden replays measure anything (tests/test_leaderboard.py shows how "0 ✗" and "n/a ✗" look)
        assert outcome["test_monitor_alarm"] == "failed"
        assert "test_monitor_alarm.changes_caught" not in wrong and "test_monitor_alarm.alarm_delay" not in wrong
        part = next(p for p in batch["results"]["wrong_a"].parts if p.grade_id == "test_monitor_alarm")
        assert "with bands that no value fits" in (part.message or ""), part.message
        # .model is the detector wrapper: the budget test stops before it can measure size or latency
        assert outcome["test_budget"] == "failed"
        assert "test_budget.model_mb" not in wrong and "test_budget.latency_ms" not in wrong
        assert _measured(batch["results"]["blank"]) == {}


    def test_class_report_shows_the_capstone_leaderboard(self, batch):
        page = write_report(batch["out"]).read_text()
        head = page.split("<table class=leaderboard>")[1].split("</tr>")[0]
        assert re.search(rf"recall \(fraction\) <i>primary</i><br>target &ge; {SPEC.target_recall:.4g}", head), head
        assert re.search(rf"precision \(fraction\) <i>guardrail</i><br>target &ge; {SPEC.min_precision:.4g}", head), head
        assert re.search(rf"latency_ms \(ms, fake clock\) <i>guardrail</i><br>target &le; {SPEC.latency_budget_ms:.4g}",
                         head), head
        rows = leaderboard_rows(page)
        # (the batch's other variants rank among these: a mistake that raises recall can outrank perfect)
        shown = [r for r in rows if r["student"] in ("perfect", "wrong_a", "blank")]
        assert [r["student"] for r in shown] == ["perfect", "wrong_a", "blank"], rows
        perfect, wrong, blank = shown
        assert set(perfect) - {"student", "rank"} == MEASURED
        assert not [k for k in MEASURED if perfect[k].endswith("✗") or perfect[k] == "—"], perfect
        assert wrong["test_nudge_precision.precision"].endswith(" ✗"), wrong
        assert wrong["test_monitor_alarm.changes_caught"] == wrong["test_monitor_alarm.alarm_delay"] == "—"
        assert wrong["test_budget.model_mb"] == "—"
        assert {blank[k] for k in MEASURED} == {"—"}, blank
