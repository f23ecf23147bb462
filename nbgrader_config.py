# nbgrader configuration for this course. The `autograder` command drives nbgrader's
# preprocessors itself; this file is for instructors who also use nbgrader's own tools
# (formgrader, JupyterLab's Create Assignment / Validate buttons) on the same folders.
# Hand grading works on a graded output folder instead, which has its own nbgrader_config.py
# (its gradebook, its autograded/ notebooks): `autograder formgrader OUT_DIR` serves it.
c = get_config()  # noqa: F821 - provided by nbgrader

c.CourseDirectory.root = "."
c.CourseDirectory.source_directory = "source"
c.CourseDirectory.release_directory = "release"
c.CourseDirectory.submitted_directory = "submitted"
c.CourseDirectory.autograded_directory = "autograded"
c.CourseDirectory.feedback_directory = "feedback"
c.CourseDirectory.db_url = "sqlite:///gradebook.db"

c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}
c.ClearSolutions.text_stub = "YOUR ANSWER HERE"
c.Execute.timeout = 120
