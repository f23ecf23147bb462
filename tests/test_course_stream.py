"""Unit tests for course.stream, the simulated production stream of assignment 06."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from threadpoolctl import threadpool_limits

from course.stream import (
    LOG_COLUMNS,
    FutureLabelError,
    LabelBatch,
    face_features,
    make_faces_table,
    make_stream,
    new_model,
)


@pytest.fixture(scope="module", autouse=True)
def _one_thread():
    with threadpool_limits(1):
        yield


@pytest.fixture(scope="module")
def stream():
    return make_stream(seed=3, n_windows=30, window_size=80, lighting_shift_at=10, camera_change_at=20)


def test_log_shape_and_columns(stream):
    log = stream.log
    assert list(log.columns) == LOG_COLUMNS
    assert len(log) == stream.n_items == 30 * 80
    assert log["item"].tolist() == list(range(len(log)))
    assert log["window"].tolist() == sorted(log["window"].tolist())
    assert np.bincount(log["window"]).tolist() == [80] * 30
    delay = log["arrival"] - log["window"]
    assert delay.min() >= 2 and delay.max() <= 6
    assert set(log["label"].unique()) == {0, 1}
    assert set(log["tone"].unique()) <= {"light", "medium", "dark"}
    assert ((log["proba"] >= 0) & (log["proba"] <= 1)).all()
    assert list(stream.reference.columns) == ["brightness", "contrast", "tone", "proba", "label"]
    assert len(stream.reference) == 2000
    assert stream.train_X.shape == (2000, 128) and stream.train_y.shape == (2000,)


def test_deterministic():
    a = make_stream(seed=5, n_windows=6, window_size=30)
    b = make_stream(seed=5, n_windows=6, window_size=30)
    pd.testing.assert_frame_equal(a.log, b.log)
    assert np.array_equal(a.features(3), b.features(3))
    c = make_stream(seed=6, n_windows=6, window_size=30)
    assert not np.array_equal(a.features(3), c.features(3))


def test_deployed_model_scores_the_log(stream):
    X = np.vstack([stream.features(t) for t in range(stream.n_windows)])
    assert np.allclose(stream.model.predict_proba(X)[:, 1], stream.log["proba"])
    refit = new_model().fit(stream.train_X, stream.train_y)
    assert np.allclose(refit.predict_proba(X)[:, 1], stream.log["proba"]), "fitting is deterministic"


def test_events_show_in_the_data(stream):
    log = stream.log
    by = log.groupby("window")
    brightness = by["brightness"].mean()
    contrast = by["contrast"].mean()
    assert brightness[10:20].mean() < brightness[:10].mean() - 0.04, "the lighting change darkens the faces"
    assert contrast[20:].mean() > contrast[10:20].mean() + 0.01, "the new camera adds noise"
    accuracy = ((log["proba"] >= 0.5).astype(int) == log["label"]).groupby(log["window"]).mean()
    assert accuracy[:10].mean() > accuracy[10:].mean() + 0.05, "the deployed model suffers after the changes"
    label_rate = by["label"].mean()
    assert abs(label_rate[:10].mean() - label_rate[10:].mean()) < 0.08, "people frown as often as before"
    dark = (log["tone"] == "dark").groupby(log["window"]).mean()
    assert dark[20:].mean() > dark[:10].mean() + 0.1, "the tone mix drifts towards dark"


def test_no_event_no_drift():
    s = make_stream(seed=2, n_windows=12, window_size=100, lighting_shift_at=None, camera_change_at=None,
                    tone_drift=False)
    assert s.events == {"lighting_shift": None, "camera_change": None}
    gap = abs(s.log["brightness"].mean() - s.reference["brightness"].mean())
    assert gap < 0.02


def test_labels_known(stream):
    known = stream.labels_known(12)
    assert isinstance(known, LabelBatch)
    log = stream.log
    expected = log.index[log["arrival"] <= 12].to_numpy()
    assert known.item.tolist() == expected.tolist()
    assert (known.arrival <= 12).all() and (known.window <= 10).all()
    assert known.y.tolist() == log["label"].to_numpy()[expected].tolist()
    assert np.array_equal(known.X[0], stream.features(int(known.window[0]))[int(known.item[0]) % 80])
    assert len(stream.labels_known(1)) == 0, "no label arrives before window 2"


def test_images_match_features(stream):
    images = stream.images(12)
    assert images.shape == (80, 32, 32) and images.dtype == np.float32
    assert np.allclose(face_features(images), stream.features(12))
    assert np.allclose(images.reshape(80, -1).mean(axis=1), stream.log.loc[stream.log["window"] == 12, "brightness"])


def test_strict_view_refuses_the_future(stream):
    strict = stream.strict_view()
    assert strict.strict and not stream.strict
    log = strict.log
    assert "label" not in log.columns and "arrival" not in log.columns
    with pytest.raises(FutureLabelError, match="labels_known"):
        log["label"]
    with pytest.raises(FutureLabelError):
        log[log["window"] <= 3]["label"]
    with pytest.raises(FutureLabelError):
        strict.final_labels()
    with pytest.raises(FutureLabelError, match="in order"):
        strict.features(1)
    strict.features(0)
    with pytest.raises(FutureLabelError, match="future"):
        strict.labels_known(1)
    assert len(strict.labels_known(0)) == 0
    for t in range(1, 6):
        strict.features(t)
    assert len(strict.labels_known(5)) == len(stream.labels_known(5))
    strict.features(2)  # re-reading an old window is fine
    # the original stream is untouched
    assert "label" in stream.log.columns
    stream.labels_known(29)


def test_counterfactual_changes_only_late_labels(stream):
    other = stream.counterfactual(after=15, seed=1)
    a, b = stream.log, other.log
    early = a["arrival"] <= 15
    assert (a.loc[early, "label"] == b.loc[early, "label"]).all()
    assert (a.loc[~early, "label"] != b.loc[~early, "label"]).mean() > 0.3
    assert np.array_equal(stream.features(7), other.features(7))
    assert (stream.log["label"] == a["label"]).all(), "the original stream keeps its labels"


def test_streams_do_not_share_mutable_state():
    a = make_stream(seed=11, n_windows=3, window_size=20)
    a.train_X[:] = 0
    a.reference.loc[:, "brightness"] = -1.0
    a.model.fit(a.train_X[:10], np.arange(10) % 2)
    b = make_stream(seed=12, n_windows=3, window_size=20)
    assert b.train_X.std() > 0 and (b.reference["brightness"] > 0).all()
    refit = new_model().fit(b.train_X, b.train_y)
    assert np.allclose(refit.predict_proba(b.features(0)), b.model.predict_proba(b.features(0)))


def test_faces_table():
    table, X = make_faces_table(300, seed=4, overhead_fraction=0.5, noisy_camera=True)
    assert X.shape == (300, 128)
    assert list(table.columns) == ["brightness", "contrast", "tone", "lighting", "camera", "label"]
    assert 0.35 < (table["lighting"] == "overhead").mean() < 0.65
    assert (table["camera"] == "new").all()
    plain, _ = make_faces_table(300, seed=4)
    assert (plain["lighting"] != "overhead").all()
    assert plain["contrast"].mean() < table["contrast"].mean()


def test_face_features_shape_and_errors():
    assert face_features(np.zeros((2, 32, 32))).shape == (2, 128)
    with pytest.raises(ValueError):
        face_features(np.zeros((32, 32)))


@pytest.mark.parametrize("kwargs, error", [
    ({"seed": -1}, ValueError),
    ({"n_windows": 0}, ValueError),
    ({"window_size": 2.5}, TypeError),
    ({"lighting_fraction": 1.5}, ValueError),
    ({"label_delay": (0, 3)}, ValueError),
    ({"label_delay": 3}, TypeError),
    ({"tone_end": {"purple": 1.0}}, ValueError),
])
def test_bad_arguments(kwargs, error):
    with pytest.raises(error):
        make_stream(**kwargs)


def test_window_index_checks(stream):
    with pytest.raises(IndexError):
        stream.features(30)
    with pytest.raises(TypeError):
        stream.labels_known(1.0)
