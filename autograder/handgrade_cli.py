"""The hand-grading commands: `autograder formgrader` and `autograder handgrade export|import|sync`.

Kept apart from cli.py; it only imports what a command needs once it runs.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

COMMANDS = ("formgrader", "handgrade")


def add_parsers(sub) -> None:
    p = sub.add_parser(
        "formgrader", help="grade written answers by hand in nbgrader's formgrader (starts JupyterLab)",
        description="Start JupyterLab with nbgrader's formgrader on a graded output folder: open Formgrader > "
                    "Manual Grading, open a submission, give points and a comment to each written answer (its "
                    "rubric is shown above it). Then `autograder handgrade sync OUT_DIR` (or grading again) "
                    "brings the points into grades.csv, results/ and feedback/. Works without activating the "
                    "virtualenv. Example: autograder formgrader graded/03")
    p.add_argument("out_dir", type=Path, metavar="OUT_DIR", help="the --out folder of `autograder grade`")
    p.add_argument("--port", type=int, default=8888, help="port to serve on (default 8888)")
    p.add_argument("--ip", default="127.0.0.1", help="address to serve on (default 127.0.0.1, this machine only)")
    p.add_argument("--no-browser", action="store_true", help="do not open a browser")

    p = sub.add_parser(
        "handgrade", help="grade written answers by hand through CSV files, or re-export hand grades",
        description="Hand grading without formgrader, and bringing hand grades into every output. "
                    "Example: autograder handgrade export graded/03 (writes graded/03/handgrading/<part>.csv: "
                    "each student's answer, the rubric, and `points` and `comment` columns to fill in); "
                    "autograder handgrade import graded/03 graded/03/handgrading/*.csv; "
                    "autograder handgrade sync graded/03 (after grading in formgrader)")
    actions = p.add_subparsers(dest="action", required=True, metavar="ACTION")
    a = actions.add_parser("export", help="one CSV per hand-graded part, to fill in")
    a.add_argument("out_dir", type=Path, metavar="OUT_DIR", help="the --out folder of `autograder grade`")
    a.add_argument("--to", type=Path, metavar="DIR", help="where to write the files (default: OUT_DIR/handgrading)")
    a = actions.add_parser("import", help="read filled-in CSV files: points and comments into every output",
                           description="Checks every row first and imports nothing if one is wrong (each error "
                                       "names the file, line and what to fix). Rows without points are skipped.")
    a.add_argument("out_dir", type=Path, metavar="OUT_DIR", help="the --out folder of `autograder grade`")
    a.add_argument("files", type=Path, nargs="+", metavar="CSV", help="files written by `handgrade export`")
    a = actions.add_parser("sync", help="re-export: hand grades from the gradebook (formgrader) into grades.csv, "
                                        "results/*.json and the feedback pages")
    a.add_argument("out_dir", type=Path, metavar="OUT_DIR", help="the --out folder of `autograder grade`")


def _warn(message: str) -> None:
    print(message, file=sys.stderr)


def run(args: argparse.Namespace, course) -> int:
    """`course` is a callable returning the course (found only when a command needs it)."""
    if args.command == "formgrader":
        from autograder import formgrader

        formgrader.start(args.out_dir, port=args.port, ip=args.ip, open_browser=not args.no_browser)
        return 0  # not reached: the process became JupyterLab
    if args.action == "export":
        from autograder.handgrade_files import export

        files = export(args.out_dir, course(), args.to)
        for path in files:
            print(f"wrote {path}")
        print("fill in `points` (and `comment`) and run: autograder handgrade import "
              f"{args.out_dir} {' '.join(str(p) for p in files)}")
        return 0
    if args.action == "import":
        from autograder.handgrade_files import import_files

        done = import_files(args.out_dir, course(), args.files, warn=_warn)
        blank = f", {done.no_response} blank answer(s) left at 0, No response." if done.no_response else ""
        print(f"imported {done.graded} hand grade(s) for {len(done.students)} student(s) "
              f"({done.skipped} row(s) without points skipped{blank}); updated {args.out_dir}/grades.csv, results/, "
              "feedback/")
        return 0
    if args.action == "sync":
        from autograder.handgrade_batch import sync

        results = sync(args.out_dir, course(), warn=_warn)
        pending = sum(1 for r in results if r.manual_pending)
        print(f"updated {args.out_dir}/grades.csv, results/ and feedback/ for {len(results)} student(s); "
              f"{pending} still have written answers to grade by hand")
        return 0
    return 1
