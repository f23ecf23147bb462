"""Unit tests for course.behaviour: the frown models used by assignment 03's behavioural tests."""
from __future__ import annotations

import numpy as np
import pytest

from course import behaviour as B
from course.frowns import make_faces, render_faces, sample_face_params


@pytest.fixture(scope="module")
def faces():
    return make_faces(300, seed=4242)


def test_pooled_features_shape_and_brightness_invariance(faces):
    feats = B.pooled_features(faces.images, pool=2)
    assert feats.shape == (300, 256)
    mid = np.full((2, 32, 32), 0.4) + 0.1 * np.random.default_rng(0).random((2, 32, 32))
    assert np.allclose(B.pooled_features(mid), B.pooled_features(mid + 0.05))  # no clipping here
    assert not np.allclose(B.pooled_features(mid, center=False), B.pooled_features(mid + 0.05, center=False))
    assert B.pooled_features(faces.images[0]).shape == (1, 256), "one (h, w) image is a batch of one"


def test_pooled_features_rejects_bad_input():
    with pytest.raises(ValueError, match="pool must divide"):
        B.pooled_features(np.zeros((1, 32, 32)), pool=3)
    with pytest.raises(ValueError, match="shape"):
        B.pooled_features(np.zeros(5))


def test_unfitted_model_explains():
    with pytest.raises(RuntimeError, match="not fitted"):
        B.FrownModel()(np.zeros((1, 32, 32)))
    assert "not fitted" in repr(B.FrownModel())


def test_training_is_deterministic():
    a = B.train_frown_model(300, seed=3)
    b = B.train_frown_model(300, seed=3)
    assert np.array_equal(a.coef_, b.coef_) and a.intercept_ == b.intercept_


def test_reference_model_is_cached_and_good(faces):
    model = B.reference_model()
    assert B.reference_model() is model
    p = model(faces.images)
    assert p.shape == (300,) and p.dtype == np.float64
    assert np.all((p >= 0) & (p <= 1))
    assert np.mean((p > 0.5) == faces.labels) > 0.8


def test_correct_models_behave(faces):
    models = B.correct_models()
    assert set(models) == {"reference", "retrained"}
    params = sample_face_params(200, seed=99)
    frowns = render_faces(params.assign(curvature=-0.7), seed=1)
    smiles = render_faces(params.assign(curvature=0.7), seed=1)
    for name, model in models.items():
        p = model(faces.images)
        for delta in (-0.05, 0.05):
            moved = np.abs(model(np.clip(faces.images + delta, 0, 1)) - p)
            assert np.mean(moved <= 0.1) >= 0.98, name
        assert np.mean(model(frowns) > 0.5) >= 0.9 and np.mean(model(smiles) < 0.5) >= 0.9, name
        curv = params["curvature"].clip(-0.8, 0.8)
        before = model(render_faces(params.assign(curvature=curv), seed=2))
        after = model(render_faces(params.assign(curvature=curv - 0.2), seed=2))
        assert np.mean(after > before) >= 0.9, name


def test_planted_models_have_their_faults(faces):
    planted = B.planted_models()
    assert set(planted) == {"brightness_shortcut", "inverted_curvature", "always_smile"}
    reference = B.reference_model()
    x = faces.images
    shortcut = planted["brightness_shortcut"]
    moved = np.abs(shortcut(np.clip(x + 0.05, 0, 1)) - shortcut(x))
    assert np.mean(moved > 0.1) > 0.2, "brighter pictures should move the shortcut model a lot"
    assert np.allclose(planted["inverted_curvature"](x), 1 - reference(x))
    smile = planted["always_smile"](x)
    assert smile.shape == (300,) and np.all(smile < 0.5)
    for model in planted.values():
        assert model(x[0]).shape == (1,), "every model accepts a single (h, w) image"
