"""`autograder report OUT_DIR`: how the class did, for the instructor, as one HTML page.

Reads the per-student results a grading batch wrote (OUT_DIR/state/*.json) and writes
OUT_DIR/report.html: first the isolation layers the batch ran under (and any that were missing),
then the score distribution, statuses, the parts most students failed with their most common
messages, the leaderboard of what the hidden tests measured (leaderboard.py; when tests report
measurements), the pass rate of every part in the notebook's order, and one row per student with a
link to their feedback page, their autograded points, the points given by hand (each hand-graded
part, "pending" until graded) and the total, as grades.csv has them. Plots are matplotlib PNGs embedded in the page; the links are relative, so
keep the page inside OUT_DIR (or pass --html a path there) for them to work.
"""
from __future__ import annotations

import base64
import html
import io
import os
from collections import Counter
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.ticker import MaxNLocator  # noqa: E402

from autograder import leaderboard, outputs, roster  # noqa: E402
from autograder import results as R  # noqa: E402
from autograder.errors import UsageError  # noqa: E402
from autograder.exports import write_atomic  # noqa: E402


def load_results(out_dir: Path) -> list[R.SubmissionResult]:
    """The folder's committed results, plus an `absent` row per roster student never graded."""
    state = Path(out_dir) / "state"
    if not state.is_dir():
        raise UsageError(f"{out_dir} holds no graded batch (no state/ folder): run `autograder grade ... --out {out_dir}` first")
    results = outputs.load_results(out_dir)
    if not results:
        raise UsageError(f"{state} holds no results")
    template = max((r.parts for r in results), key=len)
    return results + roster.absent_results(roster.load(out_dir), {r.student_id for r in results},
                                           results[0].assignment, template)


def _png(fig) -> str:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=110, bbox_inches="tight")
    plt.close(fig)
    return base64.b64encode(buffer.getvalue()).decode()


def part_table(results: list[R.SubmissionResult]) -> list[dict]:
    """Per part: title, points, how many passed / failed / did not attempt, and common messages."""
    order: list[str] = []
    rows: dict[str, dict] = {}
    graded = [r for r in results if r.status in (R.GRADED, R.TIMEOUT, R.KERNEL_DIED)]
    # the notebook's order: every result lists its parts in it; the longest list knows every part
    for result in sorted(results, key=lambda r: -len(r.parts))[:1]:
        for part in result.parts:
            if part.kind == "test":
                order.append(part.grade_id)
                rows[part.grade_id] = {"grade_id": part.grade_id, "title": part.title, "points": part.max_points,
                                       "passed": 0, "failed": 0, "not_attempted": 0, "messages": Counter()}
    for result in graded:
        for part in result.parts:
            if part.kind != "test":
                continue
            if part.grade_id not in rows:
                order.append(part.grade_id)
                rows[part.grade_id] = {"grade_id": part.grade_id, "title": part.title, "points": part.max_points,
                                       "passed": 0, "failed": 0, "not_attempted": 0, "messages": Counter()}
            row = rows[part.grade_id]
            if part.outcome == R.PASSED:
                row["passed"] += 1
            elif part.outcome == R.NOT_ATTEMPTED:
                row["not_attempted"] += 1
            else:
                row["failed"] += 1
                row["messages"][part.message.splitlines()[0][:160] if part.message else part.outcome] += 1
    table = [rows[g] for g in order]
    for row in table:
        total = row["passed"] + row["failed"] + row["not_attempted"]
        row["pass_rate"] = row["passed"] / total if total else 0.0
    return table


def isolation_lines(results: list[R.SubmissionResult]) -> list[tuple[str, int]]:
    """The isolation each submission was graded under, most common first (from each result)."""
    return Counter(r.isolation or "isolation: not recorded" for r in results).most_common()


def hand_cell(part: R.PartResult) -> str:
    """A hand-graded part as the student table shows it: its points, "pending" or "no response"."""
    if part.outcome == R.HAND_GRADED:
        state = f"{part.points:g}"
    else:
        state = "no response" if part.outcome == R.NO_RESPONSE else "pending"
    css = ' class="pending"' if state == "pending" else ""
    return f"<span{css}>{html.escape(part.title)}: {state} / {part.max_points:g}</span>"


def student_rows(results: list[R.SubmissionResult], links: dict[str, str]) -> str:
    """One row per student: autograded score, late penalty, points given by hand (each hand-graded
    part, "pending" until someone grades it), the total, parts passed, status (as grades.csv)."""
    esc = html.escape
    rows = []
    for r in sorted(results, key=lambda r: r.student_id):
        tests = [p for p in r.parts if p.kind == "test"]
        hand = [p for p in r.parts if p.kind == R.HAND]
        name = esc(r.student_id)
        if r.student_id in links:
            name = f'<a href="{esc(links[r.student_id])}">{name}</a>'
        late = f"&minus;{r.late_penalty:g} late" if r.late_penalty else ("late" if r.late.get("seconds_late") else "")
        pending = f' <span class="pending">({r.manual_pending:g} pending)</span>' if r.manual_pending else ""
        hand_points = f"{r.hand_score:g} / {r.manual_max:g}{pending}" if hand else ""
        rows.append(f'<tr data-student="{esc(r.student_id)}"><td>{name}</td><td class="score">{r.score:g} / {r.max_score:g}</td>'
                    f'<td>{late}</td><td class="hand">{hand_points}</td>'
                    f'<td class="hand-parts">{"<br>".join(hand_cell(p) for p in hand)}</td>'
                    f'<td class="total"><b>{r.total_score:g} / {r.total_max:g}</b></td>'
                    f"<td>{sum(p.passed for p in tests)} / {len(tests)}</td><td>{esc(r.status)}</td>"
                    f"<td>{esc(r.reason[:120])}</td></tr>")
    return ("<table class=students><tr><th>student</th><th>autograded</th><th>late</th><th>by hand</th>"
            "<th>hand-graded parts</th><th>total</th><th>parts passed</th><th>status</th>"
            "<th>reason</th></tr>" + "".join(rows) + "</table>")


def _number(value: float) -> str:
    return f"{value:.4g}"


def leaderboard_table(results: list[R.SubmissionResult], links: dict[str, str]) -> str:
    """What each student's hidden tests measured (signed measurements only, see measure.py), one
    column per measured quantity with its unit and target, cells that miss the target marked."""
    board = leaderboard.build(results)
    if not board:
        return ""
    esc = html.escape
    head = []
    for c in board.columns:
        sign = "&ge;" if c.better == "higher" else "&le;"
        target = f"<br>target {sign} {_number(c.target)}" if c.target is not None else ""
        unit = f" ({esc(c.unit)})" if c.unit else ""
        role = f" <i>{esc(c.role)}</i>" if c.role in ("primary", "guardrail") else ""
        head.append(f'<th data-column="{esc(c.key)}">{esc(c.name)}{unit}{role}{target}'
                    f'<br><small>{esc(c.part_title)}</small></th>')
    rows = []
    for row in board.rows:
        name = esc(row.student_id)
        if row.student_id in links:
            name = f'<a href="{esc(links[row.student_id])}">{name}</a>'
        cells = []
        for c in board.columns:
            if c.key not in row.values:
                cells.append(f'<td data-column="{esc(c.key)}" class="none">&mdash;</td>')
            elif row.values[c.key] is None:
                cells.append(f'<td data-column="{esc(c.key)}" class="miss" title="the test could not measure it">'
                             "n/a &#x2717;</td>")
            elif c.key in row.misses:
                cells.append(f'<td data-column="{esc(c.key)}" class="miss" title="misses the target">'
                             f"{_number(row.values[c.key])} &#x2717;</td>")
            else:
                cells.append(f'<td data-column="{esc(c.key)}">{_number(row.values[c.key])}</td>')
        rows.append(f'<tr data-student="{esc(row.student_id)}"><td>{row.rank}</td><td>{name}</td>{"".join(cells)}</tr>')
    return (f"<h2>Leaderboard: what the hidden tests measured</h2><p>{esc(leaderboard.ranking_rule(board))} "
            "Cells marked &#x2717; miss their target; n/a: the test could not measure it (a monitor that never "
            "alarmed has no delay); &mdash;: not measured (the test stopped before it, or the "
            "notebook did not run). Only measurements signed by the grader's sandbox count.</p>"
            "<div class=wide><table class=leaderboard><tr><th>rank</th><th>student</th>" + "".join(head) + "</tr>"
            + "".join(rows) + "</table></div>")


def feedback_links(out_dir: Path, target: Path, results: list[R.SubmissionResult]) -> dict[str, str]:
    """Each student's feedback page, relative to where the report is written."""
    links = {}
    for r in results:
        pages = sorted((Path(out_dir) / "feedback" / r.student_id).glob("*.html"))
        if pages:
            links[r.student_id] = Path(os.path.relpath(pages[0], Path(target).parent)).as_posix()
    return links


def render_report(results: list[R.SubmissionResult], links: dict[str, str] | None = None) -> str:
    assignment = ", ".join(sorted({r.assignment for r in results}))
    scores = [r.score for r in results]
    max_score = max((r.max_score for r in results), default=0)
    statuses = Counter(r.status for r in results)
    table = part_table(results)

    fig, ax = plt.subplots(figsize=(6.5, 3))
    bins = max(5, min(20, int(max_score) + 1)) if max_score else 10
    ax.hist(scores, bins=bins, range=(0, max_score or 1), color="#4c72b0", edgecolor="white")
    ax.set_xlabel(f"autograded score (out of {max_score:g})")
    ax.set_ylabel("students")
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_title("Score distribution")
    score_png = _png(fig)

    fig, ax = plt.subplots(figsize=(6.5, max(2.5, 0.28 * len(table) + 1)))
    titles = [row["title"] for row in table]
    if len(set(titles)) < len(titles):  # bars with the same name would be drawn on top of each other
        titles = [f"{row['title']} ({row['grade_id']})" for row in table]
    names = titles[::-1]
    rates = [100 * row["pass_rate"] for row in table][::-1]
    colors = ["#c44e52" if r < 50 else "#dd8452" if r < 80 else "#55a868" for r in rates]
    ax.barh(names, rates, color=colors)
    ax.set_xlim(0, 100)
    ax.set_xlabel("% of graded students who passed")
    ax.set_title("Pass rate per part")
    rate_png = _png(fig)

    hardest = sorted(table, key=lambda row: (row["pass_rate"], row["grade_id"]))[:5]
    mean = sum(scores) / len(scores)
    median = sorted(scores)[len(scores) // 2]
    esc = html.escape
    isolation = "".join(
        f'<li{" class=missing" if "MISSING" in text else ""}>{esc(text.removeprefix("isolation: "))} '
        f"({n} submission{'s' if n != 1 else ''})</li>" for text, n in isolation_lines(results))
    status_rows = "".join(f"<tr><td>{esc(s)}</td><td>{n}</td></tr>" for s, n in statuses.most_common())
    part_rows = "".join(
        f"<tr><td>{esc(row['title'])}</td><td>{row['points']:g}</td><td>{100 * row['pass_rate']:.0f}%</td>"
        f"<td>{row['passed']}</td><td>{row['failed']}</td><td>{row['not_attempted']}</td></tr>" for row in table)
    hard_rows = "".join(
        f"<tr><td>{esc(row['title'])}</td><td>{100 * row['pass_rate']:.0f}%</td><td>"
        + "<br>".join([f"{n} &times; {esc(m)}" for m, n in row["messages"].most_common(3)]
                      + ([f"{row['not_attempted']} did not attempt it"] if row["not_attempted"] else []))
        + "</td></tr>"
        for row in hardest)
    return f"""<!doctype html><html lang=en><head><meta charset=utf-8><title>Class report: {esc(assignment)}</title>
<style>body{{font-family:system-ui,sans-serif;max-width:980px;margin:2rem auto;padding:0 1rem}}
table{{border-collapse:collapse;margin:1rem 0}}td,th{{border-bottom:1px solid #ddd;padding:.3rem .6rem;text-align:left;vertical-align:top}}
th{{background:#f5f5f7}}.isolation{{background:#eef3ff;padding:.4rem 1rem;border-radius:.4rem}}
li.missing{{color:#8a1111;font-weight:bold}}td.miss{{background:#fde2e2;color:#8a1111;font-weight:bold}}
td.none{{color:#888}}.wide{{overflow-x:auto}}table.leaderboard{{font-size:.88em}}
table.leaderboard th small{{font-weight:normal;color:#555}}.pending{{color:#8a5a00;font-weight:bold}}</style></head><body>
<h1>Class report: {esc(assignment)}</h1>
<div class="isolation"><b>Isolation in force</b><ul>{isolation}</ul></div>
<p>{len(results)} submissions &middot; mean {mean:.1f} &middot; median {median:g} of {max_score:g} autograded points</p>
<img alt="score distribution" src="data:image/png;base64,{score_png}">
{leaderboard_table(results, links or {})}
<h2>Statuses</h2><table><tr><th>status</th><th>submissions</th></tr>{status_rows}</table>
<h2>Parts most students failed</h2>
<table><tr><th>part</th><th>pass rate</th><th>most common messages</th></tr>{hard_rows}</table>
<h2>Every part</h2>
<img alt="pass rate per part" src="data:image/png;base64,{rate_png}">
<table><tr><th>part</th><th>points</th><th>pass rate</th><th>passed</th><th>failed</th><th>not attempted</th></tr>{part_rows}</table>
<h2>Students</h2>
{student_rows(results, links or {})}
</body></html>
"""


def write_report(out_dir: Path, target: Path | None = None) -> Path:
    results = load_results(out_dir)
    target = Path(target) if target else Path(out_dir) / "report.html"
    write_atomic(target, render_report(results, feedback_links(out_dir, target, results)))
    return target
