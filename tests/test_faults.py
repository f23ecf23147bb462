"""Faults a batch must survive: kills at chosen moments, a full or read-only disk, a gradebook
that is down, dead workers and kernels, odd and hostile file names. Whatever happens, every
submission ends as exactly one row, every output agrees with every other, and nothing the
grader started is left behind.

Each test looks only at processes and files it created itself: other batches may run on the
same machine.
"""
from __future__ import annotations

import contextlib
import csv
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import nbformat
import psutil
import pytest

from autograder import results as R
from autograder.grade import GradeOptions, grade_assignment
from tests import minicourse as M
from tests.agreement import disagreements, scores

pytestmark = pytest.mark.slow  # every fault is played on a batch graded for it

ROOT = Path(__file__).resolve().parent.parent
QUIET = dict(log=lambda *a: None)


class Killed(BaseException):
    """Stands for a kill -9 inside one process: nothing after the raise runs."""


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    return M.build(tmp_path_factory.mktemp("faults") / "course")


def write_subs(course, folder: Path, students: dict) -> Path:
    """{student: answers dict | None (blank) | str (raw file content)} -> SUBMISSIONS folder."""
    for student, answers in students.items():
        (folder / student).mkdir(parents=True, exist_ok=True)
        path = folder / student / f"{M.ASSIGNMENT}.ipynb"
        if isinstance(answers, str):
            path.write_text(answers)
        else:
            nbformat.write(M.submission(course, answers), path)
    return folder


def grade(course, subs, out, **options):
    options.setdefault("workers", 1)
    options.setdefault("progress", False)
    kwargs = {k: options.pop(k) for k in ("log", "warn", "roster_file") if k in options}
    kwargs.setdefault("log", lambda *a: None)
    return grade_assignment(course, M.ASSIGNMENT, subs, out, GradeOptions(**options), **kwargs)


def cli(course, *args, env=None, cwd=None, python=sys.executable, timeout=600):
    return subprocess.run([python, "-m", "autograder", "--course", str(course.root), *map(str, args)],
                          capture_output=True, text=True, env=env, cwd=cwd, timeout=timeout)


def private_tmp() -> Path:
    """A temporary folder of this test's own, that the sandbox user can traverse."""
    path = Path(tempfile.mkdtemp(prefix="faults-"))
    os.chmod(path, 0o711)
    return path


def page(out: Path, student: str) -> str:
    return (out / "feedback" / student / f"{M.ASSIGNMENT}.html").read_text()


def descendants(pid: int, since: float = 0.0) -> list[tuple[psutil.Process, float, str]]:
    """(process, its start time, its command line) of every live process under `pid` started at or
    after `since`. A process that ends during the walk, or has ended and waits for its parent to
    reap it (a zombie: psutil cannot read its command line), is not running and is left out."""
    found = []
    for child in psutil.Process(pid).children(recursive=True):
        try:
            if child.status() == psutil.STATUS_ZOMBIE or child.create_time() < since:
                continue
            found.append((child, child.create_time(), " ".join(child.cmdline())))
        except psutil.Error:
            continue
    return found


def kernels_of(pid: int, since: float = 0.0) -> list[psutil.Process]:
    """The sandboxed kernels under `pid` started at or after `since` (this test's own)."""
    return [p for p, _, command in descendants(pid, since) if "autograder.sandbox" in command]


def kill_tree(process: subprocess.Popen) -> None:
    """Kill a process this test started, and everything under it, if it still runs (a test that
    fails half-way must not leave its grader and kernels to the tests after it)."""
    if process.poll() is not None:
        return
    for child, _, _ in descendants(process.pid):
        with contextlib.suppress(psutil.Error):
            child.kill()
    process.kill()
    process.wait()


def test_the_process_walk_leaves_out_a_zombie():
    """The walk of these tests once read the command line of a child that had just ended (a
    zombie, not yet reaped): psutil raised ZombieProcess and the test failed before it killed its
    grader, whose kernels then failed the next test."""
    since = time.time() - 1
    ended = subprocess.Popen([sys.executable, "-c", "pass"])
    try:
        deadline = time.time() + 30
        while psutil.Process(ended.pid).status() != psutil.STATUS_ZOMBIE and time.time() < deadline:
            time.sleep(0.05)
        assert psutil.Process(ended.pid).status() == psutil.STATUS_ZOMBIE, "the child should wait, unreaped"
        with pytest.raises(psutil.ZombieProcess):  # what the old walk ran into
            psutil.Process(ended.pid).cmdline()
        assert ended.pid not in [p.pid for p, _, _ in descendants(os.getpid(), since)]
    finally:
        ended.wait()


# -- 1. a student's outputs are one unit ------------------------------------------------------
def test_a_kill_while_a_page_is_written_is_redone_on_the_next_run(course, tmp_path, monkeypatch):
    subs = write_subs(course, tmp_path / "subs", {"zoe": M.PERFECT, "amy": M.WRONG})
    out = tmp_path / "out"
    grade(course, subs, out)
    assert "7 / 7 autograded points" in page(out, "zoe")
    (subs / "zoe" / f"{M.ASSIGNMENT}.ipynb").write_text("{ not a notebook")
    real_replace = os.replace

    def dying_replace(src, dst, *args, **kwargs):
        if str(dst).endswith(".html"):
            raise Killed()
        return real_replace(src, dst, *args, **kwargs)

    monkeypatch.setattr(os, "replace", dying_replace)
    with pytest.raises(Killed):
        grade(course, subs, out)
    monkeypatch.setattr(os, "replace", real_replace)
    grade(course, subs, out)
    assert disagreements(out, M.ASSIGNMENT) == []
    assert scores(out) == {"zoe": 0, "amy": 0}
    assert "0 / 7 autograded points" in page(out, "zoe") and "invalid_notebook" in page(out, "zoe")


def test_a_regrade_that_ends_in_grader_error_replaces_the_old_page(course, tmp_path, monkeypatch):
    subs = write_subs(course, tmp_path / "subs", {"zoe": M.PERFECT})
    out = tmp_path / "out"
    grade(course, subs, out)
    import autograder.feedback
    import autograder.pipeline

    def broken(*args, **kwargs):
        raise RuntimeError("simulated grader bug")

    monkeypatch.setattr(autograder.pipeline, "assemble", broken)
    monkeypatch.setattr(autograder.feedback, "render", broken)
    [result] = grade(course, subs, out, force=True)
    assert result.status == R.GRADER_ERROR
    assert "7 / 7 autograded points" not in page(out, "zoe")
    assert disagreements(out, M.ASSIGNMENT) == []


@pytest.mark.slow
def test_kill_9_at_each_step_of_writing_a_result_then_the_rerun_agrees(course, tmp_path):
    """The grader kills itself (test hook AUTOGRADER_FAULT) at steps of committing a result, one
    run after the other; every rerun starts from what the killed one left. (The fault-injection
    benchmark tries every point on a bigger batch.)"""
    students = {"ann": M.PERFECT, "ben": M.WRONG, "cat": None, "eve": "{broken"}
    subs = write_subs(course, tmp_path / "subs", students)
    out = tmp_path / "out"
    points = ["staged:2", "committed:2", "installed:3", "recorded:1"]
    base = ["grade", M.ASSIGNMENT, subs, "--out", out, "--workers", "1", "--quiet"]
    for point in points:
        proc = cli(course, *base, "--force", env={**os.environ, "AUTOGRADER_FAULT": point})
        assert proc.returncode == -signal.SIGKILL, (point, proc.returncode, proc.stderr[-2000:])
    proc = cli(course, *base)
    assert proc.returncode == 0, proc.stderr
    assert disagreements(out, M.ASSIGNMENT) == []
    assert scores(out) == {"ann": 7, "ben": 0, "cat": 0, "eve": 0}


def _mount_tmpfs(path: Path, options: str) -> None:
    if os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("mounting a tmpfs needs root")
    path.mkdir(parents=True, exist_ok=True)
    proc = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(path)], capture_output=True, text=True)
    if proc.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {proc.stderr.strip()}")


def _unmount(path: Path) -> None:
    subprocess.run(["umount", "-l", str(path)], capture_output=True)


def test_a_full_disk_stops_with_status_3_and_the_rerun_finishes(course, tmp_path):
    students = {f"s{i}": (M.PERFECT if i % 2 else "{broken") for i in range(6)}
    subs = write_subs(course, tmp_path / "subs", students)
    out = tmp_path / "disk"
    _mount_tmpfs(out, "size=1m")
    try:
        filler = out / "filler"
        with open(filler, "wb") as handle:  # leave room for the gradebook and a student or two
            handle.write(b"x" * (1024 * 1024 - 220 * 1024))
        proc = cli(course, "grade", M.ASSIGNMENT, subs, "--out", out, "--workers", "1", "--quiet")
        assert proc.returncode == 3, (proc.returncode, proc.stderr[-3000:])
        assert "Traceback" not in proc.stderr
        assert "No space left on device" in proc.stderr and "run the same command again" in proc.stderr
        assert not [p for p in out.rglob("*.tmp")], "a failed write leaves no temporary file"
        filler.unlink()
        proc = cli(course, "grade", M.ASSIGNMENT, subs, "--out", out, "--workers", "1", "--quiet")
        assert proc.returncode == 0, proc.stderr
        assert disagreements(out, M.ASSIGNMENT) == []
        assert scores(out) == {s: (7.0 if a is M.PERFECT else 0.0) for s, a in students.items()}
    finally:
        _unmount(out)


def test_a_read_only_output_folder_is_status_3_in_one_line(course, tmp_path):
    subs = write_subs(course, tmp_path / "subs", {"ann": "{broken"})
    out = tmp_path / "ro"
    _mount_tmpfs(out, "ro,size=64k")
    try:
        proc = cli(course, "grade", M.ASSIGNMENT, subs, "--out", out, "--quiet")
    finally:
        _unmount(out)
    assert proc.returncode == 3, proc.stderr
    assert "Traceback" not in proc.stderr and "Read-only file system" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr


# -- 2. no stale grade after the assignment or the limits change ------------------------------
def test_results_are_graded_again_when_the_assignment_or_the_limits_change(tmp_path):
    course = M.build(tmp_path / "course")
    subs = write_subs(course, tmp_path / "subs", {"ann": M.PERFECT, "ben": M.WRONG})
    out = tmp_path / "out"
    assert [r.max_score for r in grade(course, subs, out)] == [7, 7]
    source = course.source_notebook(M.ASSIGNMENT)
    nb = nbformat.read(source, as_version=4)
    for cell in nb.cells:
        if cell.metadata.get("nbgrader", {}).get("grade_id") == "test_add":
            cell.metadata["nbgrader"]["points"] = 4
    nbformat.write(nb, source)
    lines = []
    results = grade(course, subs, out, log=lines.append)
    assert [r.max_score for r in results] == [9, 9], "points changed in the source: graded again"
    assert any("2 to grade" in line and "source" in line for line in lines), lines
    lines.clear()
    grade(course, subs, out, workers=2, log=lines.append)
    assert any("2 unchanged since the last run" in line for line in lines), "worker counts change no grade"
    lines.clear()
    from autograder.sandbox.config import KernelConfig

    grade(course, subs, out, config=KernelConfig(cell_timeout=60), log=lines.append)
    assert any("2 to grade" in line and "settings" in line for line in lines), lines
    assert disagreements(out, M.ASSIGNMENT) == []


LATE_CONFIG = """c = get_config()
c.Autograder.due_dates = {{"{assignment}": "{due}"}}
c.Autograder.late_policy = "per_hour"
c.Autograder.late_penalty = {penalty}
"""


def test_results_are_graded_again_when_the_due_date_or_the_late_policy_change(tmp_path):
    course = M.build(tmp_path / "course")
    subs = write_subs(course, tmp_path / "subs", {"ann": M.PERFECT, "ben": M.PERFECT})
    (subs / "ann" / "timestamp.txt").write_text("2027-02-05 20:30:00.000000 UTC")  # nbgrader's format
    config = course.root / "nbgrader_config.py"

    def due(when: str, penalty: float = 1) -> None:
        config.write_text(LATE_CONFIG.format(assignment=M.ASSIGNMENT, due=when, penalty=penalty))

    due("2027-02-06 17:00")  # ann on time
    grade(course, subs, tmp_path / "out")
    assert scores(tmp_path / "out") == {"ann": 7, "ben": 7}
    lines = []
    due("2027-02-05 17:00")  # ann 3.5 h late: 4 started hours at 1 point
    grade(course, subs, tmp_path / "out", log=lines.append)
    assert any("2 to grade" in line and "late_policy" in line for line in lines), lines
    assert scores(tmp_path / "out") == {"ann": 3, "ben": 7}, "the earlier due date is applied, not reused"
    lines.clear()
    due("2027-02-05 17:00", penalty=0.5)
    grade(course, subs, tmp_path / "out", log=lines.append)
    assert any("2 to grade" in line and "late_policy" in line for line in lines), lines
    assert scores(tmp_path / "out") == {"ann": 5, "ben": 7}, "the new penalty is applied, not reused"
    lines.clear()
    grade(course, subs, tmp_path / "out", log=lines.append)
    assert any("2 unchanged since the last run" in line for line in lines), "nothing changed: reused"
    assert disagreements(tmp_path / "out", M.ASSIGNMENT) == []


def _probe_wheel(folder: Path, version: str) -> Path:
    """A small pure-Python wheel, probe-pkg VERSION, as a build backend would write it."""
    import base64
    import hashlib
    import zipfile

    files = {"probe_pkg/__init__.py": f"VERSION = {version!r}\n",
             f"probe_pkg-{version}.dist-info/METADATA": f"Metadata-Version: 2.1\nName: probe-pkg\nVersion: {version}\n",
             f"probe_pkg-{version}.dist-info/WHEEL": "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\n"
                                                    "Tag: py3-none-any\n"}
    record = "".join(f"{name},sha256={base64.urlsafe_b64encode(hashlib.sha256(text.encode()).digest()).rstrip(b'=').decode()},"
                     f"{len(text.encode())}\n" for name, text in files.items())
    files[f"probe_pkg-{version}.dist-info/RECORD"] = record + f"probe_pkg-{version}.dist-info/RECORD,,\n"
    path = folder / f"probe_pkg-{version}-py3-none-any.whl"
    with zipfile.ZipFile(path, "w") as wheel:
        for name, text in files.items():
            wheel.writestr(name, text)
    return path


def test_the_reuse_key_changes_when_an_installed_package_changes_version(tmp_path):
    """A package upgrade can change what a notebook computes (and what its tests compare with):
    results graded before it are not reused. A virtualenv of this test's own (it sees this one's
    packages through a .pth file) gets a real `pip install` of probe-pkg 1.0, then 1.1."""
    import sysconfig

    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    python = venv / "bin" / "python"
    site = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                          capture_output=True, text=True, check=True).stdout.strip()
    Path(site, "grader-environment.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}

    def install(version: str) -> None:
        proc = subprocess.run([str(python), "-m", "pip", "install", "--no-index", "--no-deps", "--quiet",
                               "--disable-pip-version-check", str(_probe_wheel(tmp_path, version))],
                              capture_output=True, text=True, env=env, timeout=300)
        assert proc.returncode == 0, proc.stderr

    def key() -> dict:
        code = ("import json; from autograder import reuse; "
                "print(json.dumps({'packages': reuse.packages_digest(), 'grader': reuse.grader_digest()}))")
        proc = subprocess.run([str(python), "-c", code], capture_output=True, text=True, env=env, timeout=300)
        assert proc.returncode == 0, proc.stderr
        import json

        return json.loads(proc.stdout)

    from autograder import reuse

    install("1.0")
    first = key()
    assert key() == first, "nothing installed: the same key"
    install("1.1")
    assert Path(site, "probe_pkg-1.1.dist-info").is_dir() and not Path(site, "probe_pkg-1.0.dist-info").exists()
    upgraded = key()
    assert reuse.changed(first, upgraded) == ["packages"], "an upgrade is named as the reason to grade again"


# -- 3. hand-given points -----------------------------------------------------------------------
def test_hand_given_points_survive_only_while_the_graded_answer_is_unchanged(course, tmp_path):
    from nbgrader.api import Gradebook

    subs = write_subs(course, tmp_path / "subs", {"zoe": M.PERFECT})
    out = tmp_path / "out"
    url = f"sqlite:///{out}/gradebook.db"
    grade(course, subs, out)

    def hand_grade(**scores):
        with Gradebook(url) as gb:
            for name, value in scores.items():
                gb.find_grade(name, M.ASSIGNMENT, M.ASSIGNMENT, "zoe").manual_score = value
            gb.db.commit()

    def grades():
        with Gradebook(url) as gb:
            found = {g: gb.find_grade(g, M.ASSIGNMENT, M.ASSIGNMENT, "zoe") for g in ("test_add", "why")}
            return {g: (x.manual_score, x.needs_manual_grade) for g, x in found.items()}, \
                gb.find_submission(M.ASSIGNMENT, "zoe").score

    hand_grade(why=1.0, test_add=0.5)  # a written answer graded, and an override of an autograded part
    grade(course, subs, out, force=True)
    assert grades() == ({"test_add": (0.5, False), "why": (1.0, False)}, 6.5), "same answers: points kept"
    assert disagreements(out, M.ASSIGNMENT) == [], "the override and the hand grade are in every output"
    assert "points set by hand; autograded: 2" in page(out, "zoe")

    import autograder.pipeline

    def broken(*args, **kwargs):
        raise RuntimeError("simulated grader bug")

    with pytest.MonkeyPatch.context() as patch:  # a grader bug tells nothing about the answers
        patch.setattr(autograder.pipeline, "assemble", broken)
        [result] = grade(course, subs, out, force=True)
    assert result.status == R.GRADER_ERROR
    assert grades()[0] == {"test_add": (0.5, False), "why": (1.0, False)}, "the same submission: hand grades kept"
    assert result.hand_score == 1.0 and disagreements(out, M.ASSIGNMENT) == []
    grade(course, subs, out)  # graded again (the last attempt failed): the answers are those graded by hand
    assert grades() == ({"test_add": (0.5, False), "why": (1.0, False)}, 6.5)

    changed = dict(M.PERFECT, add="def add(a, b):\n    return b + a")
    nbformat.write(M.submission(course, changed), subs / "zoe" / f"{M.ASSIGNMENT}.ipynb")
    grade(course, subs, out)
    assert grades() == ({"test_add": (None, True), "why": (1.0, False)}, 8.0), \
        "the override of the changed answer is cleared and marked for hand grading again"

    (subs / "zoe" / f"{M.ASSIGNMENT}.ipynb").write_text("{ corrupt")
    grade(course, subs, out)
    (marks, total) = grades()
    assert marks["why"][0] is None and total == 0
    assert scores(out)["zoe"] == 0 and disagreements(out, M.ASSIGNMENT) == []


# -- 4. an output folder is one class roster ----------------------------------------------------
def test_an_output_folder_is_the_whole_class_merged_across_batches(course, tmp_path, monkeypatch):
    subs = write_subs(course, tmp_path / "subs", {"ann": M.PERFECT, "ben": "{broken", "cat": M.PERFECT})
    late = write_subs(course, tmp_path / "late", {"dan": "{broken"})
    out = tmp_path / "out"
    grade(course, subs, out)
    grade(course, late, out)
    assert scores(out) == {"ann": 7, "ben": 0, "cat": 7, "dan": 0}, "grading late/ into the folder merges"
    shutil.rmtree(subs / "cat")
    grade(course, subs, out)
    assert scores(out)["cat"] == 7, "a student missing from SUBMISSIONS keeps their last result"

    roster = tmp_path / "roster.txt"
    roster.write_text("ann\nben\ndan\neve\n")
    grade(course, late, out, roster_file=roster)
    rows = {r["student_id"]: r for r in csv.DictReader(open(out / "grades.csv"))}
    assert rows["eve"]["status"] == R.ABSENT and float(rows["eve"]["score"]) == 0
    assert rows["cat"]["on_roster"] == "no" and rows["ann"]["on_roster"] == "yes"
    assert float(rows["cat"]["score"]) == 7, "a student off the roster is marked, never deleted"
    assert disagreements(out, M.ASSIGNMENT) == []

    import autograder.gradebook

    def dying_record(*args, **kwargs):
        raise Killed()

    monkeypatch.setattr(autograder.gradebook.GradebookWriter, "record", dying_record)
    with pytest.raises(Killed):
        grade(course, subs, out, force=True)
    assert set(scores(out)) == {"ann", "ben", "cat", "dan", "eve"}, "a killed --force batch keeps every row"


def test_one_batch_at_a_time_per_output_folder(course, tmp_path):
    slow = M.submission(course, M.PERFECT, extra_cells=["import time\ntime.sleep(20)"])
    (tmp_path / "subs" / "ann").mkdir(parents=True)
    nbformat.write(slow, tmp_path / "subs" / "ann" / f"{M.ASSIGNMENT}.ipynb")
    out = tmp_path / "out"
    command = [sys.executable, "-m", "autograder", "--course", str(course.root), "grade", M.ASSIGNMENT,
               str(tmp_path / "subs"), "--out", str(out), "--quiet"]
    first = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.time() + 120
        while not (out / "grades.csv").exists() and time.time() < deadline and first.poll() is None:
            time.sleep(0.2)
        second = subprocess.run(command, capture_output=True, text=True, timeout=600)
        assert second.returncode == 2, second.stderr
        assert first.poll() is None, "the first batch is still running"
        assert "being written by another batch" in second.stderr and str(first.pid) in second.stderr
    finally:
        first.kill()
        first.wait()


# -- 5. a kernel killed from outside is not the student's doing ----------------------------------
def test_a_kernel_killed_from_outside_is_graded_again(course, tmp_path, monkeypatch):
    marker = "started-sleeping"
    sleepy = M.submission(course, M.PERFECT, after="mean", extra_cells=[
        f"import time\nopen({marker!r}, 'w').close()\ntime.sleep(30)"])
    (tmp_path / "subs" / "ann").mkdir(parents=True)
    nbformat.write(sleepy, tmp_path / "subs" / "ann" / f"{M.ASSIGNMENT}.ipynb")
    runs = private_tmp()
    monkeypatch.setattr(tempfile, "tempdir", str(runs))
    killed = []
    began = time.time()

    def operator():  # kills this test's own kernel once the student's cell is sleeping
        deadline = time.time() + 120
        while time.time() < deadline and not killed:
            if list(runs.glob(f"autograder-runs/*/scratch/{marker}")):
                for process, _, command in descendants(os.getpid(), since=began):
                    with contextlib.suppress(psutil.Error):
                        if "autograder.sandbox.kernel" in command and "bwrap" not in process.name():
                            process.kill()
                            killed.append(process.pid)
            time.sleep(0.1)

    try:
        thread = threading.Thread(target=operator, daemon=True)
        thread.start()
        from autograder.sandbox.config import KernelConfig

        [result] = grade(course, tmp_path / "subs", tmp_path / "out", config=KernelConfig(cell_timeout=8))
        thread.join()
        assert killed, "the kernel was killed from outside"
        assert result.status == R.GRADER_ERROR and "killed from outside" in result.reason, result.reason
        assert result.score == 2, "what ran before the kill is scored"
        lines = []
        [again] = grade(course, tmp_path / "subs", tmp_path / "out", config=KernelConfig(cell_timeout=8),
                        log=lines.append)
        assert any("1 to grade" in line for line in lines), "not reused: the next run grades it again"
        assert again.status == R.GRADED and again.score == 7
    finally:
        shutil.rmtree(runs, ignore_errors=True)


def test_a_kernel_at_its_cpu_time_limit_is_the_students_own_death():
    """The CPU-time limit must not look like a kill from outside: with its soft and hard limits
    equal, Linux ends the process with SIGKILL, which would be graded again on every run."""
    from autograder.execute import run_notebook
    from autograder.sandbox.config import KernelConfig

    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("print('started')"),
                                         nbformat.v4.new_code_cell("while True:\n    pass")])
    config = KernelConfig(cell_timeout=600, notebook_timeout=900, cpu_seconds=4)
    execution, _ = run_notebook(nb, config=config)
    assert execution.cell_state(1) == "ran", "the busy cell ran until the limit stopped it"
    assert execution.status == "kernel_died", (execution.status, execution.reason)
    assert "CPU-time limit" in execution.reason, execution.reason


# -- 6 (and 12.7). every entry of SUBMISSIONS: a row or a listed reason; links refused -----------
def test_odd_names_each_get_a_row_with_their_original_name(course, tmp_path):
    from autograder.collect import collect

    subs = tmp_path / "subs"
    subs.mkdir()
    blank = nbformat.writes(M.submission(course, None))
    for name in ("John Smith.ipynb", "jsmith (1).ipynb", "UPPER.IPYNB", "élève.ipynb", "plain.ipynb"):
        (subs / name).write_text(blank)
    for name in ("josé", "Full Name_123_assignsubmission_file_"):
        (subs / name).mkdir()
        (subs / name / f"{M.ASSIGNMENT}.ipynb").write_text(blank)
    found = {s.student_id: s.origin for s in collect(subs, M.ASSIGNMENT, f"{M.ASSIGNMENT}.ipynb")}
    assert found == {"John_Smith": "John Smith.ipynb", "jsmith_1": "jsmith (1).ipynb", "UPPER": "UPPER.IPYNB",
                     "eleve": "élève.ipynb", "plain": "plain.ipynb", "jose": "josé",
                     "Full_Name_123": "Full Name_123_assignsubmission_file_"}


def test_links_and_unreadable_files_never_put_content_in_a_reason(course, tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("TOPSECRET root:x:0:0 do not show")
    subs = tmp_path / "subs"
    subs.mkdir()
    (subs / "s073.ipynb").symlink_to(secret)
    (subs / "s074").symlink_to(course.source / M.ASSIGNMENT, target_is_directory=True)
    (subs / "s075.ipynb").write_text("TOPSECRET root:x:0:0 do not show")
    (subs / "notes.txt").write_text("not a submission")
    (subs / "Ann Lee.ipynb").write_text(nbformat.writes(M.submission(course, M.PERFECT)))
    out = tmp_path / "out"
    proc = cli(course, "grade", M.ASSIGNMENT, subs, "--out", out, "--workers", "1", "--quiet")
    assert proc.returncode == 0, proc.stderr
    assert "not graded: notes.txt" in proc.stderr
    rows = {r["student_id"]: r for r in csv.DictReader(open(out / "grades.csv"))}
    assert set(rows) == {"s073", "s074", "s075", "Ann_Lee"}
    assert rows["Ann_Lee"]["origin"] == "Ann Lee.ipynb" and float(rows["Ann_Lee"]["score"]) == 7
    for student in ("s073", "s074"):
        assert rows[student]["status"] == R.INVALID_NOTEBOOK and "symbolic link" in rows[student]["reason"]
        assert float(rows[student]["score"]) == 0
    everything = "".join(p.read_text() for p in out.rglob("*") if p.is_file() and p.suffix in (".csv", ".json", ".html"))
    assert "TOPSECRET" not in everything
    assert "BEGIN SOLUTION" not in page(out, "s074") and "return a + b" not in page(out, "s074")


def test_nothing_gradable_is_a_usage_error_listing_the_layouts(course, tmp_path):
    (tmp_path / "subs").mkdir()
    (tmp_path / "subs" / "readme.md").write_text("x")
    proc = cli(course, "grade", M.ASSIGNMENT, tmp_path / "subs", "--out", tmp_path / "out")
    assert proc.returncode == 2
    assert "nothing gradable found" in proc.stderr and "<student_id>.zip" in proc.stderr


# -- 7. dead workers ------------------------------------------------------------------------------
def test_a_dead_local_worker_loses_no_submission(course, tmp_path):
    students = {f"s{i}": (M.PERFECT if i % 2 else M.WRONG) for i in range(6)}
    subs = write_subs(course, tmp_path / "subs", students)
    killed = []

    def log(line):
        if line.startswith("[1/") and not killed:
            workers = [p for p in psutil.Process().children()
                       if "spawn_main" in " ".join(p.cmdline())]
            workers[0].kill()
            killed.append(workers[0].pid)

    results = grade(course, subs, tmp_path / "out", workers=2, progress=True, log=log)
    assert killed, "a worker was killed"
    assert {r.student_id: (r.status, r.score) for r in results} == \
        {s: (R.GRADED, 7.0 if a is M.PERFECT else 0.0) for s, a in students.items()}
    assert disagreements(tmp_path / "out", M.ASSIGNMENT) == []


@pytest.mark.slow
def test_a_dead_dask_worker_loses_no_submission(course, tmp_path):
    distributed = pytest.importorskip("distributed")
    students = {f"s{i}": (M.PERFECT if i % 2 else M.WRONG) for i in range(6)}
    subs = write_subs(course, tmp_path / "subs", students)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        with distributed.Client(cluster) as client:
            worker_pids = list(client.run(os.getpid).values())
        killed = []

        def log(line):  # one worker dies after the first result, the other after the third
            for step, pid in zip(("[1/", "[3/"), worker_pids):
                if line.startswith(step) and pid not in killed:
                    os.kill(pid, signal.SIGKILL)
                    killed.append(pid)

        results = grade(course, subs, tmp_path / "out", dask_address=cluster.scheduler_address, progress=True, log=log)
    assert len(killed) == 2, "both original workers were killed"
    assert {r.student_id: (r.status, r.score) for r in results} == \
        {s: (R.GRADED, 7.0 if a is M.PERFECT else 0.0) for s, a in students.items()}


# -- 8. infrastructure errors: one line, status 3, what was graded is kept -----------------------
def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_a_gradebook_down_at_start_is_status_3_in_one_line(course, tmp_path):
    subs = write_subs(course, tmp_path / "subs", {"ann": "{broken"})
    url = f"postgresql://grader:secretpw@127.0.0.1:{_free_port()}/gradebook"
    proc = cli(course, "grade", M.ASSIGNMENT, subs, "--out", tmp_path / "out", "--db", url, "--quiet")
    assert proc.returncode == 3, proc.stderr
    assert "Traceback" not in proc.stderr and len(proc.stderr.strip().splitlines()) == 1, proc.stderr
    assert "could not be opened" in proc.stderr and "secretpw" not in proc.stderr


# -- 10. two batches, two versions of one student, one gradebook ---------------------------------
def test_two_batches_grading_different_versions_of_a_student_into_one_gradebook_are_reported(course, tmp_path):
    url = f"sqlite:///{tmp_path}/shared.db"
    first = write_subs(course, tmp_path / "first", {"eve": M.PERFECT, "ann": M.PERFECT})
    second = write_subs(course, tmp_path / "second", {"eve": M.WRONG, "ann": M.PERFECT})
    grade(course, first, tmp_path / "out-1", db_url=url)
    warnings = []
    grade(course, second, tmp_path / "out-2", db_url=url, log=warnings.append)
    reported = [w for w in warnings if "another batch" in w]
    assert reported and any("eve" in w for w in reported) and not any("ann's" in w for w in reported), warnings
    warnings.clear()
    grade(course, first, tmp_path / "out-1", db_url=url, log=warnings.append)
    assert any("eve" in w and "not written over" in w for w in warnings), "the first folder does not silently win back"


# -- 11. however the grader is started, its kernels run its own code ------------------------------
def test_the_grader_started_through_a_symlinked_venv_or_from_another_checkout(course, tmp_path):
    subs = write_subs(course, tmp_path / "subs", {"ann": M.PERFECT})
    link = tmp_path / "venv-link"
    link.symlink_to(Path(sys.prefix), target_is_directory=True)
    proc = cli(course, "grade", M.ASSIGNMENT, subs, "--out", tmp_path / "out-1", "--quiet",
               python=str(link / "bin" / "python"))
    assert proc.returncode == 0, proc.stderr
    assert scores(tmp_path / "out-1") == {"ann": 7}, (tmp_path / "out-1" / "grades.csv").read_text()
    checkout = tmp_path / "checkout"
    for package in ("autograder", "course"):
        shutil.copytree(ROOT / package, checkout / package, ignore=shutil.ignore_patterns("__pycache__"))
    os.chmod(tmp_path, 0o755)
    proc = cli(course, "grade", M.ASSIGNMENT, subs, "--out", tmp_path / "out-2", "--quiet", cwd=checkout)
    assert proc.returncode == 0, proc.stderr
    assert scores(tmp_path / "out-2") == {"ann": 7}, (tmp_path / "out-2" / "grades.csv").read_text()


def test_a_grader_that_cannot_start_any_kernel_grades_nobody(course, tmp_path):
    if not shutil.which("bwrap"):
        pytest.skip("needs bubblewrap (a missing data folder breaks its bind mounts)")
    subs = write_subs(course, tmp_path / "subs", {"ann": M.PERFECT, "ben": M.WRONG})
    env = {**os.environ, "COURSE_DATA_DIR": str(tmp_path / "no-such-folder")}
    proc = cli(course, "grade", M.ASSIGNMENT, subs, "--out", tmp_path / "out", "--quiet", env=env)
    assert proc.returncode == 3, (proc.returncode, proc.stderr)
    assert "nobody was graded" in proc.stderr
    assert not list((tmp_path / "out" / "state").glob("*.json"))


# -- 12. nothing left behind ----------------------------------------------------------------------
def _running(process: psutil.Process, created: float) -> bool:
    try:
        return process.create_time() == created and process.status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


def test_a_killed_grader_leaves_no_process_and_the_next_run_cleans_its_folders(course, tmp_path):
    students = {f"s{i}": M.PERFECT for i in range(4)}
    subs = write_subs(course, tmp_path / "subs", students)
    out = tmp_path / "out"
    runs = private_tmp()
    env = {**os.environ, "TMPDIR": str(runs)}
    command = [sys.executable, "-m", "autograder", "--course", str(course.root), "grade", M.ASSIGNMENT, str(subs),
               "--out", str(out), "--workers", "2", "--quiet"]
    grader = None
    try:
        grader = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.time() + 300
        while time.time() < deadline and len(list((out / "state").glob("*.json"))) < 2:
            time.sleep(0.1)
        started = descendants(grader.pid)
        assert any("autograder.sandbox" in command for _, _, command in started), "kernels were running"
        grader.send_signal(signal.SIGKILL)
        grader.wait()
        deadline = time.time() + 20
        alive = started
        while alive and time.time() < deadline:
            time.sleep(0.2)
            alive = [(p, t, c) for p, t, c in alive if _running(p, t)]
        assert not alive, f"outlived the grader: {[(p.pid, c[:100]) for p, _, c in alive]}"
        proc = subprocess.run(command, env=env, capture_output=True, text=True, timeout=600)
        assert proc.returncode == 0, proc.stderr
        assert not list((runs / "autograder-runs").iterdir()), "run folders of the killed batch were removed"
        assert disagreements(out, M.ASSIGNMENT) == []
    finally:
        if grader is not None:
            kill_tree(grader)
        shutil.rmtree(runs, ignore_errors=True)


def test_a_kernel_started_ahead_does_not_outlive_the_batch(course, tmp_path, monkeypatch):
    subs = write_subs(course, tmp_path / "subs", {"ann": M.PERFECT, "ben": M.PERFECT, "cat": M.PERFECT})
    runs = private_tmp()
    monkeypatch.setattr(tempfile, "tempdir", str(runs))
    import autograder.gradebook

    def dying_record(*args, **kwargs):
        raise Killed()

    monkeypatch.setattr(autograder.gradebook.GradebookWriter, "record", dying_record)
    began = time.time()
    try:
        with pytest.raises(Killed):
            grade(course, subs, tmp_path / "out", workers=1, prestart=True)
        time.sleep(1)
        assert not kernels_of(os.getpid(), since=began), "no kernel of this batch is still running"
        assert not list((runs / "autograder-runs").iterdir()), "no run folder is left"
        monkeypatch.undo()
        monkeypatch.setattr(tempfile, "tempdir", str(runs))
        grade(course, subs, tmp_path / "out-pool", workers=2, prestart=True)
        assert not list((runs / "autograder-runs").iterdir()), "kernels started ahead in workers leave nothing"
    finally:
        shutil.rmtree(runs, ignore_errors=True)


# -- 8, 9. a PostgreSQL gradebook that stops; the script that serves it keeps its data ------------
@pytest.fixture
def pg_server():
    from tests.pg import PrivateServer, postgres_installed

    if not postgres_installed():
        pytest.skip("PostgreSQL is not installed (scripts/start-postgres.sh installs it as root)")
    server = PrivateServer()
    try:
        server.start()
    except RuntimeError as error:
        server.remove()
        pytest.skip(str(error))
    yield server
    server.remove()


def test_the_postgres_script_never_deletes_a_gradebook(pg_server):
    import sqlalchemy

    engine = sqlalchemy.create_engine(pg_server.url)
    with engine.begin() as connection:
        connection.execute(sqlalchemy.text("CREATE TABLE kept (note text); INSERT INTO kept VALUES ('hand grades')"))
    engine.dispose()
    pg_server.kill()  # the server is down, as after a reboot or a crash
    assert pg_server.start() == pg_server.url
    engine = sqlalchemy.create_engine(pg_server.url)
    with engine.connect() as connection:
        assert connection.execute(sqlalchemy.text("SELECT note FROM kept")).scalar() == "hand grades"
    engine.dispose()
    pg_server.stop()
    assert (pg_server.data / "PG_VERSION").exists(), "stop keeps the data folder"


@pytest.mark.slow
def test_a_gradebook_that_stops_mid_batch_keeps_what_was_graded(course, tmp_path, pg_server):
    students = {f"s{i}": (M.PERFECT if i % 2 else "{broken") for i in range(4)}
    subs = write_subs(course, tmp_path / "subs", students)
    out = tmp_path / "out"
    command = [sys.executable, "-m", "autograder", "--course", str(course.root), "grade", M.ASSIGNMENT, str(subs),
               "--out", str(out), "--db", pg_server.url, "--workers", "1", "--quiet"]
    grader = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 300
    while time.time() < deadline and not list((out / "state").glob("*.json")) and grader.poll() is None:
        time.sleep(0.05)
    pg_server.kill()
    _, err = grader.communicate(timeout=600)
    assert grader.returncode == 3, err
    assert "Traceback" not in err and "run the same command again when the database is back" in err
    assert set(scores(out)) == set(students), "every submission was graded and kept"
    pg_server.start()
    proc = subprocess.run(command, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    proc = subprocess.run(command[:-1], capture_output=True, text=True, timeout=600)
    assert "4 unchanged since the last run" in proc.stderr
    assert disagreements(out, M.ASSIGNMENT, db_url=pg_server.url) == []
