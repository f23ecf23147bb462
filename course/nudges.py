"""The nudge: how per-face scores become the product's decision, and how a decision is judged.

The frown model scores one face at a time, but the product decides once per participant per
*nudge window* (:attr:`course.spec.SPEC.nudge_window_s` seconds of one call): it nudges the
speaker when at least a share :attr:`~course.spec.Spec.vote_share` of the window's frames score at
or above the threshold. Metrics of the product are therefore metrics of windows:

* a **frown window** has at least half of its frames labelled frown: a nudge there is right, no
  nudge is a missed frown;
* a **calm window** has no frame labelled frown: a nudge there is a false nudge;
* a **partial window** (some frown frames, fewer than half) is the edge of a frown: a nudge there
  is neither credited nor blamed, so it counts in neither precision nor recall.

Precision is the share of nudges in frown and calm windows that fell in frown windows; recall is
the share of frown windows that got a nudge. Calm windows are untouched by frowns, so their mix
does not depend on how often people frown: a sample drawn at a higher frown prevalence can be
reweighted to the production prevalence window by window.

    from course.nudges import window_table, window_scores, nudge_metrics
    windows = window_table(frames.meta)                  # one row per (call, window)
    votes = window_scores(frames.meta, scores)           # fires at t exactly when votes >= t
    nudge_metrics(windows["label"], votes >= threshold)  # precision, recall, counts

:func:`window_scores` turns the vote into a single number per window: the window fires at
threshold ``t`` exactly when its window score is ``>= t``, so every threshold tool that works on
per-face scores works on windows too.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from course.validation import check_fraction

__all__ = ["WINDOW_COLUMNS", "FROWN", "CALM", "PARTIAL", "window_table", "window_scores",
           "nudge_metrics"]

#: Window labels: a frown window, a calm window and a partial window (ignored by the metrics).
FROWN, CALM, PARTIAL = 1, 0, -1
#: Columns of :func:`window_table`, in order.
WINDOW_COLUMNS = ["call", "window", "participant", "day", "start_s", "day_time_s", "tone",
                  "n_frames", "frown_share", "label"]
_NEEDED = ["call", "window", "participant", "day", "time_s", "day_time_s", "tone", "label"]


def _check_meta(meta) -> pd.DataFrame:
    if not isinstance(meta, pd.DataFrame):
        raise TypeError(f"meta must be the frame table of course.calls.make_frames (frames.meta), "
                        f"got {type(meta).__name__}")
    missing = [c for c in _NEEDED if c not in meta.columns]
    if missing:
        raise ValueError(f"meta lacks column(s) {missing}; pass frames.meta from course.calls.make_frames")
    return meta


def _groups(meta: pd.DataFrame) -> np.ndarray:
    """Window number (0..n_windows-1) of every frame, in order of first appearance."""
    # (call, window) pairs as one integer each, then numbered in order of first appearance: the
    # same numbers as factorizing the pairs themselves, without building a tuple per frame
    call, _ = pd.factorize(meta["call"].to_numpy(), use_na_sentinel=False)
    window, windows = pd.factorize(meta["window"].to_numpy(), use_na_sentinel=False)
    codes, _ = pd.factorize(call.astype(np.int64) * max(len(windows), 1) + window)
    return codes


def window_table(meta) -> pd.DataFrame:
    """One row per nudge window of ``meta`` (a frame table from :func:`course.calls.make_frames`).

    Parameters
    ----------
    meta : pandas.DataFrame
        One row per frame with at least ``call``, ``window``, ``participant``, ``day``,
        ``time_s``, ``day_time_s``, ``tone`` and ``label``.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`WINDOW_COLUMNS`, windows in order of their first frame in ``meta``:
        ``start_s`` and ``day_time_s`` are the time of the window's first frame in the call and in
        the day, ``n_frames`` its number of frames, ``frown_share`` the share of them labelled
        frown, and ``label`` :data:`FROWN` (1), :data:`CALM` (0) or :data:`PARTIAL` (-1).
    """
    meta = _check_meta(meta)
    codes = _groups(meta)
    frames = pd.DataFrame({"code": codes, "label": meta["label"].to_numpy(dtype=float)})
    share = frames.groupby("code", sort=True)["label"].mean().to_numpy()
    count = np.bincount(codes, minlength=len(share)) if len(codes) else np.zeros(0, dtype=int)
    first = np.unique(codes, return_index=True)[1] if len(codes) else np.zeros(0, dtype=int)
    label = np.where(share >= 0.5, FROWN, np.where(share == 0.0, CALM, PARTIAL)).astype(np.int64)
    return pd.DataFrame({
        "call": meta["call"].to_numpy()[first],
        "window": meta["window"].to_numpy()[first].astype(np.int64),
        "participant": meta["participant"].to_numpy()[first],
        "day": meta["day"].to_numpy()[first].astype(np.int64),
        "start_s": meta["time_s"].to_numpy(dtype=float)[first],
        "day_time_s": meta["day_time_s"].to_numpy(dtype=float)[first],
        "tone": meta["tone"].to_numpy()[first],
        "n_frames": count.astype(np.int64),
        "frown_share": share,
        "label": label,
    }, columns=WINDOW_COLUMNS)


def window_scores(meta, scores, vote_share: float | None = None) -> np.ndarray:
    """The vote of each nudge window as one number: the window fires at threshold ``t`` exactly
    when its window score is ``>= t``.

    A window of ``n`` frames fires when at least ``ceil(vote_share * n)`` of its frames score
    ``>= t``, that is when its ``ceil(vote_share * n)``-th highest frame score is ``>= t``; that
    score is the window score.

    Parameters
    ----------
    meta : pandas.DataFrame
        The frame table (``frames.meta``); needs ``call`` and ``window``.
    scores : array-like
        One score per frame of ``meta`` (higher = more frown), shape (n_frames,).
    vote_share : float, optional
        Share of frames that must vote; default :attr:`course.spec.SPEC.vote_share`.

    Returns
    -------
    numpy.ndarray
        float64, one score per window, in the order of :func:`window_table`.
    """
    from course.spec import SPEC

    meta = _check_meta(meta)
    share = check_fraction("vote_share", SPEC.vote_share if vote_share is None else vote_share,
                           allow_zero=False)
    scores = np.asarray(scores, dtype=float)
    if scores.shape != (len(meta),):
        raise ValueError(f"scores must hold one number per frame, shape ({len(meta)},), got {scores.shape}")
    if np.isnan(scores).any():
        raise ValueError("scores contain NaN: every frame needs a score")
    codes = _groups(meta)
    if not len(codes):
        return np.zeros(0)
    order = np.lexsort((-scores, codes))              # by window, highest score first
    sorted_codes = codes[order]
    starts = np.flatnonzero(np.r_[True, sorted_codes[1:] != sorted_codes[:-1]])
    counts = np.diff(np.r_[starts, len(codes)])
    k = np.ceil(share * counts - 1e-9).astype(int)     # frames that must vote, at least 1
    k = np.clip(k, 1, counts)
    result = np.empty(len(starts))
    result[sorted_codes[starts]] = scores[order][starts + k - 1]
    return result


def nudge_metrics(labels, fired, weights=None) -> dict:
    """Precision and recall of nudges over windows, partial windows left out.

    Parameters
    ----------
    labels : array-like
        Window labels from :func:`window_table` (1 frown, 0 calm, -1 partial).
    fired : array-like of bool
        Whether the nudge fired in each window.
    weights : array-like, optional
        A weight per window (for example to reweight a sample to the production prevalence);
        default 1 for every window.

    Returns
    -------
    dict
        ``precision`` (0.0 when nothing fired), ``recall`` (0.0 without frown windows),
        ``nudges`` (weighted nudges in frown and calm windows), ``false_nudges`` and
        ``frown_windows`` (weighted counts), all floats.
    """
    labels = np.asarray(labels)
    fired = np.asarray(fired)
    if labels.shape != fired.shape or labels.ndim != 1:
        raise ValueError(f"labels and fired must be 1-d and equally long, got {labels.shape} and {fired.shape}")
    if not np.isin(labels, (FROWN, CALM, PARTIAL)).all():
        raise ValueError("labels must be window labels: 1 (frown), 0 (calm) or -1 (partial)")
    fired = fired.astype(bool)
    w = np.ones(len(labels)) if weights is None else np.asarray(weights, dtype=float)
    if w.shape != labels.shape or (w < 0).any() or not np.isfinite(w).all():
        raise ValueError("weights must be finite, >= 0 and one per window")
    hits = float(np.sum(w * ((labels == FROWN) & fired)))
    false = float(np.sum(w * ((labels == CALM) & fired)))
    frown = float(np.sum(w * (labels == FROWN)))
    return {
        "precision": hits / (hits + false) if hits + false > 0 else 0.0,
        "recall": (hits / frown) if frown else 0.0,
        "nudges": hits + false,
        "false_nudges": false,
        "frown_windows": frown,
    }
