"""Problem framing for the running case: the scenario, a vocabulary of task types, a problem spec.

Assignment 01 turns "design a system to detect if a person is frowning" into numbers. This module
holds what the notebook needs to do that without guessing:

* :data:`SCENARIO`, the product we design for: a frown nudge in a video-call app, with its users,
  traffic, hardware, network, privacy rules and error costs. :func:`scenario_table` shows it as a
  table with units.
* :data:`TASK_TYPES`, a fixed vocabulary of ML task types, and two sets of short business goals
  (:data:`FROWN_GOALS`, :data:`BUSINESS_GOALS`) to map onto it.
* :class:`ProblemSpec`, the structured spec a team writes before building, with the vocabularies
  its fields use, and :func:`check_spec_format`, which says what is malformed in a spec (types,
  unknown words). It does not say whether the spec is *right* for the scenario: that is your job.

    from course.framing import SCENARIO, scenario_table, ProblemSpec, check_spec_format
    SCENARIO.analysis_fps          # 15 frames per second
    scenario_table()               # every number, its unit and what it means
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field, fields
from numbers import Real

import pandas as pd

__all__ = [
    "TASK_TYPES",
    "FROWN_GOALS",
    "BUSINESS_GOALS",
    "Scenario",
    "SCENARIO",
    "scenario_table",
    "PREDICTION_UNITS",
    "DEPLOYMENTS",
    "FACE_STORAGE",
    "PRIMARY_METRICS",
    "GUARDRAIL_METRICS",
    "ProblemSpec",
    "check_spec_format",
]

# ----------------------------------------------------------------------------------------------
# task types
# ----------------------------------------------------------------------------------------------
#: The task types a business goal can map to. ``"not_ml"`` is for goals a fixed rule solves.
TASK_TYPES = (
    "binary_classification",
    "multiclass_classification",
    "multilabel_classification",
    "regression",
    "ranking",
    "object_detection",
    "clustering",
    "anomaly_detection",
    "not_ml",
)

#: The frown detector asked in different ways. Same pixels, different task types.
FROWN_GOALS = {
    "F1": "Say whether the one face in this crop is frowning or not.",
    "F2": "In a meeting-room camera frame, find every face, draw a box around it and say for "
          "each box whether that person frowns.",
    "F3": "Say which one of five expressions a face shows: neutral, smile, frown, surprise or "
          "eyes closed.",
    "F4": "Estimate how deep a frown is, as a number from 0 (none) to 10 (very deep), to drive "
          "a slider in the app.",
    "F5": "Tag a face with every attribute that applies, any number of them: frowning, eyes "
          "closed, wearing glasses, looking away.",
    "F6": "Order the 20 snapshots taken during a call so that the one where the fewest people "
          "frown comes first, for the call's thumbnail.",
}

#: Other products, other goals.
BUSINESS_GOALS = {
    "B1": "Predict how many minutes a food delivery will take to arrive.",
    "B2": "Decide whether a card payment is fraudulent, learning from past payments that "
          "customers reported as fraud.",
    "B3": "Order the products shown for a search query so that those the user is most likely "
          "to buy come first.",
    "B4": "Split the app's users into groups with similar usage for the marketing team; "
          "nobody has labelled any user.",
    "B5": "Flag servers whose telemetry looks unlike anything seen before; there are no "
          "labelled failures to learn from.",
    "B6": "Send each support ticket to the one team, out of 12, that should handle it.",
    "B7": "Refuse file uploads larger than 25 MB.",
    "B8": "Find and outline every car and pedestrian in a dash-camera frame.",
}


# ----------------------------------------------------------------------------------------------
# the scenario
# ----------------------------------------------------------------------------------------------
def _number(value, unit: str, meaning: str):
    return field(default=value, metadata={"unit": unit, "meaning": meaning})


@dataclass(frozen=True)
class Scenario:
    """The product we design the frown detector for (read-only; see :func:`scenario_table`).

    A video-call app wants to notice when a participant frowns, so it can nudge the speaker
    ("looks like something was unclear, want to recap?"). Every number the design needs is a
    field: traffic, the per-frame pipeline, the hardware, the network, privacy and error costs.
    """

    name: str = field(default="Frown nudge for a video-call app",
                      metadata={"unit": "", "meaning": "the product"})
    # traffic
    daily_users: int = _number(100_000, "participants/day",
                               "distinct call participants with the frown nudge on, per day")
    call_minutes_per_user: float = _number(40.0, "min/participant/day",
                                           "minutes of calls per participant per day")
    faces_per_frame: float = _number(1.2, "faces/frame",
                                     "faces per analysed frame, on average (meeting rooms show several)")
    max_faces_per_frame: int = _number(3, "faces/frame",
                                       "faces in the busiest frames the product supports")
    peak_to_mean: float = _number(3.0, "ratio",
                                  "busiest hour's traffic / the day's average traffic")
    # the product's demands
    camera_fps: int = _number(30, "frames/s", "frames per second the camera delivers")
    min_analysis_fps: int = _number(15, "frames/s",
                                    "fewest analysed frames per second the nudge logic accepts "
                                    "(it votes over windows of frames, see nudge_window_s)")
    nudge_window_s: float = _number(2.0, "s",
                                    "the nudge logic decides once per participant per window of "
                                    "this many seconds, by a vote over the window's frames")
    nudge_latency_ms: float = _number(500.0, "ms",
                                      "at most this long from a frown on camera to the nudge")
    cost_false_nudge: float = _number(1.0, "cost units",
                                      "cost of a false positive: a speaker interrupted for nothing")
    cost_missed_frown: float = _number(3.0, "cost units",
                                       "cost of a false negative: a confused participant nobody notices")
    min_precision: float = _number(0.9, "fraction",
                                   "at most 1 nudge in 10 may be a false alarm (nudges the "
                                   "speaker sees, at the production prevalence)")
    # how people frown (measured in a pilot with consenting participants)
    frown_prevalence: float = _number(0.02, "fraction",
                                      "share of analysed faces that show a frown, in production")
    frown_min_s: float = _number(1.5, "s", "the shortest frown: a frown lasts at least this long")
    frown_max_s: float = _number(4.5, "s", "the longest frown: a frown lasts at most this long")
    # the per-frame pipeline around the frown model (the same stages on a device or a server)
    decode_ms: float = _number(10.0, "ms/frame", "decode and downscale a frame")
    face_detection_ms: float = _number(30.0, "ms/frame", "find the faces in a frame")
    crop_ms: float = _number(4.0, "ms/frame", "align and crop each face to 32x32")
    nudge_logic_ms: float = _number(2.0, "ms/frame", "smooth the votes, decide whether to nudge")
    # the slowest supported client (a web client on a low-end laptop)
    device_pipeline_ms: float = _number(79.0, "ms/frame",
                                        "the whole per-frame pipeline, frown model included, on the "
                                        "slowest supported client")
    device_model_mb: float = _number(1.0, "MB",
                                     "largest model the web client may download")
    # the server option
    frame_bytes: int = _number(5_000, "bytes/frame",
                               "a downscaled grayscale frame (160x120 JPEG) sent to our servers")
    crop_bytes: int = _number(1_024, "bytes/face", "a 32x32 8-bit face crop")
    uplink_mbps: float = _number(0.8, "Mbit/s",
                                 "upload speed left over by the call's own video, for the slowest "
                                 "10% of participants")
    rtt_ms: float = _number(80.0, "ms", "network round trip, client to our servers and back")
    server_pipeline_ms: float = _number(66.0, "ms/frame",
                                        "the per-frame pipeline on a server, frown model included")
    server_qps: float = _number(2_500.0, "faces/s", "faces one server scores per second")
    target_utilisation: float = _number(0.7, "fraction",
                                        "plan servers to run at most this busy at peak")
    # data
    faces_may_leave_device: bool = _number(True, "yes/no",
                                           "the call's terms let our servers process frames in "
                                           "memory during the call")
    opt_in_rate: float = _number(0.02, "fraction",
                                 "participants who agreed to donate face crops for labelling")
    donated_crops_per_user: int = _number(20, "crops/day", "crops each donor sends per day")
    nudge_feedback_rate: float = _number(0.5, "fraction",
                                         "share of shown nudges whose speaker taps 'useful' or "
                                         "'not useful'; nudges never shown get no feedback")
    log_record_bytes: int = _number(64, "bytes",
                                    "one prediction log record (call id, time, score, model version)")
    log_sample_rate: float = _number(0.01, "fraction", "share of predictions we log")
    log_replicas: int = _number(3, "copies", "copies of every stored byte")

    @property
    def other_stages_ms(self) -> tuple[float, ...]:
        """The per-frame stages around the frown model, in ms: decode, faces, crop, nudge logic."""
        return (self.decode_ms, self.face_detection_ms, self.crop_ms, self.nudge_logic_ms)

    @property
    def costs(self) -> dict:
        """The error costs as ``{"c_fp": ..., "c_fn": ...}``."""
        return {"c_fp": self.cost_false_nudge, "c_fn": self.cost_missed_frown}


#: The scenario of the course (read-only).
SCENARIO = Scenario()


def scenario_table(scenario: Scenario = SCENARIO) -> pd.DataFrame:
    """Every number of the scenario with its unit and meaning.

    Parameters
    ----------
    scenario : Scenario, default SCENARIO
        The scenario to tabulate.

    Returns
    -------
    pandas.DataFrame
        One row per number, indexed by its name, with the columns ``value``, ``unit`` and ``meaning``.
    """
    rows = [{"name": f.name, "value": getattr(scenario, f.name), "unit": f.metadata["unit"],
             "meaning": f.metadata["meaning"]} for f in fields(scenario) if f.name != "name"]
    return pd.DataFrame(rows).set_index("name")


# ----------------------------------------------------------------------------------------------
# the problem spec
# ----------------------------------------------------------------------------------------------
#: What one prediction is about.
PREDICTION_UNITS = ("face", "frame", "call", "participant")
#: Where the frown model runs.
DEPLOYMENTS = ("edge", "server")
#: Which raw face images we keep after a prediction.
FACE_STORAGE = ("never", "opt_in_sample", "all")
#: Names of primary metrics (``f2`` weighs recall twice as much as precision, ``f0.5`` the other
#: way; ``*_at_*`` means "the best first one while the second meets a floor").
PRIMARY_METRICS = ("accuracy", "precision", "recall", "f1", "f0.5", "f2", "roc_auc",
                   "expected_cost", "recall_at_precision", "precision_at_recall")
#: Guardrails and the direction of their bound: ``"max"`` means the metric must stay <= the bound,
#: ``"min"`` that it must stay >= the bound.
GUARDRAIL_METRICS = {
    "latency_ms": "max",          # time of the frown model per face, ms
    "model_mb": "max",            # model size, MB
    "precision": "min",           # share of nudges that were real frowns
    "recall": "min",              # share of frowns that got noticed
    "worst_tone_recall": "min",   # recall on the skin-tone slice where it is lowest
    "cost_per_day": "max",        # serving bill
}


@dataclass
class ProblemSpec:
    """A structured problem spec: what we predict, where it runs, and how we judge it.

    Fields
    ------
    task_type : str            one of :data:`TASK_TYPES`
    positive_class : str       the class the detector raises an alarm for: "frown" or "smile"
    prediction_unit : str      what one prediction is about, one of :data:`PREDICTION_UNITS`
    deployment : str           where the frown model runs, one of :data:`DEPLOYMENTS`
    stores_raw_faces : str     which face images we keep, one of :data:`FACE_STORAGE`
    analysis_fps : float       frames per second the detector scores
    latency_budget_ms : float  time the frown model may take per face, ms
    primary_metric : str       the one metric we optimise, one of :data:`PRIMARY_METRICS`
    guardrails : dict          {metric: bound} for metrics that only need to be good enough;
                               keys from :data:`GUARDRAIL_METRICS`, numeric bounds
    """

    task_type: str
    positive_class: str
    prediction_unit: str
    deployment: str
    stores_raw_faces: str
    analysis_fps: float
    latency_budget_ms: float
    primary_metric: str
    guardrails: dict


_VOCABULARY = {
    "task_type": TASK_TYPES,
    "positive_class": ("frown", "smile"),
    "prediction_unit": PREDICTION_UNITS,
    "deployment": DEPLOYMENTS,
    "stores_raw_faces": FACE_STORAGE,
    "primary_metric": PRIMARY_METRICS,
}


def _is_number(value) -> bool:
    return isinstance(value, Real) and not isinstance(value, bool) and math.isfinite(float(value))


def check_spec_format(spec) -> None:
    """Raise ``ValueError`` listing every malformed field of ``spec``; return None if well formed.

    Checks types and vocabularies only (a word from the right list, a finite number, a dict of
    known guardrails with numeric bounds), not whether the choices fit the scenario.

    Parameters
    ----------
    spec : ProblemSpec
        The spec to check.

    Raises
    ------
    ValueError
        ``spec`` is not a :class:`ProblemSpec`, or some of its fields are malformed (all listed).
    """
    if not isinstance(spec, ProblemSpec):
        raise ValueError(f"spec must be a ProblemSpec(...), got {type(spec).__name__}")
    problems = []
    for name, allowed in _VOCABULARY.items():
        value = getattr(spec, name)
        if not isinstance(value, str) or value not in allowed:
            problems.append(f"{name}={value!r} is not one of {list(allowed)}")
    for name in ("analysis_fps", "latency_budget_ms"):
        value = getattr(spec, name)
        if not _is_number(value):
            problems.append(f"{name} must be a finite number, got {value!r}")
    if not isinstance(spec.guardrails, dict):
        problems.append(f"guardrails must be a dict {{metric: bound}}, got {type(spec.guardrails).__name__}")
    else:
        for key, bound in spec.guardrails.items():
            if key not in GUARDRAIL_METRICS:
                problems.append(f"unknown guardrail {key!r}; use keys from {list(GUARDRAIL_METRICS)}")
            elif not _is_number(bound):
                problems.append(f"guardrail {key!r} needs a finite number as its bound, got {bound!r}")
    if problems:
        raise ValueError("the spec is malformed:\n- " + "\n- ".join(problems))
