"""A simulated production stream of frown faces, for monitoring and retraining.

Once the frown detector is deployed, faces arrive over time. We cut time into *windows* (think of
an hour of traffic each) and replay what production would have logged:

* the faces of each window, as cheap **model features** (:func:`face_features`) and as simple
  measurements a monitor can watch: ``brightness`` (mean pixel value), ``contrast`` (pixel
  standard deviation) and ``tone`` (the skin-tone-like slice attribute);
* the deployed model's predicted probability of "frown" for every face (``proba``);
* the true label of every face, which arrives **late**: the label of a face seen in window ``w``
  becomes known during window ``w + d`` with a delay ``d`` of a few windows (someone has to look
  at the picture), so at any moment the most recent windows have few or no labels.

Things happen to the stream at known times, so the questions of the course have a known answer:

* ``lighting_shift_at``: a ceiling light changes in part of the sites. From this window on, a
  share ``lighting_fraction`` of the faces is darker and lit from above. The deployed model never
  saw such faces and its mistakes grow.
* ``camera_change_at``: a new camera model is rolled out; every picture from this window on
  carries more sensor noise.
* ``tone_drift``: the mix of the tone attribute slides slowly from ``tone_start`` to
  ``tone_end`` over the whole stream (a new market opens), with no sudden step.

Typical use::

    from course.stream import make_stream, new_model
    stream = make_stream(seed=0)
    stream.log.head()            # one row per face: item, window, brightness, contrast, tone, proba, ...
    stream.reference.head()      # drift-free faces from before deployment (same columns + label)
    X = stream.features(0)       # model features of the faces of window 0
    known = stream.labels_known(5)   # the labels that have arrived by the end of window 5
    known.X, known.y, known.window

Replaying honestly. A retraining policy may only use, at the end of window ``t``, the labels that
have arrived by then: ``stream.labels_known(t)``. :meth:`ProductionStream.strict_view` returns a
copy of the stream that enforces this (its log carries no labels, windows are served in order and
``labels_known`` refuses to look into the future), and :meth:`ProductionStream.counterfactual`
a copy whose late labels are changed, so a test can check that predictions never depended on
them.

Everything is deterministic: the same arguments give the same stream, to the last bit.
"""
from __future__ import annotations

import copy
import functools
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, NamedTuple

import numpy as np
import pandas as pd

from course.frowns import DEFAULT_CONFIG, TONE_CATEGORIES, render_faces, sample_face_params
from course.seeding import child_seed, generator
from course.validation import check_count, check_real, check_seed, seed_by_keyword

if TYPE_CHECKING:
    from sklearn.pipeline import Pipeline

__all__ = [
    "IMAGE_SIZE",
    "LOG_COLUMNS",
    "FutureLabelError",
    "LabelBatch",
    "ProductionStream",
    "face_features",
    "new_model",
    "FacesTable",
    "make_faces_table",
    "make_stream",
]

#: Width and height of the rendered faces, in pixels.
IMAGE_SIZE = 32
#: Columns of :attr:`ProductionStream.log`, in order (a strict view drops ``label`` and ``arrival``).
LOG_COLUMNS = ["item", "window", "brightness", "contrast", "tone", "proba", "label", "arrival"]

_OVERHEAD_ANGLE = 1.5 * math.pi  # light from the top of the picture: the bottom gets darker


class FutureLabelError(RuntimeError):
    """Raised by a strict stream when code reads a label before it has arrived."""


_HIDDEN_IN_STRICT = ("label", "arrival")


def _refuse(column: str):
    raise FutureLabelError(
        f"the log of a strict replay has no {column!r} column: in production a label is unknown until "
        "it arrives. Read labels only through stream.labels_known(t) at the end of window t."
    )


class _StrictLog(pd.DataFrame):
    """The log of a strict view: asking for its labels raises FutureLabelError with an explanation.

    Frames derived from it (a filter, a copy...) behave the same way.
    """

    @property
    def _constructor(self):
        return _StrictLog

    def __getitem__(self, key):
        keys = [key] if isinstance(key, str) else (list(key) if isinstance(key, (list, tuple)) else [])
        for name in keys:
            if isinstance(name, str) and name in _HIDDEN_IN_STRICT:
                _refuse(name)
        return super().__getitem__(key)

    def __getattr__(self, name):
        if name in _HIDDEN_IN_STRICT:
            _refuse(name)
        return super().__getattr__(name)


@dataclass(frozen=True)
class LabelBatch:
    """Labelled faces, as returned by :meth:`ProductionStream.labels_known`.

    Attributes
    ----------
    item : numpy.ndarray
        Row numbers of the faces in :attr:`ProductionStream.log`, shape (m,), int64, increasing.
    window : numpy.ndarray
        The window each face was *seen* in, shape (m,), int64.
    arrival : numpy.ndarray
        The window during which its label arrived, shape (m,), int64.
    X : numpy.ndarray
        Model features, shape (m, n_features), float64.
    y : numpy.ndarray
        Labels, shape (m,), int64: 1 = frown.
    """

    item: np.ndarray
    window: np.ndarray
    arrival: np.ndarray
    X: np.ndarray
    y: np.ndarray

    def __len__(self) -> int:
        return len(self.y)


# ----------------------------------------------------------------------------------------------
# features and model
# ----------------------------------------------------------------------------------------------
def face_features(images) -> np.ndarray:
    """Cheap model features: the lower half of the face (where the mouth is), 2x2-averaged.

    Parameters
    ----------
    images : array-like
        Faces, shape ``(n, size, size)`` with ``size`` a multiple of 4 (32 in the course).

    Returns
    -------
    numpy.ndarray
        float64, shape ``(n, size**2 / 8)``: (n, 128) for 32x32 faces, 8 rows x 16 columns of the
        averaged image, row by row.
    """
    images = np.asarray(images, dtype=np.float64)
    if images.ndim != 3 or images.shape[1] != images.shape[2] or images.shape[1] % 4:
        raise ValueError(
            f"images must have shape (n, size, size) with size a multiple of 4, got {images.shape}"
        )
    n, size, _ = images.shape
    pooled = images.reshape(n, size // 2, 2, size // 2, 2).mean(axis=(2, 4))
    return pooled[:, size // 4:, :].reshape(n, -1)


def new_model() -> "Pipeline":
    """A fresh, unfitted copy of the deployed model: standardisation + logistic regression.

    Fitting it is deterministic (the same data give the same model), which is what lets a test
    compare two replays of a policy prediction by prediction.

    Returns
    -------
    sklearn.pipeline.Pipeline
        ``StandardScaler`` then ``LogisticRegression``, not fitted.
    """
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    return make_pipeline(StandardScaler(), LogisticRegression(C=0.1, solver="newton-cg", max_iter=200))


# ----------------------------------------------------------------------------------------------
# argument checks
# ----------------------------------------------------------------------------------------------
def _event(name: str, value, n_windows: int):
    if value is None:
        return None
    value = check_count(name, value, 0)
    return value  # an event after the end of the stream simply never happens


def _tone_probs(name: str, value) -> np.ndarray:
    if not isinstance(value, dict) or set(value) - set(TONE_CATEGORIES):
        raise ValueError(f"{name} must be a dict over {TONE_CATEGORIES}, got {value!r}")
    probs = np.array([float(value.get(k, 0.0)) for k in TONE_CATEGORIES])
    if np.any(probs < 0) or abs(probs.sum() - 1.0) > 1e-6:
        raise ValueError(f"{name} must hold probabilities >= 0 that sum to 1, got {value!r}")
    return probs / probs.sum()


# ----------------------------------------------------------------------------------------------
# faces with production conditions
# ----------------------------------------------------------------------------------------------
def _faces(n: int, seed: int, tone_probs: np.ndarray, overhead: np.ndarray | None,
           noise_std, lighting_brightness: float):
    """Factors and images of n faces; `overhead` marks the faces under the changed ceiling light."""
    params = sample_face_params(
        n, seed=seed, tone_probs=dict(zip(TONE_CATEGORIES, tone_probs.tolist())),
        noise_std=noise_std,
    )
    if overhead is not None and overhead.any():
        rng = generator(seed, "overhead-light")
        k = int(overhead.sum())
        params.loc[overhead, "lighting"] = "overhead"
        params.loc[overhead, "brightness"] = (
            params.loc[overhead, "brightness"].to_numpy() + lighting_brightness
        )
        params.loc[overhead, "gradient_angle"] = _OVERHEAD_ANGLE + 0.15 * rng.standard_normal(k)
        params.loc[overhead, "gradient_strength"] = rng.uniform(0.25, 0.4, k)
    images = render_faces(params, seed=seed, size=IMAGE_SIZE)
    return params, images


def _measurements(params: pd.DataFrame, images: np.ndarray) -> pd.DataFrame:
    flat = images.reshape(len(images), -1).astype(np.float64)
    return pd.DataFrame({
        "brightness": flat.mean(axis=1),
        "contrast": flat.std(axis=1),
        "tone": params["tone"].to_numpy(dtype=object),
    })


class FacesTable(NamedTuple):
    """What :func:`make_faces_table` returns; a named tuple, so ``table, X = ...`` works too.

    Attributes
    ----------
    table : pandas.DataFrame
        One row per face: ``brightness``, ``contrast``, ``tone``, ``lighting``, ``camera``, ``label``.
    X : numpy.ndarray
        The model features (:func:`face_features`), shape ``(n, 128)``.
    """

    table: pd.DataFrame
    X: np.ndarray


@seed_by_keyword
def make_faces_table(n: int, *, seed: int = 0, overhead_fraction: float = 0.0,
                     noisy_camera: bool = False, tone_probs: dict | None = None,
                     lighting_brightness: float = -0.15, camera_noise=(0.12, 0.2)) -> FacesTable:
    """Labelled faces under chosen production conditions, for golden sets and experiments.

    Parameters
    ----------
    n : int
        How many faces (>= 0).
    seed : int, keyword-only
        Random seed (>= 0).
    overhead_fraction : float, default 0.0
        Share of faces under the changed ceiling light, in [0, 1].
    noisy_camera : bool, default False
        Film with the new, noisier camera (noise ``camera_noise``).
    tone_probs : dict, optional
        Probability of each skin tone (default: the usual mix).
    lighting_brightness : float, default -0.15
        Added to the brightness of the faces under the changed light.
    camera_noise : float or (low, high), default (0.12, 0.2)
        Noise standard deviation of the new camera.

    Returns
    -------
    FacesTable
        ``(table, X)``: ``table`` has one row per face and the columns ``brightness``,
        ``contrast``, ``tone``, ``lighting`` (``"overhead"`` for faces under the changed ceiling
        light, else the usual lighting category), ``camera`` (``"old"``/``"new"``) and ``label``;
        ``X`` holds the model features, shape (n, 128).
    """
    n = check_count("n", n, 0)
    seed = check_seed(seed)
    fraction = check_real("overhead_fraction", overhead_fraction, 0.0, 1.0)
    probs = _tone_probs("tone_probs", tone_probs or DEFAULT_CONFIG["tone_probs"])
    rng = generator(seed, "faces-table-overhead")
    overhead = rng.random(n) < fraction
    noise = camera_noise if noisy_camera else DEFAULT_CONFIG["noise_std"]
    params, images = _faces(n, child_seed(seed, "faces-table-faces"), probs, overhead, noise, lighting_brightness)
    table = _measurements(params, images)
    table["lighting"] = params["lighting"].to_numpy(dtype=object)
    table["camera"] = "new" if noisy_camera else "old"
    table["label"] = params["label"].to_numpy(dtype=np.int64)
    return FacesTable(table, face_features(images))


# ----------------------------------------------------------------------------------------------
# the stream
# ----------------------------------------------------------------------------------------------
class ProductionStream:
    """A replay of production traffic; build it with :func:`make_stream`.

    Attributes
    ----------
    log : pandas.DataFrame
        One row per face, in arrival order (row ``i`` is item ``i``), columns :data:`LOG_COLUMNS`:
        ``item``, ``window``, ``brightness``, ``contrast``, ``tone``, ``proba`` (the deployed
        model's probability of frown), ``label`` (1 = frown) and ``arrival`` (the window during
        which the label arrives; it may lie beyond the end of the stream). A strict view has
        neither ``label`` nor ``arrival``.
    reference : pandas.DataFrame
        Drift-free faces logged before deployment: ``brightness``, ``contrast``, ``tone``,
        ``proba`` and ``label``.
    train_X, train_y : numpy.ndarray
        The data the deployed model was trained on (drift-free).
    model : sklearn Pipeline
        The deployed model (``new_model()`` fitted on ``train_X, train_y``).
    n_windows, window_size : int
        Number of windows and faces per window.
    events : dict
        ``{"lighting_shift": window or None, "camera_change": window or None}``.
    strict : bool
        True for a view made by :meth:`strict_view`.

    Parameters
    ----------
    log, reference, train_X, train_y, model, n_windows, window_size, events
        The attributes above (keyword-only; :func:`make_stream` builds streams).
    features : numpy.ndarray
        The model features of every face of the log, in log order.
    render_args : callable
        ``render_args(t)``: the arguments that re-render the faces of window ``t``.
    label_delay : (int, int)
        The bounds of the label delay, in windows.
    """

    def __init__(self, *, log, reference, features, train_X, train_y, model, n_windows,
                 window_size, events, render_args, label_delay):
        self._log = log
        self.reference = reference
        self._features = features
        self.train_X = train_X
        self.train_y = train_y
        self.model = model
        self.n_windows = n_windows
        self.window_size = window_size
        self.events = events
        self.label_delay = label_delay
        self._render_args = render_args
        self.strict = False
        self._clock = -1  # the latest window a strict view has served

    # -- what everybody may read ---------------------------------------------------------------
    @property
    def log(self) -> pd.DataFrame:
        """The log (see the class's attributes): a copy; without labels on a strict view."""
        if self.strict:
            return _StrictLog(self._log.drop(columns=list(_HIDDEN_IN_STRICT)))
        return self._log.copy()

    @property
    def n_items(self) -> int:
        """How many faces the stream holds (``n_windows * window_size``)."""
        return len(self._log)

    def window_items(self, t: int) -> np.ndarray:
        """Row numbers (items) of the faces of window ``t``: ``t * window_size`` onwards.

        Parameters
        ----------
        t : int
            The window, ``0 .. n_windows - 1``.

        Returns
        -------
        numpy.ndarray
            int64, shape ``(window_size,)``.
        """
        t = self._window(t)
        return np.arange(t * self.window_size, (t + 1) * self.window_size)

    def features(self, t: int) -> np.ndarray:
        """Model features of the faces of window ``t``, shape (window_size, 128).

        A strict view serves windows in order: you may read window ``t`` only once window
        ``t - 1`` has been read.

        Parameters
        ----------
        t : int
            The window, ``0 .. n_windows - 1``.

        Returns
        -------
        numpy.ndarray
            float64, a copy.
        """
        t = self._window(t)
        if self.strict:
            if t > self._clock + 1:
                raise FutureLabelError(
                    f"window {t} was requested before window {self._clock + 1}: a replay serves "
                    "windows in order, one at a time, as production would"
                )
            self._clock = max(self._clock, t)
        return self._features[t * self.window_size:(t + 1) * self.window_size].copy()

    def labels_known(self, t: int) -> LabelBatch:
        """The labels that have arrived by the end of window ``t`` (``arrival <= t``).

        On a strict view ``t`` may not lie beyond the latest window read with
        :meth:`features`: at the end of window ``t`` nobody knows the labels of window ``t + 1``.

        Parameters
        ----------
        t : int
            The window, ``0 .. n_windows - 1``.

        Returns
        -------
        LabelBatch
            The items, their windows, arrival windows, features and labels.
        """
        t = self._window(t)
        if self.strict and t > self._clock:
            raise FutureLabelError(
                f"labels_known({t}) was called when the replay had only reached window "
                f"{self._clock}: these labels arrive in the future. At the end of window t a "
                "policy may only use labels_known(t)."
            )
        arrival = self._log["arrival"].to_numpy()
        items = np.flatnonzero(arrival <= t)
        return LabelBatch(
            item=items.astype(np.int64),
            window=self._log["window"].to_numpy()[items].astype(np.int64),
            arrival=arrival[items].astype(np.int64),
            X=self._features[items].copy(),
            y=self._log["label"].to_numpy()[items].astype(np.int64),
        )

    def final_labels(self) -> np.ndarray:
        """Every label, as known long after the replay (for offline evaluation, never in a policy).

        Returns
        -------
        numpy.ndarray
            int64, one label per item, a copy.
        """
        if self.strict:
            raise FutureLabelError(
                "final_labels() is not available in a strict replay: a policy must not read "
                "labels that have not arrived; only labels_known(t) reveals labels"
            )
        return self._log["label"].to_numpy(dtype=np.int64).copy()

    def images(self, t: int) -> np.ndarray:
        """The pictures of window ``t``, re-rendered on demand.

        Parameters
        ----------
        t : int
            The window, ``0 .. n_windows - 1``.

        Returns
        -------
        numpy.ndarray
            float32, shape ``(window_size, 32, 32)``.
        """
        t = self._window(t)
        params, images = _faces(*self._render_args(t))
        return images

    # -- copies for tests --------------------------------------------------------------------
    def strict_view(self) -> "ProductionStream":
        """A copy that enforces causality: no labels in ``log``, windows served in order,
        :meth:`labels_known` refuses future windows and :meth:`final_labels` raises.

        Returns
        -------
        ProductionStream
            A shallow copy with ``strict`` set.
        """
        view = copy.copy(self)
        view.strict = True
        view._clock = -1
        return view

    @seed_by_keyword
    def counterfactual(self, after: int, *, seed: int = 0) -> "ProductionStream":
        """A copy in which every label that arrives after window ``after`` is flipped
        (1 <-> 0) with probability one half. Predictions for windows up to ``after`` made
        by an honest policy are the same on both streams.

        Parameters
        ----------
        after : int
            The last window whose late labels stay (>= -1; -1 flips every label).
        seed : int, keyword-only
            Random seed (>= 0) of the flips.

        Returns
        -------
        ProductionStream
            A copy with its own log.
        """
        after = check_count("after", after, -1)
        rng = generator(check_seed(seed), "stream-counterfactual")
        log = self._log.copy()
        late = log["arrival"].to_numpy() > after
        flip = late & (rng.random(len(log)) < 0.5)
        log.loc[flip, "label"] = 1 - log.loc[flip, "label"]
        other = copy.copy(self)
        other._log = log
        other._clock = -1
        return other

    def _window(self, t) -> int:
        t = check_count("t", t, 0)
        if t >= self.n_windows:
            raise IndexError(f"window {t} is out of range: the stream has {self.n_windows} "
                             f"windows, 0..{self.n_windows - 1}")
        return t

    def __repr__(self) -> str:
        mode = ", strict" if self.strict else ""
        return (f"ProductionStream({self.n_windows} windows x {self.window_size} faces, "
                f"events={self.events}{mode})")


@functools.lru_cache(maxsize=4)
def _deployment(deployment_seed: int, n_train: int, n_reference: int, tone_start: tuple):
    """Training data, deployed model and reference log (cached: many streams share one deployment)."""
    start = np.asarray(tone_start)
    old_noise = DEFAULT_CONFIG["noise_std"]
    train_params, train_images = _faces(n_train, child_seed(deployment_seed, "deployment-train"), start, None, old_noise, 0.0)
    train_X = face_features(train_images)
    train_y = train_params["label"].to_numpy(dtype=np.int64)
    model = new_model().fit(train_X, train_y)

    ref_params, ref_images = _faces(n_reference, child_seed(deployment_seed, "deployment-reference"), start, None, old_noise, 0.0)
    ref_X = face_features(ref_images)
    reference = _measurements(ref_params, ref_images)
    reference["proba"] = model.predict_proba(ref_X)[:, 1]
    reference["label"] = ref_params["label"].to_numpy(dtype=np.int64)
    return train_X, train_y, model, reference


@seed_by_keyword
def make_stream(*, seed: int = 0, n_windows: int = 48, window_size: int = 100,
                lighting_shift_at: int | None = 16, lighting_fraction: float = 0.6,
                lighting_brightness: float = -0.15, camera_change_at: int | None = 32,
                camera_noise=(0.12, 0.2), tone_drift: bool = True,
                tone_start: dict | None = None, tone_end: dict | None = None,
                label_delay=None, n_train: int = 2000, n_reference: int = 2000,
                deployment_seed: int = 0) -> ProductionStream:
    """Simulate ``n_windows`` windows of ``window_size`` faces each, plus the deployed model.

    Parameters
    ----------
    seed : int, keyword-only
        Everything is drawn from this seed (>= 0). Like every other argument, it is keyword-only.
    n_windows, window_size : int
        Length of the stream and faces per window.
    lighting_shift_at : int or None
        First window under the changed ceiling light (None: never).
    lighting_fraction : float
        Share of faces under the changed light after the shift.
    lighting_brightness : float
        Added to the brightness of those faces (negative: darker).
    camera_change_at : int or None
        First window taken with the new, noisier camera (None: never).
    camera_noise : float or (low, high)
        Noise standard deviation of the new camera (the old one has (0.02, 0.08)).
    tone_drift : bool
        Whether the tone mix slides from ``tone_start`` (default: the usual mix, 40% light,
        35% medium, 25% dark) to ``tone_end`` (default: 15% light, 35% medium, 50% dark).
    label_delay : (int, int), optional
        The label of a face seen in window ``w`` arrives in window ``w + d``, ``d`` drawn
        uniformly from these bounds (inclusive). The minimum must be >= 1. Default: the spec's
        ``SPEC.label_delay``, (2, 6).
    n_train, n_reference : int
        Sizes of the training set of the deployed model and of the drift-free reference log.
    deployment_seed : int
        Seed of what happened before deployment: the training set, the deployed model and the
        reference log. Streams with different ``seed`` but the same ``deployment_seed`` replay
        different days of production for the same deployed model (and are faster to build: the
        deployment is computed once and reused).

    Returns
    -------
    ProductionStream
        The stream, with its deployed model and reference log.
    """
    seed = check_seed(seed)
    n_windows = check_count("n_windows", n_windows, 1)
    window_size = check_count("window_size", window_size, 1)
    shift_at = _event("lighting_shift_at", lighting_shift_at, n_windows)
    camera_at = _event("camera_change_at", camera_change_at, n_windows)
    fraction = check_real("lighting_fraction", lighting_fraction, 0.0, 1.0)
    brightness = check_real("lighting_brightness", lighting_brightness, -1.0, 1.0)
    start = _tone_probs("tone_start", tone_start or DEFAULT_CONFIG["tone_probs"])
    end = _tone_probs("tone_end", tone_end or {"light": 0.15, "medium": 0.35, "dark": 0.5})
    if label_delay is None:
        from course.spec import SPEC

        label_delay = SPEC.label_delay
    if not isinstance(label_delay, (tuple, list)) or len(label_delay) != 2:
        raise TypeError(f"label_delay must be a pair (min, max) of windows, got {label_delay!r}")
    d_low = check_count("label_delay[0]", label_delay[0], 1)
    d_high = check_count("label_delay[1]", label_delay[1], d_low)
    n_train = check_count("n_train", n_train, 2)
    n_reference = check_count("n_reference", n_reference, 1)
    old_noise = DEFAULT_CONFIG["noise_std"]

    # before deployment: training data, the deployed model and a drift-free reference log
    deployment_seed = check_seed(deployment_seed, "deployment_seed")
    train_X, train_y, model, reference = _deployment(deployment_seed, n_train, n_reference,
                                                     tuple(start.tolist()))
    train_X, train_y = train_X.copy(), train_y.copy()
    model, reference = copy.deepcopy(model), reference.copy()

    # production, one window at a time
    conditions = generator(seed, "stream-conditions")
    plan = []
    for t in range(n_windows):
        share = t / (n_windows - 1) if (tone_drift and n_windows > 1) else 0.0
        probs = (1 - share) * start + share * end if tone_drift else start
        overhead = None
        if shift_at is not None and t >= shift_at:
            overhead = conditions.random(window_size) < fraction
        noise = camera_noise if (camera_at is not None and t >= camera_at) else old_noise
        plan.append((window_size, child_seed(seed, "stream-window-faces", t), probs, overhead, noise, brightness))

    tables, features = [], []
    for t in range(n_windows):
        params, images = _faces(*plan[t])
        table = _measurements(params, images)
        table.insert(0, "window", t)
        table["label"] = params["label"].to_numpy(dtype=np.int64)
        tables.append(table)
        features.append(face_features(images))
    log = pd.concat(tables, ignore_index=True)
    X = np.concatenate(features) if features else np.empty((0, 128))
    log.insert(0, "item", np.arange(len(log), dtype=np.int64))
    log["window"] = log["window"].astype(np.int64)
    log["proba"] = model.predict_proba(X)[:, 1]
    delays = generator(seed, "stream-label-delays").integers(d_low, d_high + 1, len(log))
    log["arrival"] = (log["window"].to_numpy() + delays).astype(np.int64)
    log = log[LOG_COLUMNS]

    return ProductionStream(
        log=log, reference=reference, features=X, train_X=train_X, train_y=train_y,
        model=model, n_windows=n_windows, window_size=window_size,
        events={"lighting_shift": shift_at, "camera_change": camera_at},
        render_args=lambda t: plan[t], label_delay=(d_low, d_high),
    )
