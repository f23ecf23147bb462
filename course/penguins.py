"""The Palmer penguins data: a small, real table with missing values.

344 penguins of three species measured on three islands near Palmer Station, Antarctica
(Gorman, Williams & Fraser 2014; packaged by Horst, Hill & Gorman; CC0). It is vendored in
``datasets/penguins.csv`` (provenance, license and sha256 in ``datasets/README.md``), so nothing is
downloaded.

Why this table: it is real and it has gaps. Two penguins have no measurements at all and eleven
have no recorded sex, which is exactly what a feature pipeline has to cope with.

    from course.penguins import load_penguins
    penguins = load_penguins()
    penguins.shape                  # (344, 8)
    penguins.isna().sum()["sex"]    # 11

Columns: ``species``, ``island``, ``sex`` (text, missing values are NaN), ``bill_length_mm``,
``bill_depth_mm``, ``flipper_length_mm``, ``body_mass_g`` (float, missing values are NaN) and
``year`` (int).
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from course.paths import dataset_path

__all__ = ["FILE_NAME", "COLUMNS", "NUMERIC_COLUMNS", "CATEGORICAL_COLUMNS", "load_penguins"]

FILE_NAME = "penguins.csv"
CATEGORICAL_COLUMNS = ("species", "island", "sex")
NUMERIC_COLUMNS = ("bill_length_mm", "bill_depth_mm", "flipper_length_mm", "body_mass_g")
COLUMNS = ("species", "island", "bill_length_mm", "bill_depth_mm", "flipper_length_mm",
           "body_mass_g", "sex", "year")
N_ROWS = 344


def load_penguins(drop_na: bool = False) -> pd.DataFrame:
    """Return the penguins table, one row per penguin, index 0..343.

    Parameters
    ----------
    drop_na : bool
        Drop every row with a missing value (333 rows remain). The default keeps them: handling
        missing values is part of the exercise.

    Returns
    -------
    pandas.DataFrame
        The columns :data:`COLUMNS`. Text columns are plain Python objects (``str`` values, ``NaN``
        where missing), which every scikit-learn transformer accepts; measurements are float64 and
        ``year`` is int64.
    """
    path = dataset_path(FILE_NAME)
    frame = pd.read_csv(path, na_values=["NA"], keep_default_na=False)
    if tuple(frame.columns) != COLUMNS or len(frame) != N_ROWS:
        raise ValueError(
            f"{path} does not look like the vendored penguins file (columns {list(frame.columns)}, "
            f"{len(frame)} rows; expected {list(COLUMNS)} and {N_ROWS} rows). Restore it from git."
        )
    for column in CATEGORICAL_COLUMNS:
        values = frame[column].astype(object)
        frame[column] = values.where(values.notna(), np.nan)
    for column in NUMERIC_COLUMNS:
        frame[column] = frame[column].astype("float64")
    frame["year"] = frame["year"].astype("int64")
    if drop_na:
        frame = frame.dropna().reset_index(drop=True)
    return frame
