"""Feedback a student can open in a browser: a summary of every part, then their notebook.

Safe by construction: everything the notebook produced is escaped (markdown is rendered with raw
HTML escaped; no student HTML or JavaScript is ever emitted), images are only embedded when they
are valid base64 PNG/JPEG, and test cells show only their visible part and their outcome, never
hidden tests, their tracebacks or what ran inside them. A final pass removes any hidden-test line
that might have been printed anyway.
"""
from __future__ import annotations

import base64
import binascii
import html
import re

from autograder import cells as C
from autograder import results as R
from autograder.assemble import ANSWER_ROLE, EXTRA_ROLE, GUARD_ROLE, TEST_ROLE, Assembled
from autograder.late import summary as late_summary
from autograder.mathml import render_markdown
from autograder.receipt import without_trail
from autograder.score import redact

_markdown = render_markdown
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
OUTPUT_TEXT_LIMIT = 20_000

OUTCOME_LABEL = {
    R.PASSED: ("passed", "ok"),
    R.FAILED: ("failed", "bad"),
    R.NOT_ATTEMPTED: ("not attempted", "idle"),
    R.NOT_RUN: ("did not run", "bad"),
    R.MANUAL: ("to be graded by hand", "idle"),
    R.HAND_GRADED: ("graded by hand", "ok"),
    R.NO_RESPONSE: ("no response", "bad"),  # a written answer left blank: 0 unless graded by hand
}

STYLE = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;max-width:980px;margin:2rem auto;padding:0 1rem;color:#1d1d1f}
h1{font-size:1.5rem;margin-bottom:.2rem} .meta{color:#555;margin-top:0}
table{border-collapse:collapse;width:100%;margin:1rem 0} td,th{border-bottom:1px solid #ddd;padding:.4rem .5rem;text-align:left;vertical-align:top}
th{background:#f5f5f7} .pts{white-space:nowrap;text-align:right}
.badge{display:inline-block;padding:.1rem .5rem;border-radius:.6rem;font-size:.85rem;white-space:nowrap}
.ok{background:#d9f2dd;color:#135a1e} .bad{background:#fbdcdc;color:#8a1111} .idle{background:#ececec;color:#444}
.msg{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:.85rem;white-space:pre-wrap}
.cell{margin:1rem 0;border-left:3px solid #ddd;padding-left:.8rem} .cell.test{border-color:#7a8cff}
pre{background:#f7f7f9;padding:.6rem;overflow-x:auto;font-size:.85rem;white-space:pre-wrap}
pre.out{background:#fff;border:1px solid #eee} pre.err{background:#fff5f5;border:1px solid #f3c2c2}
.late{background:#fbdcdc;color:#8a1111;padding:.4rem .8rem;border-radius:.4rem}
.fix{background:#fbdcdc;padding:.6rem 1rem;border-radius:.4rem;margin:1rem 0}
.notes{background:#fff8e1;padding:.6rem 1rem;border-radius:.4rem} .score{font-size:1.2rem}
"""


def _esc(text) -> str:
    return html.escape(str(text), quote=True)


def _text(value) -> str:
    text = "".join(value) if isinstance(value, list) else str(value)
    text = _ANSI.sub("", text)
    if len(text) > OUTPUT_TEXT_LIMIT:
        text = text[:OUTPUT_TEXT_LIMIT] + "\n[... output shortened ...]"
    return text


def _image(mime: str, data) -> str:
    raw = "".join(data) if isinstance(data, list) else str(data)
    raw = raw.strip()
    try:
        decoded = base64.b64decode(raw, validate=True)
    except (binascii.Error, ValueError):
        return ""
    signatures = {"image/png": b"\x89PNG\r\n\x1a\n", "image/jpeg": b"\xff\xd8\xff"}
    if not decoded.startswith(signatures[mime]):
        return ""
    return f'<img alt="figure" src="data:{mime};base64,{raw}" style="max-width:100%">'


def _outputs(cell, secret: set[str]) -> str:
    parts = []
    for output in cell.get("outputs", []):
        kind = output.get("output_type")
        if kind == "stream":
            parts.append(f'<pre class="out">{_esc(redact(_text(output.get("text", "")), secret))}</pre>')
        elif kind == "error":
            trace = "\n".join(_ANSI.sub("", line) for line in output.get("traceback", []))
            text = trace or f"{output.get('ename')}: {output.get('evalue')}"
            parts.append(f'<pre class="err">{_esc(redact(_text(text), secret))}</pre>')
        elif kind in ("display_data", "execute_result"):
            data = output.get("data", {})
            for mime in ("image/png", "image/jpeg"):
                if mime in data:
                    img = _image(mime, data[mime])
                    if img:
                        parts.append(img)
                        break
            else:
                if "text/plain" in data:
                    parts.append(f'<pre class="out">{_esc(redact(_text(data["text/plain"]), secret))}</pre>')
    return "".join(parts)


# A submission the grader could not run at all: what to do about it, instead of a row per part.
HOW_TO_FIX = {
    R.INVALID_NOTEBOOK: "The file you submitted is not a notebook Jupyter can open (it may be cut short, edited by "
                        "hand, or saved by another program). Open it in JupyterLab: if it does not open, take your "
                        "last good copy (File > Revert to checkpoint, or fetch the assignment again and paste your "
                        "answers in), save it with File > Save Notebook, run `autograder check` on it, and submit "
                        "that file.",
    R.MISSING_NOTEBOOK: "Your submission holds no notebook the grader could pick. Submit the assignment's notebook "
                        "itself (NN-name.ipynb), once, in the folder or zip you hand in.",
    R.WRONG_NOTEBOOK: "The notebook you submitted is not this assignment's (it shares none of its answer or test "
                      "cells). Check that you submitted the right file, and that you worked in a copy of the "
                      "released notebook, not in a new notebook.",
}
UNGRADABLE = tuple(HOW_TO_FIX)


def part_anchor(grade_id: str) -> str:
    return "part-" + re.sub(r"[^A-Za-z0-9_-]", "-", grade_id)


def _message(part: R.PartResult, label: str) -> str:
    """The part's message without what its outcome label already says."""
    message = part.message or ""
    if message.lower().startswith(label.lower()):
        message = message[len(label):].lstrip(" :.")
    if part.auto_points is not None:  # an instructor's override (handgrading.apply)
        message = (message + " " if message else "") + f"(points set by hand; autograded: {part.auto_points:g})"
    return message


def _before_penalty(result: R.SubmissionResult) -> str:
    """What the late penalty was taken from: the whole grade, hand-given points included (late.py)."""
    text = f"; taken off the whole grade: {result.raw_score + result.hand_score:g} points before the penalty"
    if result.manual_max:
        text += f" ({result.raw_score:g} autograded, {result.hand_score:g} given by hand"
        text += ", more may follow)" if result.manual_pending else ")"
    return _esc(text)


def render(result: R.SubmissionResult, assembled: Assembled | None, executed_nb, secret: set[str]) -> str:
    """The whole feedback page for one submission."""
    linked = assembled is not None and executed_nb is not None
    rows = []
    for part in result.parts:
        label, css = OUTCOME_LABEL.get(part.outcome, (part.outcome, "idle"))
        title = _esc(part.title)
        if linked:
            title = f'<a href="#{part_anchor(part.grade_id)}">{title}</a>'
        rows.append(
            f"<tr><td>{title}<br><small>{_esc(part.grade_id)}</small></td>"
            f'<td class="pts">{part.points:g} / {part.max_points:g}</td>'
            f'<td><span class="badge {css}">{_esc(label)}</span></td>'
            f'<td class="msg">{_esc(_message(part, label))}</td></tr>')
    # the whole grade first; then what it is made of, before any late penalty
    earned = f"{result.raw_score:g} / {result.max_score:g} autograded points"
    if result.manual_max:
        earned += f" + {result.hand_score:g} / {result.manual_max:g} points graded by hand"
        earned += f" ({result.manual_pending:g} still to be graded)" if result.manual_pending else ""
    if result.late_penalty:
        earned += f" - {result.late_penalty:g} late penalty"
    head = [
        "<!doctype html><html lang=en><head><meta charset=utf-8>",
        f"<title>Feedback: {_esc(result.assignment)} - {_esc(result.student_id)}</title>",
        f"<style>{STYLE}</style></head><body>",
        f"<h1>{_esc(result.assignment)}</h1>",
        f'<p class="meta">Student {_esc(result.student_id)} &middot; graded {_esc(result.graded_at)}</p>',
        f'<p class="score"><b>{result.total_score:g} / {result.total_max:g} points in all</b>'
        f' &middot; {_esc(earned)} &middot; status: {_esc(result.status)}</p>',
    ]
    if result.late:
        css = "late" if result.late_penalty else "meta"
        head.append(f'<p class="{css}" id="late">{_esc(late_summary(result.late, result.late_penalty))}'
                    + (_before_penalty(result) if result.late_penalty else "") + "</p>")
    if result.reason:
        head.append(f'<p class="notes">{_esc(result.reason)}</p>')
    if result.notes:
        head.append('<div class="notes"><b>Notes</b><ul>' + "".join(f"<li>{_esc(n)}</li>" for n in result.notes)
                    + "</ul></div>")
    if result.status in UNGRADABLE:
        head.append(f'<div class="fix"><b>How to fix it</b><p>{_esc(HOW_TO_FIX[result.status])}</p>'
                    f"<p>None of the {len(result.parts)} parts could be graded, so every part scores 0 until a "
                    "readable notebook is submitted.</p></div>")
    else:
        head.append("<table><tr><th>Part</th><th>Points</th><th>Outcome</th><th>Message</th></tr>"
                    + "".join(rows) + "</table>")
    body = []
    if assembled is not None and executed_nb is not None:
        by_id = {p.grade_id: p for p in result.parts}
        body.append("<h2>Your notebook, as graded</h2>")
        for cell in executed_nb.cells:
            role = cell.get("metadata", {}).get("autograder", {}).get("role")
            if role == GUARD_ROLE:
                continue
            text = C.source(cell)
            own = cell.get("metadata", {}).get("autograder", {}).get("grade_id")
            anchor = f' id="{part_anchor(own)}"' if role == ANSWER_ROLE and own in by_id else ""
            if cell.get("cell_type") == "markdown":
                body.append(f'<div class="cell md"{anchor}>{_markdown(text)}</div>')
            elif cell.get("cell_type") == "code" and role == TEST_ROLE:
                gid = cell["metadata"]["autograder"].get("grade_id")
                visible = without_trail(C.visible_part(text), gid).rstrip()
                part = by_id.get(gid)
                label, css = OUTCOME_LABEL.get(part.outcome, (part.outcome, "idle")) if part else ("", "idle")
                text = _message(part, label) if part else ""
                msg = f'<div class="msg">{_esc(text)}</div>' if text else ""
                body.append(f'<div class="cell test" id="{part_anchor(gid)}"><pre>{_esc(visible)}\n# (hidden tests not shown)</pre>'
                            f'<span class="badge {css}">{_esc(label)}</span> {msg}</div>')
            elif cell.get("cell_type") == "code":
                tag = " (your cell)" if role in (ANSWER_ROLE, EXTRA_ROLE) else ""
                body.append(f'<div class="cell"{anchor}><small>{_esc(tag)}</small><pre>{_esc(text)}</pre>'
                            f"{_outputs(cell, secret)}</div>")
    return "".join(head + body) + "</body></html>\n"
