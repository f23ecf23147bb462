"""Collecting submissions: links at the top of SUBMISSIONS are refused, and no reason quotes a file."""
from __future__ import annotations

import os

import pytest

from autograder import results as R
from autograder.collect import collect
from autograder.notebook_file import parse_notebook

SECRET = "root:x:0:0:TOP-SECRET-LINE"


@pytest.fixture
def outside(tmp_path):
    target = tmp_path / "elsewhere"
    target.mkdir()
    (target / "passwd").write_text(SECRET + "\n")
    (target / "folder").mkdir()
    (target / "folder" / "00-mini.ipynb").write_text("{}")
    return target


def test_a_link_at_the_top_of_submissions_is_refused_with_a_row(tmp_path, outside):
    subs = tmp_path / "subs"
    subs.mkdir()
    os.symlink(outside / "passwd", subs / "s073.ipynb")
    os.symlink(outside / "folder", subs / "s074")
    found = {s.student_id: s for s in collect(subs, "00-mini", "00-mini.ipynb")}
    assert set(found) == {"s073", "s074"}, "each link still gets a row"
    for sub in found.values():
        assert sub.notebook is None and sub.files == {}, "nothing behind a link is read"
        status, reason = sub.problem
        assert status == R.INVALID_NOTEBOOK and "link" in reason and SECRET not in reason


def test_an_unreadable_notebook_reason_never_quotes_its_content():
    with pytest.raises(ValueError) as info:
        parse_notebook((SECRET + "\n").encode())
    assert SECRET not in str(info.value) and "root" not in str(info.value)
    assert "JSON" in str(info.value) and "line 1" in str(info.value), str(info.value)
