"""Where the course's bundled data lives.

The `datasets/` folder at the top of the repository holds small data files with their provenance,
license and sha256. Notebooks never spell a path: they call `dataset_path("penguins.csv")`, which
works from any working directory. Set the environment variable COURSE_DATA_DIR to use a copy of
the data somewhere else (a read-only mount on a grading machine, for instance).

A student distribution (see `autograder student-dist`) installs this package with the data and the
released assignments inside it, in `course/materials/`, since it has no repository around it.
"""
from __future__ import annotations

import hashlib
import os
from pathlib import Path

ENV_VAR = "COURSE_DATA_DIR"
_PACKAGE_ROOT = Path(__file__).resolve().parent.parent
# Where a student distribution puts the data and the release, inside the installed package.
MATERIALS = Path(__file__).resolve().parent / "materials"


def data_dir() -> Path:
    """Return the folder that holds the course's data files.

    COURSE_DATA_DIR wins when it is set; otherwise the repository's own `datasets/` folder, or the
    copy a student distribution installs with the package.

    Returns
    -------
    pathlib.Path
        The folder.

    Raises
    ------
    FileNotFoundError
        COURSE_DATA_DIR is set to something that is not a folder.
    """
    override = os.environ.get(ENV_VAR)
    if override:
        path = Path(override).expanduser()
        if not path.is_dir():
            raise FileNotFoundError(
                f"{ENV_VAR} points to {str(path)!r}, which is not a folder. "
                f"Unset {ENV_VAR} to use the course's own datasets/ folder, or point it at a copy of it."
            )
        return path
    repository = _PACKAGE_ROOT / "datasets"
    if not repository.is_dir() and (MATERIALS / "datasets").is_dir():
        return MATERIALS / "datasets"
    return repository


def dataset_path(name: str) -> Path:
    """Return the path of the bundled data file ``name``, with a clear error when it is missing.

    Parameters
    ----------
    name : str
        A file name relative to :func:`data_dir`, such as ``"penguins.csv"``.

    Returns
    -------
    pathlib.Path
        The file's path.

    Raises
    ------
    ValueError
        ``name`` is not a relative file name.
    FileNotFoundError
        No such file; the message lists the files there are.
    """
    if not isinstance(name, str) or not name or os.path.isabs(name) or ".." in Path(name).parts:
        raise ValueError(f"dataset name must be a relative file name such as 'penguins.csv', got {name!r}")
    path = data_dir() / name
    if not path.exists():
        available = sorted(p.name for p in data_dir().iterdir() if p.is_file() and not p.name.startswith("."))
        raise FileNotFoundError(
            f"no data file {name!r} in {data_dir()}; available: {', '.join(available) or '(none)'}"
        )
    return path


def sha256_of(path: os.PathLike | str) -> str:
    """The sha256 hex digest of a file, as recorded in datasets/README.md.

    Parameters
    ----------
    path : str or os.PathLike
        The file.

    Returns
    -------
    str
        64 hexadecimal digits.
    """
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
