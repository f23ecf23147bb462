"""Production as the monitor sees it: hours of calls scored by the shipped detector, and the labels
that trickle back.

Assignment 05 ships a frown detector (:func:`course.models.shipped_detector`: the low-rank CNN and
its threshold, loaded from the course's data). Assignment 06 watches it in production. :func:`production_replay` films calls
spread over ``hours`` monitor windows (:attr:`course.spec.SPEC.monitor_window_s` each), with the
events of :func:`course.calls.make_frames` at chosen hours (a ceiling light that changes for part
of the sites, a noisier camera), scores every frame with the shipped detector and decides each
nudge window at the shipped threshold. It returns two tables:

* ``faces``: one row per analysed frame, with what a monitor can watch at once (the picture's
  ``brightness``, ``contrast``, ``light`` and ``noise``, see :func:`face_measurements`; ``tone``;
  the detector's ``score``) and what only hindsight knows (``label``, ``lighting``, ``camera``);
* ``windows``: one row per nudge window (:func:`course.nudges.window_table`) with the detector's
  ``vote`` and ``fired``, the ``hour`` (monitor window) it belongs to, and how its label comes
  back, the way :data:`course.spec.SPEC` says labels come back:

  - ``feedback``: the nudge was shown (``fired``) and the speaker said whether it was right (a
    share :attr:`~course.spec.Spec.nudge_feedback_rate` of shown nudges do); the answer arrives
    in the same monitor window;
  - ``donor``: the participant donates crops (a share :attr:`~course.spec.Spec.opt_in_rate` of
    participants do); every window of a donor is labelled, :attr:`~course.spec.Spec.label_delay`
    monitor windows later;
  - ``arrival``: the monitor window at whose end the label is known (``inf`` if it never is);
  - ``propensity``: the probability that a window like this one (fired or not) gets a label at
    all: ``1 - (1 - feedback rate) * (1 - opt-in rate)`` for a fired window, the opt-in rate
    for one that did not fire. The product knows it, because it is the product's own label
    policy; weighting each label by ``1 / propensity`` undoes the selection.

``label`` is in both tables for hindsight (the true answer, which production never sees all of).

Typical use::

    from course.production import production_replay
    day = production_replay(24, seed=0, lighting_change_at=9, camera_change_at=16)
    day.faces.groupby("hour")["brightness"].mean()
    day.windows[["hour", "label", "fired", "feedback", "donor", "arrival", "propensity"]]

Everything is deterministic from ``seed``.
"""
from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from course.seeding import generator
from course.validation import check_count, check_fraction, check_seed, seed_by_keyword

__all__ = ["FACE_COLUMNS", "WINDOW_COLUMNS", "Replay", "production_replay",
           "replay_traffic", "face_measurements"]

#: Columns of :attr:`Replay.faces`, in order.
FACE_COLUMNS = ["hour", "call", "participant", "tone", "brightness", "contrast", "light", "noise", "score",
                "label", "lighting", "camera"]
#: Columns of :attr:`Replay.windows`, in order.
WINDOW_COLUMNS = ["hour", "call", "window", "participant", "tone", "label", "vote", "fired",
                  "feedback", "donor", "arrival", "propensity"]

#: Analysed frames per second in the replay: the rate the shipped threshold was chosen at
#: (``course.models.VALIDATION_SET``), a vote over 10 frames per nudge window.
REPLAY_FPS = 5


@dataclass(frozen=True)
class Replay:
    """Some hours of production: see the module's docstring.

    Attributes
    ----------
    faces : pandas.DataFrame
        One row per analysed frame, columns :data:`FACE_COLUMNS`, in time order within each call.
    windows : pandas.DataFrame
        One row per nudge window, columns :data:`WINDOW_COLUMNS`.
    images : numpy.ndarray
        The frames, shape ``(len(faces), 32, 32)``.
    threshold : float
        The shipped threshold the nudges were decided at.
    hours : int
        Number of monitor windows (0 .. hours - 1).
    events : dict
        ``{"lighting_change": hour or None, "camera_change": hour or None}``.
    """

    faces: pd.DataFrame
    windows: pd.DataFrame
    images: np.ndarray
    threshold: float
    hours: int
    events: dict

    def __repr__(self) -> str:
        return (f"Replay({self.hours} hours, {len(self.faces)} frames, {len(self.windows)} nudge "
                f"windows, threshold {self.threshold:.3f}, events={self.events})")


def _hour(name: str, value, hours: int):
    if value is None:
        return None
    value = check_count(name, value, 0)
    if value >= hours:
        raise ValueError(f"{name}={value} lies beyond the replay's {hours} hours (0..{hours - 1})")
    return value


def face_measurements(images) -> pd.DataFrame:
    """Four cheap measurements of each face, what a monitor can watch without labels:

    * ``brightness``: the mean pixel;
    * ``contrast``: the standard deviation of the pixels;
    * ``light``: the mean of the top half minus the mean of the bottom half (a ceiling light
      brightens the forehead and shadows the mouth);
    * ``noise``: the mean absolute difference between horizontally neighbouring pixels (a
      cheaper, noisier camera raises it).

    Parameters
    ----------
    images : array-like
        Faces, shape ``(n, H, W)``.

    Returns
    -------
    pandas.DataFrame
        One row per face, the columns ``brightness``, ``contrast``, ``light`` and ``noise``.
    """
    images = np.asarray(images, dtype=np.float64)
    if images.ndim != 3:
        raise ValueError(f"images must have shape (n, H, W), got {images.shape}")
    flat = images.reshape(len(images), -1)
    half = images.shape[1] // 2
    return pd.DataFrame({"brightness": flat.mean(axis=1), "contrast": flat.std(axis=1),
                         "light": images[:, :half].mean(axis=(1, 2)) - images[:, half:].mean(axis=(1, 2)),
                         "noise": np.abs(np.diff(images, axis=2)).mean(axis=(1, 2))})


@seed_by_keyword
def production_replay(hours: int, *, seed: int, lighting_change_at: int | None = None,
                      camera_change_at: int | None = None, lighting_fraction: float = 0.6,
                      calls_per_hour: int = 24, call_seconds: float = 2.0, detector=None,
                      scored: bool = True) -> Replay:
    """Replay ``hours`` monitor windows of production through the shipped detector.

    Parameters
    ----------
    hours : int
        Monitor windows to replay (each :attr:`course.spec.SPEC.monitor_window_s` seconds).
    seed : int, keyword-only
        Everything is drawn from this seed (participants, calls, frowns, pixels, labels).
    lighting_change_at, camera_change_at : int, optional
        Monitor window (hour) from which the ceiling light changes for a share
        ``lighting_fraction`` of the calls, and from which calls start with a noisier camera
        (None: never); see :func:`course.calls.make_frames`.
    calls_per_hour : int
        Calls the monitor samples in every monitor window (exactly this many; one participant
        each, new people every hour, each call starting at a random time of its hour).
    call_seconds : float
        Length of each sampled call (a whole number of nudge windows).
    detector : course.models.Detector, optional
        The detector to replay (default: :func:`course.models.shipped_detector`). Replays of the
        shipped detector are kept (the last few, per process), so asking twice costs nothing; the
        rendered frames are kept too, so a scored and an unscored replay of the same hours draw
        the pictures once.
    scored : bool
        Run the detector (default). With ``scored=False`` it is not run, which is faster and enough
        for a monitor of the inputs: ``score`` and ``vote`` are NaN and no nudge fires.

    Returns
    -------
    Replay
        Fresh copies of the tables each call.
    """
    seed = check_seed(seed)
    if detector is None:
        replay = _shipped_replay(hours, seed, lighting_change_at, camera_change_at, lighting_fraction,
                                 calls_per_hour, call_seconds, bool(scored))
        return Replay(faces=replay.faces.copy(), windows=replay.windows.copy(), images=replay.images,
                      threshold=replay.threshold, hours=replay.hours, events=dict(replay.events))
    return _replay(hours, seed=seed, lighting_change_at=lighting_change_at,
                   camera_change_at=camera_change_at, lighting_fraction=lighting_fraction,
                   calls_per_hour=calls_per_hour, call_seconds=call_seconds, detector=detector,
                   scored=bool(scored))


@functools.lru_cache(maxsize=8)
def _shipped_replay(hours, seed, lighting_change_at, camera_change_at, lighting_fraction,
                    calls_per_hour, call_seconds, scored) -> Replay:
    return _replay(hours, seed=seed, lighting_change_at=lighting_change_at,
                   camera_change_at=camera_change_at, lighting_fraction=lighting_fraction,
                   calls_per_hour=calls_per_hour, call_seconds=call_seconds, detector=None, scored=scored)


def _replay(hours, *, seed, lighting_change_at, camera_change_at, lighting_fraction, calls_per_hour,
            call_seconds, detector, scored=True) -> Replay:
    hours = check_count("hours", hours, 1)
    seed = check_seed(seed)
    calls_per_hour = check_count("calls_per_hour", calls_per_hour, 1)
    lighting_change_at = _hour("lighting_change_at", lighting_change_at, hours)
    camera_change_at = _hour("camera_change_at", camera_change_at, hours)
    check_fraction("lighting_fraction", lighting_fraction)
    shipped = detector is None
    if detector is None:
        from course.models import shipped_detector

        detector = shipped_detector()

    meta, kept = _rendered(hours, seed, lighting_change_at, camera_change_at, float(lighting_fraction),
                           calls_per_hour, call_seconds)
    meta = meta.copy()
    # a replay of another detector gets pixels of its own; one of the shipped detector shares the
    # read-only pixels that are kept (torch warns about, and must not see, a read-only array)
    images = kept if shipped else kept.copy()
    labels = meta["label"].to_numpy(dtype=np.int64)
    scores = detector.scores(kept.copy()) if scored else np.full(len(images), np.nan)
    hour = meta["hour"].to_numpy(dtype=np.int64)

    faces = face_measurements(images)
    faces.insert(0, "hour", hour)
    faces.insert(1, "call", meta["call"].to_numpy())
    faces.insert(2, "participant", meta["participant"].to_numpy())
    faces.insert(3, "tone", meta["tone"].to_numpy())
    faces["score"] = scores
    faces["label"] = labels
    faces["lighting"] = meta["lighting"].to_numpy()
    faces["camera"] = meta["camera"].to_numpy()
    faces = faces[FACE_COLUMNS]

    if scored:
        table = detector.windows(meta, scores=scores)
    else:
        from course.nudges import window_table

        table = window_table(meta).copy()
        table["vote"], table["fired"] = np.nan, False
    table["hour"] = table["call"].map(meta.groupby("call")["hour"].first()).to_numpy(dtype=np.int64)

    table = _with_labels(table, seed=seed)
    windows = table[WINDOW_COLUMNS].reset_index(drop=True)
    return Replay(faces=faces, windows=windows, images=images, threshold=float(detector.threshold),
                  hours=hours, events={"lighting_change": lighting_change_at, "camera_change": camera_change_at})


@functools.lru_cache(maxsize=8)
def _rendered(hours, seed, lighting_change_at, camera_change_at, lighting_fraction, calls_per_hour,
              call_seconds) -> tuple[pd.DataFrame, np.ndarray]:
    """The frames of the replay's hours, one table row per frame, and their pixels (read-only).

    Kept per process (the last few), because drawing the pictures is most of a replay's cost and
    the same hours are often replayed with and without the detector."""
    from course.calls import make_frames, make_participants
    from course.spec import SPEC

    window_s = SPEC.monitor_window_s
    people = make_participants(hours * calls_per_hour, seed=seed)
    metas, images = [], []
    for h in range(hours):   # the monitor samples exactly calls_per_hour calls in every hour
        lit = lighting_change_at is not None and h >= lighting_change_at
        new_camera = camera_change_at is not None and h >= camera_change_at
        frames = make_frames(people.iloc[h * calls_per_hour:(h + 1) * calls_per_hour], calls_per_participant=1,
                             call_seconds=call_seconds, seed=seed, day=h, fps=REPLAY_FPS, day_seconds=window_s,
                             lighting_change_at=0.0 if lit else None, lighting_fraction=lighting_fraction,
                             camera_change_at=0.0 if new_camera else None)
        meta = frames.meta.copy()
        meta["day_time_s"] = meta["day_time_s"] + h * window_s
        meta["hour"] = h
        metas.append(meta)
        images.append(frames.images)
    images = np.concatenate(images)
    images.setflags(write=False)
    return pd.concat(metas, ignore_index=True), images


def _with_labels(table: pd.DataFrame, *, seed: int, stream: str = "production-labels") -> pd.DataFrame:
    """Add ``feedback``, ``donor``, ``arrival`` and ``propensity`` to a window table that has
    ``hour``, ``participant`` and ``fired``, the way :data:`course.spec.SPEC` says labels come back."""
    from course.spec import SPEC

    table = table.copy()
    rng = generator(seed, stream)
    people = np.unique(table["participant"].to_numpy())
    donors = people[rng.random(len(people)) < SPEC.opt_in_rate]
    fired = table["fired"].to_numpy(dtype=bool)
    feedback = fired & (rng.random(len(table)) < SPEC.nudge_feedback_rate)
    donor = table["participant"].isin(donors).to_numpy()
    low, high = SPEC.label_delay
    delay = rng.integers(low, high + 1, len(table))
    hour = table["hour"].to_numpy(dtype=float)
    arrival = np.where(donor, hour + delay, math.inf)
    arrival = np.where(feedback, np.minimum(arrival, hour), arrival)
    f, o = SPEC.nudge_feedback_rate, SPEC.opt_in_rate
    table["feedback"] = feedback
    table["donor"] = donor
    table["arrival"] = arrival
    table["propensity"] = np.where(fired, 1.0 - (1.0 - f) * (1.0 - o), o)
    return table


@seed_by_keyword
def replay_traffic(replay: Replay, calls_per_hour: int, *, seed: int) -> pd.DataFrame:
    """The nudge windows of production at full volume: ``calls_per_hour`` calls an hour, drawn
    (with replacement) from the replay's calls of the same hour, each copy a participant of its
    own, with labels coming back as :data:`course.spec.SPEC` says.

    The replay renders only a sample of each hour's calls; the labels that come back depend on
    volume (2% of participants donate), so the label log is built at the volume production has.
    Each copy of a call keeps the detector's decisions and the true labels of that call; donors
    and feedback are drawn anew for each copy.

    Parameters
    ----------
    replay : Replay
        A replay from :func:`production_replay` (scored, for the detector's decisions).
    calls_per_hour : int
        Calls an hour at full volume (>= 1).
    seed : int, keyword-only
        Random seed (>= 0) of the copies, donors, feedback and delays.

    Returns
    -------
    pandas.DataFrame
        A window table with the columns :data:`WINDOW_COLUMNS` (participant ids ``"<call>#<copy>"``).
    """
    calls_per_hour = check_count("calls_per_hour", calls_per_hour, 1)
    seed = check_seed(seed)
    windows = replay.windows.reset_index(drop=True)
    rng = generator(seed, "traffic")
    rows_of = {call: np.asarray(rows) for call, rows in windows.groupby("call", sort=False).indices.items()}
    index, copies = [], []
    for hour in sorted(windows["hour"].unique()):
        calls = np.unique(windows.loc[windows["hour"] == hour, "call"].to_numpy())
        drawn = rng.choice(calls, calls_per_hour, replace=True)
        picked = [rows_of[call] for call in drawn]
        index.append(np.concatenate(picked))
        copies.append(np.repeat(np.arange(calls_per_hour), [len(p) for p in picked]))
    index, copies = np.concatenate(index), np.concatenate(copies)
    table = windows.iloc[index].reset_index(drop=True)
    ids = table["call"].to_numpy().astype(str) + "#" + copies.astype(str)
    table["call"] = ids
    table["participant"] = ids
    table = _with_labels(table[["hour", "call", "window", "participant", "tone", "label", "vote", "fired"]],
                         seed=seed, stream="traffic-labels")
    return table[WINDOW_COLUMNS].reset_index(drop=True)
