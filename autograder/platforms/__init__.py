"""The platforms courses already use: Gradescope (gradescope.py), GitHub Classroom (classroom.py),
and the gradebooks of Canvas and Moodle (lms.py). Each builds on the CLI contract (`autograder
grade` / `autograder check`) and on the student distribution (distribution.py)."""
