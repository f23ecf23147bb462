"""An instructor grades a written answer in nbgrader's formgrader, in a real headless browser.

`autograder formgrader OUT_DIR` starts JupyterLab on a graded batch (the way the README says);
headless Chromium opens the batch's submission in Manual Grading, reads the written answer under
its rubric, types points and a comment, and sees them saved after reloading; after
`autograder handgrade sync` the points are in grades.csv. Chromium and chromium-driver come from
Debian through scripts/install-system-deps.sh (which `make setup` runs); without them the test is
skipped, except in CI (CI set), where that is a failure. Screenshots go to $FORMGRADER_SCREENSHOTS
or a folder of the test's tmp_path.
"""
from __future__ import annotations

import csv
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import nbformat
import pytest

from tests import minicourse as M
from tests.test_handgrading import WHY_ANSWER, written_submission

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
DRIVER = shutil.which("chromedriver")


def _need_browser():
    missing = [name for name, path in (("chromium", CHROMIUM), ("chromedriver", DRIVER)) if not path]
    try:
        import selenium  # noqa: F401
    except ImportError:
        missing.append("selenium (the dev extras)")
    if missing:
        why = f"needs {', '.join(missing)}: run `make setup` as root on Debian (scripts/install-system-deps.sh)"
        if os.environ.get("CI"):
            pytest.fail(why)
        pytest.skip(why)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _autograder(*args, **kwargs):
    return subprocess.run([sys.executable, "-m", "autograder", *map(str, args)], capture_output=True, text=True,
                          timeout=600, **kwargs)


@pytest.fixture
def server(tmp_path):
    """A graded batch of one student and formgrader serving it, started by `autograder formgrader`."""
    _need_browser()
    course = M.build(tmp_path / "course")
    subs = tmp_path / "subs"
    (subs / "ann").mkdir(parents=True)
    nbformat.write(written_submission(course, WHY_ANSWER), subs / "ann" / f"{M.ASSIGNMENT}.ipynb")
    out = tmp_path / "out"
    proc = _autograder("--course", course.root, "grade", M.ASSIGNMENT, subs, "--out", out, "--workers", "1", "--quiet")
    assert proc.returncode == 0, proc.stderr
    port = _free_port()
    # started as an instructor would, from a shell whose PATH lacks the virtualenv's bin/
    venv_bin = str(Path(sys.executable).parent)
    path = os.pathsep.join(d for d in os.environ.get("PATH", "").split(os.pathsep) if d and d != venv_bin)
    env = {**os.environ, "PATH": path}
    env.pop("VIRTUAL_ENV", None)
    log = open(tmp_path / "formgrader.log", "w")
    jupyter = subprocess.Popen([sys.executable, "-m", "autograder", "formgrader", str(out), "--port", str(port),
                                "--no-browser"], stdout=subprocess.PIPE, stderr=log, text=True, env=env,
                               cwd=tmp_path, start_new_session=True)
    try:
        line = jupyter.stdout.readline()
        match = re.search(r"(http://\S+/formgrader\?token=(\w+))", line)
        assert match, f"no address printed: {line!r}"
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 120
        while True:
            try:
                urllib.request.urlopen(f"{base}/api/status?token={match.group(2)}", timeout=5)
                break
            except OSError:
                assert jupyter.poll() is None, (tmp_path / "formgrader.log").read_text()[-3000:]
                assert time.monotonic() < deadline, "JupyterLab did not answer within 120 s"
                time.sleep(0.5)
        yield {"url": match.group(1), "base": base, "out": out, "course": course, "log": tmp_path / "formgrader.log"}
    finally:
        if jupyter.poll() is None:
            os.killpg(jupyter.pid, signal.SIGTERM)
            try:
                jupyter.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(jupyter.pid, signal.SIGKILL)
                jupyter.wait()
        log.close()


@pytest.fixture
def browser(tmp_path):
    _need_browser()
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                "--window-size=1280,1600", f"--user-data-dir={tmp_path / 'chromium-profile'}"):
        options.add_argument(arg)
    driver = webdriver.Chrome(service=Service(DRIVER), options=options)
    driver.set_page_load_timeout(120)
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture
def shots(tmp_path):
    folder = Path(os.environ.get("FORMGRADER_SCREENSHOTS") or tmp_path / "screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    print(f"screenshots in {folder}")
    return folder


def test_instructor_grades_a_written_answer_in_formgrader(server, browser, shots):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support import expected_conditions as EC
    from selenium.webdriver.support.ui import WebDriverWait

    wait = WebDriverWait(browser, 60)
    browser.get(server["url"])  # logs in with the token, lands on Manage Assignments
    wait.until(EC.presence_of_element_located((By.XPATH, f"//a[contains(., '{M.ASSIGNMENT}')]")))
    browser.save_screenshot(str(shots / "1-manage-assignments.png"))
    row = browser.find_element(By.XPATH, f"//tr[.//a[contains(., '{M.ASSIGNMENT}')]]").text
    assert " 1 " in f" {row} ", f"one submission listed, not a draft with 0: {row!r}"

    browser.get(f"{server['base']}/formgrader/gradebook/{M.ASSIGNMENT}/{M.ASSIGNMENT}")
    link = wait.until(EC.element_to_be_clickable((By.CSS_SELECTOR, "a[href*='/formgrader/submissions/']")))
    browser.save_screenshot(str(shots / "2-manual-grading-list.png"))
    link.click()

    score = wait.until(EC.element_to_be_clickable((By.ID, "why")))
    page = browser.find_element(By.TAG_NAME, "body").text
    assert WHY_ANSWER in page and "Mentions hard-coding." in page, "the answer and its rubric are on the page"
    assert page.index("Mentions hard-coding.") < page.index(WHY_ANSWER), "the rubric comes right before the answer"
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'})", score)
    browser.save_screenshot(str(shots / "3-submission-before.png"))
    score.clear()
    score.send_keys("1", Keys.TAB)
    comment = browser.find_element(By.ID, "why-comment")
    comment.send_keys("Names hard-coding: full marks.")
    browser.find_element(By.TAG_NAME, "body").click()
    comment.send_keys(Keys.TAB)
    wait.until(lambda d: _saved(server["out"]) == (1.0, "Names hard-coding: full marks."))
    browser.save_screenshot(str(shots / "4-submission-graded.png"))

    browser.refresh()  # what the instructor sees when coming back: the saved points and comment
    score = wait.until(EC.element_to_be_clickable((By.ID, "why")))
    wait.until(lambda d: d.find_element(By.ID, "why").get_attribute("value") == "1")
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'})", score)
    assert browser.find_element(By.ID, "why-comment").get_attribute("value") == "Names hard-coding: full marks."
    browser.save_screenshot(str(shots / "5-submission-reloaded.png"))

    proc = subprocess.run([sys.executable, "-m", "autograder", "--course", str(server["course"].root), "handgrade",
                           "sync", str(server["out"])], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    row = next(csv.DictReader(open(server["out"] / "grades.csv")))
    assert (row["student_id"], row["hand_points"], row["manual_points_pending"]) == ("ann", "1", "1"), row
    assert row["total_score"] == f"{M.MAX_SCORE + 1:g}"
    page = (server["out"] / "feedback" / "ann" / f"{M.ASSIGNMENT}.html").read_text()
    assert "Names hard-coding: full marks." in page
    assert "alembic" not in server["log"].read_text(), "nbgrader found its alembic command"


def _saved(out: Path):
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{out}/gradebook.db") as gb:
        grade = gb.find_grade("why", M.ASSIGNMENT, M.ASSIGNMENT, "ann")
        comment = gb.find_comment("why", M.ASSIGNMENT, M.ASSIGNMENT, "ann")
        return grade.manual_score, comment.manual_comment
