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
MANUAL = "manual"  # to be graded by hand (no points yet)
HAND_GRADED = "hand_graded"  # graded by hand: points and the grader's comment (see handgrading.py)

# Submission statuses
GRADED = "graded"  # the notebook ran to its end (parts may still fail)
TIMEOUT = "timeout"
KERNEL_DIED = "kernel_died"
INVALID_NOTEBOOK = "invalid_notebook"
MISSING_NOTEBOOK = "missing_notebook"
WRONG_NOTEBOOK = "wrong_notebook"
GRADER_ERROR = "grader_error"

STATUSES = (GRADED, TIMEOUT, KERNEL_DIED, INVALID_NOTEBOOK, MISSING_NOTEBOOK, WRONG_NOTEBOOK, GRADER_ERROR)


@dataclass
class PartResult:
    grade_id: str
    title: str
    kind: str  # "test" or "manual"
    points: float
    max_points: float
    outcome: str
    message: str = ""
    answer_hash: str = ""  # hand-graded parts: fingerprint of the answer graded (hand points survive only if unchanged)

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
    late: dict = field(default_factory=dict)  # due date, submission time, policy (see late.py)
    feedback_html: str = ""
    executed_notebook: str = ""  # the notebook as graded (JSON), kept by the writer for hand grading


    @property
    def raw_score(self) -> float:
        """Points the parts earned, before any late penalty."""
        return round(sum(p.points for p in self.parts if p.kind == "test"), 6)

    @property
    def late_penalty(self) -> float:
        from autograder.late import penalty

        return penalty(self.late, self.raw_score, self.max_score)

    @property
    def score(self) -> float:
        return round(self.raw_score - self.late_penalty, 6)

    @property
    def max_score(self) -> float:
        return round(sum(p.max_points for p in self.parts if p.kind == "test"), 6)

    @property
    def manual_max(self) -> float:
        return round(sum(p.max_points for p in self.parts if p.kind == "manual"), 6)

    @property
    def hand_score(self) -> float:
        """Points given by hand so far (formgrader or an imported file)."""
        return round(sum(p.points for p in self.parts if p.kind == "manual"), 6)

    @property
    def manual_pending(self) -> float:
        """Points of hand-graded parts nobody has graded yet."""
        return round(sum(p.max_points for p in self.parts if p.kind == "manual" and p.outcome != HAND_GRADED), 6)

    def to_dict(self) -> dict:
        data = asdict(self)
        data.pop("feedback_html")
        data.pop("executed_notebook")
        data.update(score=self.score, max_score=self.max_score, manual_max=self.manual_max,
                    raw_score=self.raw_score, late_penalty=self.late_penalty,
                    hand_score=self.hand_score, manual_pending=self.manual_pending)
        return data

    @classmethod
    def from_dict(cls, data: dict) -> "SubmissionResult":
        data = dict(data)
        for key in ("score", "max_score", "manual_max", "raw_score", "late_penalty", "hand_score", "manual_pending"):
            data.pop(key, None)
        data["parts"] = [PartResult(**p) for p in data.get("parts", [])]
        return cls(**data)
