"""From an executed notebook and the sentinel's receipts to part results (and what each measured).

A test part is passed only if a receipt for it (1) carries a valid HMAC under this run's key and
(2) reports the sequence digest the grader computed from its own copy of the test. Nothing the
notebook printed or displayed counts: an `execute_result` of "ok", a clean-looking output or a
missing error proves nothing. Everything else is a failure whose message says why. (The receipt
protocol, from the guard cell to the signature check, is receipt.py.) What a test measured is
kept on its part only from signed measurement lines its own statements reported (measure.py).
"""
from __future__ import annotations

import re

from autograder import receipt
from autograder import results as R
from autograder.assemble import Assembled
from autograder.engine import CellRun
from autograder.execute import Execution

MESSAGE_LIMIT = 1500


def redact(text: str, secret_lines: set[str]) -> str:
    """Remove any line of a hidden test from text that will be shown to a student."""
    for line in secret_lines:
        if line in text:
            text = text.replace(line, "[hidden test]")
    return text


_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


def _error_of(cell) -> tuple[str, str] | None:
    for output in cell.get("outputs", []):
        if output.get("output_type") == "error":
            return str(output.get("ename", "Error")), _ANSI.sub("", str(output.get("evalue", "")))
    return None


def _clip(text: str) -> str:
    return text if len(text) <= MESSAGE_LIMIT else text[:MESSAGE_LIMIT] + " [...]"


def score_parts(assembled: Assembled, execution: Execution, key: bytes, secret_lines: set[str]) -> tuple[list[R.PartResult], list[str]]:
    """Part results, and integrity warnings worth showing to the instructor."""
    receipts = receipt.read(execution.receipts, key)
    warnings = []
    if receipts.forged:
        warnings.append(f"receipts with invalid signatures for {', '.join(receipts.forged)} (ignored)")
    results = []
    for part in assembled.parts:
        if part.kind != R.HAND:
            results.append(_part_result(part, assembled, execution, receipts, secret_lines, warnings))
            results[-1].measured = measured(part, receipts)
            continue
        if part.grade_id in assembled.unattempted:
            results.append(R.PartResult(part.grade_id, part.title, R.HAND, 0.0, part.points, R.NO_RESPONSE,
                                        R.NO_RESPONSE_MESSAGE))
            continue
        results.append(R.PartResult(part.grade_id, part.title, R.HAND, 0.0, part.points, R.MANUAL, "graded by hand"))
    return results, warnings


def measured(part, receipts: receipt.Receipts) -> dict:
    """What the grader's own test code for `part` measured and reported (see measure.py)."""
    found = receipts.measurements(part.grade_id, part.statements, part.measures)
    declared = {d.name: d for d in part.measures.values()}
    return {name: {"value": value, "target": target, "unit": declared[name].unit,
                   "better": declared[name].better, "role": declared[name].role}
            for name, (value, target) in found.items()}


def _part_result(part, assembled: Assembled, execution: Execution, receipts: receipt.Receipts,
                 secret_lines: set[str], warnings: list[str]) -> R.PartResult:
    """An autograded part's result: passed only on a receipt that proves its test ran to its end."""
    valid = receipts.verified.get(part.grade_id, [])
    if receipts.proves(part.grade_id, part.expected):
        return R.PartResult(part.grade_id, part.title, R.TEST, part.points, part.points, R.PASSED, "")
    index = execution.index_of(part.cell_id)
    cell = execution.notebook.cells[index]
    state = execution.cell_state(index)
    unattempted = bool(part.answer_ids) and all(a in assembled.unattempted for a in part.answer_ids)
    error = _error_of(cell)
    if valid:
        outcome, message = R.FAILED, ("integrity check failed: the code that ran for this test was not the "
                                      "grader's test code (something rewrote it before it ran)")
        warnings.append(f"{part.grade_id}: test code was altered before it ran")
    elif state == CellRun.SKIPPED:
        outcome = R.NOT_RUN
        message = f"did not run: {execution.reason or 'an earlier problem stopped the notebook'}"
    elif state == CellRun.TIMED_OUT:
        outcome, message = R.FAILED, "the test timed out"
    elif error and (error[0] == "NotImplementedError" or unattempted):
        outcome = R.NOT_ATTEMPTED
        message = "not attempted: the answer cell still holds the starter code" if unattempted else \
            "not attempted: NotImplementedError was raised (is the starter code still in place?)"
    elif error:
        ename, evalue = error
        outcome = R.FAILED
        message = f"{ename}: {evalue}" if evalue else f"{ename} (no message)"
    else:
        outcome = R.FAILED
        message = ("integrity check failed: the grader could not confirm that its test code ran to the end "
                   "(something changed how the cell ran)")
        warnings.append(f"{part.grade_id}: no receipt although the cell reported no error "
                        f"({'; '.join(receipts.notes.get(part.grade_id, [])) or 'no sentinel note'})")
    return R.PartResult(part.grade_id, part.title, R.TEST, 0.0, part.points, outcome,
                        _clip(redact(message, secret_lines)))
