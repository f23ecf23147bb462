"""Synthetic frowning and smiling faces: the running example of the course.

The task of the course is "detect if a person is frowning". Real face photos are heavy and raise
consent questions, so we draw small cartoon faces instead. Every face is described by a handful of
*factors* (one row of a table): how the mouth bends, the lighting, what covers part of the face,
how the head is turned, the skin tone and the camera noise. Only one factor decides the label:

* ``curvature`` is the bend of the mouth, from -1 (strong frown) to +1 (broad smile).
* ``label`` is 1 for "frown". It is drawn from ``p(frown) = sigmoid(-curvature / ambiguity)``:
  far from zero curvature the label is certain; close to zero even a human would hesitate, so the
  labels there are noisy on purpose.

Everything else (lighting, occlusion, pose, tone, noise) is a *nuisance*: it changes the pixels but
not the label. That lets you ask the questions of the course with a known answer: does the model
look at the mouth or at the lighting? Does it do worse on dark tones? What happens when the
lighting in production drifts away from the training data?

Typical use::

    from course.frowns import make_faces
    faces = make_faces(2000, seed=0)
    faces.images.shape   # (2000, 32, 32), float32 in [0, 1]
    faces.labels[:10]    # 1 = frown, 0 = smile
    faces.meta.head()    # the factors of each face, one row per face

Everything is deterministic: the same ``seed`` and the same config give byte-identical output.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from numbers import Real

import numpy as np
import pandas as pd

from course.seeding import generator
from course.validation import check_count, check_real, check_seed, seed_by_keyword

__all__ = [
    "FACE_COLUMNS",
    "LIGHTING_CATEGORIES",
    "OCCLUSION_CATEGORIES",
    "TONE_CATEGORIES",
    "SHAPE_DEFAULTS",
    "DEFAULT_CONFIG",
    "Faces",
    "draw_lighting",
    "draw_tone",
    "sample_face_params",
    "render_faces",
    "make_faces",
    "flip_vertical",
    "flip_horizontal",
]

#: Column names of the factor table returned by :func:`sample_face_params`, in order.
FACE_COLUMNS = [
    "curvature",
    "label",
    "lighting",
    "brightness",
    "gradient_angle",
    "gradient_strength",
    "occlusion",
    "pose_dx",
    "pose_dy",
    "pose_angle",
    "tone",
    "tone_value",
    "noise_std",
]

LIGHTING_CATEGORIES = ("normal", "dim", "bright", "side")
OCCLUSION_CATEGORIES = ("none", "eyes", "mouth_left", "mouth_right", "forehead")
TONE_CATEGORIES = ("light", "medium", "dark")

#: The shape of the cartoon face, in face coordinates (the image spans [-1, 1] before shifts and
#: tilts). :func:`render_faces` uses these numbers for every face unless the table it draws holds a
#: column of the same name, one value per face: that is how a person's faces can look alike and
#: differ from another person's (see :mod:`course.calls`).
SHAPE_DEFAULTS = {
    "head_width": 0.72,    # half width of the head ellipse
    "head_height": 0.90,   # half height of the head ellipse
    "eye_spacing": 0.30,   # distance of each eye from the face's vertical axis
    "eye_height": -0.22,   # height of the eyes (negative = above the centre)
    "mouth_height": 0.40,  # height of the mouth's corners-to-centre midpoint
    "mouth_width": 0.40,   # half width of the mouth
}

#: The default distribution of the factors. Any of these keys can be passed as ``**config`` to
#: :func:`sample_face_params` or :func:`make_faces` to shift the distribution (for example to
#: simulate a camera that drifts towards dim lighting).
DEFAULT_CONFIG = {
    # probability of each lighting condition
    "lighting_probs": {"normal": 0.55, "dim": 0.15, "bright": 0.15, "side": 0.15},
    # added to every face's brightness offset (negative = darker pictures)
    "brightness_shift": 0.0,
    # camera noise standard deviation: one number, or a (low, high) range drawn uniformly
    "noise_std": (0.02, 0.08),
    # probability of each skin tone
    "tone_probs": {"light": 0.4, "medium": 0.35, "dark": 0.25},
    # probability that something covers part of the face
    "occlusion_rate": 0.3,
    # given an occlusion, which part of the face is covered
    "occlusion_probs": {"eyes": 0.25, "mouth_left": 0.25, "mouth_right": 0.25, "forehead": 0.25},
    # width of the uncertain zone around curvature 0 (smaller = cleaner labels)
    "ambiguity": 0.05,
    # mouth curvature is drawn uniformly from this range (within [-1, 1])
    "curvature_range": (-1.0, 1.0),
    # multiplies the size of head shifts and tilts (0 = every face centred and upright)
    "pose_scale": 1.0,
}

# Shape of the cartoon, in face coordinates: x to the right, y downwards, the face spans about
# [-0.7, 0.7] x [-0.9, 0.9] and the image spans [-1, 1] x [-1, 1] before shifts and tilts.
_BACKGROUND = 0.15
_EYE_RADIUS = 0.12
_MOUTH_BEND = 0.30       # vertical distance centre-to-corners at |curvature| = 1
_MOUTH_THICKNESS = 0.15  # about 2.4 pixels at 32x32
_FEATURE_RATIO = 0.35    # eyes and mouth reflect this fraction of the skin's light
_OCCLUSION_VALUE = 0.55  # a flat grey patch (a hand, a scarf, sunglasses, a hat)
# occlusion rectangles in face coordinates: (x_min, x_max, y_min, y_max)
_OCCLUSION_BOXES = {
    "eyes": (-0.62, 0.62, -0.42, -0.04),
    "mouth_left": (-0.62, -0.04, 0.12, 0.78),
    "mouth_right": (0.04, 0.62, 0.12, 0.78),
    "forehead": (-0.66, 0.66, -0.98, -0.50),
}
# lighting condition -> (mean offset, sd of offset, gradient strength low, high)
_LIGHTING = {
    "normal": (0.0, 0.03, 0.0, 0.08),
    "dim": (-0.22, 0.04, 0.0, 0.08),
    "bright": (0.18, 0.04, 0.0, 0.08),
    "side": (0.0, 0.03, 0.25, 0.45),
}
# skin tone -> range of the face intensity
_TONES = {"light": (0.78, 0.90), "medium": (0.58, 0.70), "dark": (0.38, 0.48)}


def _read_only(array: np.ndarray) -> np.ndarray:
    """``array``, made read-only (a module's constant)."""
    array.setflags(write=False)
    return array


# the same as tables, one row per category, and the categories' names as object arrays, built once:
# draw_lighting and draw_tone run once per video call (for one picture) as well as per face set
_LIGHTING_TABLE = _read_only(np.array([_LIGHTING[name] for name in LIGHTING_CATEGORIES]))  # as _LIGHTING
_LIGHTING_NAMES = _read_only(np.asarray(LIGHTING_CATEGORIES, dtype=object))
_SIDE = LIGHTING_CATEGORIES.index("side")
_TONE_TABLE = _read_only(np.array([_TONES[name] for name in TONE_CATEGORIES]))  # low, high
_TONE_NAMES = _read_only(np.asarray(TONE_CATEGORIES, dtype=object))
_MAX_SHIFT_PX = 2.0
_MAX_TILT = 0.25
_CHUNK = 1024  # faces rendered at a time, to keep memory small (the camera noise is drawn per chunk)
_BLOCK = 64 * 1024  # pixels drawn at a time inside a chunk, so that the temporaries stay in the cache


@dataclass(frozen=True)
class Faces:
    """A batch of generated faces.

    Attributes
    ----------
    images : numpy.ndarray
        Shape ``(n, size, size)``, float32, values in [0, 1] (0 = black, 1 = white).
    labels : numpy.ndarray
        Shape ``(n,)``, int64: 1 = frown, 0 = smile.
    meta : pandas.DataFrame
        The factors each face was drawn from, one row per face (index 0..n-1), columns
        :data:`FACE_COLUMNS`. ``meta["label"]`` equals ``labels``.
    """

    images: np.ndarray
    labels: np.ndarray
    meta: pd.DataFrame

    def __len__(self) -> int:
        return len(self.labels)


# ----------------------------------------------------------------------------------------------
# configuration checks
# ----------------------------------------------------------------------------------------------
def _quoted(names) -> str:
    return ", ".join(repr(name) for name in names)


def _check_probs(name: str, value, categories) -> np.ndarray:
    """Turn a {category: probability} dict into a probability vector, or explain what is wrong."""
    hint = f"pass probabilities for {_quoted(categories)}"
    if not isinstance(value, dict):
        raise TypeError(
            f"{name} must be a dict mapping category to probability, got "
            f"{type(value).__name__}; {hint}, e.g. {dict(DEFAULT_CONFIG[name])}"
        )
    unknown = [key for key in value if key not in categories]
    if unknown:
        raise ValueError(f"{name} has unknown categories {_quoted(unknown)}; {hint}")
    probs = []
    for category in categories:
        p = value.get(category, 0.0)
        if isinstance(p, bool) or not isinstance(p, Real) or not math.isfinite(p) or p < 0:
            raise ValueError(
                f"{name}[{category!r}] must be a finite number >= 0, got {p!r}; {hint}"
            )
        probs.append(float(p))
    total = sum(probs)
    if abs(total - 1.0) > 1e-6:
        raise ValueError(f"{name} must sum to 1, got {total:g}; {hint} (missing ones count as 0)")
    return np.asarray(probs) / total


def _check_range(name: str, value, low: float, high: float) -> tuple[float, float]:
    """Accept one number or a (low, high) pair, both inside [low, high]."""
    if isinstance(value, Real) and not isinstance(value, bool):
        value = (value, value)
    if not isinstance(value, (tuple, list)) or len(value) != 2:
        raise TypeError(
            f"{name} must be a number or a (low, high) pair, got {value!r}; "
            f"e.g. {name}={DEFAULT_CONFIG[name]!r}"
        )
    a = check_real(f"{name}[0]", value[0], low, high)
    b = check_real(f"{name}[1]", value[1], low, high)
    if a > b:
        raise ValueError(f"{name} must be (low, high) with low <= high, got ({a:g}, {b:g})")
    return a, b


def _resolve_config(config: dict) -> dict:
    """Merge ``config`` into the defaults and validate every value."""
    unknown = sorted(set(config) - set(DEFAULT_CONFIG))
    if unknown:
        raise TypeError(
            f"unknown config key(s) {_quoted(unknown)}; the allowed keys are "
            f"{_quoted(DEFAULT_CONFIG)}"
        )
    merged = {**DEFAULT_CONFIG, **config}
    occlusion_kinds = OCCLUSION_CATEGORIES[1:]
    return {
        "lighting_probs": _check_probs("lighting_probs", merged["lighting_probs"],
                                       LIGHTING_CATEGORIES),
        "tone_probs": _check_probs("tone_probs", merged["tone_probs"], TONE_CATEGORIES),
        "occlusion_probs": _check_probs("occlusion_probs", merged["occlusion_probs"],
                                        occlusion_kinds),
        "occlusion_rate": check_real("occlusion_rate", merged["occlusion_rate"], 0.0, 1.0),
        "brightness_shift": check_real("brightness_shift", merged["brightness_shift"],
                                          -1.0, 1.0),
        "noise_std": _check_range("noise_std", merged["noise_std"], 0.0, 1.0),
        "ambiguity": check_real("ambiguity", merged["ambiguity"], 0.0, low_open=True),
        "curvature_range": _check_range("curvature_range", merged["curvature_range"], -1.0, 1.0),
        "pose_scale": check_real("pose_scale", merged["pose_scale"], 0.0, 4.0),
    }


# ----------------------------------------------------------------------------------------------
# factors
# ----------------------------------------------------------------------------------------------
def draw_lighting(rng: np.random.Generator, n: int, probs, brightness_shift: float = 0.0) -> dict:
    """Draw the lighting of ``n`` pictures from ``rng``: category, brightness and gradient.

    Parameters
    ----------
    rng : numpy.random.Generator
        The random stream to draw from.
    n : int
        Number of pictures.
    probs : array-like
        Probability of each of :data:`LIGHTING_CATEGORIES`, in that order.
    brightness_shift : float
        Added to every brightness offset.

    Returns
    -------
    dict
        ``lighting`` (object array of category names), ``brightness``, ``gradient_angle``
        (radians; side light comes from the left or the right) and ``gradient_strength``, each of
        shape (n,).
    """
    lighting_idx = rng.choice(len(LIGHTING_CATEGORIES), size=n, p=probs)
    mean, sd, g_low, g_high = _LIGHTING_TABLE[lighting_idx].T
    brightness = mean + sd * rng.standard_normal(n) + brightness_shift
    gradient_strength = g_low + (g_high - g_low) * rng.random(n)
    # side light comes from the left or the right; other lights from anywhere
    side = lighting_idx == _SIDE
    from_right = rng.random(n) < 0.5
    side_angle = np.where(from_right, 0.0, np.pi) + 0.2 * rng.standard_normal(n)
    any_angle = rng.uniform(0.0, 2 * np.pi, n)
    gradient_angle = np.mod(np.where(side, side_angle, any_angle), 2 * np.pi)
    return {
        "lighting": _LIGHTING_NAMES[lighting_idx],
        "brightness": brightness,
        "gradient_angle": gradient_angle,
        "gradient_strength": gradient_strength,
    }


def draw_tone(rng: np.random.Generator, n: int, probs) -> tuple[np.ndarray, np.ndarray]:
    """Draw ``n`` skin tones from ``rng``.

    Parameters
    ----------
    rng : numpy.random.Generator
        The random stream to draw from.
    n : int
        Number of faces.
    probs : array-like
        Probability of each of :data:`TONE_CATEGORIES`, in that order.

    Returns
    -------
    tuple of (numpy.ndarray, numpy.ndarray)
        ``(tone, tone_value)``: the category names (object array) and the skin intensities
        (float64), each of shape ``(n,)``.
    """
    tone_idx = rng.choice(len(TONE_CATEGORIES), size=n, p=probs)
    t_low, t_high = _TONE_TABLE[tone_idx].T
    tone_value = t_low + (t_high - t_low) * rng.random(n)
    return _TONE_NAMES[tone_idx], tone_value


@seed_by_keyword
def sample_face_params(n: int, *, seed: int = 0, **config) -> pd.DataFrame:
    """Draw the factors of ``n`` faces: one row per face, columns :data:`FACE_COLUMNS`.

    Parameters
    ----------
    n : int
        Number of faces.
    seed : int, keyword-only
        Random seed (>= 0). The same seed and config always give the same table.
    **config
        Shift the distribution of the factors; see :data:`DEFAULT_CONFIG` for every key and its
        default. For example ``lighting_probs={"dim": 1.0}`` makes every picture dim and
        ``noise_std=0.15`` makes a noisy camera. Unknown keys raise ``TypeError``.

    Returns
    -------
    pandas.DataFrame
        ``curvature`` in [-1, 1] (negative = mouth bends down = frown), ``label`` (1 = frown,
        depends on curvature only), ``lighting``, ``brightness``, ``gradient_angle``,
        ``gradient_strength``, ``occlusion``, ``pose_dx``, ``pose_dy`` (pixels), ``pose_angle``
        (radians), ``tone``, ``tone_value`` (skin intensity) and ``noise_std``.

    Notes
    -----
    ``p(frown) = sigmoid(-curvature / ambiguity)``. When ``|curvature|`` is more than six times
    ``ambiguity`` the label is certain (the probability of the other label there would be below
    0.25% and is set to zero), so with the default ``ambiguity=0.05`` every face with
    ``|curvature| > 0.3`` has a clean label.
    """
    n = check_count("n", n, 0)
    seed = check_seed(seed)
    cfg = _resolve_config(config)
    rng = generator(seed, "face-factors")

    low, high = cfg["curvature_range"]
    curvature = rng.uniform(low, high, n)
    z = -curvature / cfg["ambiguity"]
    p_frown = 1.0 / (1.0 + np.exp(-np.clip(z, -50, 50)))
    p_frown = np.where(np.abs(z) > 6.0, (z > 0).astype(float), p_frown)
    label = (rng.random(n) < p_frown).astype(np.int64)

    lighting = draw_lighting(rng, n, cfg["lighting_probs"], cfg["brightness_shift"])

    occluded = rng.random(n) < cfg["occlusion_rate"]
    kind = 1 + rng.choice(len(OCCLUSION_CATEGORIES) - 1, size=n, p=cfg["occlusion_probs"])
    occlusion_idx = np.where(occluded, kind, 0)

    scale = cfg["pose_scale"]
    pose_dx = scale * rng.uniform(-_MAX_SHIFT_PX, _MAX_SHIFT_PX, n)
    pose_dy = scale * rng.uniform(-_MAX_SHIFT_PX, _MAX_SHIFT_PX, n)
    pose_angle = scale * np.clip(0.1 * rng.standard_normal(n), -_MAX_TILT, _MAX_TILT)

    tone, tone_value = draw_tone(rng, n, cfg["tone_probs"])

    n_low, n_high = cfg["noise_std"]
    noise_std = n_low + (n_high - n_low) * rng.random(n)

    return pd.DataFrame(
        {
            "curvature": curvature,
            "label": label,
            "lighting": lighting["lighting"],
            "brightness": lighting["brightness"],
            "gradient_angle": lighting["gradient_angle"],
            "gradient_strength": lighting["gradient_strength"],
            "occlusion": np.asarray(OCCLUSION_CATEGORIES, dtype=object)[occlusion_idx],
            "pose_dx": pose_dx,
            "pose_dy": pose_dy,
            "pose_angle": pose_angle,
            "tone": tone,
            "tone_value": tone_value,
            "noise_std": noise_std,
        },
        columns=FACE_COLUMNS,
    )


# ----------------------------------------------------------------------------------------------
# rendering
# ----------------------------------------------------------------------------------------------
def _column(params: pd.DataFrame, name: str) -> np.ndarray:
    """One numeric factor as a float32 array of shape (n, 1, 1), ready to broadcast on a grid."""
    values = pd.to_numeric(params[name], errors="raise").to_numpy(dtype=np.float32)
    if not np.all(np.isfinite(values)):
        raise ValueError(f"params[{name!r}] contains NaN or infinite values")
    return values[:, None, None]


def _shape(params: pd.DataFrame, name: str):
    """A shape number of :data:`SHAPE_DEFAULTS`: the table's column (n, 1, 1) if it has one, else
    the default as a float32 scalar (so tables without shape columns render exactly as before)."""
    if name in params.columns:
        return _column(params, name)
    return np.float32(SHAPE_DEFAULTS[name])


def _ink(distance: np.ndarray, pixel: float) -> np.ndarray:
    """Anti-aliased coverage: 1 inside a shape (distance < 0), 0 outside, a one-pixel ramp."""
    return np.clip(0.5 - distance / pixel, 0.0, 1.0)


def _paint(image: np.ndarray, coverage: np.ndarray, value) -> None:
    """In place: image <- image + coverage * (value - image)."""
    image += coverage * (value - image)


def _face_numbers(params: pd.DataFrame, pixel) -> dict:
    """The numbers of a chunk's faces, read and checked once: float32 columns (n, 1, 1) (or a
    float32 scalar for a shape the table lacks), the angles' cosines and sines, and the occlusions.

    The columns are checked in the order the pictures use them, so a table with a bad value fails
    with the same message as always. The cosines and sines are taken of the whole chunk's column,
    as always: a block of faces drawn later only reads its rows of them."""
    f32 = np.float32
    face = {"curvature": _column(params, "curvature"), "tone": _column(params, "tone_value"),
            "dx": _column(params, "pose_dx") * pixel, "dy": _column(params, "pose_dy") * pixel}
    angle = _column(params, "pose_angle")
    face["cos"], face["sin"] = np.cos(angle), np.sin(angle)
    for key, name in [("head_w", "head_width"), ("head_h", "head_height"), ("eye_x", "eye_spacing"),
                      ("eye_y", "eye_height"), ("mouth_y", "mouth_height"), ("mouth_w", "mouth_width")]:
        face[key] = _shape(params, name)
    g_angle = _column(params, "gradient_angle")
    face["g_cos"], face["g_sin"] = np.cos(g_angle), np.sin(g_angle)
    face["g_strength"] = _column(params, "gradient_strength")
    face["brightness"] = _column(params, "brightness")
    occlusion = params["occlusion"].to_numpy()
    unknown = set(np.unique(occlusion.astype(str))) - set(OCCLUSION_CATEGORIES)
    if unknown:
        raise ValueError(
            f"params['occlusion'] has unknown values {_quoted(sorted(unknown))}; "
            f"use one of {_quoted(OCCLUSION_CATEGORIES)}"
        )
    face["occlusion"] = occlusion
    face["feature"] = face["tone"] * f32(_FEATURE_RATIO)
    return face


def _rows(face: dict, part: slice) -> dict:
    """The numbers of the faces ``part`` of a chunk (a shape the table lacks is the same scalar)."""
    return {key: value[part] if isinstance(value, np.ndarray) else value for key, value in face.items()}


def _draw(image: np.ndarray, face: dict, noise: np.ndarray, u: np.ndarray, v: np.ndarray,
          pixel) -> None:
    """In place: draw the faces ``face`` (see :func:`_face_numbers`) on ``image``, their
    background, then add the camera ``noise`` (already scaled) and clip to [0, 1]."""
    f32 = np.float32
    image[...] = f32(_BACKGROUND)
    # face coordinates: undo the shift, then the tilt
    cos, sin = face["cos"], face["sin"]
    x = cos * (u - face["dx"]) + sin * (v - face["dy"])
    y = cos * (v - face["dy"]) - sin * (u - face["dx"])

    # the head: an ellipse of skin
    head_w, head_h = face["head_w"], face["head_h"]
    radius = np.sqrt((x / head_w) ** 2 + (y / head_h) ** 2)
    _paint(image, _ink((radius - f32(1.0)) * head_w, pixel), face["tone"])

    feature = face["feature"]  # darker skin -> less contrast between mouth and skin
    # both eyes at once, thanks to the mirror symmetry |x|
    eye = np.sqrt((np.abs(x) - face["eye_x"]) ** 2 + (y - face["eye_y"]) ** 2) - f32(_EYE_RADIUS)
    _paint(image, _ink(eye, pixel), feature)

    # the mouth: a thick parabola; curvature > 0 puts the centre below the corners (a smile)
    mouth_y, mouth_w = face["mouth_y"], face["mouth_w"]
    t = x / mouth_w
    bend = face["curvature"] * f32(_MOUTH_BEND)
    centre_line = mouth_y + bend * (f32(0.5) - t * t)
    slope = bend * (f32(-2.0) / mouth_w) * t
    across = np.abs(y - centre_line) / np.sqrt(f32(1.0) + slope * slope)
    along = np.abs(x) - mouth_w
    mouth = np.maximum(across - f32(_MOUTH_THICKNESS / 2), along)
    _paint(image, _ink(mouth, pixel), feature)

    # lighting: a global offset plus a linear gradient across the image
    image += face["brightness"]
    image += face["g_strength"] * (face["g_cos"] * u + face["g_sin"] * v)

    # occlusion: a flat patch that moves with the face
    for kind, (x0, x1, y0, y1) in _OCCLUSION_BOXES.items():
        rows = np.flatnonzero(face["occlusion"] == kind)
        if rows.size == 0:
            continue
        xs, ys = x[rows], y[rows]
        box = np.maximum(np.maximum(f32(x0) - xs, xs - f32(x1)),
                         np.maximum(f32(y0) - ys, ys - f32(y1)))
        patch = image[rows]
        _paint(patch, _ink(box, pixel), f32(_OCCLUSION_VALUE))
        image[rows] = patch

    # camera noise
    image += noise
    np.clip(image, 0.0, 1.0, out=image)


def _render_chunk(params: pd.DataFrame, size: int, rng: np.random.Generator) -> np.ndarray:
    """The faces of one chunk of :func:`render_faces`: their numbers are read and checked once,
    the camera noise of the whole chunk is drawn in one go (one draw per chunk, as always: the
    noise depends on it), then the pixels are drawn a block of faces at a time (:data:`_BLOCK`
    pixels): the temporaries of a whole chunk overflow the processor's cache, which made each of
    the many steps of a picture wait for memory. Every pixel goes through the same float32
    operations in the same order whatever the block, so the pictures are the same to the bit."""
    f32 = np.float32
    pixel = f32(2.0 / size)
    axis = (np.arange(size, dtype=f32) + f32(0.5)) * pixel - f32(1.0)  # pixel centres in [-1, 1]
    u = axis[None, None, :]  # image x, to the right
    v = axis[None, :, None]  # image y, downwards

    n = len(params)
    face = _face_numbers(params, pixel)
    noise = rng.standard_normal((n, size, size), dtype=f32)
    noise *= _column(params, "noise_std")
    image = np.empty((n, size, size), dtype=f32)
    step = max(1, _BLOCK // (size * size))
    for start in range(0, n, step):
        part = slice(start, start + step)
        _draw(image[part], _rows(face, part), noise[part], u, v, pixel)
    return image


@seed_by_keyword
def render_faces(params: pd.DataFrame, *, seed: int = 0, size: int = 32) -> np.ndarray:
    """Draw one grayscale face per row of ``params`` (a table from :func:`sample_face_params`).

    Each face is, in this order: a background; an elliptical head of intensity ``tone_value``;
    two eyes; a mouth drawn as a thick parabola that bends down for negative ``curvature`` (a
    frown) and up for positive ``curvature`` (a smile); all of it tilted by ``pose_angle`` and
    shifted by (``pose_dx``, ``pose_dy``) pixels; then the lighting (``brightness`` offset plus a
    linear gradient of ``gradient_strength`` in direction ``gradient_angle``); then a flat grey
    patch over the part named by ``occlusion``; then Gaussian camera noise of standard deviation
    ``noise_std``. The eyes and mouth reflect a fixed fraction of the skin's light, so darker
    skin gives a lower contrast between the mouth and the skin.

    Parameters
    ----------
    params : pandas.DataFrame
        Needs the columns ``curvature``, ``tone_value``, ``pose_dx``, ``pose_dy``,
        ``pose_angle``, ``brightness``, ``gradient_angle``, ``gradient_strength``,
        ``occlusion`` and ``noise_std``. You may edit a table before rendering it, e.g. set
        ``noise_std`` to 0 to see clean faces. Optional columns named after the keys of
        :data:`SHAPE_DEFAULTS` (``head_width``, ``eye_spacing``, ``mouth_width``...) give each
        face its own shape; without them every face has the default shape.
    seed : int, keyword-only
        Seed of the camera noise (>= 0).
    size : int
        Width and height in pixels (>= 8).

    Returns
    -------
    numpy.ndarray
        Shape ``(n, size, size)``, float32, clipped to [0, 1].
    """
    if not isinstance(params, pd.DataFrame):
        raise TypeError(
            f"params must be a pandas DataFrame from sample_face_params, got "
            f"{type(params).__name__}"
        )
    seed = check_seed(seed)
    size = check_count("size", size, 8)
    needed = [c for c in FACE_COLUMNS if c not in ("label", "lighting", "tone")]
    missing = [c for c in needed if c not in params.columns]
    if missing:
        raise ValueError(
            f"params is missing column(s) {_quoted(missing)}; build it with sample_face_params"
        )
    rng = generator(seed, "face-pixels")
    n = len(params)
    images = np.empty((n, size, size), dtype=np.float32)
    chunk = max(1, _CHUNK * 1024 // (size * size))
    for start in range(0, n, chunk):  # a loop over chunks of faces, vectorized inside
        stop = min(n, start + chunk)
        images[start:stop] = _render_chunk(params.iloc[start:stop], size, rng)
    return images


#: Functions a test may add (and must remove) to see every set ``make_faces`` returns, e.g.
#: :func:`course.checks.labels_shuffled`; empty otherwise.
_MADE_HOOKS: list = []


@seed_by_keyword
def make_faces(n: int, *, seed: int = 0, size: int = 32, **config) -> Faces:
    """Generate ``n`` labelled faces: factors, then pixels.

    Parameters
    ----------
    n : int
        Number of faces.
    seed : int, keyword-only
        Random seed (>= 0); the same seed and config give byte-identical faces.
    size : int
        Width and height of each image in pixels (default 32).
    **config
        Shifts of the factor distribution, passed to :func:`sample_face_params`
        (see :data:`DEFAULT_CONFIG`).

    Returns
    -------
    Faces
        ``images`` (n, size, size) float32 in [0, 1], ``labels`` (n,) int64 with 1 = frown, and
        ``meta``, the table of factors.

    Examples
    --------
    >>> faces = make_faces(100, seed=1, lighting_probs={"dim": 1.0})
    >>> faces.images.shape, faces.labels.dtype
    ((100, 32, 32), dtype('int64'))
    """
    meta = sample_face_params(n, seed=seed, **config)
    images = render_faces(meta, seed=seed, size=size)
    labels = meta["label"].to_numpy(dtype=np.int64).copy()
    faces = Faces(images=images, labels=labels, meta=meta)
    for hook in _MADE_HOOKS:
        faces = hook(faces)
    return faces


def _check_images(images) -> np.ndarray:
    images = np.asarray(images)
    if images.ndim < 2:
        raise ValueError(
            f"images must have shape (height, width) or (n, height, width), got {images.shape}"
        )
    return images


def flip_vertical(images) -> np.ndarray:
    """Upside-down copy of one image (h, w) or a batch (n, h, w).

    An upside-down face is not a smile: the person still frowns (seen from the eyes, the mouth
    still bends away from them), but no camera of the product sends such a face. It is out of
    distribution, so this is not an augmentation to use for our task, with either label.

    Parameters
    ----------
    images : array-like
        One image ``(h, w)`` or a batch ``(n, h, w)``.

    Returns
    -------
    numpy.ndarray
        A flipped copy, same shape and dtype.
    """
    images = _check_images(images)
    return images[..., ::-1, :].copy()


def flip_horizontal(images) -> np.ndarray:
    """Mirror copy (left <-> right) of one image (h, w) or a batch (n, h, w).

    A mirrored frown is still a frown, so this augmentation keeps the label. (The ``occlusion``
    names ``mouth_left`` and ``mouth_right`` swap sides in the picture.)

    Parameters
    ----------
    images : array-like
        One image ``(h, w)`` or a batch ``(n, h, w)``.

    Returns
    -------
    numpy.ndarray
        A mirrored copy, same shape and dtype.
    """
    images = _check_images(images)
    return images[..., :, ::-1].copy()
