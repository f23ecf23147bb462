"""Exceptions the autograder raises for problems a person must fix.

Each message says what was wrong and what to do. The command line prints them without a traceback
and exits with status 2. Problems with a *submission* are never exceptions: they become a row in
the results with a status and a reason (see results.py).
"""
import errno


class AutograderError(Exception):
    """Base class: a problem with how the grader was asked to run."""


class UsageError(AutograderError):
    """Bad arguments, missing course files, unknown assignment."""


class ReleaseLeakError(AutograderError):
    """A generated release would carry solutions, hidden tests or outputs."""


class SourceNotebookError(AutograderError):
    """A source notebook breaks the course's authoring rules (ids, points, cell types)."""


class FolderBusyError(UsageError):
    """Another batch is writing the same output folder."""


class InfrastructureError(AutograderError):
    """Something the grader relies on failed (database, disk, file system, kernels): not a
    student's fault and not a bug. What was graded is kept; rerunning the same command finishes
    the rest. The command line exits with status 3."""


# What a full, read-only or failing disk raises (an output folder the grader cannot write).
DISK_ERRORS = {errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES, errno.EPERM, errno.EIO, errno.EFBIG}


def disk_failure(error: OSError, out_dir, graded: int = 0, left: int = 0) -> InfrastructureError:
    """One line for an output folder that could not be written: what failed, what was kept, what to do."""
    where = f" ({error.filename})" if error.filename else ""
    rest = f"; run the same command again to grade the remaining {left}" if left else "; run the same command again"
    return InfrastructureError(
        f"could not write to {out_dir}: {error.strerror or error}{where}. {graded} result(s) graded in this run "
        f"were kept. Free space or make the folder writable{rest}.")


class OverwriteError(AutograderError):
    """A command would overwrite files someone edited (a student's work in release/, say)."""
