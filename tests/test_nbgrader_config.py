"""The course's own nbgrader_config.py, as nbgrader's tools (formgrader, Create Assignment) load it."""
import logging
from pathlib import Path

from nbgrader.coursedir import CourseDirectory
from traitlets.config.loader import PyFileConfigLoader

ROOT = Path(__file__).resolve().parent.parent


def test_nbgrader_loads_the_course_config_without_warnings(tmp_path, monkeypatch, caplog):
    monkeypatch.chdir(ROOT)  # nbgrader's tools run in the course folder
    config = PyFileConfigLoader("nbgrader_config.py", path=str(ROOT)).load_config()
    log = logging.getLogger("nbgrader-config-test")
    with caplog.at_level(logging.WARNING, logger=log.name):
        course = CourseDirectory(config=config, log=log)
        assert course.root == str(ROOT)
        assert course.source_directory == "source" and course.release_directory == "release"
    assert caplog.records == [], [record.getMessage() for record in caplog.records]
