"""Results are values: every submission becomes a `SubmissionResult`, whatever went wrong.

A broken file, a dead kernel or a timeout is a status with a reason, never an exception that
stops the batch. Each graded part is a `PartResult` with an outcome and a message that teaches.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field

# Part outcomes
PASSED = "passed"
FAILED = "failed"
NOT_ATTEMPTED = "not_attempted"
NOT_RUN = "not_run"
MANUAL = "manual"  # graded by hand; no autograded points
NO_RESPONSE = "no_response"  # a hand-graded answer left as released: 0 points, "No response." (as nbgrader)
NO_RESPONSE_MESSAGE = "No response."

# Submission statuses
GRADED = "graded"  # the notebook ran to its end (parts may still fail)
TIMEOUT = "timeout"
KERNEL_DIED = "kernel_died"
INVALID_NOTEBOOK = "invalid_notebook"
MISSING_NOTEBOOK = "missing_notebook"
WRONG_NOTEBOOK = "wrong_notebook"
GRADER_ERROR = "grader_error"

HAND_KINDS = ("manual", "task")

STATUSES = (GRADED, TIMEOUT, KERNEL_DIED, INVALID_NOTEBOOK, MISSING_NOTEBOOK, WRONG_NOTEBOOK, GRADER_ERROR)


@dataclass
class PartResult:
    grade_id: str
    title: str
    kind: str  # "test", "manual" (a written or code answer graded by hand) or "task" (an nbgrader task cell)
    points: float
    max_points: float
    outcome: str
    message: str = ""

    @property
    def passed(self) -> bool:
        return self.outcome == PASSED


@dataclass
class SubmissionResult:
    student_id: str
    assignment: str
    status: str
    reason: str = ""
    parts: list[PartResult] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    isolation: str = ""
    seconds: float = 0.0
    content_hash: str = ""
    graded_at: str = ""
    diagnostics: list[str] = field(default_factory=list)  # sentinel notes, for instructors
    unanswered: list[str] = field(default_factory=list)  # answer cells left as released ("No response.")
    feedback_html: str = ""

    @property
    def score(self) -> float:
        return round(sum(p.points for p in self.parts if p.kind == "test"), 6)

    @property
    def max_score(self) -> float:
        return round(sum(p.max_points for p in self.parts if p.kind == "test"), 6)

    @property
    def manual_max(self) -> float:
        """Points still to be given by hand (hand-graded answers and task cells; a blank answer is
        already graded: 0)."""
        return round(sum(p.max_points for p in self.parts if p.kind in HAND_KINDS and p.outcome == MANUAL), 6)

    @property
    def total_max(self) -> float:
        """Every point of the assignment: autograded, hand-graded answers and task cells (nbgrader's
        max_score)."""
        return round(sum(p.max_points for p in self.parts), 6)

    def to_dict(self) -> dict:
        data = asdict(self)
        data.pop("feedback_html")
        data.update(score=self.score, max_score=self.max_score, manual_max=self.manual_max, total_max=self.total_max)
        return data

    @classmethod
    def from_dict(cls, data: dict) -> "SubmissionResult":
        data = dict(data)
        for key in ("score", "max_score", "manual_max", "total_max"):
            data.pop(key, None)
        data["parts"] = [PartResult(**p) for p in data.get("parts", [])]
        return cls(**data)
