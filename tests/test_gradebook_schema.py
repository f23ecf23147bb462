"""A new gradebook is created the way nbgrader creates one, without a second Python."""
from __future__ import annotations

import os
import sqlite3
import sys

import nbformat
import pytest

from autograder.gradebook import GradebookWriter
from autograder.release import load_source
from tests import minicourse as M


@pytest.fixture
def source(tmp_path):
    return load_source(M.build(tmp_path / "course"), M.ASSIGNMENT)


def test_a_new_gradebook_is_stamped_with_nbgrader_s_revision_without_running_alembic(tmp_path, source, monkeypatch):
    import nbgrader.api

    ran = []
    monkeypatch.setattr(nbgrader.api, "get_alembic_version", lambda: ran.append("alembic heads") or "0")
    db = tmp_path / "gradebook.db"
    GradebookWriter(f"sqlite:///{db}").register(M.ASSIGNMENT, M.ASSIGNMENT, source)
    assert ran == [], "nbgrader's `alembic heads` command was run for a new gradebook"
    monkeypatch.undo()
    # the same revision nbgrader itself stamps (it asks the `alembic` command installed beside Python)
    os.environ["PATH"] = os.path.dirname(sys.executable) + os.pathsep + os.environ["PATH"]
    with sqlite3.connect(db) as connection:
        stamped = connection.execute("SELECT version_num FROM alembic_version").fetchall()
    assert stamped == [(nbgrader.api.get_alembic_version(),)]
    with nbgrader.api.Gradebook(f"sqlite:///{db}") as gb:  # nbgrader opens it as one of its own
        assert [nb.name for nb in gb.find_assignment(M.ASSIGNMENT).notebooks] == [M.ASSIGNMENT]


def test_an_existing_gradebook_is_left_as_it_is(tmp_path, source):
    db = tmp_path / "gradebook.db"
    writer = GradebookWriter(f"sqlite:///{db}")
    writer.register(M.ASSIGNMENT, M.ASSIGNMENT, source)
    with sqlite3.connect(db) as connection:
        connection.execute("UPDATE alembic_version SET version_num = 'kept'")
    writer.register(M.ASSIGNMENT, M.ASSIGNMENT, nbformat.from_dict(source))
    with sqlite3.connect(db) as connection:
        assert connection.execute("SELECT version_num FROM alembic_version").fetchall() == [("kept",)]
