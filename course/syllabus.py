"""The course map: six assignments in the order of the design process, and a capstone.

    >>> from course.syllabus import SYLLABUS, show
    >>> show()

Each entry names the assignment folder, the stage of the design process it belongs to (understand
the problem -> data and metrics -> model -> operations -> improve) and the skills it grades.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Assignment:
    """One assignment of the course.

    Attributes
    ----------
    id : str
        Its folder's name, such as ``"01-problem-framing"``.
    title : str
        Its title.
    stage : str
        The stage of an ML system's life it teaches.
    skills : tuple of str
        What a student practises in it.
    """

    id: str
    title: str
    stage: str
    skills: tuple[str, ...]


SYLLABUS: tuple[Assignment, ...] = (
    Assignment("01-problem-framing", "Problem framing", "understand the problem", (
        "business goals to ML task types", "requirements arithmetic (QPS, latency, memory, servers, storage)",
        "expected cost and the cost-optimal threshold", "a structured problem spec", "a non-ML baseline",
        "edge vs server in numbers")),
    Assignment("02-data-and-labeling", "Data and labeling", "data and metrics", (
        "reservoir and stratified sampling", "leakage-aware splits", "annotator agreement (kappa)",
        "label aggregation", "weak supervision", "label errors", "class imbalance", "augmentation that respects the label",
        "active learning")),
    Assignment("03-metrics-and-baselines", "Metrics and baselines", "data and metrics", (
        "metrics from scratch", "metrics that lie", "baselines", "thresholds", "calibration", "slices",
        "uncertainty", "a metrics hierarchy", "online experiments", "behavioural tests")),
    Assignment("04-modeling", "Modeling", "the model", (
        "features in a pipeline", "y = Wx + b by closed form and gradient descent", "learning curves",
        "a debugged CNN", "losses for imbalance", "search and early stopping", "error analysis")),
    Assignment("05-deployment-and-compression", "Deployment and compression", "operations", (
        "model accounting", "latency harness", "quantization", "pruning", "low-rank factorization",
        "distillation", "export", "choosing what to ship", "caching and dynamic batching")),
    Assignment("06-monitoring-and-iteration", "Monitoring and iteration", "operations and improvement", (
        "drift statistics", "windowed monitors and alerts", "delayed and biased labels (inverse-propensity weighting)",
        "retraining candidates", "regression gates", "shadow and canary", "what to label next", "what pages whom")),
    Assignment("07-capstone", "Capstone", "the whole design process", (
        "a system as one object: preprocessing, model, threshold, vote, fallback, monitor",
        "judged on unseen production days against the spec", "an interview before a design",
        "a spec consistent with what was asked", "a design document")),
)


def show() -> None:
    """Print the course map."""
    for item in SYLLABUS:
        print(f"{item.id:<32} {item.stage}")
        print("    " + "; ".join(item.skills))
