"""Frown models to test the behaviour of: one that behaves, and planted faulty ones.

A behavioural test checks what a model *does* on inputs you built on purpose, not how it scores on
a held-out set. Three kinds are common:

* an **invariance** test: a change that should not matter (a little more light) must not move the
  prediction;
* a **directional** test: a change that should matter in a known direction (a mouth that bends
  further down) must move the prediction that way;
* a **minimum functionality** test: easy cases (a clear frown, a clear smile) must be right.

To practise, this module gives you models with a known behaviour. Every model is a plain callable
``model(images) -> p`` where ``images`` has shape ``(n, h, w)`` (one image ``(h, w)`` is accepted
too) with pixels in [0, 1], and ``p`` is a float64 array of shape ``(n,)``: the probability of
"frown" for each image.

* :func:`reference_model` is a small logistic regression on pooled pixels with each image's mean
  brightness removed, trained on generated faces. It behaves: it ignores small changes of
  brightness, its p(frown) rises as the mouth bends down, and it gets clear faces right.
* :func:`correct_models` are models that behave (the reference and one trained on other faces).
* :func:`planted_models` each hide one fault: ``"brightness_shortcut"`` learned that darker
  pictures mean frowns; ``"inverted_curvature"`` reads the mouth upside down;
  ``"always_smile"`` answers "smile" whatever it sees.

A good behavioural test passes on every correct model and fails on the planted model whose fault
it is meant to catch.

    from course.behaviour import reference_model
    from course.frowns import make_faces
    model = reference_model()
    p = model(make_faces(8, seed=1).images)   # shape (8,), values in [0, 1]
"""
from __future__ import annotations

from functools import lru_cache

import numpy as np

from course.validation import seed_by_keyword

__all__ = [
    "pooled_features",
    "FrownModel",
    "train_frown_model",
    "reference_model",
    "correct_models",
    "planted_models",
]


def _as_batch(images) -> np.ndarray:
    images = np.asarray(images, dtype=np.float64)
    if images.ndim == 2:
        images = images[None]
    if images.ndim != 3:
        raise ValueError(f"images must have shape (n, height, width) or (height, width), got {images.shape}")
    return images


def pooled_features(images, pool: int = 2, center: bool = True) -> np.ndarray:
    """Average-pool each image over ``pool`` x ``pool`` blocks and flatten it.

    With ``center=True`` each image's mean is subtracted from its features, so adding the same
    amount of light to every pixel leaves the features unchanged (as long as no pixel clips).

    Parameters
    ----------
    images : array-like
        Faces, shape ``(n, height, width)`` or one face ``(height, width)``.
    pool : int, default 2
        Block size; must divide the image's height and width.
    center : bool, default True
        Subtract each image's mean from its features.

    Returns
    -------
    numpy.ndarray
        Shape ``(n, (h // pool) * (w // pool))``.
    """
    images = _as_batch(images)
    n, h, w = images.shape
    if pool < 1 or h % pool or w % pool:
        raise ValueError(f"pool must divide the image size {h}x{w}, got {pool}")
    feats = images.reshape(n, h // pool, pool, w // pool, pool).mean(axis=(2, 4)).reshape(n, -1)
    if center:
        feats = feats - feats.mean(axis=1, keepdims=True)
    return feats


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(z, -500, 500)))


class FrownModel:
    """Logistic regression on :func:`pooled_features`; call it on images to get p(frown).

    Parameters
    ----------
    C : float
        Inverse regularisation strength of the logistic regression (small = strongly regularised,
        so the probabilities are pulled towards 0.5).
    pool : int
        Pooling size of the features (2 turns a 32x32 image into 256 numbers).
    center : bool
        Remove each image's mean brightness from its features.
    """

    def __init__(self, C: float = 0.1, pool: int = 2, center: bool = True):
        self.C = C
        self.pool = pool
        self.center = center
        self.coef_ = None
        self.intercept_ = 0.0

    def fit(self, images, labels) -> "FrownModel":
        """Fit the logistic regression on the pooled features of ``images``.

        Parameters
        ----------
        images : array-like
            Faces, shape ``(n, height, width)`` or one face ``(height, width)``.
        labels : array-like
            One label per face, 1 = frown.

        Returns
        -------
        FrownModel
            ``self``, fitted.
        """
        from sklearn.linear_model import LogisticRegression

        X = pooled_features(images, self.pool, self.center)
        y = np.asarray(labels).astype(int)
        clf = LogisticRegression(C=self.C, max_iter=1000).fit(X, y)
        self.coef_ = clf.coef_[0].astype(np.float64).copy()
        self.intercept_ = float(clf.intercept_[0])
        return self

    def decision_function(self, images) -> np.ndarray:
        """The logit of p(frown).

        Parameters
        ----------
        images : array-like
            Faces, shape ``(n, height, width)`` or one face ``(height, width)``.

        Returns
        -------
        numpy.ndarray
            float64, shape ``(n,)``.
        """
        if self.coef_ is None:
            raise RuntimeError("this FrownModel is not fitted yet: call .fit(images, labels) first")
        return pooled_features(images, self.pool, self.center) @ self.coef_ + self.intercept_

    def predict_proba(self, images) -> np.ndarray:
        """p(frown) for each image.

        Parameters
        ----------
        images : array-like
            Faces, shape ``(n, height, width)`` or one face ``(height, width)``.

        Returns
        -------
        numpy.ndarray
            float64 in [0, 1], shape ``(n,)``.
        """
        return _sigmoid(self.decision_function(images))

    def __call__(self, images) -> np.ndarray:
        """Same as :meth:`predict_proba`: p(frown) for each image, shape ``(n,)``.

        Parameters
        ----------
        images : array-like
            Faces, shape ``(n, height, width)`` or one face ``(height, width)``.

        Returns
        -------
        numpy.ndarray
            float64 in [0, 1], shape ``(n,)``.
        """
        return self.predict_proba(images)

    def __repr__(self) -> str:
        state = "fitted" if self.coef_ is not None else "not fitted"
        return f"FrownModel(C={self.C}, pool={self.pool}, center={self.center}; {state})"


@seed_by_keyword
def train_frown_model(n: int = 2000, *, seed: int = 0, C: float = 0.1, pool: int = 2, **config) -> FrownModel:
    """A :class:`FrownModel` fitted on ``make_faces(n, seed=seed, **config)``.

    Parameters
    ----------
    n : int, default 2000
        How many faces to train on.
    seed : int, keyword-only
        Random seed (>= 0) of the faces.
    C : float, default 0.1
        Inverse regularization strength of the logistic regression.
    pool : int, default 2
        Pooling factor of :func:`pooled_features`.
    **config
        Shifts of the faces' distribution, passed to :func:`course.frowns.make_faces`.

    Returns
    -------
    FrownModel
        Fitted.
    """
    from course.frowns import make_faces

    faces = make_faces(n, seed=seed, **config)
    return FrownModel(C=C, pool=pool).fit(faces.images, faces.labels)


@lru_cache(maxsize=None)
def _trained(seed: int, C: float) -> FrownModel:
    return train_frown_model(2000, seed=seed, C=C)


def reference_model() -> FrownModel:
    """The model that behaves (trained once per process on 2000 faces, then cached).

    Returns
    -------
    FrownModel
        Fitted; the same object every call.
    """
    return _trained(1000, 0.1)


def _named(function, name: str, doc: str):
    function.__name__ = function.__qualname__ = name
    function.__doc__ = doc
    return function


def correct_models() -> dict:
    """Models without a planted fault, by name. Every good behavioural test passes on all of them.

    Returns
    -------
    dict of str to callable
        ``{"reference": ..., "retrained": ...}``; each maps images to p(frown), shape ``(n,)``.
    """
    reference = reference_model()
    other = _trained(2000, 0.3)
    return {
        "reference": reference,
        "retrained": _named(lambda images: other(images), "retrained",
                            "Same recipe as the reference, trained on other faces with weaker regularisation."),
    }


# mean pixel of a typical face; the shortcut model is neutral there
_TYPICAL_BRIGHTNESS = 0.45
_SHORTCUT_STRENGTH = 40.0  # logit change per unit of mean brightness


def planted_models() -> dict:
    """Models with one planted fault each, by name.

    ``brightness_shortcut``
        The reference logit minus ``40 * (mean pixel - 0.45)``: darker pictures look like frowns.
        Normal faces are still mostly right, but 0.05 more light moves the logit by 2.
    ``inverted_curvature``
        ``1 - reference``: a mouth that bends further down makes it *less* sure of a frown.
    ``always_smile``
        p(frown) = 0.02 for every image.

    Returns
    -------
    dict of str to callable
        The three models above, by name; each maps images to p(frown), shape ``(n,)``.
    """
    reference = reference_model()

    def brightness_shortcut(images):
        batch = _as_batch(images)
        shift = _SHORTCUT_STRENGTH * (batch.mean(axis=(1, 2)) - _TYPICAL_BRIGHTNESS)
        return _sigmoid(reference.decision_function(batch) - shift)

    def inverted_curvature(images):
        return 1.0 - reference(images)

    def always_smile(images):
        return np.full(len(_as_batch(images)), 0.02)

    return {
        "brightness_shortcut": brightness_shortcut,
        "inverted_curvature": inverted_curvature,
        "always_smile": always_smile,
    }
