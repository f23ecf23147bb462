"""Results are values: every submission becomes a `SubmissionResult`, whatever went wrong.

A broken file, a dead kernel or a timeout is a status with a reason, never an exception that
stops the batch. Each graded part is a `PartResult` with an outcome and a message that teaches.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from enum import StrEnum

# The values are the strings grades.csv, results json and the feedback pages carry; a member is a
# str, so it is written, compared and read back as that string.


class Outcome(StrEnum):
    """What one graded part came to."""

    PASSED = "passed"
    FAILED = "failed"
    NOT_ATTEMPTED = "not_attempted"
    NOT_RUN = "not_run"  # its test never ran (an earlier problem stopped the notebook; no submission)
    MANUAL = "manual"  # to be graded by hand (no points yet)
    HAND_GRADED = "hand_graded"  # graded by hand: points and the grader's comment (see handgrading.py)
    # A written answer left as released: 0 points and "No response." (nbgrader's rule), nothing to
    # grade by hand; a hand grade (formgrader or an imported file) still overrides it.
    NO_RESPONSE = "no_response"


class Kind(StrEnum):
    """How a part is graded."""

    TEST = "test"  # autograded by its test cell
    HAND = "manual"  # graded by hand: a written answer or an nbgrader task


class Status(StrEnum):
    """What became of one submission."""

    GRADED = "graded"  # the notebook ran to its end (parts may still fail)
    TIMEOUT = "timeout"
    KERNEL_DIED = "kernel_died"
    INVALID_NOTEBOOK = "invalid_notebook"
    MISSING_NOTEBOOK = "missing_notebook"
    WRONG_NOTEBOOK = "wrong_notebook"
    GRADER_ERROR = "grader_error"  # not the student's doing: never reused, graded again on the next run
    ABSENT = "absent"  # on the roster (--roster) but no submission was ever graded


# The short names the grader's modules use (R.PASSED, R.GRADED, ...): the members themselves.
PASSED, FAILED, NOT_ATTEMPTED, NOT_RUN = Outcome.PASSED, Outcome.FAILED, Outcome.NOT_ATTEMPTED, Outcome.NOT_RUN
MANUAL, HAND_GRADED, NO_RESPONSE = Outcome.MANUAL, Outcome.HAND_GRADED, Outcome.NO_RESPONSE
NO_RESPONSE_MESSAGE = "No response."
TEST, HAND = Kind.TEST, Kind.HAND
GRADED, TIMEOUT, KERNEL_DIED = Status.GRADED, Status.TIMEOUT, Status.KERNEL_DIED
INVALID_NOTEBOOK, MISSING_NOTEBOOK, WRONG_NOTEBOOK = Status.INVALID_NOTEBOOK, Status.MISSING_NOTEBOOK, Status.WRONG_NOTEBOOK
GRADER_ERROR, ABSENT = Status.GRADER_ERROR, Status.ABSENT


@dataclass
class PartResult:
    grade_id: str
    title: str
    kind: Kind  # TEST, or HAND (a written or code answer, or an nbgrader task cell, graded by hand)
    points: float
    max_points: float
    outcome: Outcome
    message: str = ""
    # a test part whose points an instructor set by hand (formgrader): the autograded points, kept
    # so that they come back when the override is cleared (handgrading.apply); None otherwise
    auto_points: float | None = None
    # what the part's test measured, as its report() calls declared it (measure.py), carried through
    # the receipt channel: name -> {"value", "target", "unit", "better", "role"}
    measured: dict = field(default_factory=dict)

    def __post_init__(self):
        self.kind = Kind(self.kind)  # a record read back from JSON holds the strings
        self.outcome = Outcome(self.outcome)

    @property
    def passed(self) -> bool:
        return self.outcome == PASSED


@dataclass
class SubmissionResult:
    student_id: str
    assignment: str
    status: Status
    reason: str = ""
    parts: list[PartResult] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    isolation: str = ""
    seconds: float = 0.0
    content_hash: str = ""
    graded_at: str = ""
    diagnostics: list[str] = field(default_factory=list)  # sentinel notes, for instructors
    origin: str = ""  # the entry in SUBMISSIONS this came from (its file or folder name)
    unanswered: list[str] = field(default_factory=list)  # answer cells left as released ("No response.")
    late: dict = field(default_factory=dict)  # due date, submission time, policy (see late.py)
    # cell name -> fingerprint of what it graded (handgrading.answer_fingerprints): hand-given
    # points survive a regrade only while their part's fingerprint is unchanged
    answer_fingerprints: dict[str, str] = field(default_factory=dict)
    feedback_html: str = ""
    executed_notebook: str = ""  # the notebook as graded (JSON), kept by the writer for hand grading

    def __post_init__(self):
        self.status = Status(self.status)  # a record read back from JSON holds the string

    @property
    def raw_score(self) -> float:
        """Autograded points the parts earned, before any late penalty."""
        return round(sum(p.points for p in self.parts if p.kind == TEST), 6)

    @property
    def late_penalty(self) -> float:
        """Points taken off the whole grade for lateness: one rule (late.penalty) on every point
        earned, autograded and given by hand, never more than those (nbgrader's rule)."""
        from autograder.late import penalty

        return penalty(self.late, self.raw_score + self.hand_score, self.total_max)

    @property
    def score(self) -> float:
        """Autograded points after the late penalty: it comes off the autograded points first."""
        return round(max(0.0, self.raw_score - self.late_penalty), 6)

    @property
    def max_score(self) -> float:
        return round(sum(p.max_points for p in self.parts if p.kind == TEST), 6)

    # One model of maxima and points, used by grades.csv, results json, feedback, check, the
    # Gradescope JSON, the hand-grading export and formgrader:
    #   max_score (autograded) + manual_max (graded by hand: written answers and tasks) = total_max
    #   raw_score (autograded) + hand_score (given by hand so far) - late_penalty = total_score
    #   late_penalty: one rule on the whole grade (late.penalty), at most raw_score + hand_score;
    #   score: the autograded points after it (the penalty comes off them first)
    #   manual_pending: the hand-graded points nobody has graded yet (a blank answer is not pending)
    @property
    def manual_max(self) -> float:
        """Every point graded by hand: written answers and task cells, blank or not."""
        return round(sum(p.max_points for p in self.parts if p.kind == HAND), 6)

    @property
    def total_max(self) -> float:
        """Every point of the assignment, autograded and by hand (nbgrader's max_score)."""
        return round(self.max_score + self.manual_max, 6)

    @property
    def hand_score(self) -> float:
        """Points given by hand so far (formgrader or an imported file; 0 for a blank answer)."""
        return round(sum(p.points for p in self.parts if p.kind == HAND), 6)

    @property
    def total_score(self) -> float:
        """Every point earned, autograded and given by hand, after the late penalty."""
        return round(self.raw_score + self.hand_score - self.late_penalty, 6)

    @property
    def manual_pending(self) -> float:
        """Points of hand-graded parts still to be graded (neither graded by hand nor left blank)."""
        return round(sum(p.max_points for p in self.parts if p.kind == HAND and p.outcome == MANUAL), 6)

    def to_dict(self) -> dict:
        data = asdict(self)
        data.pop("feedback_html")
        data.pop("executed_notebook")
        data.update(score=self.score, max_score=self.max_score, manual_max=self.manual_max, total_max=self.total_max,
                    raw_score=self.raw_score, late_penalty=self.late_penalty,
                    hand_score=self.hand_score, total_score=self.total_score, manual_pending=self.manual_pending)
        return data

    @classmethod
    def from_dict(cls, data: dict) -> "SubmissionResult":
        known = {f.name for f in fields(cls)}
        # records carry more (computed scores, see to_dict; reuse key and outputs, see outputs.py)
        data = {k: v for k, v in data.items() if k in known}
        part_fields = {f.name for f in fields(PartResult)}
        data["parts"] = [PartResult(**{k: v for k, v in p.items() if k in part_fields}) for p in data.get("parts", [])]
        return cls(**data)


def is_blank(result: SubmissionResult, part: PartResult) -> bool:
    """A hand-graded answer the student left as released: it scores 0 with "No response." and
    needs no hand grading, unless someone grades it by hand anyway."""
    return part.kind == HAND and part.grade_id in result.unanswered
