"""The class leaderboard: what each student's hidden tests measured, ranked by the spec's metric.

Built from `PartResult.measured` (filled only from signed measurement lines, see measure.py), so
nothing a student printed or wrote reaches it. One column per measured quantity, in the
notebook's order (its part, then the order of the report() calls in that part's test), with its
unit and the target the tests measured against; one row per student.

Ranking follows the way a spec with a primary metric and guardrails is read (course/spec.py: the
primary metric counts only among the operating points that meet the guardrails): first the
students who miss fewer guardrail targets (a guardrail not measured counts as missed), then the
better primary value, then the higher score, then the student id. Without a measurement declared ``role="primary"``
students are ranked by the number of targets they meet.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from autograder import results as R
from autograder.measure import GUARDRAIL, HIGHER, PRIMARY, meets


@dataclass
class Column:
    key: str  # "<grade_id>.<name>"
    grade_id: str
    part_title: str
    name: str
    unit: str
    better: str
    role: str
    target: float | None  # the most common target the tests measured against


@dataclass
class Row:
    student_id: str
    status: str
    score: float = 0.0  # every point so far (total_score): breaks ties between equal measurements
    values: dict[str, float | None] = field(default_factory=dict)  # column key -> value (None: not measurable)
    misses: set[str] = field(default_factory=set)  # column keys whose value misses its target
    rank: int = 0


@dataclass
class Leaderboard:
    columns: list[Column]
    rows: list[Row]  # best first

    def __bool__(self) -> bool:
        return bool(self.columns)


def build(results: list[R.SubmissionResult]) -> Leaderboard:
    columns: dict[str, Column] = {}
    targets: dict[str, Counter] = {}
    for result in sorted(results, key=lambda r: -len(r.parts)):  # the longest list has every part, in order
        for part in result.parts:
            for name, m in (part.measured or {}).items():
                key = f"{part.grade_id}.{name}"
                if key not in columns:
                    columns[key] = Column(key, part.grade_id, part.title, name, m.get("unit", ""),
                                          m.get("better", HIGHER), m.get("role", ""), None)
                    targets[key] = Counter()
                if m.get("target") is not None:
                    targets[key][m["target"]] += 1
    order = {part.grade_id: i for i, part in enumerate(max((r.parts for r in results), key=len, default=[]))}
    ordered = sorted(columns.values(), key=lambda c: order.get(c.grade_id, len(order)))
    for column in ordered:
        if targets[column.key]:
            column.target = targets[column.key].most_common(1)[0][0]
    rows = []
    for result in results:
        row = Row(result.student_id, result.status, result.total_score)
        for part in result.parts:
            for name, m in (part.measured or {}).items():
                key = f"{part.grade_id}.{name}"
                row.values[key] = m["value"]
                if meets(m["value"], m.get("target"), m.get("better", HIGHER)) is False:
                    row.misses.add(key)
        rows.append(row)
    rows.sort(key=lambda row: _rank_key(row, ordered))
    for position, row in enumerate(rows, start=1):
        row.rank = position
    return Leaderboard(ordered, rows)


def _rank_key(row: Row, columns: list[Column]) -> tuple:
    guardrails = [c for c in columns if c.role == GUARDRAIL]
    missed = sum(1 for c in guardrails if c.key not in row.values or c.key in row.misses)
    primary = next((c for c in columns if c.role == PRIMARY), None)
    if primary is None:
        met = sum(1 for c in columns if row.values.get(c.key) is not None and c.key not in row.misses)
        return (missed, -met, -row.score, row.student_id)
    if row.values.get(primary.key) is None:
        return (missed, 1, 0.0, -row.score, row.student_id)
    value = row.values[primary.key]
    return (missed, 0, -value if primary.better == HIGHER else value, -row.score, row.student_id)


def ranking_rule(board: Leaderboard) -> str:
    """One sentence saying how the rows are ordered, for the page."""
    primary = next((c for c in board.columns if c.role == PRIMARY), None)
    guardrails = [c.name for c in board.columns if c.role == GUARDRAIL]
    first = f"fewest guardrail targets missed ({', '.join(guardrails)})" if guardrails else ""
    if primary is not None:
        then = f"{'highest' if primary.better == HIGHER else 'lowest'} {primary.name}"
    else:
        then = "most targets met"
    return "Ranked by " + (f"{first}, then {then}" if first else then) + ", then score."
