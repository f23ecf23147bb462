"""Video calls: participants, calls and the frames of each call, in time.

:func:`course.frowns.make_faces` draws every face independently. Production is not like that: the
product sees the *same people* in *calls*, frame after frame. This module draws faces the way they
arrive:

* a **participant** keeps their identity from frame to frame and from call to call: skin tone,
  face shape, where they sit in front of the camera, how deeply they frown, and a *resting mouth*
  (some people's mouth bends up a little when their face is at rest, others' is almost flat);
* a **call** has its own lighting (a room, a lamp, a window) and its own camera (noise level), and
  sometimes a hat (glasses belong to the participant);
* the **frames** of a call follow each other at ``fps`` frames per second: adjacent frames are
  nearly identical (the head moves a little, the mouth moves while talking, the light flickers, the
  camera noise is new in each frame); a hand passes over the mouth now and then;
* **frown episodes** last :attr:`~course.framing.Scenario.frown_min_s` to
  :attr:`~course.framing.Scenario.frown_max_s` seconds, between long stretches of resting face,
  so that a share ``frown_prevalence`` of the frames shows a frown (by default the production
  prevalence, :attr:`course.spec.SPEC.frown_prevalence`). During an episode the mouth bends down
  from the participant's resting curvature by their frown depth, with a short onset and offset.
  A frame is labelled a frown (``label = 1``) from the episode's start to its end, the moments
  the mouth is halfway down.

Typical use::

    from course.calls import make_frames
    frames = make_frames(20, calls_per_participant=2, call_seconds=30, seed=0, frown_prevalence=0.2)
    frames.images.shape        # (n_frames, 32, 32)
    frames.meta.head()         # participant, call, frame, time_s, window, episode, label, factors
    frames.participants        # one row per participant (identity)
    frames.calls               # one row per call (lighting, camera, start time)

Splitting frames at random puts the same people, and frames a fraction of a second apart, on both
sides of the split; split by ``participant`` (group) or by time (``day``, ``day_time_s``) instead.
The nudge logic decides once per ``(call, window)``: see :mod:`course.nudges`.

A **production day** is the same call with other people and events at chosen times of the day::

    day = make_frames(40, calls_per_participant=3, call_seconds=20, seed=7,
                      lighting_change_at=3 * 3600, camera_change_at=6 * 3600)

From ``lighting_change_at`` (seconds into the day) on, the calls of a share ``lighting_fraction``
of the sites are lit from above by a darker ceiling light; calls that start at or after
``camera_change_at`` use a new, noisier camera.

Everything is deterministic from ``seed`` (see :mod:`course.seeding` for the named streams).
Participant ``i`` of a seed is the same person whatever the number of participants drawn.
Rendering costs about 0.1 ms and 4 KB per frame (32x32 float32): a minute of one participant at
15 fps is 900 frames.
"""
from __future__ import annotations

import functools
import math
import zlib
from dataclasses import dataclass
from numbers import Integral

import numpy as np
import pandas as pd

from course.framing import SCENARIO
from course.frowns import (
    DEFAULT_CONFIG,
    FACE_COLUMNS,
    LIGHTING_CATEGORIES,
    SHAPE_DEFAULTS,
    TONE_CATEGORIES,
    draw_lighting,
    draw_tone,
    render_faces,
)
from course.seeding import child_seed, generator
from course.validation import check_count, check_real, check_seed, seed_by_keyword

__all__ = [
    "PARTICIPANT_COLUMNS",
    "CALL_COLUMNS",
    "FRAME_COLUMNS",
    "Frames",
    "make_participants",
    "make_frames",
]

#: Columns of :attr:`Frames.participants` (and of :func:`make_participants`), in order.
PARTICIPANT_COLUMNS = ["participant", "tone", "tone_value", *SHAPE_DEFAULTS, "resting_curvature",
                       "frown_depth", "glasses", "seat_dx", "seat_dy", "seat_tilt"]
#: Columns of :attr:`Frames.calls`, in order.
CALL_COLUMNS = ["call", "participant", "day", "start_s", "duration_s", "lighting", "brightness",
                "gradient_angle", "gradient_strength", "camera", "noise_std", "hat",
                "lighting_change_reaches"]
#: Columns of :attr:`Frames.meta`, in order: where and when the frame is, then the factors of
#: :data:`course.frowns.FACE_COLUMNS` (so :func:`course.frowns.render_faces` can redraw a frame),
#: the camera, and the participant's face shape.
FRAME_COLUMNS = ["participant", "call", "day", "frame", "time_s", "day_time_s", "window", "episode",
                 *FACE_COLUMNS, "camera", *SHAPE_DEFAULTS]

# -- how the world varies (design choices of the simulation, not product facts) -----------------
_RESTING_CURVATURE = (0.05, 0.40)   # the mouth of a face at rest bends up a little
_FROWN_DEPTH = (0.60, 1.00)         # how far a participant's mouth bends down in a frown
_EPISODE_DEPTH_SPREAD = 0.15        # each frown is this much (relative) deeper or shallower
_ONSET_S = 0.3                      # the mouth takes this long to go down (and up again)
_MIN_GAP_S = 1.0                    # the mouth rests at least this long between two frowns
_GLASSES_RATE = 0.15                # participants whose glasses cover the eyes
_HAT_RATE = 0.10                    # calls with a hat over the forehead
_HAND_SHARE = 0.03                  # share of the time a hand covers half of the mouth
_HAND_S = (1.0, 3.0)                # how long a hand stays there
_SHAPE_SPREAD = {                   # identity: each face's shape, relative to SHAPE_DEFAULTS
    "head_width": ("scale", 0.08), "head_height": ("scale", 0.07),
    "eye_spacing": ("scale", 0.10), "eye_height": ("shift", 0.03),
    "mouth_height": ("shift", 0.04), "mouth_width": ("scale", 0.15),
}
_SEAT_PX = 1.0                      # where a participant's head sits, in pixels from the centre
_SEAT_TILT = 0.06                   # how a participant's head usually leans (radians, sd)
# frame-to-frame motion: (standard deviation, time constant in seconds) of an AR(1) process
_TALK = (0.04, 0.3)                 # the mouth moves while talking (curvature units)
_HEAD_SHIFT = (0.3, 1.0)            # head shifts (pixels)
_HEAD_TILT = (0.02, 1.0)            # head tilts (radians)
_FLICKER = (0.01, 2.0)              # the light flickers (brightness units)
_MAX_SHIFT_PX, _MAX_TILT = 2.0, 0.25
# production events
_OVERHEAD = {"brightness": -0.15, "angle": 1.5 * math.pi, "angle_sd": 0.15, "strength": (0.25, 0.40)}
_OLD_CAMERA_NOISE = DEFAULT_CONFIG["noise_std"]
_NEW_CAMERA_NOISE = (0.12, 0.20)


@dataclass(frozen=True)
class Frames:
    """The frames of some video calls, their participants and their calls.

    Attributes
    ----------
    images : numpy.ndarray or None
        Shape ``(n, size, size)``, float32 in [0, 1]; one face per frame (None when made with
        ``render=False``).
    labels : numpy.ndarray
        Shape ``(n,)``, int64: 1 while the participant frowns.
    meta : pandas.DataFrame
        One row per frame (index 0..n-1), columns :data:`FRAME_COLUMNS`, ordered by call (calls by
        start time) and by frame within a call. ``participant`` and ``call`` are string ids;
        ``frame`` counts the frames of a call from 0; ``time_s`` is the time in the call,
        ``day_time_s`` the time of day (seconds since the day began); ``window`` is the nudge
        window of the call the frame belongs to (``frame // frames_per_window``); ``episode`` is
        the id of the frown episode the frame belongs to, ``""`` outside episodes (it includes
        the onset and offset, so a frame can belong to an episode with ``label`` 0).
    participants : pandas.DataFrame
        One row per participant, columns :data:`PARTICIPANT_COLUMNS`.
    calls : pandas.DataFrame
        One row per call, columns :data:`CALL_COLUMNS`, ordered like the frames.
    fps : float
        Frames per second.
    frames_per_window : int
        Frames in one nudge window.
    frown_prevalence : float
        The share of frown frames the episodes were drawn for (the sampling prevalence; the
        realised share varies from draw to draw).
    """

    images: np.ndarray
    labels: np.ndarray
    meta: pd.DataFrame
    participants: pd.DataFrame
    calls: pd.DataFrame
    fps: float
    frames_per_window: int
    frown_prevalence: float

    def __len__(self) -> int:
        return len(self.labels)


# ----------------------------------------------------------------------------------------------
# argument checks and keys
# ----------------------------------------------------------------------------------------------
def _when(name: str, value):
    return None if value is None else check_real(name, value, 0.0, math.inf)


def _key(text: str) -> int:
    """A stable integer for a string id: keys the random streams of a participant."""
    return zlib.crc32(text.encode())


# ----------------------------------------------------------------------------------------------
# participants
# ----------------------------------------------------------------------------------------------
@seed_by_keyword
def make_participants(n: int, *, seed: int) -> pd.DataFrame:
    """Draw ``n`` participants: who they are, which stays the same in every frame and call.

    Parameters
    ----------
    n : int
        Number of participants.
    seed : int, keyword-only
        Random seed (>= 0). Participant ``i`` of a seed is the same person for any ``n``, and
        their id, ``"s{seed}-p{i}"``, differs from every participant of another seed.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`PARTICIPANT_COLUMNS`: ``participant`` (id), ``tone`` and ``tone_value``
        (skin), the face shape (``head_width``, ``head_height``, ``eye_spacing``, ``eye_height``,
        ``mouth_height``, ``mouth_width``, as in :data:`course.frowns.SHAPE_DEFAULTS`),
        ``resting_curvature`` (the bend of the mouth at rest, > 0), ``frown_depth`` (how far the
        mouth bends down from there in a frown), ``glasses`` (bool: glasses cover the eyes) and
        where the head usually sits (``seat_dx``, ``seat_dy`` in pixels, ``seat_tilt`` in radians).
    """
    n = check_count("n", n, 0)
    seed = check_seed(seed)
    tone_probs = np.array([DEFAULT_CONFIG["tone_probs"][t] for t in TONE_CATEGORIES])
    return pd.DataFrame([_participant(seed, i, tone_probs) for i in range(n)], columns=PARTICIPANT_COLUMNS)


def _participant(seed: int, i: int, tone_probs: np.ndarray) -> dict:
    """Participant ``i`` of ``seed`` (a checked seed), from their own stream: a row of
    :func:`make_participants`."""
    rng = generator(seed, "participants", i)
    tone, tone_value = draw_tone(rng, 1, tone_probs)
    row = {"participant": f"s{seed}-p{i}", "tone": tone[0], "tone_value": float(tone_value[0])}
    for name, (kind, spread) in _SHAPE_SPREAD.items():
        u = rng.uniform(-1.0, 1.0)
        base = SHAPE_DEFAULTS[name]
        row[name] = base * (1.0 + spread * u) if kind == "scale" else base + spread * u
    row["resting_curvature"] = rng.uniform(*_RESTING_CURVATURE)
    row["frown_depth"] = rng.uniform(*_FROWN_DEPTH)
    row["glasses"] = bool(rng.random() < _GLASSES_RATE)
    row["seat_dx"], row["seat_dy"] = rng.uniform(-_SEAT_PX, _SEAT_PX, 2)
    # clipped with min and max: the same number as np.clip, without making an array of one number
    tilt = _SEAT_TILT * rng.standard_normal()
    row["seat_tilt"] = float(min(max(tilt, -2.5 * _SEAT_TILT), 2.5 * _SEAT_TILT))
    return row


def _check_participants(people) -> pd.DataFrame:
    if not isinstance(people, pd.DataFrame):
        raise TypeError("participants must be an int or a table from make_participants, got "
                        f"{type(people).__name__}")
    missing = [c for c in PARTICIPANT_COLUMNS if c not in people.columns]
    if missing:
        raise ValueError(f"the participants table lacks column(s) {missing}; build it with "
                         "make_participants(n, seed=...)")
    if people["participant"].duplicated().any():
        raise ValueError("the participants table lists a participant twice")
    return people.reset_index(drop=True)


def _people(people: pd.DataFrame) -> list[dict]:
    """Each participant of a checked table as a dict {column: value}, holding the values
    ``people.iterrows()`` gives (a row of a table of mixed columns is an object array: Python
    strings, floats and bools), without building a Series per participant: reading a Series cost
    more than drawing the participant's calls."""
    columns = list(people.columns)
    return [dict(zip(columns, row)) for row in people.to_numpy(dtype=object)]


# ----------------------------------------------------------------------------------------------
# time series of one call
# ----------------------------------------------------------------------------------------------
def _ar1(rng: np.random.Generator, n: int, sd: float, tau_s: float, fps: float) -> np.ndarray:
    """A stationary AR(1) series: standard deviation ``sd``, correlation time ``tau_s`` seconds.

    ``x[t] = phi * x[t-1] + shock[t]`` with ``phi = exp(-1 / (tau_s * fps))``, computed a block of
    frames at a time (a small matrix product per block instead of a Python loop per frame).
    """
    phi = math.exp(-1.0 / (tau_s * fps))
    shocks = rng.standard_normal(n) * sd * math.sqrt(1.0 - phi * phi)
    carry = rng.standard_normal() * sd
    block = min(n, 64)
    weights, decay = _ar1_weights(phi, block)
    if n == block:   # one block: most calls
        return weights @ shocks + decay * carry
    series = np.empty(n)
    for start in range(0, n, block):
        part = shocks[start:start + block]
        m = len(part)
        series[start:start + m] = weights[:m, :m] @ part + decay[:m] * carry
        carry = series[start + m - 1]
    return series


@functools.lru_cache(maxsize=64)
def _ar1_weights(phi: float, block: int) -> tuple[np.ndarray, np.ndarray]:
    """The matrix ``phi^(j-k)`` (``k <= j``, else 0) and ``phi^1 .. phi^block`` of :func:`_ar1`'s
    blocks, read-only: a call has only a few frames, so building them for every series cost more
    than the series themselves."""
    lag = np.arange(block)[:, None] - np.arange(block)[None, :]
    weights = np.where(lag >= 0, phi ** np.maximum(lag, 0), 0.0)   # phi^(j-k) for k <= j
    decay = phi ** np.arange(1, block + 1)
    weights.setflags(write=False)
    decay.setflags(write=False)
    return weights, decay


def _spans(rng: np.random.Generator, seconds: float, share: float, low: float, high: float):
    """Random episodes ``[(start, end), ...]`` (seconds) covering about ``share`` of the time.

    Episodes last U(low, high) seconds; the gaps between them are at least _MIN_GAP_S seconds
    plus an exponential wait, with the mean that makes the long-run share of time inside
    episodes ``share``. The process starts a few cycles before time 0, so a call may begin in
    the middle of an episode.
    """
    if share <= 0.0:
        return []
    mean_length = (low + high) / 2.0
    mean_gap = mean_length * (1.0 - share) / share
    t = -3.0 * (mean_length + mean_gap)
    spans = []
    while True:
        t += _MIN_GAP_S + rng.exponential(max(mean_gap - _MIN_GAP_S, 1e-9))
        length = rng.uniform(low, high)
        if t >= seconds:
            return spans
        if t + length > 0.0:
            spans.append((t, t + length))
        t += length


# ----------------------------------------------------------------------------------------------
# the frames of all calls at once
# ----------------------------------------------------------------------------------------------
# Each call draws from its own streams (episodes, motion, events, occlusions), call after call, the
# same numbers in the same order as ever. What is computed from those numbers is computed for all
# calls at once, on arrays (call, frame): frame by frame, the same float operations on the same
# numbers as one call at a time, without paying numpy's cost per call, which was most of the time
# (a call has only a few frames). Spans (episodes, hands) are arrays too: each span's call (row),
# start and end.
_PAIRS = 2 ** 20   # (span, frame) pairs compared at a time: a long call has many spans


def _flat_spans(spans: list[list[tuple]]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The spans of every call, one list per call, as arrays: each span's row, start and end."""
    rows = np.repeat(np.arange(len(spans)), [len(call_spans) for call_spans in spans])
    flat = [span for call_spans in spans for span in call_spans]
    return rows, np.array([s for s, _ in flat], dtype=float), np.array([e for _, e in flat], dtype=float)


def _span_batches(count: int, n: int) -> list[slice]:
    """Slices of ``count`` spans that compare at most :data:`_PAIRS` (span, frame) pairs at once
    (one slice, maybe empty, for a few spans)."""
    step = max(1, _PAIRS // max(n, 1))
    return [slice(first, first + step) for first in range(0, max(count, 1), step)]


def _during(time_s: np.ndarray, rows, starts, ends) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every frame inside a span, ``start <= time < end``: its row, its frame and its span."""
    found = []
    for part in _span_batches(len(rows), len(time_s)):
        span, frame = np.nonzero((time_s >= starts[part, None]) & (time_s < ends[part, None]))
        found.append((rows[part][span], frame, span + part.start))
    return tuple(np.concatenate(values) for values in zip(*found))


def _envelope(time_s: np.ndarray, rows, starts, ends, calls: int) -> tuple[np.ndarray, np.ndarray]:
    """For each frame (call, frame): how far down the mouth is (0..1) and the index of its episode
    among all spans (-1: none).

    The mouth is halfway down at an episode's start and end and moves over _ONSET_S seconds.
    """
    env = np.zeros((calls, len(time_s)))
    which = np.full(env.shape, -1)
    half = _ONSET_S / 2.0
    for part in _span_batches(len(rows), len(time_s)):
        start, end = starts[part, None], ends[part, None]
        ramp = np.minimum(time_s - start, end - time_s) / _ONSET_S + 0.5
        np.maximum.at(env, rows[part], np.clip(ramp, 0.0, 1.0))
        span, frame = np.nonzero((time_s > start - half) & (time_s < end + half))
        which[rows[part][span], frame] = span + part.start   # a call's episodes never overlap
    return env, which


def _frowns(plan: list[dict], time_s: np.ndarray, *, seed: int, prevalence: float) -> dict:
    """The frown episodes of every call, with a depth each: how far down the mouth is (``down``),
    the ``label`` and the ``episode`` of every frame, arrays (call, frame)."""
    spans, draws = [], []
    for call in plan:
        rng = generator(seed, "episodes", call["day"], call["pkey"], call["index"])
        spans.append(_spans(rng, call["duration_s"], prevalence, SCENARIO.frown_min_s, SCENARIO.frown_max_s))
        draws.append(rng.uniform(-1, 1, len(spans[-1])))
    rows, starts, ends = _flat_spans(spans)
    frown_depth = np.array([call["person"]["frown_depth"] for call in plan])[rows]
    depths = frown_depth * (1.0 + _EPISODE_DEPTH_SPREAD * np.concatenate(draws))
    env, which = _envelope(time_s, rows, starts, ends, len(plan))
    depth = np.where(which >= 0, depths[np.maximum(which, 0)] if len(depths) else 0.0, 0.0)
    label = np.zeros(env.shape, dtype=np.int64)
    label[_during(time_s, rows, starts, ends)[:2]] = 1
    names = np.array([""] + [f"{call['call']}-e{k}" for call, call_spans in zip(plan, spans)
                             for k in range(len(call_spans))], dtype=object)
    return {"down": depth * env, "label": label, "episode": names[which + 1]}


#: The motion series of a call, drawn in this order: (standard deviation, time constant).
_MOTION = {"talk": _TALK, "pose_dx": _HEAD_SHIFT, "pose_dy": _HEAD_SHIFT, "pose_angle": _HEAD_TILT,
           "flicker": _FLICKER}


def _motion(plan: list[dict], n: int, *, seed: int, fps: float) -> dict:
    """The motion series of every call, {name of :data:`_MOTION`: array (call, frame)}."""
    series = {name: [] for name in _MOTION}
    for call in plan:
        rng = generator(seed, "motion", call["day"], call["pkey"], call["index"])
        for name, (sd, tau_s) in _MOTION.items():
            series[name].append(_ar1(rng, n, sd, tau_s, fps))
    return {name: np.array(rows) for name, rows in series.items()}


def _lighting(plan: list[dict], day_time_s: np.ndarray, flicker: np.ndarray, *, seed: int,
              lighting_change_at) -> dict:
    """The lighting of every frame, arrays (call, frame): the call's, its brightness flickering,
    until the ceiling light changes, for the calls the change reaches."""
    n = day_time_s.shape[1]
    lighting = np.repeat(np.array([call["lighting"] for call in plan], dtype=object), n).reshape(-1, n)
    angle = np.array([call["gradient_angle"] for call in plan])[:, None]
    strength = np.array([call["gradient_strength"] for call in plan])[:, None]
    brightness = np.array([call["brightness"] for call in plan])[:, None] + flicker
    after = (np.zeros(day_time_s.shape, dtype=bool) if lighting_change_at is None
             else day_time_s >= lighting_change_at)
    reached = np.array([call["lighting_change_reaches"] for call in plan]) & after.any(axis=1)
    after &= reached[:, None]
    overhead_angle, overhead_strength = angle.copy(), strength.copy()
    for row in np.flatnonzero(reached):
        call = plan[row]
        rng = generator(seed, "events", call["day"], call["pkey"], call["index"])
        overhead_angle[row] = _OVERHEAD["angle"] + _OVERHEAD["angle_sd"] * rng.standard_normal()
        overhead_strength[row] = rng.uniform(*_OVERHEAD["strength"])
    lighting[after] = "overhead"
    return {"lighting": lighting,
            "brightness": np.where(after, brightness + _OVERHEAD["brightness"], brightness),
            "gradient_angle": np.where(after, overhead_angle, angle),
            "gradient_strength": np.where(after, overhead_strength, strength)}


def _occlusions(plan: list[dict], time_s: np.ndarray, *, seed: int) -> np.ndarray:
    """What covers part of every frame (call, frame): a hand over half the mouth now and then,
    else a hat, else glasses."""
    spans, sides = [], []
    for call in plan:
        rng = generator(seed, "occlusions", call["day"], call["pkey"], call["index"])
        spans.append(_spans(rng, call["duration_s"], _HAND_SHARE, *_HAND_S))
        sides += ["mouth_left" if rng.random() < 0.5 else "mouth_right" for _ in spans[-1]]
    worn = ["forehead" if call["hat"] else "eyes" if call["person"]["glasses"] else "none" for call in plan]
    occlusion = np.repeat(np.array(worn, dtype=object), len(time_s)).reshape(len(plan), -1)
    row, frame, span = _during(time_s, *_flat_spans(spans))
    occlusion[row, frame] = np.array(sides, dtype=object)[span]   # a call's hands never overlap
    return occlusion


def _face(plan: list[dict], frowns: dict, motion: dict) -> dict:
    """The bend of the mouth and the pose of the head in every frame, arrays (call, frame): the
    participant's resting mouth and seat, moved by the call's talking, frowns and head motion."""
    def own(name):   # the participant's number, one row per call
        return np.array([call["person"][name] for call in plan])[:, None]

    curvature = np.clip(own("resting_curvature") + motion["talk"] - frowns["down"], -1.0, 1.0)
    return {"curvature": curvature,
            "pose_dx": np.clip(own("seat_dx") + motion["pose_dx"], -_MAX_SHIFT_PX, _MAX_SHIFT_PX),
            "pose_dy": np.clip(own("seat_dy") + motion["pose_dy"], -_MAX_SHIFT_PX, _MAX_SHIFT_PX),
            "pose_angle": np.clip(own("seat_tilt") + motion["pose_angle"], -_MAX_TILT, _MAX_TILT)}


def _frames_of_calls(plan: list[dict], *, seed: int, fps: float, prevalence: float, lighting_change_at,
                     frames_per_window: int) -> dict:
    """The columns of :data:`FRAME_COLUMNS` that change from frame to frame, for every call of
    ``plan`` (not empty): {column: array (call, frame)}, or one array (frame,) the same in every call."""
    n = int(round(plan[0]["duration_s"] * fps))   # every call lasts call_seconds
    frame = np.arange(n)
    time_s = frame / fps
    day_time_s = np.array([call["start_s"] for call in plan])[:, None] + time_s
    frowns = _frowns(plan, time_s, seed=seed, prevalence=prevalence)
    motion = _motion(plan, n, seed=seed, fps=fps)
    light = _lighting(plan, day_time_s, motion["flicker"], seed=seed, lighting_change_at=lighting_change_at)
    light["gradient_angle"] = np.mod(light["gradient_angle"], 2 * math.pi)
    return {"frame": frame, "time_s": time_s, "day_time_s": day_time_s, "window": frame // frames_per_window,
            "episode": frowns["episode"], "label": frowns["label"], **light,
            "occlusion": _occlusions(plan, time_s, seed=seed), **_face(plan, frowns, motion)}


def _call_frames(call: dict, row: int, frames: dict) -> dict:
    """The factor table of one call, row ``row`` of :func:`_frames_of_calls`'s ``frames``:
    {column: array, or one value for every frame}. The frame table is still the concatenation of
    one table per call, so its columns and dtypes are those of one DataFrame per call."""
    person = call["person"]
    table = {name: values[row] if values.ndim == 2 else values for name, values in frames.items()}
    table.update({"participant": person["participant"], "call": call["call"], "day": call["day"],
                  "tone": person["tone"], "tone_value": person["tone_value"], "noise_std": call["noise_std"],
                  "camera": call["camera"]})
    table.update({name: person[name] for name in SHAPE_DEFAULTS})
    return table


def _frame_table(tables: list[dict]) -> pd.DataFrame:
    """One DataFrame of the calls' factor tables, in order (one DataFrame built once: building one
    per call cost more than drawing the frames)."""
    if not tables:
        return pd.DataFrame({c: [] for c in FRAME_COLUMNS})
    lengths = [len(table["frame"]) for table in tables]
    columns = {}
    for name in FRAME_COLUMNS:
        parts = [table[name] for table in tables]
        if any(isinstance(part, np.ndarray) for part in parts):
            columns[name] = np.concatenate([part if isinstance(part, np.ndarray) else np.full(n, part, dtype=object)
                                            for part, n in zip(parts, lengths)])
        else:   # one value per call
            columns[name] = np.repeat(np.array(parts, dtype=object), lengths)
    frame = pd.DataFrame(columns, columns=FRAME_COLUMNS)
    return frame.infer_objects()


# ----------------------------------------------------------------------------------------------
# calls and frames
# ----------------------------------------------------------------------------------------------
def _plan_calls(people: list[dict], calls_per_participant: int, call_seconds: float,
                day_seconds: float, *, seed: int, day: int, lighting_fraction: float,
                camera_change_at) -> list[dict]:
    """One dict per call: who, when, and the room's lighting and camera."""
    lighting_probs = np.array([DEFAULT_CONFIG["lighting_probs"][k] for k in LIGHTING_CATEGORIES])
    slot = day_seconds / calls_per_participant
    calls = []
    for person in people:
        pkey = _key(person["participant"])
        for c in range(calls_per_participant):
            rng = generator(seed, "calls", day, pkey, c)
            start = c * slot + rng.uniform(0.0, slot - call_seconds)
            light = draw_lighting(rng, 1, lighting_probs)
            new_camera = camera_change_at is not None and start >= camera_change_at
            noise = _NEW_CAMERA_NOISE if new_camera else _OLD_CAMERA_NOISE
            calls.append({
                "call": f"{person['participant']}-d{day}-c{c}", "participant": person["participant"],
                "day": day, "start_s": start, "duration_s": call_seconds,
                "lighting": light["lighting"][0], "brightness": float(light["brightness"][0]),
                "gradient_angle": float(light["gradient_angle"][0]),
                "gradient_strength": float(light["gradient_strength"][0]),
                "camera": "new" if new_camera else "old", "noise_std": rng.uniform(*noise),
                "hat": bool(rng.random() < _HAT_RATE),
                "lighting_change_reaches": bool(rng.random() < lighting_fraction),
                "index": c, "pkey": pkey, "person": person,
            })
    calls.sort(key=lambda call: (call["start_s"], call["call"]))
    return calls


#: Functions a test may add (and must remove) to see every set ``make_frames`` returns, e.g.
#: :func:`course.checks.labels_shuffled`; empty otherwise.
_MADE_HOOKS: list = []


@seed_by_keyword
def make_frames(participants=20, calls_per_participant: int = 2, call_seconds: float = 30.0, *,
                seed: int, day: int = 0, fps: float | None = None,
                frown_prevalence: float | None = None, day_seconds: float | None = None,
                lighting_change_at: float | None = None, lighting_fraction: float = 0.6,
                camera_change_at: float | None = None, size: int = 32, render: bool = True) -> Frames:
    """Draw the frames of video calls: each participant in ``calls_per_participant`` calls.

    Parameters
    ----------
    participants : int or pandas.DataFrame
        How many participants to draw (``make_participants(participants, seed=seed)``), or a table
        from :func:`make_participants` to film the same people again (on another ``day``).
    calls_per_participant : int
        Calls of each participant on this day.
    call_seconds : float
        Length of each call, a whole number of nudge windows
        (:attr:`course.spec.SPEC.nudge_window_s` seconds each).
    seed : int
        Random seed (keyword only). The same arguments always give the same frames.
    day : int
        Which day the calls happen on (>= 0): the same people on another day have other calls.
    fps : float, optional
        Analysed frames per second (default: the product's, ``SPEC.analysis_fps``).
    frown_prevalence : float, optional
        Long-run share of frames that show a frown, in [0, 0.5] (default: the production
        prevalence, ``SPEC.frown_prevalence``). Raise it to get enough frowns to train on; then
        reweight to the production prevalence before choosing or reporting anything.
    day_seconds : float, optional
        Length of the day the calls are spread over (default: 8 hours). Each participant's calls
        are in order: call ``c`` starts in the ``c``-th of ``calls_per_participant`` equal slots.
    lighting_change_at : float, optional
        Second of the day from which the ceiling light changes (None: never). The change reaches
        the calls of a share ``lighting_fraction`` of the sites: from then on their frames are
        darker and lit from above (``lighting == "overhead"``).
    lighting_fraction : float
        Share of calls the lighting change reaches.
    camera_change_at : float, optional
        Second of the day from which calls start with a new, noisier camera (``camera == "new"``).
    size : int
        Width and height of each frame in pixels.
    render : bool
        Draw the pixels (default). With ``render=False`` only the tables are built, about ten
        times faster, and ``images`` is None: enough to plan splits or to study windows.

    Returns
    -------
    Frames
        ``images``, ``labels``, ``meta`` (one row per frame, :data:`FRAME_COLUMNS`),
        ``participants``, ``calls`` and the sampling settings.

    Examples
    --------
    >>> frames = make_frames(4, calls_per_participant=1, call_seconds=4, seed=0)
    >>> frames.images.shape, frames.frames_per_window
    ((240, 32, 32), 30)
    """
    from course.spec import SPEC

    seed = check_seed(seed)
    day = check_count("day", day, 0)
    people = (make_participants(check_count("participants", participants, 0), seed=seed)
              if isinstance(participants, Integral) and not isinstance(participants, bool)
              else _check_participants(participants))
    calls_per_participant = check_count("calls_per_participant", calls_per_participant, 1)
    fps = SPEC.analysis_fps if fps is None else check_real("fps", fps, 1.0, 120.0)
    frames_per_window = int(round(SPEC.nudge_window_s * fps))
    if abs(frames_per_window - SPEC.nudge_window_s * fps) > 1e-9:
        raise ValueError(f"fps={fps:g} does not give a whole number of frames per "
                         f"{SPEC.nudge_window_s:g}-second nudge window")
    call_seconds = check_real("call_seconds", call_seconds, SPEC.nudge_window_s, 24 * 3600)
    windows = call_seconds / SPEC.nudge_window_s
    if abs(windows - round(windows)) > 1e-9:
        raise ValueError(f"call_seconds must be a whole number of {SPEC.nudge_window_s:g}-second "
                         f"nudge windows, got {call_seconds:g}")
    prevalence = (SPEC.frown_prevalence if frown_prevalence is None
                  else check_real("frown_prevalence", frown_prevalence, 0.0, 0.5))
    day_seconds = 8 * 3600.0 if day_seconds is None else check_real("day_seconds", day_seconds, 0.0, 7 * 86400)
    if day_seconds < calls_per_participant * call_seconds:
        raise ValueError(f"a day of {day_seconds:g} s cannot hold {calls_per_participant} calls of "
                         f"{call_seconds:g} s each")
    lighting_change_at = _when("lighting_change_at", lighting_change_at)
    camera_change_at = _when("camera_change_at", camera_change_at)
    lighting_fraction = check_real("lighting_fraction", lighting_fraction, 0.0, 1.0)
    size = check_count("size", size, 8)

    plan = _plan_calls(_people(people), calls_per_participant, call_seconds, day_seconds, seed=seed,
                       day=day, lighting_fraction=lighting_fraction, camera_change_at=camera_change_at)
    drawn = _frames_of_calls(plan, seed=seed, fps=fps, prevalence=prevalence,
                             lighting_change_at=lighting_change_at,
                             frames_per_window=frames_per_window) if plan else {}
    meta = _frame_table([_call_frames(call, row, drawn) for row, call in enumerate(plan)])
    images = render_faces(meta, seed=child_seed(seed, "pixels", day), size=size) if render else None
    calls = pd.DataFrame([{k: call[k] for k in CALL_COLUMNS} for call in plan], columns=CALL_COLUMNS)
    frames = Frames(images=images, labels=meta["label"].to_numpy(dtype=np.int64).copy(), meta=meta,
                    participants=people, calls=calls, fps=float(fps),
                    frames_per_window=frames_per_window, frown_prevalence=prevalence)
    for hook in _MADE_HOOKS:
        frames = hook(frames)
    return frames
