"""GitHub Classroom: the student repository `autograder classroom` lays out, and its workflow run
the way GitHub Actions would run its steps, with the points computed as the Classroom reporter
computes them (classroom-resources/autograding-grading-reporter, src/notify-classroom.js)."""
from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
import yaml

from autograder.platforms.classroom import parts_of
from tests import minicourse as M
from tests.test_distribution import found_in, secret_source_lines
from tests.venvs import borrowed_venv

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def layout(tmp_path: Path):
    course = M.build(tmp_path / "course")
    for name in ("pyproject.toml", "constraints.txt"):
        (course.root / name).write_bytes((PROJECT_ROOT / name).read_bytes())
    out = tmp_path / "repo"
    proc = subprocess.run([sys.executable, "-m", "autograder", "--course", str(course.root), "classroom", M.ASSIGNMENT,
                           "--out", str(out)], capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    return course, out


def reporter_points(outputs: dict[str, str], runners: list[str], env: dict[str, str]) -> tuple[float, float]:
    """What the reporter posts as "Points X/Y": for each runner, the env var `<RUNNER>_RESULTS`
    (base64 JSON); every test's score and every runner's max_score added up."""
    total = maximum = 0.0
    for runner in runners:
        reference = env[f"{runner.strip().upper()}_RESULTS"]
        step_output = reference.strip("${} ").split(".")[-1]  # ${{steps.check.outputs.partNN}}
        results = json.loads(base64.b64decode(outputs[step_output]))
        assert results["version"] == 1 and results["status"] in ("pass", "fail", "error")
        if not results["max_score"]:
            continue
        maximum += results["max_score"]
        total += sum(test["score"] for test in results["tests"])
    return total, maximum


def test_the_repository_has_the_work_folder_and_a_workflow_classroom_reads(tmp_path):
    course, repo = layout(tmp_path)
    work = repo / M.ASSIGNMENT / f"{M.ASSIGNMENT}.ipynb"
    assert work.read_bytes() == course.release_notebook(M.ASSIGNMENT).read_bytes()
    assert (repo / "pyproject.toml").is_file() and (repo / "constraints.txt").is_file()
    assert (repo / "course" / "materials" / "release" / M.ASSIGNMENT / f"{M.ASSIGNMENT}.ipynb").is_file()
    flow = yaml.safe_load((repo / ".github" / "workflows" / "classroom.yml").read_text())
    assert "push" in flow["on"]
    steps = flow["jobs"]["run-autograding-tests"]["steps"]
    check = next(s for s in steps if s.get("id") == "check")
    assert f"autograder classroom-result {M.ASSIGNMENT}/{M.ASSIGNMENT}.ipynb" in check["run"]
    reporter = next(s for s in steps if s.get("uses", "").startswith("classroom-resources/autograding-grading-reporter"))
    runners = reporter["with"]["runners"].split(",")
    assert runners == [r for r, _, _ in parts_of(nbformat.read(work, as_version=4))] == ["part01", "part02", "part03"]
    for runner in runners:  # main.js reads process.env[`${runner.trim().toUpperCase()}_RESULTS`]
        assert reporter["env"][f"{runner.upper()}_RESULTS"] == f"${{{{steps.check.outputs.{runner}}}}}"
    assert flow["permissions"]["checks"] == "write"
    assert found_in(repo, secret_source_lines(course.source)) == {}, "a student's repository holds no secret line"
    assert found_in(course.source, secret_source_lines(course.source)), "(the search does find them in the source)"


@pytest.mark.slow
def test_the_workflow_steps_report_the_visible_points(tmp_path):
    """Run the workflow's own `run:` steps in a copy of the repository (a fresh venv stands in for
    actions/setup-python): install, then the visible tests, which write the step outputs."""
    course, repo = layout(tmp_path)
    nbformat.write(M.submission(course, {"add": M.PERFECT["add"], "mean": M.WRONG["mean"]}),
                   repo / M.ASSIGNMENT / f"{M.ASSIGNMENT}.ipynb")  # the student's push
    python = borrowed_venv(tmp_path / "runner-python")
    flow = yaml.safe_load((repo / ".github" / "workflows" / "classroom.yml").read_text())
    steps = flow["jobs"]["run-autograding-tests"]["steps"]
    github_output = tmp_path / "github_output"
    github_output.write_text("")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AUTOGRADER_", "COURSE_", "PYTHON"))}
    env.update(PATH=f"{python.parent}{os.pathsep}{env['PATH']}", GITHUB_OUTPUT=str(github_output),
               PIP_NO_INDEX="1", PIP_NO_BUILD_ISOLATION="0")
    for step in steps:
        if "run" in step:
            proc = subprocess.run(["bash", "-e", "-c", step["run"]], cwd=repo, env=env, capture_output=True,
                                  text=True, timeout=900)
            assert proc.returncode == 0, f"{step['name']}: {proc.stdout}\n{proc.stderr}"
            last = proc
    assert "add" in last.stdout and "passed" in last.stdout, "the log shows the check, part by part"
    assert "points from the visible tests: 2/7" in last.stdout
    outputs = dict(line.split("=", 1) for line in github_output.read_text().splitlines())
    reporter = steps[-1]
    points = reporter_points(outputs, reporter["with"]["runners"].split(","), reporter["env"])
    assert points == (2.0, 7.0), "Classroom gets 'Points 2/7': add passed, mean failed, scale not attempted"
    by_part = {r: json.loads(base64.b64decode(v)) for r, v in outputs.items()}
    assert by_part["part02"]["status"] == "fail" and "the mean of 1, 2, 3 is 2" in by_part["part02"]["tests"][0]["message"]

    (repo / M.ASSIGNMENT / f"{M.ASSIGNMENT}.ipynb").unlink()  # a broken push still reports every part
    github_output.write_text("")
    proc = subprocess.run(["bash", "-e", "-c", steps[3]["run"]], cwd=repo, env=env, capture_output=True, text=True,
                          timeout=900)
    assert proc.returncode == 0 and "does not exist" in proc.stdout, proc.stdout + proc.stderr
    outputs = dict(line.split("=", 1) for line in github_output.read_text().splitlines())
    assert reporter_points(outputs, reporter["with"]["runners"].split(","), reporter["env"]) == (0.0, 7.0)
