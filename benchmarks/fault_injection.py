"""Fault injection: kill a grading batch at chosen moments, rerun it, check every output agrees.

    .venv/bin/python benchmarks/fault_injection.py [--students 16] [--workers 2]

Builds the tests' small course and a class of submissions (right, wrong, blank, broken, odd file
names), grades it once undisturbed for the expected scores, then for every scenario grades it
into a fresh folder, kills the batch (kill -9) at one moment, and runs the same command again.
After the rerun grades.csv, results/*.json, the feedback pages, the commit records and the
gradebook must give every student the expected score, with nothing half-written and no run
folder left. Prints one line per scenario.

Kill points inside the grader use its test-only hook AUTOGRADER_FAULT=POINT:N (see
autograder/faults.py): `result` (a result arrived, nothing written), `staged` (outputs written
aside), `committed` (the record written, outputs not yet in place), `installed` (outputs in
place, grades.csv not yet rewritten), `csv` (gradebook not yet written), `recorded` (all done).
The other scenarios kill from outside: the grader's process at a random moment, one worker
process, and a --force regrade of a graded folder.
"""
from __future__ import annotations

import argparse
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat
import psutil

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests import minicourse as M  # noqa: E402
from tests.agreement import disagreements, scores  # noqa: E402

POINTS = ["result", "staged", "committed", "installed", "csv", "recorded"]


def make_class(course, folder: Path, count: int) -> None:
    kinds = [M.PERFECT, M.WRONG, None, "{broken", {"add": M.PERFECT["add"]}]
    odd = ["John Smith.ipynb", "élève.ipynb", "UPPER.IPYNB"]
    for i in range(count):
        answers = kinds[i % len(kinds)]
        path = folder / (odd[i] if i < len(odd) else f"s{i:02d}/{M.ASSIGNMENT}.ipynb")
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(answers, str):
            path.write_text(answers)
        else:
            nbformat.write(M.submission(course, answers), path)


class Runner:
    def __init__(self, course, subs: Path, workers: int, base: Path):
        self.course, self.subs, self.workers, self.base = course, subs, workers, base
        self.runs = base / "tmp"
        self.runs.mkdir()
        os.chmod(base, 0o711)
        os.chmod(self.runs, 0o711)

    def command(self, out: Path, *extra: str) -> list[str]:
        return [sys.executable, "-m", "autograder", "--course", str(self.course.root), "grade", M.ASSIGNMENT,
                str(self.subs), "--out", str(out), "--workers", str(self.workers), "--quiet", *extra]

    def env(self, fault: str | None = None) -> dict:
        env = {**os.environ, "TMPDIR": str(self.runs)}
        env.pop("AUTOGRADER_FAULT", None)
        if fault:
            env["AUTOGRADER_FAULT"] = fault
        return env

    def run(self, out: Path, *extra: str, fault: str | None = None) -> subprocess.CompletedProcess:
        return subprocess.run(self.command(out, *extra), env=self.env(fault), capture_output=True, text=True,
                              timeout=3600)

    def start(self, out: Path, *extra: str) -> subprocess.Popen:
        return subprocess.Popen(self.command(out, *extra), env=self.env(), stdout=subprocess.DEVNULL,
                                stderr=subprocess.PIPE, text=True)


def left_behind(out: Path, runs: Path) -> str:
    records = len(list((out / "state").glob("*.json"))) if (out / "state").is_dir() else 0
    staged = len([p for p in (out / ".staging").rglob("*") if p.is_file()]) if (out / ".staging").is_dir() else 0
    temp = len(list(out.rglob("*.tmp")))
    run_dirs = len(list((runs / "autograder-runs").iterdir())) if (runs / "autograder-runs").is_dir() else 0
    return f"{records} records, {staged} staged, {temp} tmp, {run_dirs} run dirs"


def wait_for_records(out: Path, count: int, process, timeout: float = 600) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline and process.poll() is None:
        if (out / "state").is_dir() and len(list((out / "state").glob("*.json"))) >= count:
            return
        time.sleep(0.05)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--students", type=int, default=16)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    base = Path(tempfile.mkdtemp(prefix="fault-injection-"))
    failures = 0
    try:
        course = M.build(base / "course")
        subs = base / "subs"
        make_class(course, subs, args.students)
        runner = Runner(course, subs, args.workers, base)
        started = time.monotonic()
        clean = runner.run(base / "clean")
        if clean.returncode != 0:
            print(clean.stderr)
            return 1
        expected = scores(base / "clean")
        print(f"{len(expected)} submissions, {args.workers} workers; undisturbed batch: "
              f"{time.monotonic() - started:.0f} s, scores {sorted(expected.values())}")
        print(f"load average at start: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
        print()
        print(f"{'scenario':<36} {'killed':<8} {'left after the kill':<42} {'rerun':<6} {'agree':<6} checked")
        print("-" * 118)

        def check(name: str, out: Path, killed: str, left: str, rerun) -> None:
            nonlocal failures
            problems = disagreements(out, M.ASSIGNMENT)
            got = scores(out)
            if got != expected:
                problems.append(f"scores differ: {sorted(set(got.items()) ^ set(expected.items()))[:4]}")
            remaining = left_behind(out, runner.runs).split(", ")[-1]
            if not remaining.startswith("0 "):
                problems.append(f"{remaining} after the rerun")
            ok = rerun.returncode == 0 and not problems
            failures += not ok
            print(f"{name:<36} {killed:<8} {left:<42} {rerun.returncode:<6} {'yes' if ok else 'NO':<6} "
                  f"csv, results, pages, records, gradebook, leftovers")
            for problem in problems[:5]:
                print(f"    {problem}")
            if rerun.returncode != 0:
                print("    " + rerun.stderr.strip().replace("\n", "\n    ")[-1500:])

        for point in POINTS:
            count = rng.randint(2, max(2, len(expected) - 2))
            out = base / f"out-{point}"
            killed = runner.run(out, fault=f"{point}:{count}")
            status = "-9" if killed.returncode == -signal.SIGKILL else str(killed.returncode)
            check(f"hook {point}:{count}", out, status, left_behind(out, runner.runs), runner.run(out))

        out = base / "out-outside"
        process = runner.start(out)
        wait_for_records(out, rng.randint(2, len(expected) - 2), process)
        time.sleep(rng.random())
        process.kill()
        process.wait()
        check("kill -9 of the grader from outside", out, str(process.returncode), left_behind(out, runner.runs),
              runner.run(out))

        out = base / "out-force"
        shutil.copytree(base / "clean", out)
        killed = runner.run(out, "--force", fault=f"committed:{rng.randint(2, len(expected) - 2)}")
        check("--force regrade killed mid-way", out, str(killed.returncode), left_behind(out, runner.runs),
              runner.run(out))

        if args.workers > 1:
            out = base / "out-worker"
            process = runner.start(out)
            wait_for_records(out, 2, process)
            workers = [p for p in psutil.Process(process.pid).children() if "spawn_main" in " ".join(p.cmdline())]
            if workers:
                workers[0].kill()
            _, err = process.communicate(timeout=3600)
            dead = "worker" if workers else "none"
            print_left = left_behind(out, runner.runs)

            class Finished:  # the batch itself is the run checked: it must finish on its own
                returncode = process.returncode
                stderr = err

            check("kill -9 of one worker process", out, dead, print_left, Finished)
        print()
        print(f"{failures} scenario(s) with outputs that disagree" if failures else
              "every output agreed after every rerun")
        return 1 if failures else 0
    finally:
        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
