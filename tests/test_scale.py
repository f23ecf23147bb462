"""Grading at scale: a Dask cluster of worker processes, a PostgreSQL gradebook written by two
batches at once, resuming a killed batch, and the class report."""
from __future__ import annotations

import csv
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import psutil
import pytest

from autograder.grade import GradeOptions, grade_assignment
from autograder.report import write_report
from tests import minicourse as M

PG_URL = os.environ.get("AUTOGRADER_TEST_POSTGRES")


def _class(course, folder, students: dict):
    for student, answers in students.items():
        (folder / student).mkdir(parents=True, exist_ok=True)
        nbformat.write(M.submission(course, answers), folder / student / f"{M.ASSIGNMENT}.ipynb")
    return folder


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    return M.build(tmp_path_factory.mktemp("scale") / "course")


def test_dask_local_cluster_grades_like_local_workers(course, tmp_path):
    distributed = pytest.importorskip("distributed")
    subs = _class(course, tmp_path / "subs", {"ann": M.PERFECT, "ben": M.WRONG, "cat": None, "dan": M.PERFECT})
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        results = grade_assignment(course, M.ASSIGNMENT, subs, tmp_path / "out-dask",
                                   GradeOptions(dask_address=cluster.scheduler_address, progress=False),
                                   log=lambda *a: None)
    local = grade_assignment(course, M.ASSIGNMENT, subs, tmp_path / "out-local",
                             GradeOptions(workers=2, progress=False), log=lambda *a: None)
    assert [(r.student_id, r.score, r.status) for r in results] == [(r.student_id, r.score, r.status) for r in local]
    assert {r.student_id: r.score for r in results} == {"ann": 7, "ben": 0, "cat": 0, "dan": 7}
    assert all("audit-hook sentinel" in r.isolation for r in results)


@pytest.mark.skipif(not PG_URL, reason="set AUTOGRADER_TEST_POSTGRES (scripts/start-postgres.sh prints it)")
def test_postgresql_gradebook_two_batches_at_once(course, tmp_path):
    import sqlalchemy

    from tests.pg import own_database

    first = _class(course, tmp_path / "first", {"ann": M.PERFECT, "ben": M.WRONG, "eve": M.PERFECT})
    second = _class(course, tmp_path / "second", {"cat": M.PERFECT, "dan": None, "eve": M.PERFECT})
    command = [sys.executable, "-m", "autograder", "--course", str(course.root), "grade", M.ASSIGNMENT]
    with own_database(PG_URL) as url:  # never the server's own gradebook
        runs = [subprocess.Popen(command + [str(folder), "--out", str(tmp_path / f"out-{folder.name}"), "--db", url,
                                            "--workers", "1", "--quiet"], stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE, text=True)
                for folder in (first, second)]
        for run in runs:
            out, err = run.communicate(timeout=600)
            assert run.returncode == 0, err
            assert "another batch" not in err, "the same submission of eve in both batches is no conflict"
        engine = sqlalchemy.create_engine(url)
        with engine.connect() as connection:
            rows = connection.execute(sqlalchemy.text(
                "SELECT s.student_id, COUNT(DISTINCT s.id), SUM(g.auto_score), COUNT(g.id) "
                "FROM submitted_assignment s JOIN submitted_notebook n ON n.assignment_id = s.id "
                "JOIN grade g ON g.notebook_id = n.id GROUP BY s.student_id ORDER BY s.student_id")).fetchall()
            cells = connection.execute(sqlalchemy.text(  # a task cell (graded by hand) has a grade row too
                "SELECT (SELECT COUNT(*) FROM grade_cells) + (SELECT COUNT(*) FROM task_cells)")).scalar()
        engine.dispose()
    assert [(r[0], r[1]) for r in rows] == [(s, 1) for s in ("ann", "ben", "cat", "dan", "eve")], \
        "one submission per student"
    assert {r[0]: r[2] for r in rows} == {"ann": 7, "ben": 0, "cat": 7, "dan": 0, "eve": 7}
    assert all(r[3] == cells for r in rows), "every grade cell has a grade row"


def _descendants(pid: int) -> list[tuple[psutil.Process, float, str]]:
    found = []
    try:
        children = psutil.Process(pid).children(recursive=True)
    except psutil.Error:
        return found
    for child in children:
        try:
            found.append((child, child.create_time(), " ".join(child.cmdline())))
        except psutil.Error:
            pass
    return found


def _still_running(processes) -> list[int]:
    alive = []
    for process, created, _ in processes:
        try:
            if process.create_time() == created and process.status() != psutil.STATUS_ZOMBIE:
                alive.append(process.pid)
        except psutil.Error:
            pass
    return alive


def test_a_killed_batch_resumes(course, tmp_path):
    """Kill a batch (its whole process group) once a few results are in: only the processes this
    test's grader started are looked at, since other batches may run on the machine."""
    students = {f"s{i:02d}": (M.PERFECT if i % 2 else M.WRONG) for i in range(8)}
    subs = _class(course, tmp_path / "subs", students)
    out = tmp_path / "out"
    command = [sys.executable, "-m", "autograder", "--course", str(course.root), "grade", M.ASSIGNMENT, str(subs),
               "--out", str(out), "--workers", "1"]
    run = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                           start_new_session=True)
    deadline = time.time() + 300
    started = []
    while time.time() < deadline:  # kill it once a few results are in
        started += [item for item in _descendants(run.pid) if item[0].pid not in {p.pid for p, *_ in started}]
        if (out / "state").is_dir() and len(list((out / "state").glob("*.json"))) >= 3:
            break
        time.sleep(0.2)
    started += [item for item in _descendants(run.pid) if item[0].pid not in {p.pid for p, *_ in started}]
    assert any("autograder.sandbox" in command for *_, command in started), "the grader had started sandboxed kernels"
    os.killpg(run.pid, signal.SIGKILL)
    run.wait()
    deadline = time.time() + 10
    while _still_running(started) and time.time() < deadline:
        time.sleep(0.2)
    assert not _still_running(started), "sandboxes die with the grader that started them"
    done_before = len(list((out / "state").glob("*.json")))
    assert 3 <= done_before < len(students)
    rows = list(csv.DictReader(open(out / "grades.csv")))
    assert len(rows) == len({r["student_id"] for r in rows}), "no duplicate rows even when killed"
    resumed = subprocess.run(command, capture_output=True, text=True, timeout=600)
    assert resumed.returncode == 0, resumed.stderr
    assert f"{done_before} unchanged since the last run" in resumed.stderr
    rows = list(csv.DictReader(open(out / "grades.csv")))
    assert sorted(r["student_id"] for r in rows) == sorted(students)
    assert {r["student_id"]: float(r["score"]) for r in rows} == {s: (7.0 if a is M.PERFECT else 0.0)
                                                                  for s, a in students.items()}


def test_class_report(course, tmp_path):
    subs = _class(course, tmp_path / "subs", {"ann": M.PERFECT, "ben": M.WRONG, "cat": None})
    out = tmp_path / "out"
    grade_assignment(course, M.ASSIGNMENT, subs, out, GradeOptions(workers=2, progress=False), log=lambda *a: None)
    page = write_report(out).read_text()
    assert page.count("data:image/png;base64,") == 2
    assert "Parts most students failed" in page and "mean 2.3" in page
    for title in ("add", "mean", "scale"):
        assert f"<td>{title}</td>" in page
    proc = subprocess.run([sys.executable, "-m", "autograder", "report", str(tmp_path / "nothing")],
                          capture_output=True, text=True)
    assert proc.returncode == 2 and "no graded batch" in proc.stderr
