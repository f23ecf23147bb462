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

import numpy as np

from course.models import SHIPPED_FILE, write_shipped_detector
from course.models import shipped_detector as load_shipped_detector  # one loader, the name 07 knows

__all__ = ["SHIPPED_FILE", "load_shipped_detector", "write_shipped_detector", "replay", "filmed_calls", "CAMERA_SIZE", "REFERENCE_MACS_PER_MS", "CALL_OVERHEAD_MS", "camera_frames", "broken_mask",
           "model_latency_ms", "model_size_mb"]

#: Width and height of the face crops the cropper delivers, in pixels.
CAMERA_SIZE = 64
#: Multiply-accumulate operations the reference server core does per millisecond (one core,
#: small convolutions, no batching: about 1 GMAC/s).
REFERENCE_MACS_PER_MS = 1.0e6
#: Fixed cost of one call of the model on the reference core (framework overhead), ms.
CALL_OVERHEAD_MS = 0.2


def camera_frames(frames, *, broken_share: float = 0.0, seed: int = 0) -> np.ndarray:
    """The crops the system receives for ``frames``: ``uint8`` in [0, 255], a share broken.

    ``frames.images`` must be float images in [0, 1] (``make_frames(..., size=CAMERA_SIZE)``).
    A broken frame has every pixel equal (a frozen or covered camera); which frames break is
    drawn from ``seed``. The frames' labels and meta are unchanged: a broken frame of a frown is
    still a frown nobody can see.
    """
    images = np.asarray(frames.images if hasattr(frames, "images") else frames)
    if images.ndim != 3:
        raise ValueError(f"expected images of shape (n, H, W), got {images.shape}")
    if not 0.0 <= float(broken_share) <= 1.0:
        raise ValueError(f"broken_share must lie in [0, 1], got {broken_share!r}")
    scaled = np.multiply(images, 255.0, dtype=np.float64)   # one float64 buffer, rounded and clipped in place
    np.rint(scaled, out=scaled)
    np.clip(scaled, 0, 255, out=scaled)
    crops = scaled.astype(np.uint8)
    rng = np.random.default_rng([int(seed), 7101])
    broken = rng.random(len(crops)) < float(broken_share)
    crops[broken] = rng.integers(0, 40, size=int(broken.sum()), dtype=np.uint8)[:, None, None]
    return crops


def broken_mask(crops) -> np.ndarray:
    """True for each crop whose pixels are all equal (what :func:`camera_frames` breaks)."""
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
    one if None) by ``CALL_OVERHEAD_MS + macs / REFERENCE_MACS_PER_MS``. Returns that time.
    """
    from course.serving import FakeClock

    clock = FakeClock() if clock is None else clock
    began = clock()
    clock.sleep((CALL_OVERHEAD_MS + _macs(model, image_size) / REFERENCE_MACS_PER_MS) / 1000.0)
    return (clock() - began) * 1000.0


def model_size_mb(model) -> float:
    """Size of ``model``'s parameters and buffers stored as float32, in MB (10**6 bytes)."""
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


def filmed_calls(participants: int, *, seed: int, broken_share: float = 0.0, broken_seed: int = 0, **frames_options):
    """``(meta, crops)``: :func:`course.calls.make_frames` at ``CAMERA_SIZE`` as the camera delivers it
    (:func:`camera_frames` with ``broken_share`` and ``broken_seed``), fresh copies each call.

    ``frames_options`` are the other keyword arguments of ``make_frames`` (``calls_per_participant``,
    ``call_seconds``, ``day``, ``fps``, ``frown_prevalence``, ``day_seconds``, the change times...).
    Filmed once per process and kept (the twelve latest), so a notebook and the tests that judge it can
    both ask for the same calls without rendering them twice; only ``meta`` and the crops are kept.
    """
    options = dict(frames_options, seed=int(seed), broken_share=float(broken_share), broken_seed=int(broken_seed))
    meta, crops = _film(int(participants), tuple(sorted(options.items())))
    return meta.copy(), np.array(crops)


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


def replay(seed: int, *, participants: int = 100, fps: float = 5.0, hours: float | None = None,
           lighting_change_at: float | None = None, camera_change_at: float | None = None,
           broken_share: float = 0.03):
    """A production day as the system receives it: ``(meta, crops)``, fresh copies each call.

    Without ``hours``: one 10-second call per participant, a quarter of frames frowns (reweight
    to the production prevalence before judging precision). With ``hours``: four 8-second calls
    per participant spread over ``hours`` monitor windows, at the production prevalence, with a
    ceiling-light change and a new camera from the given seconds of the day. The participants
    are new for every ``seed``; a share ``broken_share`` of crops is broken.
    """
    return _filmed(int(seed), int(participants), float(fps), None if hours is None else float(hours),
                   lighting_change_at, camera_change_at, float(broken_share))


if __name__ == "__main__":  # remake the data file from the recipe, on one thread as the notebooks train
    from course.paths import data_dir
    from course.torchsetup import configure_torch

    configure_torch(max_threads=1)
    target = data_dir() / SHIPPED_FILE
    write_shipped_detector(target)   # trains on one thread whatever configure_torch says
    print(f"wrote {target}")
