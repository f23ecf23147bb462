"""Unit tests for course.nudges: window labels, the vote as a window score, nudge metrics."""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from course.calls import make_frames
from course.nudges import CALM, FROWN, PARTIAL, WINDOW_COLUMNS, nudge_metrics, window_scores, window_table
from course.spec import SPEC


def toy_meta(labels_per_window, call="c1", participant="p1", tone="dark"):
    """A frame table with one call whose windows hold the given frame labels."""
    rows = []
    frame = 0
    for w, labels in enumerate(labels_per_window):
        for y in labels:
            rows.append({"call": call, "window": w, "participant": participant, "day": 0,
                         "time_s": frame / 15, "day_time_s": 100 + frame / 15, "tone": tone, "label": y})
            frame += 1
    return pd.DataFrame(rows)


def test_window_labels_frown_calm_partial():
    meta = toy_meta([[1, 1, 0, 0], [0, 0, 0, 0], [0, 0, 0, 1], [1, 1, 1, 0]])
    table = window_table(meta)
    assert list(table.columns) == WINDOW_COLUMNS
    assert table["label"].tolist() == [FROWN, CALM, PARTIAL, FROWN]   # half the frames is a frown window
    assert table["n_frames"].tolist() == [4, 4, 4, 4]
    np.testing.assert_allclose(table["frown_share"], [0.5, 0.0, 0.25, 0.75])
    np.testing.assert_allclose(table["start_s"], [0, 4 / 15, 8 / 15, 12 / 15])
    assert (table["tone"] == "dark").all() and (table["participant"] == "p1").all()


def test_windows_of_two_calls_stay_apart_and_keep_their_order():
    a = toy_meta([[1, 1], [0, 0]], call="b-call", participant="p2")
    b = toy_meta([[0, 0], [1, 0]], call="a-call")
    table = window_table(pd.concat([a, b], ignore_index=True))
    assert table[["call", "window"]].values.tolist() == [["b-call", 0], ["b-call", 1], ["a-call", 0], ["a-call", 1]]
    assert table["label"].tolist() == [FROWN, CALM, CALM, FROWN]


@pytest.mark.parametrize("share", [0.5, 1 / 3, 0.1, 1.0])
def test_window_score_fires_exactly_when_the_vote_does(share):
    rng = np.random.default_rng(7)
    sizes = rng.integers(1, 40, 60)
    meta = pd.concat([toy_meta([[0] * int(k)], call=f"c{i}") for i, k in enumerate(sizes)], ignore_index=True)
    scores = np.round(rng.random(len(meta)), 2)          # ties on purpose
    votes = window_scores(meta, scores, vote_share=share)
    assert votes.shape == (len(sizes),)
    codes = pd.factorize(meta["call"])[0]
    for t in np.r_[np.unique(scores), 0.0, 1.01]:
        frac = np.bincount(codes, weights=(scores >= t)) / np.bincount(codes)
        needed = np.ceil(share * np.bincount(codes) - 1e-9) / np.bincount(codes)
        np.testing.assert_array_equal(votes >= t, frac >= needed - 1e-12)


def test_window_score_uses_the_spec_vote_by_default():
    meta = toy_meta([[0] * 30])
    scores = np.linspace(0, 1, 30)
    k = math.ceil(SPEC.vote_share * 30)
    assert window_scores(meta, scores)[0] == np.sort(scores)[::-1][k - 1]


def test_window_score_errors():
    meta = toy_meta([[0, 1]])
    with pytest.raises(ValueError, match="one number per frame"):
        window_scores(meta, [0.1])
    with pytest.raises(ValueError, match="vote_share"):
        window_scores(meta, [0.1, 0.2], vote_share=0)
    with pytest.raises(ValueError, match="NaN"):
        window_scores(meta, [0.1, np.nan])
    with pytest.raises(ValueError, match="lacks column"):
        window_table(meta.drop(columns=["window"]))


def test_nudge_metrics_leave_partial_windows_out():
    labels = np.array([FROWN, FROWN, CALM, CALM, PARTIAL, PARTIAL])
    fired = np.array([True, False, True, False, True, False])
    m = nudge_metrics(labels, fired)
    assert m == {"precision": 0.5, "recall": 0.5, "nudges": 2.0, "false_nudges": 1.0, "frown_windows": 2.0}
    weighted = nudge_metrics(labels, fired, weights=[1, 1, 3, 3, 1, 1])
    assert weighted["precision"] == 0.25 and weighted["recall"] == 0.5
    assert nudge_metrics(np.array([CALM]), np.array([False])) == {
        "precision": 0.0, "recall": 0.0, "nudges": 0.0, "false_nudges": 0.0, "frown_windows": 0.0}
    with pytest.raises(ValueError, match="window labels"):
        nudge_metrics(np.array([2]), np.array([True]))
    with pytest.raises(ValueError, match="weights"):
        nudge_metrics(labels, fired, weights=[-1, 1, 1, 1, 1, 1])


def test_perfect_scores_make_perfect_nudges_on_real_frames():
    frames = make_frames(5, 1, 20, seed=6, frown_prevalence=0.3, render=False)
    table = window_table(frames.meta)
    votes = window_scores(frames.meta, frames.labels.astype(float))
    m = nudge_metrics(table["label"], votes >= 0.5)
    assert m["frown_windows"] > 5 and m["precision"] == 1.0 and m["recall"] == 1.0


def test_windows_interleaved_frame_by_frame_are_numbered_by_first_appearance():
    """Frames of several calls in any order: each (call, window) pair is one window, numbered in
    the order its first frame appears, exactly as numbering the pairs themselves would."""
    frames = make_frames(6, calls_per_participant=2, call_seconds=6.0, fps=5, seed=4, render=False)
    meta = frames.meta.sample(frac=1.0, random_state=0).reset_index(drop=True)
    table = window_table(meta)
    pairs = list(zip(meta["call"], meta["window"]))
    first_seen = list(dict.fromkeys(pairs))
    assert list(zip(table["call"], table["window"])) == first_seen
    counts = pd.Series(pairs).value_counts()
    assert table["n_frames"].tolist() == [counts[pair] for pair in first_seen]
