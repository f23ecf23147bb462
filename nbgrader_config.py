# nbgrader configuration for this course. The `autograder` command drives nbgrader's
# preprocessors itself; this file is for instructors who also use nbgrader's own tools
# (formgrader, JupyterLab's Create Assignment / Validate buttons) on the same folders.
# Hand grading works on a graded output folder instead, which has its own nbgrader_config.py
# (its gradebook, its autograded/ notebooks): `autograder formgrader OUT_DIR` serves it.
c = get_config()  # noqa: F821 - provided by nbgrader
# CourseDirectory.root is the folder nbgrader runs in (its default): setting it to "." only makes
# nbgrader warn that the path is not absolute.

c.CourseDirectory.source_directory = "source"
c.CourseDirectory.release_directory = "release"
c.CourseDirectory.submitted_directory = "submitted"
c.CourseDirectory.autograded_directory = "autograded"
c.CourseDirectory.feedback_directory = "feedback"
c.CourseDirectory.db_url = "sqlite:///gradebook.db"

c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}
c.ClearSolutions.text_stub = "YOUR ANSWER HERE"
c.Execute.timeout = 120

# Late work (read by `autograder grade`; see the README). Uncomment and fill in per term:
# c.Autograder.due_dates = {"01-problem-framing": "2027-02-05 17:00"}
# c.Autograder.timezone = "UTC"            # for due dates written without a zone
# c.Autograder.late_policy = "per_day"     # none, per_hour, per_day or zero_after
# c.Autograder.late_penalty = 10           # per started hour or day late
# c.Autograder.late_penalty_unit = "percent"  # points (default) or percent of the maximum
# c.Autograder.late_cutoff_hours = 72      # zero when later than this
