"""The vendored Palmer penguins file and its loader."""
from __future__ import annotations

import re
import shutil

import numpy as np
import pandas as pd
import pytest

from course import dataset_path
from course.paths import sha256_of
from course.penguins import CATEGORICAL_COLUMNS, COLUMNS, NUMERIC_COLUMNS, load_penguins

ROOT = dataset_path("penguins.csv").parent.parent


def _readme_row(name: str) -> list[str]:
    text = (ROOT / "datasets" / "README.md").read_text(encoding="utf-8")
    for line in text.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if cells and cells[0].strip("`") == name:
            return cells
    raise AssertionError(f"datasets/README.md has no row for {name}")


def test_sha256_matches_the_readme():
    row = _readme_row("penguins.csv")
    recorded = row[-1].strip("`")
    assert re.fullmatch(r"[0-9a-f]{64}", recorded), f"the README's sha256 cell is not a hex digest: {row[-1]!r}"
    assert sha256_of(dataset_path("penguins.csv")) == recorded


def test_readme_row_names_provenance_and_license():
    row = _readme_row("penguins.csv")
    assert "palmerpenguins" in row[1] and "CC0" in row[2]


def test_shape_types_and_missing_values():
    frame = load_penguins()
    assert tuple(frame.columns) == COLUMNS and frame.shape == (344, 8)
    assert list(frame.index) == list(range(344))
    for column in NUMERIC_COLUMNS:
        assert frame[column].dtype == np.float64
        assert frame[column].isna().sum() == 2
    for column in CATEGORICAL_COLUMNS:
        assert frame[column].dtype == object
        assert all(isinstance(v, str) for v in frame[column].dropna())
    assert frame["year"].dtype == np.int64
    assert frame["sex"].isna().sum() == 11
    assert frame["species"].isna().sum() == 0
    assert frame["species"].value_counts().to_dict() == {"Adelie": 152, "Gentoo": 124, "Chinstrap": 68}
    # a missing value is a real NaN that scikit-learn's imputers recognise, not the text "NA"
    assert not (frame[list(CATEGORICAL_COLUMNS)] == "NA").any().any()


def test_drop_na():
    frame = load_penguins(drop_na=True)
    assert frame.shape == (333, 8) and not frame.isna().any().any()
    assert list(frame.index) == list(range(333))


def test_loads_from_any_working_directory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert load_penguins().shape == (344, 8)


def test_data_dir_override_and_corrupt_file(tmp_path, monkeypatch):
    original = load_penguins()
    shutil.copy(dataset_path("penguins.csv"), tmp_path / "penguins.csv")
    monkeypatch.setenv("COURSE_DATA_DIR", str(tmp_path))
    assert dataset_path("penguins.csv").parent == tmp_path
    pd.testing.assert_frame_equal(load_penguins(), original)
    (tmp_path / "penguins.csv").write_text("a,b\n1,2\n", encoding="utf-8")
    with pytest.raises(ValueError, match="vendored penguins file"):
        load_penguins()
