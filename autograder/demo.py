"""`make demo`: regenerate the release, grade every assignment's example submissions, print a table.

Output goes to out/demo/<assignment>/ (grades.csv, Gradescope JSON, feedback pages, gradebook,
and the class report, report.html).
"""
from __future__ import annotations

import sys
import time
from pathlib import Path

from autograder.errors import AutograderError
from autograder.grade import GradeOptions, grade_assignment, print_table
from autograder.layout import find_course
from autograder.release import release
from autograder.report import write_report


def main() -> int:
    course = find_course(Path(__file__).resolve().parent.parent)
    started = time.monotonic()
    try:
        for path in release(course):
            print(f"released {path.relative_to(course.root)}")
    except AutograderError as error:  # e.g. someone's work in release/: never overwritten
        print(f"make demo: {error}", file=sys.stderr)
        return 2
    results = []
    reports = []
    for assignment in course.assignments():
        examples = course.examples / assignment
        if not examples.is_dir():
            print(f"{assignment}: no example submissions in {examples.relative_to(course.root)}")
            continue
        out = course.root / "out" / "demo" / assignment
        results += grade_assignment(course, assignment, examples, out, GradeOptions(force=True),
                                    log=lambda msg: print(msg, file=sys.stderr))
        reports.append(write_report(out))
    print()
    print_table(results)
    print(f"\nfeedback pages: out/demo/<assignment>/feedback/<student>/  "
          f"({time.monotonic() - started:.0f} s in all)")
    print("class reports (open in a browser):")
    for path in reports:
        print(f"  {path.relative_to(course.root)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
