"""The class report (isolation first, parts in the notebook's order, a row per student linking to
their feedback page) and the command line's manners (--version, examples in every help, --course
after the command, one-line usage errors that come before anything heavy is imported)."""
from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from autograder.cli import build_parser
from tests import minicourse as M


def run(*args, **kwargs):
    return subprocess.run([sys.executable, "-m", "autograder", *map(str, args)], capture_output=True, text=True,
                          timeout=600, **kwargs)


@pytest.fixture(scope="module")
def batch(tmp_path_factory):
    base = tmp_path_factory.mktemp("report")
    course = M.build(base / "course")
    subs = base / "subs"
    for student, answers in {"ada": M.PERFECT, "bob": M.WRONG}.items():
        (subs / student).mkdir(parents=True)
        nbformat.write(M.submission(course, answers), subs / student / f"{M.ASSIGNMENT}.ipynb")
    out = base / "out"
    proc = run("--course", course.root, "grade", M.ASSIGNMENT, subs, "--out", out, "--workers", "2")
    assert proc.returncode == 0, proc.stderr
    report = run("report", out)
    assert report.returncode == 0, report.stderr
    return {"course": course, "out": out, "page": (out / "report.html").read_text(), "subs": subs}


def test_report_links_every_student_to_their_feedback_page(batch):
    page = batch["page"]
    students = page.split("<h2>Students</h2>")[1]
    links = re.findall(r'<a href="([^"]+)">(\w+)</a>', students)
    assert {name for _, name in links} == {"ada", "bob"}
    for href, name in links:
        target = (batch["out"] / href).resolve()
        assert target.is_file() and name in target.parts, href


def test_report_starts_with_the_isolation_in_force(batch):
    page = batch["page"]
    assert page.index("Isolation in force") < page.index("score distribution")
    assert re.search(r"<li[^>]*>[^<]*(rlimits|namespaces|user|bubblewrap)[^<]*\(2 submissions\)</li>", page), page[:2000]


def test_report_lists_parts_in_the_notebooks_order(batch):
    every_part = batch["page"].split("<h2>Every part</h2>")[1].split("</table>")[0]
    titles = re.findall(r"<tr><td>([^<]+)</td><td>\d", every_part)
    assert titles == ["add", "mean", "scale"], titles


def test_course_after_the_subcommand(batch):
    """`autograder grade ... --course DIR`, as people type it, means the same as before it."""
    proc = run("grade", M.ASSIGNMENT, batch["subs"], "--out", batch["out"], "--course", batch["course"].root)
    assert proc.returncode == 0, proc.stderr
    assert "2 unchanged since the last run" in proc.stderr


def test_version():
    proc = run("--version")
    assert proc.returncode == 0 and re.fullmatch(r"autograder \d+\.\d+\.\d+\s*", proc.stdout)


def test_every_subcommand_has_help_with_an_example():
    parser = build_parser()
    commands = parser._subparsers._group_actions[0].choices
    missing = [name for name, sub in commands.items() if "Example:" not in sub.format_help()]
    assert not missing, f"no example in the help of: {missing}"
    for name, sub in commands.items():
        for action in sub._actions:
            if action.option_strings and action.dest != "help":
                assert action.help, f"{name} {action.option_strings[0]} has no help text"


def test_bad_db_url_is_a_one_line_usage_error(batch):
    for url in ("not a url", "postgres-ish://x/y"):
        proc = run("--course", batch["course"].root, "grade", M.ASSIGNMENT, batch["subs"], "--db", url,
                   "--out", batch["out"].parent / "db-out")
        assert proc.returncode == 2, proc.stderr
        assert "Traceback" not in proc.stderr and len(proc.stderr.strip().splitlines()) == 1, proc.stderr
        assert "--db" in proc.stderr and "sqlite:///" in proc.stderr


def test_empty_submissions_folder_says_0_found_with_the_layouts(batch, tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "notes.txt").write_text("nothing to grade here")
    proc = run("--course", batch["course"].root, "grade", M.ASSIGNMENT, empty, "--out", tmp_path / "out")
    assert proc.returncode == 2
    assert "0 submissions found" in proc.stderr and "SUBMISSIONS/<student_id>/<notebook>.ipynb" in proc.stderr
    assert "notes.txt" in proc.stderr


HEAVY = ("nbclient", "papermill", "nbgrader", "autograder.execute", "torch", "sqlalchemy.orm")


@pytest.mark.parametrize("case", ["unknown assignment", "missing folder", "empty folder"])
def test_usage_errors_come_before_heavy_imports(batch, tmp_path, case):
    empty = tmp_path / "empty"
    empty.mkdir()
    args = {"unknown assignment": ["99-nope", batch["subs"]], "missing folder": [M.ASSIGNMENT, tmp_path / "nope"],
            "empty folder": [M.ASSIGNMENT, empty]}[case]
    code = ("import sys\nfrom autograder.cli import main\n"
            f"status = main(['--course', {str(batch['course'].root)!r}, 'grade', *{[str(a) for a in args]!r}])\n"
            f"print(status, sorted(m for m in {HEAVY!r} if m in sys.modules))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                          env={**os.environ})
    assert proc.stdout.strip() == "2 []", proc.stdout + proc.stderr
