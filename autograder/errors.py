"""Exceptions the autograder raises for problems a person must fix.

Each message says what was wrong and what to do. The command line prints them without a traceback
and exits with status 2. Problems with a *submission* are never exceptions: they become a row in
the results with a status and a reason (see results.py).
"""


class AutograderError(Exception):
    """Base class: a problem with how the grader was asked to run."""


class UsageError(AutograderError):
    """Bad arguments, missing course files, unknown assignment."""


class ReleaseLeakError(AutograderError):
    """A generated release would carry solutions, hidden tests or outputs."""


class SourceNotebookError(AutograderError):
    """A source notebook breaks the course's authoring rules (ids, points, cell types)."""


class OverwriteError(AutograderError):
    """A command would overwrite files someone edited (a student's work in release/, say)."""
