"""Late work: due dates, submission times and the late policy.

The course config (nbgrader_config.py) holds the due date of each assignment and the policy:

    c.Autograder.due_dates = {"01-problem-framing": "2027-02-05 17:00"}
    c.Autograder.timezone = "Europe/Berlin"   # for due dates written without a zone (default UTC)
    c.Autograder.late_policy = "per_day"      # none | per_hour | per_day | zero_after
    c.Autograder.late_penalty = 10            # per started hour/day late ...
    c.Autograder.late_penalty_unit = "percent"  # ... in points (default) or percent of the whole maximum
    c.Autograder.late_cutoff_hours = 72       # zero after this many hours late (zero_after: default 0)

nbgrader's own settings are honoured when these are absent: `LateSubmissionPlugin.penalty_method =
"zero"` (zero when late at all) and `AssignLatePenalties.plugin_class = "...SubMarks"` with
`SubMarks.penalty_per_hour`.

When was a submission handed in? In order: a CSV from the LMS (`grade --times CSV`), nbgrader's
`timestamp.txt` in the submission, or (only with `--times mtime`) the notebook file's modification
time. A submission with no known time is never counted late, and its row says so.

**One rule for the whole grade** (nbgrader's: its late plugin is given the notebook's score, hand-given
points included, and the penalty is never more than that score): the penalty is computed on every
point earned, autograded and given by hand, and taken off the total. Zero after the cut-off is
zero, hand points included; a penalty in percent is a share of the assignment's whole maximum
(autograded and by hand) per started hour or day. The penalty changes as hand grades arrive (it is
never more than what was earned) and every output shows it: grades.csv (`late_penalty`,
`total_score`, and `score`, the autograded points after it: the penalty comes off those first),
results json, the feedback page, the gradebook's `late_submission_penalty` and the LMS export.
The late facts are stored with each result
(`SubmissionResult.late`), so a change of due date, policy or time makes the result stale and it
is graded again.
"""
from __future__ import annotations

import csv
import math
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path

from autograder.errors import UsageError

METHODS = ("none", "per_hour", "per_day", "zero_after")
UNITS = ("points", "percent")
# Column names an LMS export may use for the submission time and the student.
TIME_COLUMNS = ("submitted_at", "submitted", "submission_time", "timestamp", "Last modified (submission)",
                "Submitted At", "submitted_at_utc")
ID_COLUMNS = ("student_id", "Student ID", "ID number", "Username", "SIS Login ID", "Email address", "login")


@dataclass(frozen=True)
class Policy:
    due: str = ""  # ISO 8601 with zone, "" when the assignment has no due date
    method: str = "none"
    penalty: float = 0.0
    unit: str = "points"
    cutoff_hours: float | None = None

    def describe(self) -> str:
        if self.method == "none" or not self.due:
            return "late work is not penalised"
        if self.method == "zero_after":
            cutoff = self.cutoff_hours or 0
            return "zero when late" if cutoff == 0 else f"zero when more than {cutoff:g} h late"
        amount = f"{self.penalty:g}%" if self.unit == "percent" else f"{self.penalty:g} points"
        text = f"{amount} off per started {'hour' if self.method == 'per_hour' else 'day'} late"
        if self.cutoff_hours is not None:
            text += f", zero when more than {self.cutoff_hours:g} h late"
        return text


def parse_time(text: str, zone: str = "UTC") -> datetime:
    """A date and time from a config, timestamp.txt or an LMS export; naive times are in `zone`."""
    from dateutil import parser as dateparser
    from zoneinfo import ZoneInfo

    value = dateparser.parse(str(text).strip())
    if value.tzinfo is None:
        value = value.replace(tzinfo=ZoneInfo(zone))
    return value.astimezone(timezone.utc)


def _config(course_root: Path):
    """The course's nbgrader_config.py as nbgrader loads it (None without one); the one loader
    every setting read from the course config goes through (nbgrader_course.load_config)."""
    from autograder.nbgrader_course import CONFIG_FILE, load_config

    if not (Path(course_root) / CONFIG_FILE).is_file():
        return None
    return load_config(Path(course_root))


def course_policy(course_root: Path, assignment: str) -> Policy:
    """The due date and late policy of `assignment`, from the course config."""
    config = _config(course_root)
    if config is None:
        return Policy()
    where = Path(course_root) / "nbgrader_config.py"
    ours = config.get("Autograder", {})
    zone = str(ours.get("timezone", "UTC"))
    try:
        from zoneinfo import ZoneInfo

        ZoneInfo(zone)
    except Exception:  # noqa: BLE001
        raise UsageError(f"{where}: c.Autograder.timezone = {zone!r} is not a time zone (e.g. 'UTC', "
                         "'Europe/Berlin', 'America/New_York')") from None
    due_dates = dict(ours.get("due_dates", {}) or {})
    due = ""
    if assignment in due_dates and due_dates[assignment]:
        try:
            due = parse_time(due_dates[assignment], zone).isoformat()
        except (ValueError, OverflowError):
            raise UsageError(f"{where}: the due date of {assignment}, {due_dates[assignment]!r}, is not a date; "
                             "write it like '2027-02-05 17:00' or '2027-02-05T17:00:00+01:00'") from None
    method = ours.get("late_policy")
    penalty = ours.get("late_penalty", 0.0)
    cutoff = ours.get("late_cutoff_hours")
    if method is None:  # nbgrader's own late-penalty settings
        plugin = str(config.get("AssignLatePenalties", {}).get("plugin_class", ""))
        if plugin.endswith("SubMarks"):
            method, penalty = "per_hour", config.get("SubMarks", {}).get("penalty_per_hour", 0.0)
        elif config.get("LateSubmissionPlugin", {}).get("penalty_method") == "zero":
            method = "zero_after"
        else:
            method = "none"
    unit = str(ours.get("late_penalty_unit", "points"))
    if method not in METHODS:
        raise UsageError(f"{where}: c.Autograder.late_policy = {method!r}; use one of {', '.join(METHODS)}")
    if unit not in UNITS:
        raise UsageError(f"{where}: c.Autograder.late_penalty_unit = {unit!r}; use points or percent")
    try:
        penalty = float(penalty)
        cutoff = None if cutoff is None else float(cutoff)
    except (TypeError, ValueError):
        raise UsageError(f"{where}: late_penalty and late_cutoff_hours must be numbers") from None
    if penalty < 0 or (cutoff is not None and cutoff < 0):
        raise UsageError(f"{where}: late_penalty and late_cutoff_hours cannot be negative")
    return Policy(due=due, method=method, penalty=penalty, unit=unit, cutoff_hours=cutoff)


def read_times_csv(path: Path, zone: str = "UTC") -> dict[str, datetime]:
    """Submission times by student id from an LMS export (a student id column and a time column)."""
    path = Path(path)
    if not path.is_file():
        raise UsageError(f"--times {path}: no such file; give a CSV with a student id column and a submission "
                         f"time column, or 'timestamp' or 'mtime'")
    with open(path, newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        columns = reader.fieldnames or []
        id_col = next((c for c in ID_COLUMNS if c in columns), None)
        time_col = next((c for c in TIME_COLUMNS if c in columns), None)
        if id_col is None or time_col is None:
            raise UsageError(f"--times {path}: needs a student id column ({', '.join(ID_COLUMNS)}) and a time "
                             f"column ({', '.join(TIME_COLUMNS)}); it has {', '.join(columns) or 'no header'}")
        times = {}
        for number, row in enumerate(reader, start=2):
            student, when = (row.get(id_col) or "").strip(), (row.get(time_col) or "").strip()
            if not student or not when or when in ("-", "No submission"):
                continue
            try:
                times[student] = parse_time(when, zone)
            except (ValueError, OverflowError):
                raise UsageError(f"--times {path}, line {number}: {when!r} is not a date and time") from None
    return times


def timestamp_of(files: dict[str, bytes]) -> datetime | None:
    """The time in nbgrader's timestamp.txt among a submission's files, if it has one."""
    data = files.get("timestamp.txt")
    if data is None:
        return None
    try:
        return parse_time(data.decode("utf-8", "replace").strip())
    except (ValueError, OverflowError):
        return None


def file_time(path: Path) -> datetime | None:
    """The modification time of a submission: its file, or the newest notebook in its folder."""
    path = Path(path)
    try:
        if path.is_dir():
            notebooks = [p for p in path.rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts]
            if not notebooks:
                return None
            stamp = max(p.stat().st_mtime for p in notebooks)
        else:
            stamp = path.stat().st_mtime
    except OSError:
        return None
    return datetime.fromtimestamp(stamp, timezone.utc)


def assess(policy: Policy, submitted: datetime | None, source: str) -> dict:
    """The late facts of one submission, as stored on its result (empty without a due date)."""
    if not policy.due:
        return {}
    facts = {"due_at": policy.due, "policy": asdict(policy), "policy_text": policy.describe(),
             "submitted_at": "", "source": source, "seconds_late": 0}
    if submitted is not None:
        facts["submitted_at"] = submitted.astimezone(timezone.utc).isoformat()
        late = (submitted - datetime.fromisoformat(policy.due)).total_seconds()
        facts["seconds_late"] = max(0, int(math.ceil(late)))
    return facts


def penalty(late: dict, earned: float, total_max: float) -> float:
    """Points taken off a grade for lateness: the one late rule, applied to the whole grade.

    `earned` is every point the submission earned before the penalty, autograded and given by hand
    (nbgrader's notebook score); `total_max` is the assignment's whole maximum (nbgrader's
    max_score). A penalty in percent is a share of `total_max` per started hour or day; in points,
    that many points. Zero after a cut-off takes everything earned, hand-given points included.
    Never more than `earned`, so a grade never goes below zero (nbgrader caps it the same way)."""
    seconds = (late or {}).get("seconds_late", 0)
    if not seconds or earned <= 0:
        return 0.0
    policy = Policy(**late["policy"])
    hours = seconds / 3600
    if policy.method == "none":
        return 0.0
    if policy.cutoff_hours is not None and hours > policy.cutoff_hours:
        return round(earned, 6)
    if policy.method == "zero_after":
        return round(earned, 6) if hours > (policy.cutoff_hours or 0) else 0.0
    units = math.ceil(seconds / (3600 if policy.method == "per_hour" else 86400))
    each = policy.penalty * total_max / 100 if policy.unit == "percent" else policy.penalty
    return round(min(earned, units * each), 6)


def duration(seconds: int) -> str:
    """3 d 4 h, 5 h 12 min, 40 min: how late, for people."""
    minutes = max(1, math.ceil(seconds / 60))
    days, rest = divmod(minutes, 1440)
    hours, minutes = divmod(rest, 60)
    if days:
        return f"{days} d {hours} h"
    return f"{hours} h {minutes} min" if hours else f"{minutes} min"


def summary(late: dict, points_off: float) -> str:
    """One line for a feedback page or a results file."""
    if not late:
        return ""
    due = late["due_at"][:16].replace("T", " ") + " UTC"
    if not late.get("submitted_at"):
        return f"due {due}; submission time unknown, so it was not counted late"
    when = late["submitted_at"][:16].replace("T", " ") + " UTC"
    if not late["seconds_late"]:
        return f"submitted {when} ({late['source']}), on time (due {due})"
    text = f"submitted {when} ({late['source']}), {duration(late['seconds_late'])} after the due date {due}"
    return text + (f": {points_off:g} points off ({late['policy_text']})" if points_off
                   else f" ({late['policy_text']})")


def batch_facts(policy: Policy, submissions, folder: Path, times: str | None = None) -> dict[str, dict]:
    """The late facts of every submission in a batch, by student id.

    `times`: None or "timestamp" (nbgrader's timestamp.txt), "mtime" (timestamp.txt, else the
    file's time) or the path of a CSV from the LMS (else timestamp.txt)."""
    if not policy.due:
        return {}
    from_csv: dict[str, datetime] = {}
    label = ""
    if times and times not in ("timestamp", "mtime"):
        from_csv, label = read_times_csv(Path(times)), f"from {Path(times).name}"
    facts = {}
    for sub in submissions:
        when, source = from_csv.get(sub.student_id), label
        if when is None:
            when, source = timestamp_of(sub.files), "timestamp.txt"
        if when is None and times == "mtime":
            when, source = file_time(Path(folder) / sub.origin), "file time"
        facts[sub.student_id] = assess(policy, when, source if when else "")
    return facts
