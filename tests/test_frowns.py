"""Tests of the synthetic frown-face generator (course/frowns.py)."""
import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score

from course.frowns import (
    FACE_COLUMNS,
    LIGHTING_CATEGORIES,
    OCCLUSION_CATEGORIES,
    SHAPE_DEFAULTS,
    TONE_CATEGORIES,
    Faces,
    draw_lighting,
    draw_tone,
    flip_horizontal,
    flip_vertical,
    make_faces,
    render_faces,
    sample_face_params,
)


@pytest.fixture(scope="module")
def faces():
    return make_faces(3000, seed=5)


@pytest.fixture(scope="module")
def params():
    return sample_face_params(8000, seed=11)


def clean_params(n=1, **overrides):
    """Upright, centred, noise-free faces with plain lighting: one factor changed at a time."""
    p = sample_face_params(n, seed=0)
    p = p.assign(pose_dx=0.0, pose_dy=0.0, pose_angle=0.0, brightness=0.0,
                 gradient_strength=0.0, noise_std=0.0, occlusion="none", lighting="normal",
                 tone="light", tone_value=0.85, curvature=-0.8)
    return p.assign(**overrides)


def mouth_bend_score(images):
    """A fixed, hand-made frown detector: > 0 when the mouth corners are LOWER in the picture
    than the mouth centre. It finds the mouth as the strongest thin dark horizontal line in the
    middle columns, wherever it is, so it also works on upside-down faces."""
    img = images.astype(np.float64)
    _, size, _ = img.shape
    line = np.zeros_like(img)  # how much darker a pixel is than the pixels 2 rows above/below
    line[:, 2:-2, :] = (img[:, :-4, :] + img[:, 4:, :]) / 2 - img[:, 2:-2, :]
    line = np.clip(line, 0, None)
    mid = size // 2
    centre = line[:, :, mid - 2: mid + 2].mean(axis=2)
    corners = np.concatenate([line[:, :, mid - 6: mid - 3], line[:, :, mid + 3: mid + 6]],
                             axis=2).mean(axis=2)
    rows = np.arange(size)
    peak = centre.argmax(axis=1)[:, None]
    wc = centre * (np.abs(rows - peak) <= 2)
    wk = corners * (np.abs(rows - peak) <= 5)
    centre_row = (wc * rows).sum(1) / np.maximum(wc.sum(1), 1e-9)
    corner_row = (wk * rows).sum(1) / np.maximum(wk.sum(1), 1e-9)
    return corner_row - centre_row


# --- shapes, dtypes, determinism --------------------------------------------------------------
def test_shapes_dtypes_ranges(faces):
    assert isinstance(faces, Faces)
    assert faces.images.shape == (3000, 32, 32)
    assert faces.images.dtype == np.float32
    assert faces.images.min() >= 0.0 and faces.images.max() <= 1.0
    assert faces.labels.shape == (3000,) and faces.labels.dtype == np.int64
    assert set(np.unique(faces.labels)) == {0, 1}
    assert list(faces.meta.columns) == FACE_COLUMNS
    assert list(faces.meta.index) == list(range(3000))
    np.testing.assert_array_equal(faces.meta["label"].to_numpy(), faces.labels)
    assert len(faces) == 3000


def test_param_columns_and_ranges(params):
    assert list(params.columns) == FACE_COLUMNS
    assert params["curvature"].between(-1, 1).all()
    assert set(params["lighting"]) == set(LIGHTING_CATEGORIES)
    assert set(params["occlusion"]) == set(OCCLUSION_CATEGORIES)
    assert set(params["tone"]) == set(TONE_CATEGORIES)
    assert (params["noise_std"] >= 0).all()
    assert params[["pose_dx", "pose_dy"]].abs().max().max() <= 2.0
    assert params["pose_angle"].abs().max() <= 0.25
    # darker tone categories really have lower skin intensity
    means = params.groupby("tone")["tone_value"].mean()
    assert means["light"] > means["medium"] > means["dark"]


def test_other_sizes():
    f = make_faces(5, seed=1, size=48)
    assert f.images.shape == (5, 48, 48)
    assert make_faces(0).images.shape == (0, 32, 32)


def test_same_seed_is_byte_identical():
    a, b = make_faces(300, seed=7), make_faces(300, seed=7)
    assert a.images.tobytes() == b.images.tobytes()
    np.testing.assert_array_equal(a.labels, b.labels)
    pd.testing.assert_frame_equal(a.meta, b.meta)
    c, d = make_faces(300, seed=7, noise_std=0.1), make_faces(300, seed=7, noise_std=0.1)
    assert c.images.tobytes() == d.images.tobytes()


def test_different_seeds_differ():
    a, b = make_faces(300, seed=7), make_faces(300, seed=8)
    assert not np.array_equal(a.images, b.images)
    assert not a.meta["curvature"].equals(b.meta["curvature"])


def test_rendering_a_prefix_gives_the_same_faces(params):
    few = params.iloc[:50]
    np.testing.assert_array_equal(render_faces(params.iloc[:1500], seed=3)[:50],
                                  render_faces(few, seed=3))


# --- labels depend on curvature only ----------------------------------------------------------
def _holdout_auc(X, y):
    half = len(y) // 2
    model = LogisticRegression(max_iter=1000).fit(X[:half], y[:half])
    return roc_auc_score(y[half:], model.predict_proba(X[half:])[:, 1])


def test_curvature_predicts_label(params):
    auc = _holdout_auc(params[["curvature"]].to_numpy(), params["label"].to_numpy())
    assert auc > 0.95


def test_nuisance_factors_do_not_predict_label(params):
    numeric = params[["brightness", "gradient_angle", "gradient_strength", "pose_dx", "pose_dy",
                      "pose_angle", "tone_value", "noise_std"]]
    onehot = pd.get_dummies(params[["lighting", "occlusion", "tone"]], dtype=float)
    X = pd.concat([numeric, onehot], axis=1).to_numpy(dtype=float)
    auc = _holdout_auc(X, params["label"].to_numpy())
    assert abs(auc - 0.5) < 0.05, auc


def test_label_noise_only_near_zero(params):
    c, y = params["curvature"].to_numpy(), params["label"].to_numpy()
    far = np.abs(c) > 0.3
    np.testing.assert_array_equal(y[far], (c[far] < 0).astype(int))
    near = np.abs(c) < 0.05
    disagree = y[near] != (c[near] < 0)
    assert 0.05 < disagree.mean() < 0.5  # noisy, but still leaning the right way


def test_ambiguity_controls_label_noise():
    crisp = sample_face_params(4000, seed=2, ambiguity=1e-4)
    np.testing.assert_array_equal(crisp["label"], (crisp["curvature"] < 0).astype(int))
    fuzzy = sample_face_params(4000, seed=2, ambiguity=0.3)
    assert (fuzzy["label"] != (fuzzy["curvature"] < 0)).mean() > 0.1


# --- nuisance factors change the pixels -------------------------------------------------------
def test_dim_lighting_darkens_images():
    dim = make_faces(400, seed=3, lighting_probs={"dim": 1.0})
    normal = make_faces(400, seed=3, lighting_probs={"normal": 1.0})
    bright = make_faces(400, seed=3, lighting_probs={"bright": 1.0})
    assert dim.images.mean() < normal.images.mean() - 0.1
    assert bright.images.mean() > normal.images.mean() + 0.05


def test_brightness_shift_and_noise_config():
    base = make_faces(300, seed=4)
    darker = make_faces(300, seed=4, brightness_shift=-0.2)
    assert darker.images.mean() < base.images.mean() - 0.1
    fixed = sample_face_params(100, seed=4, noise_std=0.1)
    assert np.allclose(fixed["noise_std"], 0.1)
    clean = make_faces(2, seed=4, noise_std=0.0, pose_scale=0.0)
    assert clean.meta["pose_angle"].eq(0).all()


def test_lighting_gradient_makes_one_side_brighter():
    p = clean_params(2, gradient_strength=0.4, gradient_angle=[0.0, np.pi])
    img = render_faces(p)
    left, right = img[:, :, :16].mean(axis=(1, 2)), img[:, :, 16:].mean(axis=(1, 2))
    assert right[0] > left[0] + 0.15 and left[1] > right[1] + 0.15


def test_mouth_occlusion_hides_part_of_the_mouth():
    p = clean_params(3, occlusion=["none", "mouth_left", "mouth_right"])
    img = render_faces(p)
    mouth_left, mouth_right = (slice(20, 28), slice(9, 15)), (slice(20, 28), slice(17, 23))
    eyes = (slice(9, 16), slice(6, 26))
    assert np.abs(img[1][mouth_left] - img[0][mouth_left]).mean() > 0.1
    assert np.allclose(img[1][mouth_right], img[0][mouth_right], atol=1e-6)
    assert np.abs(img[2][mouth_right] - img[0][mouth_right]).mean() > 0.1
    assert np.allclose(img[2][mouth_left], img[0][mouth_left], atol=1e-6)
    np.testing.assert_allclose(img[1][eyes], img[0][eyes], atol=1e-6)


def test_eye_and_forehead_occlusion_leave_the_mouth_alone():
    p = clean_params(3, occlusion=["none", "eyes", "forehead"])
    img = render_faces(p)
    mouth = (slice(20, 28), slice(9, 23))
    for k in (1, 2):
        assert np.abs(img[k] - img[0]).mean() > 0.02
        np.testing.assert_allclose(img[k][mouth], img[0][mouth], atol=1e-6)


def test_dark_tone_lowers_mouth_contrast():
    p = clean_params(3, tone=["light", "medium", "dark"], tone_value=[0.85, 0.65, 0.43])
    img = render_faces(p)
    cheek = img[:, 18:20, 5:8].mean(axis=(1, 2))     # plain skin beside the mouth
    mouth = img[:, 20:28, 14:18].min(axis=(1, 2))    # darkest mouth pixel
    contrast = cheek - mouth
    assert contrast[0] > contrast[1] > contrast[2] > 0.1
    assert contrast[2] < 0.6 * contrast[0]


def test_pose_moves_the_face():
    p = clean_params(2, pose_dx=[0.0, 2.0])
    img = render_faces(p)
    np.testing.assert_allclose(img[1][:, 4:28], img[0][:, 2:26], atol=1e-5)


def test_noise_uses_the_row_noise_std():
    p = clean_params(2, noise_std=[0.0, 0.05])
    img = render_faces(p, seed=1)
    flat = (slice(14, 18), slice(13, 19))  # plain skin between eyes and mouth
    assert img[0][flat].std() < 1e-6 and img[1][flat].std() > 0.02


# --- flips ------------------------------------------------------------------------------------
def test_curvature_is_visible_in_pixels(faces):
    c = faces.meta["curvature"].to_numpy()
    score = mouth_bend_score(faces.images)
    assert roc_auc_score(faces.labels, score) > 0.8
    assert np.corrcoef(score, -c)[0, 1] > 0.6


def test_vertical_flip_turns_frowns_into_smiles(faces):
    y = faces.labels
    original = np.mean((mouth_bend_score(faces.images) > 0) == y)
    vflipped = np.mean((mouth_bend_score(flip_vertical(faces.images)) > 0) == y)
    hflipped = np.mean((mouth_bend_score(flip_horizontal(faces.images)) > 0) == y)
    assert original > 0.7
    assert vflipped < 0.3
    assert abs(hflipped - original) < 0.03


def test_flips_return_new_arrays(faces):
    img = faces.images[:4]
    v, h = flip_vertical(img), flip_horizontal(img)
    assert v.shape == h.shape == img.shape
    np.testing.assert_array_equal(v[:, 0], img[:, -1])
    np.testing.assert_array_equal(h[:, :, 0], img[:, :, -1])
    np.testing.assert_array_equal(flip_vertical(v), img)
    v[:] = 0
    assert img.max() > 0  # the original is untouched
    assert flip_horizontal(img[0]).shape == (32, 32)


# --- configuration errors ---------------------------------------------------------------------
@pytest.mark.parametrize(
    "config, error, words",
    [
        ({"lighting_probs": {"normal": 0.5, "dim": 0.4}}, ValueError,
         ["lighting_probs", "sum to 1", "0.9", "'side'"]),
        ({"lighting_probs": {"sunny": 1.0}}, ValueError, ["lighting_probs", "'sunny'"]),
        ({"lighting_probs": [0.25, 0.25, 0.25, 0.25]}, TypeError, ["lighting_probs", "dict"]),
        ({"tone_probs": {"light": -0.5, "dark": 1.5}}, ValueError, ["tone_probs", ">= 0"]),
        ({"noise_std": -0.1}, ValueError, ["'noise_std[0]' parameter", "range [0, 1]", "-0.1"]),
        ({"noise_std": (0.2, 0.1)}, ValueError, ["noise_std", "low <= high"]),
        ({"noise_std": "high"}, TypeError, ["noise_std"]),
        ({"occlusion_rate": 1.5}, ValueError, ["'occlusion_rate' parameter", "range [0, 1]", "1.5"]),
        ({"ambiguity": 0}, ValueError, ["'ambiguity' parameter", "range (0, inf)"]),
        ({"curvature_range": (-2, 1)}, ValueError, ["curvature_range"]),
        ({"brightness_shift": float("nan")}, TypeError, ["brightness_shift"]),
        ({"lightning_probs": {"dim": 1.0}}, TypeError, ["lightning_probs", "lighting_probs"]),
    ],
)
def test_bad_config_raises_a_helpful_error(config, error, words):
    with pytest.raises(error) as info:
        make_faces(10, **config)
    for word in words:
        assert word in str(info.value)


def test_bad_arguments_raise():
    with pytest.raises(TypeError, match="'n' parameter must be an int"):
        make_faces(10.5)
    with pytest.raises(ValueError, match="seed"):
        make_faces(10, seed=-1)
    with pytest.raises(ValueError, match="size"):
        make_faces(10, size=4)
    with pytest.raises(ValueError, match="missing column"):
        render_faces(sample_face_params(3).drop(columns="tone_value"))
    with pytest.raises(ValueError, match="occlusion"):
        render_faces(sample_face_params(3).assign(occlusion="hat"))


# --- face shape: optional columns, defaults unchanged --------------------------------------------
def test_shape_columns_at_their_defaults_change_nothing(params):
    few = params.iloc[:64]
    explicit = few.assign(**SHAPE_DEFAULTS)
    assert render_faces(few, seed=4).tobytes() == render_faces(explicit, seed=4).tobytes()


@pytest.mark.parametrize("column, factor", [("mouth_width", 1.3), ("head_width", 0.85), ("eye_spacing", 1.2),
                                            ("mouth_height", 1.1), ("eye_height", 1.3), ("head_height", 0.9)])
def test_each_shape_column_moves_its_part_of_the_face(column, factor):
    p = clean_params(1)
    base = render_faces(p)
    moved = render_faces(p.assign(**{column: SHAPE_DEFAULTS[column] * factor}))
    assert np.abs(moved - base).max() > 0.1, column


def test_shape_columns_must_be_finite():
    with pytest.raises(ValueError, match="mouth_width"):
        render_faces(clean_params(1).assign(mouth_width=np.nan))


def test_lighting_and_tone_draws_follow_their_probabilities():
    rng = np.random.default_rng(0)
    light = draw_lighting(rng, 4000, [0.0, 0.0, 0.0, 1.0])
    assert set(light["lighting"]) == {"side"} and light["gradient_strength"].min() >= 0.25
    tone, value = draw_tone(rng, 4000, [0.0, 0.0, 1.0])
    assert set(tone) == {"dark"} and value.max() <= 0.48
