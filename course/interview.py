"""A design interview for a system you have not seen: the second part of the capstone (07).

The first stage of designing an ML system is not choosing a model: it is finding out what the
problem is. Here a product team has a one-line request (:attr:`Interview.prompt`) and knows the
facts behind it, but tells them only when asked, and their time is limited: an interview allows
:data:`BUDGET` questions. Each question is one *topic* from :data:`TOPICS`::

    from course.interview import start_interview, DesignSpec
    interview = start_interview("ab1234")     # your prompt is drawn from your student id
    interview.prompt                          # the one-line request
    fact = interview.ask("goal")              # a Fact: .text for you, .values for your code
    fact.text, fact.values
    interview.asked                           # the topics asked so far, in order
    interview.questions_left

Some topics are what the first stage of the design process asks about (the goal, traffic,
latency, where the data may go, labels, the cost of errors); some are questions that come too
early (which model, which framework) and waste the team's time. Asking an unknown topic, or more
than :data:`BUDGET` questions, raises :class:`InterviewError`.

:class:`DesignSpec` is the structured spec you write from what you learned, in the vocabularies
:data:`DESIGN_TASKS`, :data:`DESIGN_METRICS` and :data:`DEPLOYMENTS`. The rules that turn facts
into its fields are the ones the course taught, stated in the capstone notebook.

Every scenario exists in many *versions*: :func:`interview_for` with another ``seed`` changes its
numbers (users, latency, costs...), so a spec must be computed from the answers, not remembered.
"""
from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass, field
from numbers import Real

import numpy as np

from course.seeding import generator
from course.validation import check_choice, check_seed, seed_by_keyword

__all__ = ["TOPICS", "FIRST_STAGE_TOPICS", "PREMATURE_TOPICS", "BUDGET", "SCENARIOS", "DESIGN_TASKS",
           "DESIGN_METRICS", "DEPLOYMENTS", "Fact", "Interview", "InterviewError", "DesignSpec",
           "interview_for", "start_interview", "scenario_for_student", "check_design_spec"]

#: Every topic one may ask about, and what the team answers on it.
TOPICS = {
    "goal": "what the product should achieve, and what one prediction is",
    "traffic": "how many people use it, how often each, and how busy the busiest hour is",
    "latency": "how long the product can wait for one prediction",
    "hardware": "what the users' devices and the company's servers can do",
    "privacy": "what data may leave the user's device, and what may be kept",
    "labels": "where correct answers come from, and how long they take to arrive",
    "costs": "what each kind of mistake costs",
    "existing": "how the problem is handled today, without this system",
    "model": "which model architecture the team prefers",
    "framework": "which ML framework the team uses",
    "dashboard": "what the dashboard should look like",
    "deadline": "when the team would like a demo",
}
#: What the first stage of the design process asks about: each decides a field of the spec.
FIRST_STAGE_TOPICS = ("goal", "traffic", "latency", "privacy", "labels", "costs")
#: Questions that come before anyone knows what the problem is: they cost time and decide nothing yet.
PREMATURE_TOPICS = ("model", "framework", "dashboard")
#: How many questions one interview allows: every first-stage topic, and one more.
BUDGET = len(FIRST_STAGE_TOPICS) + 1

DESIGN_TASKS = ("binary_classification", "multiclass_classification", "ranking", "regression")
DESIGN_METRICS = ("accuracy", "expected_cost", "macro_f1", "ndcg_at_10", "mae")
DEPLOYMENTS = ("edge", "server")


class InterviewError(ValueError):
    """A question the interview cannot take: an unknown topic, or one over the budget."""


@dataclass(frozen=True)
class Fact:
    """One answer of the team: ``text`` to read, ``values`` (numbers and words) to compute with."""

    topic: str
    text: str
    values: dict


# ----------------------------------------------------------------------------------------------
# the scenarios: each a function of a random generator, so that every version has its own numbers
# ----------------------------------------------------------------------------------------------
def _ticket_router(rng: np.random.Generator) -> tuple[str, dict]:
    teams = int(rng.integers(5, 9))
    users = int(rng.choice([20_000, 40_000, 80_000, 150_000]))
    per_user = float(rng.choice([0.05, 0.1, 0.2]))
    peak = float(rng.choice([2.0, 3.0, 4.0]))
    latency = float(rng.choice([500, 1000, 2000]))
    largest = float(rng.choice([0.55, 0.6, 0.7]))
    delay = float(rng.choice([1, 2, 3]))
    return "Route incoming support tickets automatically.", {
        "goal": (f"Each new ticket should go to the one team (of {teams}) that can solve it; today "
                 "agents forward misrouted tickets by hand.", {"task": "multiclass_classification", "classes": teams}),
        "traffic": (f"{users:,} customers, each writing about {per_user:g} tickets a day; the busiest hour "
                    f"carries {peak:g} times the average rate.",
                    {"daily_users": users, "requests_per_user": per_user, "peak_to_mean": peak}),
        "latency": (f"The ticket page can wait up to {latency:g} ms for the routing.", {"latency_budget_ms": latency}),
        "hardware": ("Tickets arrive from web forms and e-mail; our servers have spare CPUs and no GPUs.",
                     {"device": "none"}),
        "privacy": ("Tickets are already stored on our servers; the text may be used to train models.",
                    {"data_may_leave_device": True}),
        "labels": (f"The team that finally closes a ticket is its label; it is known about {delay:g} days "
                   f"later. The largest team gets {largest:.0%} of tickets; the smallest under 3%.",
                   {"label_delay_days": delay, "largest_class_share": largest}),
        "costs": ("A misrouted ticket costs the same whichever team it should have gone to, and the small "
                  "teams' customers matter as much as the big ones'.", {"equal_class_costs": True}),
        "existing": ("Agents read each ticket and pick a team by hand.", {}),
    }


def _feed_ranker(rng: np.random.Generator) -> tuple[str, dict]:
    users = int(rng.choice([2_000_000, 5_000_000, 9_000_000]))
    per_user = float(rng.choice([6, 10, 15]))
    peak = float(rng.choice([2.5, 3.0, 4.0]))
    latency = float(rng.choice([80, 120, 200]))
    delay = float(rng.choice([0.01, 0.02]))
    flagged = float(rng.choice([0.01, 0.02, 0.05]))
    return "Make the home feed more engaging, without spreading misinformation.", {
        "goal": ("Order the few hundred candidate posts of each user so that the top ten are the ones they "
                 "will engage with.", {"task": "ranking", "k": 10}),
        "traffic": (f"{users:,} daily users open the feed about {per_user:g} times a day; the evening peak is "
                    f"{peak:g} times the average.", {"daily_users": users, "requests_per_user": per_user,
                                                      "peak_to_mean": peak}),
        "latency": (f"The feed must be ordered within {latency:g} ms of opening the app.",
                    {"latency_budget_ms": latency}),
        "hardware": ("Phones of every age; a large server fleet with GPUs for batch jobs.", {"device": "phone"}),
        "privacy": ("Engagement logs are stored on our servers under the terms of service.",
                    {"data_may_leave_device": True}),
        "labels": (f"Clicks, likes and shares are logged within minutes (about {delay:g} days).",
                   {"label_delay_days": delay}),
        "costs": (f"Engagement is the goal, but no more than {flagged:.0%} of a feed's top ten may be posts "
                  "that fact-checkers flagged.", {"max_flagged_share_top10": flagged}),
        "existing": ("The feed is ordered newest first.", {}),
    }


def _fraud_detector(rng: np.random.Generator) -> tuple[str, dict]:
    users = int(rng.choice([300_000, 1_000_000, 3_000_000]))
    per_user = float(rng.choice([0.5, 1.0, 2.0]))
    peak = float(rng.choice([3.0, 5.0, 8.0]))
    latency = float(rng.choice([50, 100, 150]))
    fraud_cost = float(rng.choice([120, 250, 400]))
    review_cost = float(rng.choice([4, 8, 15]))
    delay = float(rng.choice([30, 45, 60]))
    return "Stop fraudulent card payments.", {
        "goal": ("Decide for each card payment, before it is approved, whether to hold it for review.",
                 {"task": "binary_classification"}),
        "traffic": (f"{users:,} cardholders make about {per_user:g} payments a day each; the busiest hour is "
                    f"{peak:g} times the average.", {"daily_users": users, "requests_per_user": per_user,
                                                      "peak_to_mean": peak}),
        "latency": (f"The payment network gives us {latency:g} ms to answer.", {"latency_budget_ms": latency}),
        "hardware": ("Payments reach our data centre; card terminals run nothing of ours.", {"device": "none"}),
        "privacy": ("Payment data is processed in our data centre under banking rules.",
                    {"data_may_leave_device": True}),
        "labels": (f"A payment is known to be fraud when the cardholder disputes it, up to {delay:g} days later.",
                   {"label_delay_days": delay}),
        "costs": (f"A missed fraud costs about ${fraud_cost:g}; holding an honest payment costs ${review_cost:g} "
                  "of review and an annoyed customer.", {"cost_false_negative": fraud_cost,
                                                         "cost_false_positive": review_cost}),
        "existing": ("A fixed rule holds payments over $5,000 abroad.", {}),
    }


def _restaurant_recommender(rng: np.random.Generator) -> tuple[str, dict]:
    users = int(rng.choice([200_000, 500_000, 1_200_000]))
    per_user = float(rng.choice([1, 2, 3]))
    peak = float(rng.choice([3.0, 4.0, 6.0]))
    latency = float(rng.choice([100, 150, 300]))
    delay = float(rng.choice([1, 2]))
    return "Help people choose where to eat, even offline on the road.", {
        "goal": ("Show each user the ten nearby restaurants they are most likely to book, best first.",
                 {"task": "ranking", "k": 10}),
        "traffic": (f"{users:,} daily users open the list about {per_user:g} times a day; lunch and dinner "
                    f"peaks reach {peak:g} times the average.", {"daily_users": users,
                                                                  "requests_per_user": per_user,
                                                                  "peak_to_mean": peak}),
        "latency": (f"The list must appear within {latency:g} ms.", {"latency_budget_ms": latency}),
        "hardware": ("Recent phones with a small neural accelerator; our servers too.", {"device": "phone"}),
        "privacy": ("Users' precise location may not leave the phone; only city-level location may be sent.",
                    {"data_may_leave_device": False}),
        "labels": (f"A booking is its label, logged about {delay:g} days after the list was shown.",
                   {"label_delay_days": delay}),
        "costs": ("A bad list costs a booking; nobody is harmed by a wrong suggestion.", {}),
        "existing": ("Restaurants are sorted by distance.", {}),
    }


SCENARIOS = {
    "ticket_router": _ticket_router,
    "feed_ranker": _feed_ranker,
    "fraud_detector": _fraud_detector,
    "restaurant_recommender": _restaurant_recommender,
}

_NOT_KNOWN = {
    "model": "We hoped you would tell us; we have no preference.",
    "framework": "Whatever you like; nobody here has an opinion.",
    "dashboard": "We have not thought about it yet.",
    "deadline": "A demo next quarter would be nice.",
}


class Interview:
    """One design interview: a prompt, the facts behind it, and :data:`BUDGET` questions.

    Build one with :func:`start_interview` (yours) or :func:`interview_for` (any scenario, any
    version). The facts are revealed only through :meth:`ask`.

    Parameters
    ----------
    scenario : str
        One of :data:`SCENARIOS`.
    seed : int, keyword-only
        The version (>= 0): another seed changes the scenario's facts.
    """

    @seed_by_keyword
    def __init__(self, scenario: str, *, seed: int = 0):
        self.scenario = check_choice("scenario", scenario, SCENARIOS)
        self.seed = check_seed(seed)
        stream = generator(self.seed, "interview", sorted(SCENARIOS).index(scenario))
        self.prompt, facts = SCENARIOS[scenario](stream)
        self._answers = {topic: Fact(topic, text, dict(values)) for topic, (text, values) in facts.items()}
        self._asked: list[str] = []

    def __repr__(self) -> str:
        return f"Interview({self.prompt!r}, asked={self._asked}, questions_left={self.questions_left})"

    @property
    def asked(self) -> tuple[str, ...]:
        """The topics asked so far, in order."""
        return tuple(self._asked)

    @property
    def questions_left(self) -> int:
        """How many questions are left (:data:`BUDGET` minus the questions asked)."""
        return BUDGET - len(self._asked)

    def ask(self, topic: str) -> Fact:
        """The team's answer on ``topic``; each call uses one question.

        Parameters
        ----------
        topic : str
            One of :data:`TOPICS`.

        Returns
        -------
        Fact
            The answer (its ``values`` are empty when the team does not know).

        Raises
        ------
        InterviewError
            ``topic`` is unknown, or no questions are left.
        """
        if not isinstance(topic, str) or topic not in TOPICS:
            raise InterviewError(f"unknown topic {topic!r}; ask about one of {list(TOPICS)}")
        if self.questions_left <= 0:
            raise InterviewError(f"no questions left: the interview allows {BUDGET}, and you asked "
                                 f"{list(self._asked)}. Ask what decides the spec first.")
        self._asked.append(topic)
        if topic in self._answers:
            return self._answers[topic]
        return Fact(topic, _NOT_KNOWN[topic], {})

    def revealed(self) -> dict:
        """Every value the asked topics revealed (a topic asked twice counts twice).

        Returns
        -------
        dict
            Value name to value, from every answer so far.
        """
        values: dict = {}
        for topic in self._asked:
            values.update(self._answers.get(topic, Fact(topic, "", {})).values)
        return values


@seed_by_keyword
def interview_for(scenario: str, *, seed: int = 0) -> Interview:
    """A fresh interview of ``scenario`` in version ``seed``.

    Parameters
    ----------
    scenario : str
        One of :data:`SCENARIOS`.
    seed : int, keyword-only
        The version (>= 0): another seed changes the scenario's facts.

    Returns
    -------
    Interview
        With all :data:`BUDGET` questions left.
    """
    return Interview(scenario, seed=seed)


def scenario_for_student(student_id: str) -> str:
    """The scenario drawn for ``student_id`` (stable: the same id always draws the same one).

    Parameters
    ----------
    student_id : str
        Your student id (case and surrounding spaces do not matter).

    Returns
    -------
    str
        One of :data:`SCENARIOS`.
    """
    if not isinstance(student_id, str) or not student_id.strip():
        raise ValueError(f"student_id must be your non-empty student id as a string, got {student_id!r}")
    digest = hashlib.sha256(student_id.strip().lower().encode()).digest()
    names = sorted(SCENARIOS)
    return names[digest[0] % len(names)]


def start_interview(student_id: str) -> Interview:
    """Your interview: the scenario drawn for ``student_id``, in version 0.

    Parameters
    ----------
    student_id : str
        Your student id.

    Returns
    -------
    Interview
        With all :data:`BUDGET` questions left.
    """
    return Interview(scenario_for_student(student_id), seed=0)


@dataclass
class DesignSpec:
    """The structured spec of the capstone's second part.

    Fields
    ------
    task_type : str             one of :data:`DESIGN_TASKS`
    primary_metric : str        one of :data:`DESIGN_METRICS`
    peak_qps : float or None    predictions per second in the busiest hour (None: not asked)
    latency_budget_ms : float or None
    deployment : str            one of :data:`DEPLOYMENTS`
    label_delay_days : float or None
    threshold : float or None   the decision threshold on a calibrated probability, for a yes/no
                                decision priced by its costs; None when there is none to set
    guardrails : dict           {name: bound}, e.g. a limit the product team set
    """

    task_type: str
    primary_metric: str
    peak_qps: float | None
    latency_budget_ms: float | None
    deployment: str
    label_delay_days: float | None
    threshold: float | None = None
    guardrails: dict = field(default_factory=dict)


def _finite(value) -> bool:
    return isinstance(value, Real) and not isinstance(value, bool) and math.isfinite(float(value))


def check_design_spec(spec) -> None:
    """Raise ``ValueError`` listing every malformed field of ``spec`` (types and vocabularies only).

    Parameters
    ----------
    spec : DesignSpec
        The spec to check.

    Raises
    ------
    ValueError
        ``spec`` is not a :class:`DesignSpec`, or some of its fields are malformed (all listed).
    """
    if not isinstance(spec, DesignSpec):
        raise ValueError(f"the spec must be a DesignSpec(...), got {type(spec).__name__}")
    problems = []
    for name, allowed in (("task_type", DESIGN_TASKS), ("primary_metric", DESIGN_METRICS),
                          ("deployment", DEPLOYMENTS)):
        value = getattr(spec, name)
        if not isinstance(value, str) or value not in allowed:
            problems.append(f"{name}={value!r} is not one of {list(allowed)}")
    for name in ("peak_qps", "latency_budget_ms", "label_delay_days", "threshold"):
        value = getattr(spec, name)
        if value is not None and not _finite(value):
            problems.append(f"{name} must be a finite number or None, got {value!r}")
    if spec.threshold is not None and _finite(spec.threshold) and not 0 < float(spec.threshold) < 1:
        problems.append(f"threshold={spec.threshold!r} must lie strictly between 0 and 1")
    if not isinstance(spec.guardrails, dict) or not all(_finite(v) for v in spec.guardrails.values()):
        problems.append(f"guardrails must be a dict of numeric bounds, got {spec.guardrails!r}")
    if problems:
        raise ValueError("the design spec is malformed:\n- " + "\n- ".join(problems))
