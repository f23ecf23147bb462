"""Shipping the frown detector: the crops a camera delivers, broken frames, a cost clock, a size.

The frown detector of assignments 04 to 06 was trained and measured on 32x32 face crops drawn by
:func:`course.calls.make_frames`. In production, frames reach the system the way the camera and
the face cropper deliver them:

* :func:`camera_frames` turns a :class:`course.calls.Frames` into what the system receives:
  ``uint8`` crops of :data:`CAMERA_SIZE` x :data:`CAMERA_SIZE` pixels (values 0 to 255), and a
  share of *broken* frames (a crop of a frozen or dark camera: every pixel the same value),
  which a system must not turn into a nudge.
* :func:`model_latency_ms` is the latency of a torch model on the course's reference server
  core, counted on a :class:`course.serving.FakeClock`: the clock advances by the model's
  multiply-accumulate operations at :data:`REFERENCE_MACS_PER_MS`, plus a fixed cost per call.
  It is deterministic (the same model always takes the same time), so a test can hold a design
  to the spec's latency budget on any machine, however busy.
* :func:`load_shipped_detector` is :func:`course.models.shipped_detector`: the detector assignment
  05 ships, loaded from the course's data (``datasets/shipped-frown-detector.npz``) in
  milliseconds. ``python -m course.shipping`` remakes that file from
  :data:`course.models.SHIPPED_RECIPE`, and a test checks that it still is what the recipe gives.
  ``python -m course.shipping --teacher`` remakes the teacher 05 compresses
  (``datasets/frown-teacher.npz``, loaded by :func:`course.models.frown_teacher`) the same way.
* :func:`replay` films a production day and returns its frame table and camera crops, and
  :func:`filmed_calls` any calls of :func:`course.calls.make_frames` the same way (both cached:
  several tests of one system can replay the same day without filming it again).
* :func:`model_size_mb` is the size of a model's parameters and buffers, in MB of float32.

    from course.calls import make_frames
    from course.shipping import camera_frames, model_latency_ms
    day = make_frames(40, calls_per_participant=1, call_seconds=20, seed=7, size=CAMERA_SIZE)
    crops = camera_frames(day, broken_share=0.02, seed=7)    # uint8, (n, 64, 64)
    model_latency_ms(model)                                  # ms per face on the reference core
"""
from __future__ import annotations

import functools
from typing import NamedTuple

import numpy as np
import pandas as pd

from course.models import SHIPPED_FILE, write_shipped_detector
from course.seeding import generator
from course.validation import check_count, check_fraction, check_real, check_seed, seed_by_keyword
from course.models import shipped_detector as load_shipped_detector  # one loader, the name 07 knows

__all__ = ["SHIPPED_FILE", "load_shipped_detector", "write_shipped_detector", "replay", "filmed_calls", "FilmedCalls", "CAMERA_SIZE", "REFERENCE_MACS_PER_MS", "CALL_OVERHEAD_MS", "camera_frames", "broken_mask",
           "model_latency_ms", "model_size_mb"]

class FilmedCalls(NamedTuple):
    """Calls as the camera delivers them: what :func:`filmed_calls` and :func:`replay` return.

    A named tuple, so ``meta, crops = replay(seed=0)`` works as well as ``day.crops``.

    Attributes
    ----------
    meta : pandas.DataFrame
        One row per frame (``Frames.meta`` of :func:`course.calls.make_frames`).
    crops : numpy.ndarray
        uint8, shape ``(n, CAMERA_SIZE, CAMERA_SIZE)``; a share of them broken.
    """

    meta: pd.DataFrame
    crops: np.ndarray


#: Width and height of the face crops the cropper delivers, in pixels.
CAMERA_SIZE = 64
#: Multiply-accumulate operations the reference server core does per millisecond (one core,
#: small convolutions, no batching: about 1 GMAC/s).
REFERENCE_MACS_PER_MS = 1.0e6
#: Fixed cost of one call of the model on the reference core (framework overhead), ms.
CALL_OVERHEAD_MS = 0.2


@seed_by_keyword
def camera_frames(frames, *, broken_share: float = 0.0, seed: int = 0) -> np.ndarray:
    """The crops the system receives for ``frames``: ``uint8`` in [0, 255], a share broken.

    A broken frame has every pixel equal (a frozen or covered camera). The frames' labels and
    meta are unchanged: a broken frame of a frown is still a frown nobody can see.

    Parameters
    ----------
    frames : course.calls.Frames or numpy.ndarray
        Frames (``make_frames(..., size=CAMERA_SIZE)``) or their images: floats in [0, 1], shape
        ``(n, H, W)``.
    broken_share : float, default 0.0
        Share of frames that arrive broken, in [0, 1].
    seed : int, keyword-only
        Random seed (>= 0) of which frames break and how.

    Returns
    -------
    numpy.ndarray
        uint8, shape ``(n, H, W)``: a new array.
    """
    images = np.asarray(frames.images if hasattr(frames, "images") else frames)
    if images.ndim != 3:
        raise ValueError(f"expected images of shape (n, H, W), got {images.shape}")
    broken_share = check_fraction("broken_share", broken_share)
    seed = check_seed(seed)
    scaled = np.multiply(images, 255.0, dtype=np.float64)   # one float64 buffer, rounded and clipped in place
    np.rint(scaled, out=scaled)
    np.clip(scaled, 0, 255, out=scaled)
    crops = scaled.astype(np.uint8)
    rng = generator(seed, "broken-crops")
    broken = rng.random(len(crops)) < broken_share
    crops[broken] = rng.integers(0, 40, size=int(broken.sum()), dtype=np.uint8)[:, None, None]
    return crops


def broken_mask(crops) -> np.ndarray:
    """True for each crop whose pixels are all equal (what :func:`camera_frames` breaks).

    Parameters
    ----------
    crops : array-like
        Crops, shape ``(n, H, W)``.

    Returns
    -------
    numpy.ndarray
        bool, shape ``(n,)``.
    """
    crops = np.asarray(crops)
    pixels = crops.reshape(len(crops), -1)  # one row of pixels per crop
    return pixels.min(axis=1) == pixels.max(axis=1)


def _macs(model, image_size: int) -> int:
    import torch
    from torch import nn

    total = [0]

    def count(module, inputs, output):
        if type(module) is nn.Conv2d or isinstance(module, nn.Conv2d):
            kernel = module.kernel_size[0] * module.kernel_size[1] * module.in_channels // module.groups
            total[0] += int(output.numel() * kernel)
        elif type(module) is nn.Linear or isinstance(module, nn.Linear):
            total[0] += int(output.numel() * module.in_features)

    hooks = [m.register_forward_hook(count) for m in model.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]
    try:
        was_training = model.training
        model.eval()
        with torch.inference_mode():
            model(torch.zeros(1, 1, image_size, image_size))
        model.train(was_training)
    finally:
        for hook in hooks:
            hook.remove()
    return int(total[0])


def model_latency_ms(model, image_size: int = 32, clock=None) -> float:
    """Milliseconds one face takes through ``model`` on the reference server core.

    Counts the multiply-accumulates of its convolutions and linear layers on one face of
    ``image_size`` pixels, and advances ``clock`` (a :class:`course.serving.FakeClock`; a new
    one if None) by ``CALL_OVERHEAD_MS + macs / REFERENCE_MACS_PER_MS``.

    Parameters
    ----------
    model : torch.nn.Module
        The model.
    image_size : int, default 32
        Width and height of a face in pixels.
    clock : course.serving.FakeClock, optional
        The clock to advance.

    Returns
    -------
    float
        The milliseconds the clock advanced.
    """
    from course.serving import FakeClock

    clock = FakeClock() if clock is None else clock
    began = clock()
    clock.sleep((CALL_OVERHEAD_MS + _macs(model, image_size) / REFERENCE_MACS_PER_MS) / 1000.0)
    return (clock() - began) * 1000.0


def model_size_mb(model) -> float:
    """Size of ``model``'s parameters and buffers stored as float32.

    Parameters
    ----------
    model : torch.nn.Module
        The model.

    Returns
    -------
    float
        Megabytes (10**6 bytes).
    """
    count = sum(p.numel() for p in model.parameters()) + sum(b.numel() for b in model.buffers())
    return 4.0 * count / 1e6


@functools.lru_cache(maxsize=12)
def _film(participants: int, options: tuple):
    from course.calls import make_frames

    options = dict(options)
    broken_share, broken_seed = options.pop("broken_share"), options.pop("broken_seed")
    frames = make_frames(participants, size=CAMERA_SIZE, **options)
    crops = camera_frames(frames, broken_share=broken_share, seed=broken_seed)
    crops.flags.writeable = False
    return frames.meta, crops


@seed_by_keyword
def filmed_calls(participants: int, *, seed: int, broken_share: float = 0.0, broken_seed: int = 0,
                 **frames_options) -> FilmedCalls:
    """:func:`course.calls.make_frames` at ``CAMERA_SIZE`` as the camera delivers it
    (:func:`camera_frames` with ``broken_share`` and ``broken_seed``).

    Filmed once per process and kept (the twelve latest), so a notebook and the tests that judge it can
    both ask for the same calls without rendering them twice; only ``meta`` and the crops are kept.

    Parameters
    ----------
    participants : int
        How many participants to film (``make_frames(participants, ...)``).
    seed : int, keyword-only
        Random seed (>= 0) of the frames.
    broken_share : float, default 0.0
        Share of crops that arrive broken, in [0, 1].
    broken_seed : int, default 0
        Random seed (>= 0) of which crops break.
    **frames_options
        The other keyword arguments of ``make_frames`` (``calls_per_participant``, ``call_seconds``,
        ``day``, ``fps``, ``frown_prevalence``, ``day_seconds``, the change times...).

    Returns
    -------
    FilmedCalls
        ``(meta, crops)``: the frames' table and their uint8 crops, fresh copies each call.
    """
    options = dict(frames_options, seed=check_seed(seed), broken_share=check_fraction("broken_share", broken_share),
                   broken_seed=check_seed(broken_seed, "broken_seed"))
    meta, crops = _film(check_count("participants", participants, 0), tuple(sorted(options.items())))
    return FilmedCalls(meta.copy(), np.array(crops))


def _filmed(seed: int, participants: int, fps: float, hours: float | None, lighting_change_at, camera_change_at,
            broken_share: float):
    if hours is None:   # short calls, rich in frowns (reweight to the production prevalence before judging)
        return filmed_calls(participants, calls_per_participant=1, call_seconds=10, seed=seed, day=9, fps=fps,
                            frown_prevalence=0.25, lighting_change_at=lighting_change_at,
                            camera_change_at=camera_change_at, broken_share=broken_share, broken_seed=seed)
    from course.spec import SPEC   # calls spread over ``hours`` monitor windows, at the production prevalence

    return filmed_calls(participants, calls_per_participant=4, call_seconds=8, seed=seed, day=9, fps=fps,
                        day_seconds=hours * SPEC.monitor_window_s, lighting_change_at=lighting_change_at,
                        camera_change_at=camera_change_at, broken_share=broken_share, broken_seed=seed)


@seed_by_keyword
def replay(*, seed: int, participants: int = 100, fps: float = 5.0, hours: float | None = None,
           lighting_change_at: float | None = None, camera_change_at: float | None = None,
           broken_share: float = 0.03) -> FilmedCalls:
    """A production day as the system receives it.

    Without ``hours``: one 10-second call per participant, a quarter of frames frowns (reweight
    to the production prevalence before judging precision). With ``hours``: four 8-second calls
    per participant spread over ``hours`` monitor windows, at the production prevalence, with a
    ceiling-light change and a new camera from the given seconds of the day.

    Parameters
    ----------
    seed : int, keyword-only
        Random seed (>= 0): the participants are new for every seed. Like every argument,
        keyword-only.
    participants : int, default 100
        How many participants.
    fps : float, default 5.0
        Frames per second.
    hours : float, optional
        Spread the calls over this many monitor windows (see above).
    lighting_change_at, camera_change_at : float, optional
        Second of the day from which the ceiling light changes and a new camera films (None: never).
    broken_share : float, default 0.03
        Share of crops that arrive broken, in [0, 1].

    Returns
    -------
    FilmedCalls
        ``(meta, crops)``, as :func:`filmed_calls`: fresh copies each call.
    """
    return _filmed(check_seed(seed), check_count("participants", participants, 0),
                   check_real("fps", fps, 0.0, low_open=True),
                   None if hours is None else check_real("hours", hours, 0.0, low_open=True),
                   lighting_change_at, camera_change_at, check_fraction("broken_share", broken_share))


if __name__ == "__main__":  # remake a data file from its recipe, on one thread as the notebooks train
    import sys

    from course.models import TEACHER_FILE, write_teacher
    from course.paths import data_dir
    from course.torchsetup import configure_torch

    usage = "usage: python -m course.shipping [--teacher]   (no option: the shipped detector)"
    if sys.argv[1:] not in ([], ["--teacher"]):
        sys.exit(usage)
    configure_torch(max_threads=1)
    if sys.argv[1:] == ["--teacher"]:
        target = data_dir() / TEACHER_FILE
        write_teacher(target)            # trains on one thread whatever configure_torch says
    else:
        target = data_dir() / SHIPPED_FILE
        write_shipped_detector(target)   # trains on one thread whatever configure_torch says
    print(f"wrote {target}")
