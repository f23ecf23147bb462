"""The `autograder` command line (README.md, "For instructors", describes each command).

    autograder release [ASSIGNMENT ...]
    autograder lint [ASSIGNMENT ...]
    autograder grade ASSIGNMENT SUBMISSIONS [--out DIR] [--workers N] [--db URL] ...
    autograder check NOTEBOOK
    autograder report OUT_DIR
    autograder fetch ASSIGNMENT [--into DIR]
    autograder student-dist --out DIR [ASSIGNMENT ...]
    autograder gradescope ASSIGNMENT --out ZIP
    autograder classroom ASSIGNMENT --out DIR
    autograder classroom-result NOTEBOOK --assignment ASSIGNMENT
    autograder lms-export OUT_DIR --lms canvas|moodle --roster CSV
    autograder formgrader OUT_DIR
    autograder handgrade export|import|sync OUT_DIR ...

Exit status: 0 when the command did its job (for `grade`: every submission has a row, whatever
the students scored; for `check`: every visible test passed, else 1); 2 for a usage problem
(including "nothing gradable found" and an output folder another batch is writing), with a message
that says what to do; 3 when something the grader relies on failed (the gradebook database, the
disk, the sandbox): what was graded is kept and running the same command again finishes the rest;
1 for a bug.
"""
from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

from autograder.errors import AutograderError, InfrastructureError, UsageError
from autograder.sandbox.config import KernelConfig

DEFAULTS = KernelConfig()  # the kernel's defaults: options left out keep these


def _size(text: str) -> int:
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([kKmMgG]?)i?[bB]?\s*", text)
    if not match:
        raise argparse.ArgumentTypeError(f"{text!r} is not a size; use e.g. 4G, 512M or 2000000")
    factor = {"": 1, "k": 1024, "m": 1024**2, "g": 1024**3}[match.group(2).lower()]
    return int(float(match.group(1)) * factor)


def _shown_size(size: int) -> str:
    for unit, factor in (("G", 1024**3), ("M", 1024**2), ("K", 1024)):
        if size % factor == 0:
            return f"{size // factor}{unit}"
    return str(size)


def kernel_config(cell_timeout=None, timeout=None, memory_limit=None, output_limit=None) -> KernelConfig:
    """The kernel's configuration from the options given (None: not given, the default stays)."""
    given = {"cell_timeout": cell_timeout, "notebook_timeout": timeout, "memory_bytes": memory_limit,
             "output_limit_bytes": output_limit}
    return KernelConfig(**{name: value for name, value in given.items() if value is not None})


def _positive(kind):
    def parse(text: str):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
        if value <= 0:
            raise argparse.ArgumentTypeError(f"must be positive, got {text}")
        return value
    return parse


def build_parser() -> argparse.ArgumentParser:
    from autograder import __version__

    parser = argparse.ArgumentParser(prog="autograder", description="Release, grade and check course assignments.",
                                     epilog="Run `autograder COMMAND --help` for a command's options and an example.")
    parser.add_argument("--version", action="version", version=f"autograder {__version__}")
    parser.add_argument("--course", type=Path, help="course root (default: found from the working directory)")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("release", help="generate release/ from source/ (refuses a release that leaks, and never "
                                       "overwrites a file someone edited in release/)",
                       description="Generate release/NN-name/ from source/NN-name/ with nbgrader (solutions and hidden "
                                   "tests removed, then searched for leaks). Example: autograder release "
                                   "01-problem-framing")
    p.add_argument("assignments", nargs="*", metavar="ASSIGNMENT", help="default: every assignment")
    p.add_argument("--overwrite", action="store_true",
                   help="replace files in release/ that were edited since the last release (their edits are lost)")

    p = sub.add_parser("lint", help="list what in an assignment breaks this course's authoring rules (warnings for an "
                                    "nbgrader course's own habits; errors stop release and grading)",
                       description="Check source notebooks against the authoring rules without releasing anything. "
                                   "This course's own NN-name assignments must follow them (release and grade refuse "
                                   "otherwise); for any other nbgrader assignment they are warnings, listed here. "
                                   "Example: autograder lint ps1")
    p.add_argument("assignments", nargs="*", metavar="ASSIGNMENT", help="default: every assignment")

    p = sub.add_parser("grade", help="grade a folder of submissions",
                       description="Grade every submission in SUBMISSIONS in a sandbox; write grades.csv, "
                                   "results/<student>.json, feedback/<student>/ and a gradebook to --out (an "
                                   "assignment with several notebooks: a folder per notebook inside it). Example: "
                                   "autograder grade 03-metrics-and-baselines submitted/ --out graded/03")
    p.add_argument("assignment", metavar="ASSIGNMENT")
    p.add_argument("submissions", type=Path, metavar="SUBMISSIONS",
                   help="folder with <student_id>/<notebook>.ipynb (or .zip / .ipynb per student)")
    p.add_argument("--out", type=Path, help="output folder (default: out/<ASSIGNMENT>)")
    p.add_argument("--workers", type=_positive(int), default=0, help="submissions graded at once (default: cores)")
    p.add_argument("--db", dest="db_url", help="gradebook SQLAlchemy URL (default: sqlite in the output folder)")
    p.add_argument("--dask", dest="dask_address", metavar="ADDRESS",
                   help="grade on a Dask distributed cluster instead of local worker processes: "
                        "tcp://127.0.0.1:PORT on this machine, or tls://HOST:PORT with the --dask-tls-* files")
    p.add_argument("--dask-tls-ca-file", metavar="PEM", help="the cluster's certificate authority (tls:// only)")
    p.add_argument("--dask-tls-cert", metavar="PEM", help="this client's certificate, signed by that CA")
    p.add_argument("--dask-tls-key", metavar="PEM", help="its private key (if not in the certificate file)")
    p.add_argument("--dask-insecure", action="store_true",
                   help="accept a scheduler reached without TLS off this machine (anyone who reaches it can run "
                        "code on the workers); a warning is printed")
    p.add_argument("--force", action="store_true", help="re-grade submissions that did not change")
    p.add_argument("--roster", type=Path, metavar="FILE",
                   help="the class list (one student id per line, or a CSV with student_id); kept in the output "
                        "folder: students on it without a submission get an 'absent' row")
    p.add_argument("--cell-timeout", type=_positive(float),
                   help="seconds per cell (default: Execute.timeout in nbgrader_config.py, "
                        f"else {DEFAULTS.cell_timeout:g})")
    p.add_argument("--timeout", type=_positive(float),
                   help=f"seconds per notebook (default {DEFAULTS.notebook_timeout:g})")
    p.add_argument("--memory-limit", type=_size, help=f"per notebook (default {_shown_size(DEFAULTS.memory_bytes)})")
    p.add_argument("--output-limit", type=_size,
                   help=f"notebook output kept (default {_shown_size(DEFAULTS.output_limit_bytes)})")
    p.add_argument("--sandbox-user", default="nobody", help="user the kernel runs as when grading as root")
    p.add_argument("--no-namespaces", action="store_true", help="do not use bubblewrap even if present")
    p.add_argument("--quiet", action="store_true", help="no progress lines")
    p.add_argument("--times", metavar="SOURCE",
                   help="when each submission was handed in, for late work (due dates and the late policy are in "
                        "nbgrader_config.py): 'timestamp' (default: nbgrader's timestamp.txt in the submission), "
                        "'mtime' (else the notebook file's time) or a CSV from the LMS with a student id column "
                        "and a submission time column")
    p.add_argument("-p", "--parameter", dest="parameters", nargs=2, action="append", metavar=("NAME", "VALUE"),
                   help="run the notebook with this value of a name its 'parameters' cell sets (papermill's -p; "
                        "repeat it for several), e.g. -p SEED 7 to grade with the seed the hidden tests are meant "
                        "to use; numbers are read as numbers")

    p = sub.add_parser("report", help="write an HTML class report from a graded batch",
                       description="Write one HTML page on how the class did: isolation in force, scores, every "
                                   "part's pass rate, and a row per student linking to their feedback page. "
                                   "Example: autograder report graded/03")
    p.add_argument("out_dir", type=Path, metavar="OUT_DIR", help="the --out folder of `autograder grade`")
    p.add_argument("--html", type=Path, help="where to write it (default: OUT_DIR/report.html)")

    p = sub.add_parser("check", help="run a notebook's visible tests locally, as the release has them",
                       description="Run NOTEBOOK's visible tests the way grading runs them and print each part. "
                                   "Exits 0 only when every visible test passed (1 otherwise), so a CI job can use "
                                   "it. Example: autograder check 01-problem-framing/01-problem-framing.ipynb")
    p.add_argument("notebook", type=Path, metavar="NOTEBOOK")
    p.add_argument("--release", type=Path, metavar="DIR",
                   help="the course folder (or its release/ folder) the notebook belongs to "
                        "(default: found from the notebook, or $AUTOGRADER_RELEASE)")
    p.add_argument("--cell-timeout", type=_positive(float), default=DEFAULTS.cell_timeout,
                   help=f"seconds per cell (default {DEFAULTS.cell_timeout:g})")

    p = sub.add_parser("fetch", help="copy an assignment into a work folder of your own (never replaces your files)",
                       description="Copy a released assignment to DIR/ASSIGNMENT/ (default: ./ASSIGNMENT/), like "
                                   "nbgrader's fetch. Files you already have are kept, never replaced. Example: "
                                   "autograder fetch 01-problem-framing")
    p.add_argument("assignment", nargs="?", metavar="ASSIGNMENT", help="omit it to list the assignments")
    p.add_argument("--into", type=Path, default=Path("."), metavar="DIR", help="where to put it (default: here)")
    p.add_argument("--release", type=Path, metavar="DIR",
                   help="the course folder or release folder to fetch from (default: the installed course)")

    p = sub.add_parser("student-dist", help="build the student distribution: release, course package, data, install "
                                            "file; no source, no hidden tests",
                       description="Write a pip-installable folder for students (its own pyproject.toml): the released "
                                   "assignments and the data inside the `course` package, and the `autograder` "
                                   "command for `fetch` and `check`. Refuses to write anything that shows a line of a "
                                   "solution or hidden test. Example: autograder student-dist --out dist/student")
    p.add_argument("assignments", nargs="*", metavar="ASSIGNMENT", help="default: every assignment")
    p.add_argument("--out", type=Path, required=True, metavar="DIR", help="the folder to write (replaced if it was "
                                                                          "built by this command; its .git is kept)")

    p = sub.add_parser("gradescope", help="build the zip for a Gradescope programming assignment's autograder",
                       description="Write the autograder zip Gradescope takes (setup.sh, run_autograder, the student "
                                   "distribution, the hidden tests without solutions). Each part's visible tests show "
                                   "at once; its score from all tests shows per --hidden-visibility. Example: "
                                   "autograder gradescope 03-metrics-and-baselines --out gradescope-03.zip")
    p.add_argument("assignment", metavar="ASSIGNMENT")
    p.add_argument("--out", type=Path, required=True, metavar="ZIP", help="the zip to write")
    p.add_argument("--hidden-visibility", default="after_due_date",
                   choices=("hidden", "after_due_date", "after_published", "visible"),
                   help="when students see the score of each part (all tests) and their total "
                        "(default: after_due_date)")
    p.add_argument("--cell-timeout", type=_positive(float), help="seconds per cell when grading (grade's default)")
    p.add_argument("--timeout", type=_positive(float), help="seconds per notebook when grading (grade's default); "
                                                            "Gradescope's own timeout must cover two runs")
    p.add_argument("--memory-limit", type=_size, help="per notebook, e.g. 4G (grade's default)")
    p.add_argument("--no-namespaces", action="store_true", help="grade without bubblewrap")
    p.add_argument("--sandbox-user", help="user the kernel runs as (grade's default: nobody; '' for none)")

    p = sub.add_parser("classroom", help="lay out a GitHub Classroom student repository for an assignment",
                       description="Write a repository for students (use it as the assignment's template): the "
                                   "student distribution of the assignment, the work folder ASSIGNMENT/, and a "
                                   "workflow that runs the visible tests on each push and reports the points to "
                                   "GitHub Classroom. No solution or hidden test goes in. Example: "
                                   "autograder classroom 01-problem-framing --out classroom/01")
    p.add_argument("assignment", metavar="ASSIGNMENT")
    p.add_argument("--out", type=Path, required=True, metavar="DIR",
                   help="the folder to write (replaced if it was written by this command; its .git is kept)")

    p = sub.add_parser("classroom-result", help="(in a Classroom workflow) check a notebook and write each part's "
                                                "points for GitHub Classroom's reporter",
                       description="Run the visible tests on NOTEBOOK, as `check` does, and append one output per "
                                   "part (part01, part02, ...) to $GITHUB_OUTPUT in the format GitHub Classroom's "
                                   "autograding reporter reads. Exits 0 whenever the parts were reported. Example: "
                                   "autograder classroom-result 01-problem-framing/01-problem-framing.ipynb "
                                   "--assignment 01-problem-framing")
    p.add_argument("notebook", type=Path, metavar="NOTEBOOK")
    p.add_argument("--assignment", required=True, metavar="ASSIGNMENT", help="the assignment NOTEBOOK belongs to")
    p.add_argument("--output", metavar="FILE", help="where to append the outputs (default: $GITHUB_OUTPUT, or print)")
    p.add_argument("--release", type=Path, metavar="DIR", help="the release to check against (default: installed)")

    p = sub.add_parser("lms-export", help="write a graded batch's scores in Canvas's or Moodle's gradebook import format",
                       description="Read OUT_DIR/grades.csv and write a CSV the LMS's gradebook imports, with each "
                                   "student's LMS identity taken from a roster (a CSV with the grader's student id "
                                   "and the LMS's columns; the LMS's own gradebook export works). Example: autograder "
                                   "lms-export graded/03 --lms canvas --roster canvas-export.csv --id-column "
                                   "'SIS Login ID'")
    p.add_argument("out_dir", type=Path, metavar="OUT_DIR", help="the --out folder of `autograder grade`")
    p.add_argument("--lms", required=True, choices=("canvas", "moodle"), help="the LMS whose import format to write")
    p.add_argument("--roster", type=Path, required=True, metavar="CSV",
                   help="one row per student: the grader's student id and the LMS's columns (Canvas: Student, ID, "
                        "SIS User ID, SIS Login ID, Section; Moodle: Email address, ID number or Username)")
    p.add_argument("--id-column", default="student_id", help="the roster column holding the grader's student ids "
                                                            "(default: student_id)")
    p.add_argument("--lms-id-column", help="Moodle: the roster column Moodle matches users by (default: Email address, "
                                           "ID number, Username or User ID, the first the roster has)")
    p.add_argument("--title", help="the grade column's title (default: the assignment); Canvas: `Title (id)` fills an "
                                   "existing assignment")
    p.add_argument("--score-column", default="total_score",
                   help="the grades.csv column to export (default: total_score, the whole grade: autograded and "
                        "hand-given points after any late penalty; `score` for the autograded points only)")
    p.add_argument("--points-possible", type=_positive(float),
                   help="Canvas: points of a new assignment (default: the batch's total_max_score, or max_score "
                        "with --score-column score)")
    p.add_argument("--skip-unmatched", action="store_true", help="leave out graded students missing from the roster")
    p.add_argument("--output", type=Path, metavar="CSV", help="default: OUT_DIR/<lms>-grades.csv")
    from autograder import handgrade_cli

    handgrade_cli.add_parsers(sub)
    for command in sub.choices.values():  # `autograder grade ... --course DIR` works too
        command.add_argument("--course", type=Path, default=argparse.SUPPRESS,
                             help="course root (default: found from the working directory)")
    return parser


def _course(args):
    from autograder.layout import Course, find_course

    return Course(args.course.resolve()) if args.course else find_course()


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        if args.command == "release":
            from autograder.release import release

            course = _course(args)
            warnings: list[str] = []
            for path in release(course, args.assignments or None, overwrite=args.overwrite, warnings=warnings):
                print(f"released {path.relative_to(course.root)}")
            if warnings:
                print(f"{len(warnings)} warning(s) about nbgrader habits this course's own rules refuse; "
                      "`autograder lint` lists them", file=sys.stderr)
            return 0
        if args.command == "lint":
            from autograder.release import load_source

            course = _course(args)
            found: list[str] = []
            for assignment in args.assignments or course.assignments():
                course.check_assignment(assignment)
                for name in course.notebooks(assignment):
                    load_source(course.with_notebook(name), assignment, found)
            for line in found:
                print(f"warning: {line}")
            print(f"{len(found)} warning(s); errors would have stopped here with exit code 2")
            return 0
        if args.command == "grade":
            from autograder.usage import check_db_url, check_submissions_folder

            course = _course(args)
            course.check_assignment(args.assignment)  # these first: a typo is reported at once
            check_submissions_folder(args.submissions)
            check_db_url(args.db_url)
            from autograder import parameters
            from autograder.grade import GradeOptions, grade_assignment, print_table

            dask_tls = None
            if args.dask_tls_ca_file or args.dask_tls_cert or args.dask_tls_key:
                from autograder.cluster import DaskTLS

                if not (args.dask_tls_ca_file and args.dask_tls_cert):
                    raise UsageError("TLS needs both --dask-tls-ca-file and --dask-tls-cert (and --dask-tls-key "
                                     "unless the key is in the certificate file)")
                dask_tls = DaskTLS(args.dask_tls_ca_file, args.dask_tls_cert, args.dask_tls_key)
            from autograder.nbgrader_course import cell_timeout

            config = kernel_config(args.cell_timeout or cell_timeout(course.root), args.timeout, args.memory_limit,
                                   args.output_limit)
            options = GradeOptions(workers=args.workers, db_url=args.db_url, config=config, force=args.force,
                                   dask_address=args.dask_address, dask_tls=dask_tls,
                                   dask_insecure=args.dask_insecure,
                                   sandbox_user=args.sandbox_user or None, use_namespaces=not args.no_namespaces,
                                   progress=not args.quiet, times=args.times,
                                   parameters=parameters.from_pairs(args.parameters))
            out = args.out or Path("out") / args.assignment
            warn = (lambda msg: print(msg, file=sys.stderr))
            log = (lambda *a, **k: None) if args.quiet else warn
            names = course.notebooks(args.assignment)
            for name in names:  # an nbgrader assignment may have several notebooks: each is graded on its own
                where = out if len(names) == 1 else out / Path(name).stem
                results = grade_assignment(course.with_notebook(name), args.assignment, args.submissions, where,
                                           options, log=log, roster_file=args.roster, warn=warn)
                print_table(results)
                print(f"\nwrote {where}/grades.csv, {where}/results/, {where}/feedback/")
            return 0
        if args.command == "report":
            from autograder.report import write_report

            print(f"wrote {write_report(args.out_dir, args.html)}")
            return 0
        if args.command == "check":
            from autograder.check import check_notebook, print_report

            release = args.release or (args.course.resolve() if args.course else None)
            report = check_notebook(args.notebook, kernel_config(args.cell_timeout), release=release)
            print_report(report)
            tests = [p for p in report.parts if p.kind == "test"]
            return 0 if all(p.passed for p in tests) else 1
        if args.command == "fetch":
            from autograder.distribution import fetch
            from autograder.layout import find_release

            release = args.release or (args.course.resolve() if args.course else None)
            found = find_release(Path.cwd() / "fetch", release)
            if not args.assignment:
                print(f"assignments in {found.folder}:")
                for name in found.assignments():
                    print(f"  {name}")
                return 0
            fetched = fetch(found, args.assignment, args.into)
            for name in fetched.kept:
                print(f"kept your {name} (already there; delete it to get the released one)")
            print(f"fetched {args.assignment} into {fetched.folder} ({len(fetched.copied)} new file(s))")
            notebook = fetched.folder / f"{args.assignment}.ipynb"
            print(f"open {notebook} in JupyterLab; check it with: autograder check {notebook}")
            return 0
        if args.command == "student-dist":
            from autograder.distribution import build_distribution

            dist = build_distribution(_course(args), args.out, args.assignments or None)
            print(f"wrote the student distribution of {', '.join(dist.assignments)} to {dist.folder} "
                  f"({len(dist.files)} files; students install it with `pip install {dist.folder}`)")
            return 0
        if args.command == "gradescope":
            from autograder.platforms.gradescope import BundleOptions, build_bundle, hand_graded_parts

            grade_args = []
            for flag, value in (("--cell-timeout", args.cell_timeout), ("--timeout", args.timeout),
                                ("--memory-limit", args.memory_limit), ("--sandbox-user", args.sandbox_user)):
                if value is not None:
                    grade_args.append(f"{flag}={value}")
            if args.no_namespaces:
                grade_args.append("--no-namespaces")
            course = _course(args)
            out = build_bundle(course, args.assignment, args.out,
                               BundleOptions(hidden_visibility=args.hidden_visibility, grade_args=grade_args))
            print(f"wrote {out}: upload it as the autograder of a Gradescope programming assignment")
            hand = hand_graded_parts(course, args.assignment)
            if hand:
                print("the autograder's score leaves out the parts graded by hand; add a manually graded question "
                      "for each (Edit Outline):")
                for notebook, part, points in hand:
                    print(f"  {notebook} {part}: {points:g} point{'' if points == 1 else 's'}")
            return 0
        if args.command == "classroom":
            from autograder.platforms.classroom import layout_repository

            out = layout_repository(_course(args), args.assignment, args.out)
            print(f"wrote {out}: push it to GitHub, mark it as a template repository and use it as the starter code "
                  "of the Classroom assignment")
            return 0
        if args.command == "classroom-result":
            from autograder.platforms.classroom import run_result_step

            return run_result_step(args.notebook, args.assignment, args.output, args.release)
        if args.command == "lms-export":
            from autograder.platforms.lms import HOW_TO_IMPORT, export, write

            result = export(args.out_dir, args.lms, args.roster, id_column=args.id_column, title=args.title,
                            score_column=args.score_column, points_possible=args.points_possible,
                            lms_id_column=args.lms_id_column, skip_unmatched=args.skip_unmatched)
            path = write(result.text, args.output or args.out_dir / f"{args.lms}-grades.csv")
            for student in result.unmatched:
                print(f"left out (not on the roster): {student}", file=sys.stderr)
            for warning in result.warnings:
                print(f"warning: {warning}", file=sys.stderr)
            print(f"wrote {path} ({result.rows} students). {HOW_TO_IMPORT[args.lms]}")
            return 0
        if args.command in ("formgrader", "handgrade"):
            from autograder import handgrade_cli

            return handgrade_cli.run(args, lambda: _course(args))
    except InfrastructureError as error:
        print(f"autograder: infrastructure failure: {error}", file=sys.stderr)
        return 3
    except AutograderError as error:
        print(f"autograder: error: {error}", file=sys.stderr)
        return 2
    return 1


if __name__ == "__main__":
    sys.exit(main())
