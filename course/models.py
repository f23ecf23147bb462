"""The frown model family: the small CNN that assignment 04 trains, 05 compresses and ships, 06 monitors.

One family of models runs through the course, so that what a later assignment monitors is what an
earlier one shipped:

* :func:`frown_cnn` builds a member of the family: a per-image normalisation, two 3x3
  convolutions, a small dense head and two logits (smile, frown). ``width`` and ``hidden`` set its
  size: the default (8, 32) is the model of assignment 04; 05 compresses a wide member (8, 128)
  four ways and ships its low-rank variant (:data:`SHIPPED_RECIPE`).
* :func:`train_frown_cnn` trains any member with mini-batch Adam, deterministically: the same
  model, data and seed give the same weights on the same machine.
* :func:`frown_scores` turns faces into probabilities of frown.
* :func:`choose_threshold` picks the threshold of the nudge on validation windows *reweighted to
  the production prevalence* (:func:`production_weights`), never at the prevalence of a sample
  rich in frowns; :func:`nudge_report` measures the spec's metric at a threshold.
* :func:`frown_teacher` loads the wide member assignment 05 compresses (its "teacher"), as the
  team's model registry would hand it over: trained once from :data:`TEACHER_RECIPE`
  (:func:`build_teacher`) and stored in the course's data, so 05 does not train it again.
* :class:`Detector` bundles a model and its threshold; :func:`shipped_detector` loads the
  detector assignment 05 ships from the course's data (:func:`build_shipped_detector` makes it
  from the recipe of 05's reference solution), so assignment 06 and the capstone work with that
  very model.

Typical use::

    from course.calls import make_frames
    from course.models import TRAINING_SET, VALIDATION_SET, frown_cnn, train_frown_cnn, frown_scores
    train = make_frames(**TRAINING_SET)
    model = train_frown_cnn(frown_cnn(seed=0), train.images, train.labels, seed=0)
    p = frown_scores(model, make_frames(**VALIDATION_SET).images)

    from course.models import shipped_detector
    detector = shipped_detector()                  # the model 05 ships, and its threshold
    detector.windows(frames.meta, frames.images)   # one row per nudge window: vote and "fired"

Why a per-image normalisation, and not batch normalisation? A face in a dim room and the same face
under a bright lamp differ by an offset and a scale of their pixels. Subtracting each picture's own
mean and dividing by its own standard deviation removes both, in training and in serving alike.
Batch normalisation does not: it normalises each channel with statistics of the *batch* while
training and with fixed running averages at test time, so a picture darker than the training
pictures stays darker after it. Because the normalisation is the model's first layer, an exported
model carries it: a server cannot forget to apply it, and training and serving cannot disagree on
it. (Assignments 04 and 05 ask you to write several of these functions yourself; there, do not
import them from here.)
"""
from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F
from torch import nn

from course.validation import check_count, check_seed, seed_by_keyword

__all__ = [
    "IMAGE_SIZE",
    "TRAINING_SET",
    "VALIDATION_SET",
    "PerImageNorm",
    "frown_cnn",
    "as_batch",
    "train_frown_cnn",
    "frown_scores",
    "distillation_loss",
    "production_weights",
    "choose_threshold",
    "nudge_report",
    "Detector",
    "TEACHER_RECIPE",
    "TEACHER_FILE",
    "build_teacher",
    "write_teacher",
    "frown_teacher",
    "SHIPPED_RECIPE",
    "SHIPPED_FILE",
    "build_shipped_detector",
    "write_shipped_detector",
    "shipped_detector",
]

#: Width and height of a face crop, in pixels.
IMAGE_SIZE = 32

#: The frames the course's frown CNN is trained on: arguments of :func:`course.calls.make_frames`.
#: Frowns are made common (a quarter of the frames) so there is enough to learn from, and only
#: three frames a second are kept: neighbouring frames are near copies, so more people and fewer
#: frames teach more per second of training.
TRAINING_SET = {"participants": 240, "calls_per_participant": 1, "call_seconds": 12.0, "fps": 3,
                "frown_prevalence": 0.25, "seed": 1}

#: The validation calls thresholds are chosen on: other people (another seed), a thousand short
#: calls. False nudges come from a few hard calls (dark skin under a strong side light, say), and
#: at the production prevalence a precision floor of 0.9 allows about two false nudges per
#: thousand calm windows, so a validation set needs many calls far more than many frames of few
#: calls. Every third analysed frame is kept (5 frames/s, a vote over 10 frames per window):
#: frames 1/15 s apart are near copies, so the vote barely changes and rendering is three times
#: cheaper. Frowns are made more common than in production (10%): reweight to the production
#: prevalence before choosing anything (:func:`production_weights`).
VALIDATION_SET = {"participants": 1000, "calls_per_participant": 1, "call_seconds": 4.0, "fps": 5,
                  "frown_prevalence": 0.10, "seed": 2}

_EPS = 1e-6


class PerImageNorm(nn.Module):
    """Each picture minus its own mean, divided by its own standard deviation.

    Removes a picture's overall brightness and contrast (a dim room, a bright lamp) before the
    convolutions see it; the same in training and in serving, and inside an exported model.

    Parameters
    ----------
    eps : float, default 1e-3
        Added to the standard deviation, so a flat picture does not divide by zero.
    """

    def __init__(self, eps: float = 1e-3):
        super().__init__()
        self.eps = eps

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Normalise each picture of ``x`` by its own mean and standard deviation.

        Parameters
        ----------
        x : torch.Tensor
            Pictures, the last two dimensions height and width.

        Returns
        -------
        torch.Tensor
            Same shape as ``x``.
        """
        mean = x.mean(dim=(-1, -2), keepdim=True)
        std = x.std(dim=(-1, -2), keepdim=True, correction=0)
        return (x - mean) / (std + self.eps)


@seed_by_keyword
def frown_cnn(width: int = 8, hidden: int = 32, *, seed: int | None = 0) -> nn.Sequential:
    """A member of the course's frown CNN family, for 32x32 grayscale faces.

    ``PerImageNorm``, ``Conv2d(1, width, 3, stride=2, padding=1)`` (32x32 -> 16x16), ReLU,
    ``Conv2d(width, 2 * width, 3, padding=1)``, ReLU, ``MaxPool2d(2)`` (16x16 -> 8x8), Flatten,
    ``Linear(2 * width * 64, hidden)``, ReLU, ``Linear(hidden, 2)``: two logits, smile (0) and
    frown (1). The last layer starts small (weights times 0.01, bias 0), so every logit starts
    near zero and the initial cross-entropy on balanced data is ln 2.

    Parameters
    ----------
    width : int
        Channels of the first convolution (the second has twice as many).
    hidden : int
        Units of the dense hidden layer.
    seed : int or None, keyword-only
        Seeds ``torch.manual_seed`` (>= 0) before the weights are drawn (None: do not seed).

    Returns
    -------
    torch.nn.Sequential
        Untrained, in training mode. (8, 32) has 34,114 parameters; (4, 8) has 4,458.
    """
    width, hidden = check_count("width", width, 1), check_count("hidden", hidden, 1)
    if seed is not None:
        torch.manual_seed(check_seed(seed))
    model = nn.Sequential(
        PerImageNorm(),
        nn.Conv2d(1, width, 3, stride=2, padding=1), nn.ReLU(),
        nn.Conv2d(width, 2 * width, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(2 * width * (IMAGE_SIZE // 4) ** 2, hidden), nn.ReLU(),
        nn.Linear(hidden, 2),
    )
    with torch.no_grad():
        model[-1].weight.mul_(0.01)
        model[-1].bias.zero_()
    return model


def as_batch(images) -> torch.Tensor:
    """Faces as a float32 tensor the CNN takes.

    Parameters
    ----------
    images : array-like or torch.Tensor
        Shape ``(n, H, W)`` or ``(n, 1, H, W)`` (numpy or torch).

    Returns
    -------
    torch.Tensor
        float32, shape ``(n, 1, H, W)``.
    """
    x = images if isinstance(images, torch.Tensor) else torch.as_tensor(np.asarray(images))
    x = x.to(torch.float32)
    if x.dim() == 3:
        x = x.unsqueeze(1)
    if x.dim() != 4 or x.shape[1] != 1:
        raise ValueError(f"images must have shape (n, H, W) or (n, 1, H, W), got {tuple(x.shape)}")
    return x


@seed_by_keyword
def train_frown_cnn(model: nn.Module, images, labels, *, seed: int = 0, epochs: int = 4,
                    lr: float = 3e-3, batch_size: int = 64, loss_fn=None, after_step=None) -> nn.Module:
    """Train ``model`` in place with mini-batch Adam; return it in evaluation mode.

    Each epoch visits the faces in an order drawn from a ``torch.Generator`` seeded with ``seed``
    (created once). The loss is the cross-entropy with ``labels`` unless ``loss_fn(logits, idx)``
    is given (``idx``: the rows of ``images`` in the mini-batch, for example to look up a
    teacher's logits). ``after_step(model)`` runs after every optimizer step (for example to keep
    pruned weights at zero). The same model, data and seed give the same weights.

    Parameters
    ----------
    model : torch.nn.Module
        The model to train, two logits per face (such as :func:`frown_cnn`).
    images : array-like
        Faces, shape ``(n, H, W)`` or ``(n, 1, H, W)``.
    labels : array-like
        ``n`` labels, 0 or 1.
    seed : int, keyword-only
        Seed (>= 0) of the ``torch.Generator`` that orders the faces.
    epochs : int, default 4
        Passes over the faces (>= 1).
    lr : float, default 3e-3
        Adam's learning rate.
    batch_size : int, default 64
        Faces per optimizer step (>= 1).
    loss_fn : callable, optional
        ``loss_fn(logits, idx)`` replaces the cross-entropy.
    after_step : callable, optional
        ``after_step(model)`` runs after every optimizer step.

    Returns
    -------
    torch.nn.Module
        ``model`` itself, trained, in evaluation mode.
    """
    x = as_batch(images)
    y = torch.as_tensor(np.asarray(labels), dtype=torch.long)
    if len(y) != len(x):
        raise ValueError(f"{len(x)} images but {len(y)} labels")
    epochs, batch_size = check_count("epochs", epochs, 1), check_count("batch_size", batch_size, 1)
    order_rng = torch.Generator().manual_seed(check_seed(seed))
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    for _ in range(epochs):
        model.train()
        order = torch.randperm(len(y), generator=order_rng)
        for start in range(0, len(y), batch_size):
            idx = order[start:start + batch_size]
            logits = model(x[idx])
            loss = F.cross_entropy(logits, y[idx]) if loss_fn is None else loss_fn(logits, idx)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            if after_step is not None:
                after_step(model)
    return model.eval()


def frown_scores(model: nn.Module, images, batch_size: int = 1024) -> np.ndarray:
    """Probability of frown for each face: softmax of the two logits, in evaluation mode.

    The faces go through the model ``batch_size`` at a time. A thousand 32x32 faces keep the
    activations in the CPU's cache (several thousand at once run about 1.5x slower). For a float
    model, chunks of hundreds of faces give the very same scores as one big batch, while tiny
    chunks may differ in the last bits of float32 (the convolution library picks another
    algorithm for them); a dynamically quantized model scales its activations per chunk, so its
    scores move a little with the chunk size whatever it is.

    Parameters
    ----------
    model : torch.nn.Module
        Two logits per face (smile, frown). Left in evaluation mode.
    images : array-like
        Faces, shape ``(n, H, W)`` or ``(n, 1, H, W)``.
    batch_size : int, default 1024
        Faces per forward pass.

    Returns
    -------
    numpy.ndarray
        float64 in [0, 1], shape ``(n,)``.
    """
    x = as_batch(images)
    model.eval()
    out = []
    with torch.inference_mode():
        for start in range(0, len(x), batch_size):
            out.append(torch.softmax(model(x[start:start + batch_size]), dim=1)[:, 1])
    return torch.cat(out).numpy().astype(np.float64) if out else np.zeros(0)


def distillation_loss(student_logits: torch.Tensor, teacher_logits: torch.Tensor, labels: torch.Tensor,
                      temperature: float = 4.0, alpha: float = 0.7) -> torch.Tensor:
    """``alpha * T**2 * KL(softmax(teacher / T) || softmax(student / T)) + (1 - alpha) * CE(student, labels)``,
    the KL averaged over the batch (Hinton et al., 2015).

    Parameters
    ----------
    student_logits, teacher_logits : torch.Tensor
        Shape ``(n, 2)``.
    labels : torch.Tensor
        Shape ``(n,)``, the true classes.
    temperature : float, default 4.0
        ``T``, which softens both distributions.
    alpha : float, default 0.7
        Weight of the teacher's term, in [0, 1].

    Returns
    -------
    torch.Tensor
        A scalar loss.
    """
    t = float(temperature)
    soft = F.kl_div(F.log_softmax(student_logits / t, dim=1), F.softmax(teacher_logits.detach() / t, dim=1),
                    reduction="batchmean",)
    return alpha * t * t * soft + (1 - alpha) * F.cross_entropy(student_logits, labels)


# ----------------------------------------------------------------------------------------------
# the nudge at the production prevalence
# ----------------------------------------------------------------------------------------------
def production_weights(window_labels, prevalence: float | None = None) -> np.ndarray:
    """A weight per window that makes frown windows ``prevalence`` of the frown and calm windows.

    ``window_labels`` are window labels (1 frown, 0 calm, -1 partial, as from
    :func:`course.nudges.window_table`). With a share ``s`` of frown windows in the sample and
    a target ``p`` (default :attr:`course.spec.Spec.window_prevalence`), frown windows weigh
    ``p / s`` and calm windows ``(1 - p) / (1 - s)``; partial windows weigh 0 (no metric counts
    them). Weighted counts then describe production, whatever the sample's own prevalence.

    Parameters
    ----------
    window_labels : array-like
        One label per window: 1, 0 or -1.
    prevalence : float, optional
        The target share ``p`` of frown windows.

    Returns
    -------
    numpy.ndarray
        float64, one weight per window.
    """
    from course.spec import SPEC

    labels = np.asarray(window_labels)
    target = SPEC.window_prevalence if prevalence is None else float(prevalence)
    if not 0.0 < target < 1.0:
        raise ValueError(f"prevalence must lie in (0, 1), got {target!r}")
    counted = labels >= 0
    if not counted.any():
        raise ValueError("no frown or calm window to reweight")
    share = float(np.mean(labels[counted] == 1))
    if share in (0.0, 1.0):
        raise ValueError("the sample needs both frown and calm windows to be reweighted, "
                         f"got a share of frown windows of {share:g}")
    return np.where(labels == 1, target / share, np.where(labels == 0, (1 - target) / (1 - share), 0.0))


def choose_threshold(window_labels, window_votes, floor: float | None = None,
                     weights=None) -> float:
    """The threshold with the highest nudge recall whose precision is at least ``floor``.

    Precision is computed with ``weights`` (default: :func:`production_weights`, so at the
    production prevalence); ``floor`` defaults to :attr:`course.spec.Spec.min_precision`. A window
    fires when its vote (:func:`course.nudges.window_scores`) is ``>=`` the threshold. Returns
    the vote of the chosen operating point as a float, or ``inf`` when no threshold meets the
    floor. Of thresholds with the same recall it takes the highest (fewer false nudges); tied
    votes fire together.

    Parameters
    ----------
    window_labels : array-like
        One label per window: 1 frown, 0 calm, -1 partial.
    window_votes : array-like
        One vote per window (:func:`course.nudges.window_scores`).
    floor : float, optional
        The lowest precision allowed.
    weights : array-like, optional
        One weight per window for the precision.

    Returns
    -------
    float
        The chosen threshold, or ``inf`` when none meets the floor.
    """
    from course.spec import SPEC

    labels = np.asarray(window_labels)
    votes = np.asarray(window_votes, dtype=float)
    if labels.shape != votes.shape or labels.ndim != 1:
        raise ValueError(f"window_labels and window_votes must be 1-d and equally long, got "
                         f"{labels.shape} and {votes.shape}")
    floor = SPEC.min_precision if floor is None else float(floor)
    w = production_weights(labels) if weights is None else np.asarray(weights, dtype=float)
    order = np.argsort(-votes, kind="stable")
    v, lab, ww = votes[order], labels[order], w[order]
    hits = np.cumsum(ww * (lab == 1))
    false = np.cumsum(ww * (lab == 0))
    last_of_tie = np.r_[v[1:] != v[:-1], True]        # evaluate once per distinct vote
    fired = hits + false
    precision = np.divide(hits, fired, out=np.zeros_like(hits), where=fired > 0)
    ok = np.flatnonzero(last_of_tie & (precision >= floor - 1e-12) & (hits > 0))
    if not ok.size:
        return math.inf
    best = ok[hits[ok] >= hits[ok].max() - 1e-12][0]   # the most recall; of equals, the fewest nudges
    return float(v[best])


def nudge_report(meta: pd.DataFrame, scores, threshold: float, *, reweight: bool = True) -> dict:
    """The spec's metric for frames ``meta`` scored ``scores`` at ``threshold``.

    Parameters
    ----------
    meta : pandas.DataFrame
        The frames' table (``Frames.meta``).
    scores : array-like
        One score per frame.
    threshold : float
        A window fires when its vote is at least this.
    reweight : bool, default True
        Reweight to the production prevalence (:func:`production_weights`).

    Returns
    -------
    dict
        ``precision`` and ``recall`` of the nudge per window, ``worst_tone_recall`` and
        ``worst_tone`` (the skin tone with the lowest recall), and the unweighted counts
        ``frown_windows`` and ``calm_windows``.
    """
    from course.nudges import nudge_metrics, window_scores, window_table

    windows = window_table(meta)
    labels = windows["label"].to_numpy()
    fired = window_scores(meta, scores) >= threshold
    weights = production_weights(labels) if reweight else None
    overall = nudge_metrics(labels, fired, weights)
    tones = windows["tone"].to_numpy()
    per_tone = {tone: nudge_metrics(labels[tones == tone], fired[tones == tone])["recall"]
                for tone in sorted(set(tones[labels == 1]))}
    worst = min(per_tone, key=per_tone.get) if per_tone else None
    return {"precision": overall["precision"], "recall": overall["recall"],
            "worst_tone_recall": per_tone[worst] if worst is not None else 0.0, "worst_tone": worst,
            "frown_windows": int(np.sum(labels == 1)), "calm_windows": int(np.sum(labels == 0))}


# ----------------------------------------------------------------------------------------------
# the shipped detector
# ----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Detector:
    """A frown model and the threshold of its nudge.

    A nudge window fires when at least :attr:`course.spec.Spec.vote_share` of its frames score at
    or above ``threshold`` (see :mod:`course.nudges`).
    """

    model: nn.Module
    threshold: float

    def scores(self, images) -> np.ndarray:
        """Probability of frown per face (see :func:`frown_scores`).

        Parameters
        ----------
        images : array-like
            Faces, shape ``(n, H, W)`` or ``(n, 1, H, W)``.

        Returns
        -------
        numpy.ndarray
            float64 in [0, 1], shape ``(n,)``.
        """
        return frown_scores(self.model, images)

    def windows(self, meta: pd.DataFrame, images=None, scores=None) -> pd.DataFrame:
        """One row per nudge window of ``meta``, with its vote and whether the nudge fires.

        Parameters
        ----------
        meta : pandas.DataFrame
            The frames' table (``Frames.meta``).
        images : array-like, optional
            The frames' images, to score.
        scores : array-like, optional
            Their scores, if already known. Pass exactly one of ``images`` and ``scores``.

        Returns
        -------
        pandas.DataFrame
            :func:`course.nudges.window_table` plus ``vote`` (the window score) and ``fired``
            (``vote >= threshold``).
        """
        from course.nudges import window_scores, window_table

        if (images is None) == (scores is None):
            raise ValueError("pass exactly one of images and scores")
        scores = self.scores(images) if scores is None else np.asarray(scores, dtype=float)
        table = window_table(meta).copy()
        table["vote"] = window_scores(meta, scores)
        table["fired"] = table["vote"].to_numpy() >= self.threshold
        return table


#: The recipe of the detector assignment 05 ships, as its reference solution makes it. 05 trains a
#: wide member of the family (the teacher) on ``training`` calls, shrinks it four ways, measures
#: every variant on ``validation`` calls against the spec, and ships the smallest exportable
#: variant that meets it: the teacher with its big ``Linear(1024, 128)`` (layer ``low_rank.layer``)
#: replaced by two thin layers, the best approximation of the rank that keeps ``low_rank.energy``
#: of its singular value energy. Its threshold is chosen on the validation windows at the
#: production prevalence (:func:`choose_threshold`). (The distilled student of 05 is smaller, but
#: no threshold gives it the precision floor at the production prevalence, and the int8 variants
#: cannot be exported.)
SHIPPED_RECIPE = {
    "model": (8, 128), "epochs": 4, "lr": 2e-3, "batch_size": 64, "seed": 0,
    "training": {"participants": 250, "calls_per_participant": 1, "call_seconds": 12.0, "fps": 1,
                 "frown_prevalence": 0.25, "seed": 1},
    "validation": {"participants": 300, "calls_per_participant": 1, "call_seconds": 4.0, "fps": 5,
                   "frown_prevalence": 0.10, "seed": 2},
    "low_rank": {"layer": 7, "energy": 0.9},
}

#: How the teacher of assignment 05 is trained: the wide member (8, 128) of the family, mini-batch
#: Adam with these settings, on these training calls. The same as :data:`SHIPPED_RECIPE` (the
#: shipped detector is this teacher with its big layer factorised), so the two cannot drift apart.
TEACHER_RECIPE = {key: SHIPPED_RECIPE[key] for key in ("model", "epochs", "lr", "batch_size", "seed", "training")}

#: The file in the course's data folder that holds the trained teacher: its weights and the recipe
#: they were made from (see :func:`write_teacher`).
TEACHER_FILE = "frown-teacher.npz"


def _train_teacher() -> nn.Sequential:
    """Train the teacher from :data:`TEACHER_RECIPE` on the threads torch is set to use."""
    from course.calls import make_frames

    r = TEACHER_RECIPE
    train = make_frames(**r["training"])
    torch.manual_seed(r["seed"])
    return train_frown_cnn(frown_cnn(*r["model"], seed=None), train.images, train.labels, seed=r["seed"],
                           epochs=r["epochs"], lr=r["lr"], batch_size=r["batch_size"])


def build_teacher() -> nn.Sequential:
    """Train assignment 05's teacher from :data:`TEACHER_RECIPE`, in evaluation mode.

    One torch thread, as the notebooks train (sums in another order differ in the last bits, and
    training amplifies them). About ten seconds; notebooks load the stored weights with
    :func:`frown_teacher` instead, as a deployment step takes a trained model from a registry.

    Returns
    -------
    torch.nn.Sequential
        The trained teacher, in evaluation mode.
    """
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        return _train_teacher().eval()
    finally:
        torch.set_num_threads(threads)


def write_teacher(path) -> None:
    """Train the teacher (:func:`build_teacher`) and save it to ``path``: the recipe (JSON) and each
    tensor of the model's state dict under ``state/<name>``.

    Parameters
    ----------
    path : str or os.PathLike
        The file to write.
    """
    _save_model(path, build_teacher(), TEACHER_RECIPE)


def _save_model(path, model: nn.Module, recipe: dict, **extra: np.ndarray) -> None:
    """Write a model's state dict (each tensor under ``state/<name>``), the recipe it was made from
    (JSON) and any extra arrays to one ``.npz`` file."""
    import json

    arrays = {f"state/{name}": tensor.detach().cpu().numpy() for name, tensor in model.state_dict().items()}
    np.savez(path, recipe=np.array(json.dumps(recipe, sort_keys=True)), **extra, **arrays)


def _load_model(file: str, recipe: dict, remake: str) -> tuple[dict, dict]:
    """Read a file :func:`_save_model` wrote from the course's data folder: (state dict, the other
    arrays). Refuses a file made from another recipe than today's, naming the command that remakes it."""
    import json

    from course.paths import dataset_path

    with np.load(dataset_path(file)) as data:
        stored = json.loads(str(data["recipe"]))
        if stored != json.loads(json.dumps(recipe)):
            raise RuntimeError(f"{file} was made from the recipe {stored}, not from today's "
                               f"{recipe}: run `{remake}` to remake it")
        state = {key[len("state/"):]: torch.from_numpy(data[key].copy())
                 for key in data.files if key.startswith("state/")}
        extra = {key: data[key].copy() for key in data.files if key != "recipe" and not key.startswith("state/")}
    return state, extra


@functools.lru_cache(maxsize=1)
def _stored_teacher() -> dict:
    return _load_model(TEACHER_FILE, TEACHER_RECIPE, "python -m course.shipping --teacher")[0]


def frown_teacher() -> nn.Sequential:
    """Assignment 05's teacher, trained: a fresh copy each call, in evaluation mode.

    The wide member :data:`TEACHER_RECIPE` names, with the weights :func:`build_teacher` gives,
    loaded in milliseconds from the course's data (:data:`TEACHER_FILE`, with its sha256 and
    provenance in ``datasets/README.md``), the way a deployment step takes a trained model from the
    team's model registry instead of training it again. A test checks that the recipe still gives
    these weights.

    Returns
    -------
    torch.nn.Sequential
        The teacher, in evaluation mode.

    Raises
    ------
    RuntimeError
        The stored file was made from another recipe.
    """
    model = frown_cnn(*TEACHER_RECIPE["model"], seed=None)
    model.load_state_dict(_stored_teacher())
    return model.eval()


#: The file in the course's data folder (``datasets/``) that holds the shipped detector: its
#: weights, its threshold and the recipe they were made from (see :func:`write_shipped_detector`).
SHIPPED_FILE = "shipped-frown-detector.npz"


def _low_rank_pair(layer: nn.Linear, rank: int) -> nn.Sequential:
    """``Linear(in, rank, bias=False)`` then ``Linear(rank, out)``: the best rank-``rank``
    approximation of ``layer`` (SVD, the square roots of the singular values on either side)."""
    u, s, vh = torch.linalg.svd(layer.weight.detach(), full_matrices=False)
    root = s[:rank].sqrt()
    pair = _empty_pair(layer.in_features, layer.out_features, rank)
    with torch.no_grad():
        pair[0].weight.copy_(root[:, None] * vh[:rank])
        pair[1].weight.copy_(u[:, :rank] * root[None, :])
        pair[1].bias.copy_(layer.bias.detach())
    return pair


def _empty_pair(in_features: int, out_features: int, rank: int) -> nn.Sequential:
    return nn.Sequential(nn.Linear(in_features, rank, bias=False), nn.Linear(rank, out_features))


def _shipped_architecture(rank: int) -> nn.Sequential:
    """The shipped model's layers, untrained: the recipe's member with its big layer factorised."""
    r = SHIPPED_RECIPE
    model = frown_cnn(*r["model"], seed=None)
    big = model[r["low_rank"]["layer"]]
    model[r["low_rank"]["layer"]] = _empty_pair(big.in_features, big.out_features, int(rank))
    return model


def build_shipped_detector() -> Detector:
    """Make the shipped detector from :data:`SHIPPED_RECIPE`, as assignment 05's solution does.

    Trains the teacher (one torch thread, as the notebooks train: sums in another order differ in
    the last bits, and training amplifies them), factorises its big layer at the rank that keeps
    the recipe's energy, and chooses the threshold on the validation calls at the production
    prevalence. Takes tens of seconds; notebooks load the stored result with
    :func:`shipped_detector` instead.

    Returns
    -------
    Detector
        The student model, in evaluation mode, and its threshold.
    """
    from course.calls import make_frames
    from course.nudges import window_scores, window_table

    r = SHIPPED_RECIPE
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        teacher = _train_teacher()
        layer = r["low_rank"]["layer"]
        singular = torch.linalg.svdvals(teacher[layer].weight.detach()).numpy().astype(np.float64)
        energy = np.cumsum(singular ** 2) / np.sum(singular ** 2)
        rank = int(np.searchsorted(energy, r["low_rank"]["energy"], side="left") + 1)
        teacher[layer] = _low_rank_pair(teacher[layer], rank)
        model = teacher.eval()
        valid = make_frames(**r["validation"])
        votes = window_scores(valid.meta, frown_scores(model, valid.images))
        threshold = choose_threshold(window_table(valid.meta)["label"].to_numpy(), votes)
    finally:
        torch.set_num_threads(threads)
    return Detector(model=model, threshold=float(threshold))


def write_shipped_detector(path) -> None:
    """Build the shipped detector (:func:`build_shipped_detector`) and save it to ``path``: the
    recipe (JSON), the threshold, and each tensor of the model's state dict under ``state/<name>``.

    Parameters
    ----------
    path : str or os.PathLike
        The file to write.
    """
    detector = build_shipped_detector()
    _save_model(path, detector.model, SHIPPED_RECIPE, threshold=np.array(detector.threshold))


@functools.lru_cache(maxsize=1)
def _stored_shipped() -> tuple:
    state, extra = _load_model(SHIPPED_FILE, SHIPPED_RECIPE, "python -m course.shipping")
    return state, float(extra["threshold"])


def shipped_detector() -> Detector:
    """The detector assignment 05 ships, and its threshold: a fresh copy each call, in evaluation mode.

    Loaded in milliseconds from the course's data (:data:`SHIPPED_FILE`, with its sha256 and
    provenance in ``datasets/README.md``); :func:`build_shipped_detector` makes the same weights
    from :data:`SHIPPED_RECIPE`, and a test checks that it still does.

    Returns
    -------
    Detector
        The model, in evaluation mode, and its threshold.

    Raises
    ------
    RuntimeError
        The stored file was made from another recipe.
    """
    state, threshold = _stored_shipped()
    layer = SHIPPED_RECIPE["low_rank"]["layer"]
    model = _shipped_architecture(rank=state[f"{layer}.0.weight"].shape[0])
    model.load_state_dict(state)
    return Detector(model=model.eval(), threshold=threshold)
