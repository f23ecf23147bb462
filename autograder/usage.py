"""Quick checks of a command's arguments, run before anything heavy is imported, so a typo is
reported in a fraction of a second with what to do (not after the notebook engine has loaded,
and never as a traceback)."""
from __future__ import annotations

from pathlib import Path

from autograder.errors import UsageError

LAYOUTS = ("SUBMISSIONS/<student_id>/<notebook>.ipynb, SUBMISSIONS/<student_id>/<assignment>/<notebook>.ipynb "
           "(nbgrader's submitted/ layout), SUBMISSIONS/<student_id>.zip or SUBMISSIONS/<student_id>.ipynb")
_SKIP = {".ipynb_checkpoints", "__pycache__", ".git", "__MACOSX"}  # as collect.SKIP_PARTS


def check_submissions_folder(folder: Path) -> None:
    """A SUBMISSIONS folder that exists and holds at least one entry that could be a submission."""
    folder = Path(folder)
    if not folder.is_dir():
        raise UsageError(f"submissions folder {folder} does not exist or is not a folder; expected layouts: {LAYOUTS}")
    entries = [p for p in folder.iterdir() if not p.name.startswith(".") and p.name not in _SKIP
               and (p.is_dir() or p.suffix.lower() in (".zip", ".ipynb"))]
    if not entries:
        raise nothing_gradable(folder, sorted(p.name for p in folder.iterdir()))


def nothing_gradable(folder: Path, found: list[str]) -> UsageError:
    """The one message for a SUBMISSIONS folder without a submission (here, or after collecting)."""
    return UsageError(f"nothing gradable found: 0 submissions found in {folder}; expected layouts: {LAYOUTS}"
                      + (f" (found only: {', '.join(found[:5])})" if found else " (the folder is empty)"))


def check_db_url(url: str | None) -> None:
    """A gradebook URL SQLAlchemy can use (its form and its database driver)."""
    if not url:
        return
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError, NoSuchModuleError

    example = "e.g. sqlite:///gradebook.db or postgresql+psycopg://user@host/dbname"
    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError):
        raise UsageError(f"--db {url!r} is not a database URL; {example}") from None
    try:
        parsed.get_dialect()
    except (NoSuchModuleError, ImportError) as error:
        raise UsageError(f"--db {parsed.render_as_string(hide_password=True)}: no database driver for "
                         f"{parsed.drivername!r} ({error}); {example}") from None
