"""A simulated crowd of annotators who label frown faces.

Real labels come from people, and people disagree: some are careful, some are careless, a few
click at random to get paid, and once in a while one gets the instructions backwards. This module
simulates such a crowd so that label aggregation can be studied with a known truth.

Every item is a face from :func:`course.frowns.sample_face_params` (so you can render it with
:func:`course.frowns.render_faces`), and its true label is the face's label (1 = frown, 0 = smile).
Every annotator is described by two numbers, as in the Dawid-Skene model:

* ``sensitivity``: the chance of answering "frown" when the face really is a frown;
* ``specificity``: the chance of answering "smile" when the face really is a smile.

A careful annotator has both near 1, a random clicker has both near 0.5, an adversarial one (or
one who swapped the two buttons) has both near 0. Faces with a mouth that is almost straight are
hard for everybody: on them every annotator's answer drifts towards a coin flip.

Typical use::

    from course.crowd import make_crowd, MISSING
    crowd = make_crowd(300, seed=0)
    crowd.labels.shape        # (300, 5): one column per annotator, MISSING (-1) = not labelled
    crowd.annotators          # name, kind, sensitivity, specificity of each column
    crowd.truth[:10]          # the true labels (a real project never has these!)

Everything is deterministic from ``seed``.
"""
from __future__ import annotations

from dataclasses import dataclass
import numpy as np
import pandas as pd

from course.frowns import sample_face_params
from course.seeding import generator
from course.validation import check_count, check_fraction, check_seed, seed_by_keyword

__all__ = [
    "MISSING",
    "Annotator",
    "Crowd",
    "STANDARD_CROWD",
    "ADVERSARIAL_CROWD",
    "CROWDS",
    "make_crowd",
]

#: Written in :attr:`Crowd.labels` where an annotator did not label an item.
MISSING = -1

# Below this |curvature| a face is hard to read: answers drift towards a coin flip.
_CLEAR_CURVATURE = 0.2


@dataclass(frozen=True)
class Annotator:
    """One member of the crowd.

    ``sensitivity`` = P(answers frown | the face is a frown), ``specificity`` = P(answers smile |
    the face is a smile), both on a clearly readable face. ``kind`` is a word for people
    ("reliable", "unreliable", "adversarial", ...); the simulation only uses the two numbers.
    """

    name: str
    kind: str
    sensitivity: float
    specificity: float


#: Five annotators; one of them ("dana") answers almost at random.
STANDARD_CROWD = (
    Annotator("ana", "reliable", 0.95, 0.93),
    Annotator("ben", "reliable", 0.90, 0.92),
    Annotator("cleo", "reliable", 0.88, 0.86),
    Annotator("dana", "unreliable", 0.55, 0.50),
    Annotator("emil", "reliable", 0.92, 0.90),
)

#: Five annotators; one of them ("finn") gives the wrong answer most of the time, and one
#: ("gus") calls too many faces a frown.
ADVERSARIAL_CROWD = (
    Annotator("ana", "reliable", 0.90, 0.88),
    Annotator("cleo", "reliable", 0.80, 0.78),
    Annotator("finn", "adversarial", 0.10, 0.12),
    Annotator("gus", "biased", 0.92, 0.55),
    Annotator("hana", "reliable", 0.75, 0.80),
)

#: The named crowds :func:`make_crowd` accepts.
CROWDS = {"standard": STANDARD_CROWD, "adversarial": ADVERSARIAL_CROWD}


@dataclass(frozen=True)
class Crowd:
    """Labels from a simulated crowd.

    Attributes
    ----------
    labels : numpy.ndarray
        Shape ``(n_items, n_annotators)``, int64: 1 = frown, 0 = smile, :data:`MISSING` (-1)
        where that annotator did not see that item. Column ``j`` belongs to ``annotators.iloc[j]``.
    truth : numpy.ndarray
        Shape ``(n_items,)``, int64: the true label of each item. A real project does not have
        this; here it lets you check how well an aggregation method recovers it.
    annotators : pandas.DataFrame
        One row per column of ``labels``: ``name``, ``kind``, ``sensitivity``, ``specificity``.
    items : pandas.DataFrame
        The factors of each face (one row per item), from
        :func:`course.frowns.sample_face_params`; render them with
        :func:`course.frowns.render_faces`.
    """

    labels: np.ndarray
    truth: np.ndarray
    annotators: pd.DataFrame
    items: pd.DataFrame

    def __len__(self) -> int:
        return len(self.truth)


def _check_annotators(annotators) -> tuple[Annotator, ...]:
    if isinstance(annotators, str):
        if annotators not in CROWDS:
            raise ValueError(f"unknown crowd {annotators!r}; use one of {sorted(CROWDS)} or a list of Annotator")
        return CROWDS[annotators]
    annotators = tuple(annotators)
    if not annotators:
        raise ValueError("a crowd needs at least one annotator")
    for a in annotators:
        if not isinstance(a, Annotator):
            raise TypeError(f"annotators must be Annotator objects, got {type(a).__name__}")
        for field in ("sensitivity", "specificity"):
            check_fraction(f"{a.name}.{field}", getattr(a, field))   # a probability
    names = [a.name for a in annotators]
    if len(set(names)) != len(names):
        raise ValueError(f"annotator names must be unique, got {names}")
    return annotators


@seed_by_keyword
def make_crowd(n_items: int = 300, *, seed: int = 0, annotators="standard",
               labels_per_item: int | None = None, shuffle: bool = False, **face_config) -> Crowd:
    """Simulate a crowd labelling ``n_items`` frown faces.

    Parameters
    ----------
    n_items : int
        Number of faces to label.
    seed : int, keyword-only
        Random seed (>= 0): the faces, the answers and who labels what.
    annotators : str or sequence of Annotator
        ``"standard"`` (:data:`STANDARD_CROWD`, one unreliable annotator), ``"adversarial"``
        (:data:`ADVERSARIAL_CROWD`, one adversarial and one biased annotator) or your own list.
    labels_per_item : int, optional
        If given, each item is labelled by this many annotators picked at random (the others
        get :data:`MISSING`); by default every annotator labels every item.
    shuffle : bool
        Put the annotators in a random order (drawn from ``seed``), so that the unreliable one
        is not always in the same column.
    **face_config
        Passed to :func:`course.frowns.sample_face_params` (e.g. ``ambiguity=0.1``).

    Returns
    -------
    Crowd
        The answers (``labels``, with :data:`MISSING` where nobody asked), the true labels, the
        annotators in column order and the faces' factors.

    Notes
    -----
    On a face of curvature ``c`` an annotator with accuracy ``p`` on that class answers
    correctly with probability ``0.5 + (p - 0.5) * min(1, |c| / 0.2)``: nearly straight mouths
    are a coin flip for everybody.
    """
    n_items = check_count("n_items", n_items, 0)
    seed = check_seed(seed)
    crowd = _check_annotators(annotators)
    m = len(crowd)
    if labels_per_item is not None:
        labels_per_item = check_count("labels_per_item", labels_per_item, 1)
        if labels_per_item > m:
            raise ValueError(f"labels_per_item={labels_per_item} but the crowd has only {m} annotators")

    items = sample_face_params(n_items, seed=seed, **face_config)
    truth = items["label"].to_numpy(dtype=np.int64).copy()
    rng = generator(seed, "crowd")
    if shuffle:
        crowd = tuple(crowd[i] for i in rng.permutation(m))

    sens = np.array([a.sensitivity for a in crowd], dtype=float)
    spec = np.array([a.specificity for a in crowd], dtype=float)
    accuracy = np.where(truth[:, None] == 1, sens[None, :], spec[None, :])  # (n, m)
    clarity = np.minimum(1.0, np.abs(items["curvature"].to_numpy()) / _CLEAR_CURVATURE)
    p_correct = 0.5 + (accuracy - 0.5) * clarity[:, None]
    correct = rng.random((n_items, m)) < p_correct
    labels = np.where(correct, truth[:, None], 1 - truth[:, None]).astype(np.int64)

    if labels_per_item is not None and labels_per_item < m:
        # each row keeps the annotators with the labels_per_item smallest random keys
        keys = rng.random((n_items, m))
        rank = np.argsort(np.argsort(keys, axis=1), axis=1)
        labels[rank >= labels_per_item] = MISSING

    table = pd.DataFrame(
        {
            "name": [a.name for a in crowd],
            "kind": [a.kind for a in crowd],
            "sensitivity": sens,
            "specificity": spec,
        }
    )
    return Crowd(labels=labels, truth=truth, annotators=table, items=items)
