"""The design interview of the capstone: facts only when asked, a budget, versions with their own numbers."""
from __future__ import annotations

import pytest

from course.interview import (BUDGET, FIRST_STAGE_TOPICS, PREMATURE_TOPICS, SCENARIOS, TOPICS, DesignSpec,
                              InterviewError, check_design_spec, interview_for, scenario_for_student,
                              start_interview)


@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_every_first_stage_topic_has_an_answer_that_decides_something(scenario):
    interview = interview_for(scenario, seed=3)
    for topic in FIRST_STAGE_TOPICS:
        fact = interview.ask(topic)
        assert fact.topic == topic and fact.text
    values = interview.revealed()
    assert {"task", "daily_users", "requests_per_user", "peak_to_mean", "latency_budget_ms",
            "data_may_leave_device", "label_delay_days"} <= set(values)
    assert interview.questions_left == BUDGET - len(FIRST_STAGE_TOPICS) == 1


def test_asking_everything_runs_out_of_questions():
    interview = interview_for("fraud_detector")
    for topic in list(TOPICS)[:BUDGET]:
        interview.ask(topic)
    with pytest.raises(InterviewError, match="no questions left"):
        interview.ask("costs")
    assert len(TOPICS) > BUDGET and set(PREMATURE_TOPICS) <= set(TOPICS)


def test_premature_questions_reveal_nothing_and_cost_a_question():
    interview = interview_for("feed_ranker")
    fact = interview.ask("model")
    assert fact.values == {} and interview.questions_left == BUDGET - 1


def test_an_unknown_topic_is_refused_with_the_list():
    with pytest.raises(InterviewError, match="unknown topic 'accuracy'.*goal"):
        interview_for("ticket_router").ask("accuracy")


def test_versions_change_the_numbers_and_the_same_version_repeats():
    def numbers(seed):
        interview = interview_for("fraud_detector", seed=seed)
        for topic in ("traffic", "latency", "costs", "labels"):
            interview.ask(topic)
        return interview.revealed()
    assert numbers(1) == numbers(1)
    assert len({tuple(sorted(numbers(seed).items())) for seed in range(8)}) >= 6


def test_a_student_id_always_draws_the_same_scenario_and_ids_spread_over_all():
    assert scenario_for_student("ab1234") == scenario_for_student(" AB1234 ")
    assert {scenario_for_student(f"s{i:03d}") for i in range(60)} == set(SCENARIOS)
    assert start_interview("ab1234").scenario == scenario_for_student("ab1234")
    with pytest.raises(ValueError, match="student id"):
        start_interview("")


def test_the_spec_format_check_names_each_bad_field():
    good = DesignSpec("ranking", "ndcg_at_10", 12.5, 100.0, "edge", 1.0)
    check_design_spec(good)
    bad = DesignSpec("rank", "auc", "fast", 100.0, "cloud", None, threshold=1.5)
    with pytest.raises(ValueError) as info:
        check_design_spec(bad)
    text = str(info.value)
    for name in ("task_type", "primary_metric", "peak_qps", "deployment", "threshold"):
        assert name in text
