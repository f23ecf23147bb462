"""Unit tests for course.calls: participants, calls and frame sequences in time."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import GroupShuffleSplit, train_test_split
from sklearn.neighbors import KNeighborsClassifier

from course.behaviour import pooled_features, reference_model
from course.calls import (
    CALL_COLUMNS,
    FRAME_COLUMNS,
    PARTICIPANT_COLUMNS,
    Frames,
    make_frames,
    make_participants,
)
from course.framing import SCENARIO
from course.frowns import SHAPE_DEFAULTS, render_faces
from course.nudges import FROWN, CALM, window_table
from course.spec import SPEC


@pytest.fixture(scope="module")
def frames():
    # 16 people, one 20-second call each, frowning often enough to have frowns to look at
    return make_frames(16, calls_per_participant=1, call_seconds=20, seed=3, frown_prevalence=0.3)


@pytest.fixture(scope="module")
def two_calls():
    return make_frames(6, calls_per_participant=2, call_seconds=10, seed=8, frown_prevalence=0.2)


# --- shapes, columns, determinism -------------------------------------------------------------
def test_shapes_columns_and_types(frames):
    n = 16 * 20 * SPEC.analysis_fps
    assert isinstance(frames, Frames) and len(frames) == n
    assert frames.images.shape == (n, 32, 32) and frames.images.dtype == np.float32
    assert 0.0 <= frames.images.min() and frames.images.max() <= 1.0
    assert frames.labels.shape == (n,) and frames.labels.dtype == np.int64
    assert list(frames.meta.columns) == FRAME_COLUMNS
    assert list(frames.meta.index) == list(range(n))
    np.testing.assert_array_equal(frames.meta["label"].to_numpy(), frames.labels)
    assert list(frames.participants.columns) == PARTICIPANT_COLUMNS and len(frames.participants) == 16
    assert list(frames.calls.columns) == CALL_COLUMNS and len(frames.calls) == 16
    assert frames.fps == SPEC.analysis_fps and frames.frames_per_window == SPEC.frames_per_window
    assert frames.frown_prevalence == 0.3


def test_frames_are_ordered_by_call_start_then_frame(frames):
    meta = frames.meta
    starts = frames.calls.set_index("call")["start_s"]
    order = meta.drop_duplicates("call")["call"].tolist()
    assert order == frames.calls["call"].tolist()
    assert starts.loc[order].is_monotonic_increasing
    for _, rows in meta.groupby("call"):
        assert rows["frame"].tolist() == list(range(len(rows)))
        np.testing.assert_allclose(rows["time_s"], rows["frame"] / SPEC.analysis_fps)
        np.testing.assert_allclose(rows["day_time_s"], starts[rows["call"].iloc[0]] + rows["time_s"])
        assert (rows["window"] == rows["frame"] // SPEC.frames_per_window).all()


def test_same_arguments_same_frames_and_other_seeds_differ():
    a = make_frames(3, 1, 4, seed=21)
    b = make_frames(3, 1, 4, seed=21)
    assert a.images.tobytes() == b.images.tobytes()
    pd.testing.assert_frame_equal(a.meta, b.meta)
    c = make_frames(3, 1, 4, seed=22)
    assert not set(a.meta["participant"]) & set(c.meta["participant"])
    assert not np.array_equal(a.images, c.images)


def test_seed_is_keyword_only():
    with pytest.raises(TypeError):
        make_frames(3, 1, 4, 21)  # type: ignore[misc]
    with pytest.raises(TypeError):
        make_participants(3, 21)  # type: ignore[misc]


def test_participant_i_is_the_same_person_whatever_the_number_drawn():
    few, many = make_participants(4, seed=9), make_participants(10, seed=9)
    pd.testing.assert_frame_equal(few, many.iloc[:4])
    assert many["participant"].is_unique


# --- people, calls, time ------------------------------------------------------------------------
def test_a_persons_faces_are_alike(frames):
    meta = frames.meta
    identity = ["tone", "tone_value", *SHAPE_DEFAULTS]
    assert (meta.groupby("participant")[identity].nunique() == 1).all().all()
    assert meta.groupby("participant")["tone_value"].first().nunique() == 16
    # pixels: two frames of one person are closer than frames of two people
    flat = frames.images.reshape(len(frames), -1)
    rng = np.random.default_rng(0)
    i = rng.integers(0, len(frames), 400)
    j = rng.integers(0, len(frames), 400)
    same = meta["participant"].to_numpy()[i] == meta["participant"].to_numpy()[j]
    distance = np.abs(flat[i] - flat[j]).mean(axis=1)
    assert same.sum() > 10
    assert distance[same].mean() < 0.6 * distance[~same].mean()


def test_adjacent_frames_are_nearly_identical(frames):
    flat = frames.images.reshape(len(frames), -1).astype(np.float64)
    same_call = frames.meta["call"].to_numpy()[1:] == frames.meta["call"].to_numpy()[:-1]
    step = np.abs(flat[1:] - flat[:-1]).mean(axis=1)[same_call]
    shuffled = np.abs(flat[1:] - flat[np.random.default_rng(1).permutation(len(flat))[1:]]).mean(axis=1)
    assert np.median(step) < 0.4 * np.median(shuffled)
    # most of the change from one frame to the next is the fresh camera noise
    noise = frames.meta["noise_std"].to_numpy()[1:][same_call]
    assert np.median(step) < 2.0 * np.median(noise * np.sqrt(2) * np.sqrt(2 / np.pi))


def test_calls_have_their_own_lighting_and_camera(frames):
    per_call = frames.meta.groupby("call")
    assert (per_call["noise_std"].nunique() == 1).all()
    assert (per_call["lighting"].nunique() == 1).all()         # no lighting change requested
    assert (per_call["gradient_strength"].nunique() == 1).all()
    assert per_call["noise_std"].first().nunique() == 16
    # the light flickers a little within a call, much less than it varies between calls
    within = per_call["brightness"].std().mean()
    between = per_call["brightness"].mean().std()
    assert within < 0.3 * between


def test_frown_episodes(frames):
    meta = frames.meta
    frown = meta[meta["label"] == 1]
    assert (frown["episode"] != "").all(), "every frown frame belongs to an episode"
    lengths = frown.groupby("episode").size() / SPEC.analysis_fps
    call_of = frown.groupby("episode")["call"].first()
    touches_edge = frown.groupby("episode")["frame"].agg(lambda f: f.min() == 0 or f.max() == 20 * 15 - 1)
    inside = lengths[~touches_edge]
    assert len(inside) >= 10
    assert inside.min() >= SCENARIO.frown_min_s - 1 / 15 and inside.max() <= SCENARIO.frown_max_s + 1 / 15
    # an episode's frames are contiguous in one call
    for name, rows in frown.groupby("episode"):
        assert rows["call"].nunique() == 1 and rows["call"].iloc[0] == call_of[name]
        assert np.all(np.diff(rows["frame"].to_numpy()) == 1)
    # the mouth bends down during a frown, relative to the person's resting mouth
    resting = meta.merge(frames.participants[["participant", "resting_curvature"]], on="participant")
    drop = resting["resting_curvature"] - resting["curvature"]
    assert drop[meta["label"].to_numpy() == 1].mean() > 0.5
    assert abs(drop[meta["episode"].to_numpy() == ""].mean()) < 0.05


def test_production_prevalence_of_frames_and_windows():
    """At the default (production) prevalence, a long sample has the spec's share of frown frames
    and of frown windows (tables only: the pixels are not needed)."""
    day = make_frames(120, calls_per_participant=1, call_seconds=600, seed=5, render=False)
    assert day.images is None and day.frown_prevalence == SPEC.frown_prevalence
    assert abs(day.labels.mean() - SPEC.frown_prevalence) < 0.2 * SPEC.frown_prevalence
    labels = window_table(day.meta)["label"].to_numpy()
    share = np.sum(labels == FROWN) / np.sum(labels >= CALM)
    assert abs(share - SPEC.window_prevalence) < 0.2 * SPEC.window_prevalence
    # frown windows are about as common as frown frames (the spec's derivation)
    assert abs(share - day.labels.mean()) < 0.1 * SPEC.frown_prevalence


def test_no_frowns_at_prevalence_zero():
    calm = make_frames(3, 1, 10, seed=2, frown_prevalence=0.0, render=False)
    assert calm.labels.sum() == 0 and (calm.meta["episode"] == "").all()


def test_the_same_people_on_another_day(two_calls):
    people = two_calls.participants
    later = make_frames(people, calls_per_participant=2, call_seconds=10, seed=8, day=1, frown_prevalence=0.2)
    pd.testing.assert_frame_equal(later.participants, people)
    assert set(later.meta["participant"]) == set(two_calls.meta["participant"])
    assert not set(later.meta["call"]) & set(two_calls.meta["call"])
    assert (later.meta["day"] == 1).all() and (two_calls.meta["day"] == 0).all()
    first = two_calls.meta.groupby("participant")["tone_value"].first()
    np.testing.assert_allclose(later.meta.groupby("participant")["tone_value"].first(), first)


def test_a_participants_calls_come_in_order(two_calls):
    calls = two_calls.calls
    for _, rows in calls.groupby("participant"):
        rows = rows.sort_values("call")
        assert rows["start_s"].is_monotonic_increasing
        assert (rows["start_s"] + rows["duration_s"]).iloc[0] <= rows["start_s"].iloc[1]


def test_production_events_at_chosen_times():
    hour = 3600.0
    day = make_frames(12, calls_per_participant=4, call_seconds=10, seed=4, day_seconds=8 * hour,
                      lighting_change_at=3 * hour, lighting_fraction=0.5, camera_change_at=5 * hour,
                      render=False)
    meta, calls = day.meta, day.calls
    before = meta["day_time_s"] < 3 * hour
    assert (meta.loc[before, "lighting"] != "overhead").all()
    reached = meta["call"].map(calls.set_index("call")["lighting_change_reaches"])
    overhead = ~before & reached
    assert overhead.sum() > 0 and (meta.loc[overhead, "lighting"] == "overhead").all()
    assert (meta.loc[~before & ~reached, "lighting"] != "overhead").all()
    assert 0.2 < calls["lighting_change_reaches"].mean() < 0.8
    assert meta.loc[overhead, "brightness"].mean() < meta.loc[before, "brightness"].mean() - 0.1
    new = calls["start_s"] >= 5 * hour
    assert new.any() and (~new).any()
    assert (calls.loc[new, "camera"] == "new").all() and (calls.loc[~new, "camera"] == "old").all()
    assert calls.loc[new, "noise_std"].min() >= 0.12 and calls.loc[~new, "noise_std"].max() <= 0.08


def test_meta_renders_again_and_shape_matters(frames):
    """The frame table holds every factor the renderer needs, face shape included."""
    few = frames.meta.iloc[:40]
    again = render_faces(few, seed=0)
    assert again.shape == (40, 32, 32)
    clean = few.assign(noise_std=0.0)
    wide = clean.assign(mouth_width=SHAPE_DEFAULTS["mouth_width"] * 1.3)
    assert np.abs(render_faces(clean) - render_faces(wide)).max() > 0.1
    assert np.abs(render_faces(clean) - render_faces(clean.drop(columns=list(SHAPE_DEFAULTS)))).max() > 0.01


# --- what the notebooks teach with it -------------------------------------------------------------
def test_a_random_split_of_frames_leaks_and_inflates_the_metric(frames):
    """A random split puts neighbouring frames of the same person on both sides: the held-out
    score looks far better than on people the model has never seen (group split)."""
    X = pooled_features(frames.images, 4)
    y = frames.labels
    people = frames.meta["participant"].to_numpy()
    gaps = []
    for seed in range(3):
        train, test = train_test_split(np.arange(len(y)), test_size=0.25, random_state=seed)
        leaky = KNeighborsClassifier(5).fit(X[train], y[train])
        auc_random = roc_auc_score(y[test], leaky.predict_proba(X[test])[:, 1])
        train, test = next(GroupShuffleSplit(1, test_size=0.25, random_state=seed).split(X, y, people))
        assert not set(people[train]) & set(people[test])
        honest = KNeighborsClassifier(5).fit(X[train], y[train])
        auc_group = roc_auc_score(y[test], honest.predict_proba(X[test])[:, 1])
        gaps.append(auc_random - auc_group)
    assert min(gaps) > 0.05 and np.mean(gaps) > 0.1, gaps


def test_a_resting_face_baseline_helps(frames):
    """Subtracting each participant's typical score (their resting face) separates frowns better."""
    z = reference_model().decision_function(frames.images)
    people = frames.meta["participant"].to_numpy()
    resting = pd.Series(z).groupby(people).transform("median").to_numpy()
    assert roc_auc_score(frames.labels, z - resting) > roc_auc_score(frames.labels, z) + 0.003


# --- bad arguments ------------------------------------------------------------------------------
@pytest.mark.parametrize("kwargs, error, words", [
    ({"call_seconds": 5}, ValueError, "whole number"),
    ({"call_seconds": 1}, ValueError, r"'call_seconds' parameter must be a float in the range \[2, 86400\]"),
    ({"frown_prevalence": 0.7}, ValueError, "frown_prevalence"),
    ({"fps": 7.3}, ValueError, "whole number of frames"),
    ({"participants": 2.5}, TypeError, "participants"),
    ({"participants": pd.DataFrame({"participant": ["a"]})}, ValueError, "make_participants"),
    ({"calls_per_participant": 0}, ValueError, "calls_per_participant"),
    ({"day_seconds": 3}, ValueError, "cannot hold"),
    ({"day": -1}, ValueError, "day"),
    ({"lighting_fraction": 2}, ValueError, "lighting_fraction"),
])
def test_bad_arguments_say_what_is_wrong(kwargs, error, words):
    args = {"participants": 2, "calls_per_participant": 1, "call_seconds": 4, "seed": 0, "render": False}
    args.update(kwargs)
    with pytest.raises(error, match=words):
        make_frames(**args)


def test_the_frame_table_is_built_once_as_one_frame_per_call_would_be():
    """make_frames builds its frame table in one go (a DataFrame per call cost more than drawing the
    frames); the result is the concatenation of one DataFrame per call, dtypes included."""
    import course.calls as calls

    kept = []
    original = calls._call_frames
    try:
        calls._call_frames = lambda *a, **k: kept.append(original(*a, **k)) or kept[-1]
        frames = make_frames(6, calls_per_participant=2, call_seconds=6.0, seed=4, fps=5,
                             lighting_change_at=10.0, camera_change_at=20.0, day_seconds=60.0, render=False)
    finally:
        calls._call_frames = original
    assert len(kept) == 12
    per_call = pd.concat([pd.DataFrame(table, columns=calls.FRAME_COLUMNS) for table in kept], ignore_index=True)
    pd.testing.assert_frame_equal(frames.meta, per_call, check_exact=True)
    assert (frames.meta["lighting"] == "overhead").any() and (frames.meta["camera"] == "new").any()
