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


def test_another_notebook_of_the_same_assignment_is_not_graded_in_place_of_a_missing_one(tmp_path):
    """An nbgrader assignment of two notebooks, p1 and p2: a student who submitted only p1.ipynb
    has not submitted p2 (p1 is not a renamed copy of it); a lone notebook of another name still is."""
    from autograder.collect import scan

    (tmp_path / "kim").mkdir()
    (tmp_path / "kim" / "p1.ipynb").write_text("{}")
    (tmp_path / "lee").mkdir()
    (tmp_path / "lee" / "my work.ipynb").write_text("{}")
    found = {s.student_id: s for s in scan(tmp_path, "ps1", "p2.ipynb", others={"p1.ipynb"}).submissions}
    assert found["kim"].problem[0] == R.MISSING_NOTEBOOK and "p2.ipynb" in found["kim"].problem[1]
    assert "p1.ipynb is another notebook of the assignment" in found["kim"].problem[1]
    assert found["lee"].problem is None and found["lee"].notebook == b"{}"
