"""course.models: the frown CNN family, its deterministic trainer and the threshold at the production prevalence."""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from course import models as M
from course.calls import make_frames
from course.nudges import nudge_metrics, window_scores, window_table
from course.spec import SPEC


def test_family_sizes_and_shapes():
    teacher, student = M.frown_cnn(8, 32), M.frown_cnn(4, 8)
    assert sum(p.numel() for p in teacher.parameters()) == 34_114
    assert sum(p.numel() for p in student.parameters()) == 4_458
    x = torch.rand(5, 1, M.IMAGE_SIZE, M.IMAGE_SIZE)
    assert tuple(teacher.eval()(x).shape) == (5, 2) and tuple(student.eval()(x).shape) == (5, 2)
    with pytest.raises(ValueError, match="width"):
        M.frown_cnn(0, 8)


def test_initial_loss_is_ln2_and_seeding_repeats():
    x = torch.rand(64, 1, 32, 32)
    y = torch.arange(64) % 2
    for seed in range(3):
        with torch.no_grad():
            loss = F.cross_entropy(M.frown_cnn(seed=seed).eval()(x), y).item()
        assert abs(loss - math.log(2)) < 0.01
    a, b, c = M.frown_cnn(seed=3), M.frown_cnn(seed=3), M.frown_cnn(seed=4)
    assert all(torch.equal(p, q) for p, q in zip(a.state_dict().values(), b.state_dict().values()))
    assert not all(torch.equal(p, q) for p, q in zip(a.state_dict().values(), c.state_dict().values()))


def test_per_image_normalisation_removes_brightness_and_contrast():
    model = M.frown_cnn(seed=1).eval()
    x = torch.rand(6, 1, 32, 32) * 0.5 + 0.2
    with torch.no_grad():
        base = model(x)
        darker = model(0.6 * x + 0.05)       # a dimmer room: scale and offset of every pixel
    assert torch.allclose(base, darker, atol=1e-4), (base - darker).abs().max()
    # batch statistics would not do this: a BatchNorm model in eval mode keeps the difference
    bn = torch.nn.Sequential(torch.nn.BatchNorm2d(1), torch.nn.Flatten(), torch.nn.Linear(1024, 2)).eval()
    with torch.no_grad():
        assert not torch.allclose(bn(x), bn(0.6 * x + 0.05), atol=1e-3)


def test_exportable_with_a_dynamic_batch(tmp_path):
    model = M.frown_cnn(4, 8, seed=2).eval()
    example = torch.rand(3, 1, 32, 32)
    program = torch.export.export(model, (example,), dynamic_shapes=({0: torch.export.Dim("batch")},))
    path = tmp_path / "m.pt2"
    torch.export.save(program, path)
    loaded = torch.export.load(path).module()
    x = torch.rand(7, 1, 32, 32)
    with torch.no_grad():
        assert torch.allclose(loaded(x), model(x), atol=1e-6)


def test_training_is_deterministic_and_learns():
    frames = make_frames(24, 1, 6, seed=5, frown_prevalence=0.3, fps=3)
    runs = [M.train_frown_cnn(M.frown_cnn(4, 8, seed=0), frames.images, frames.labels, seed=s, epochs=2)
            for s in (0, 0, 1)]
    states = [r.state_dict() for r in runs]
    assert all(torch.equal(states[0][k], states[1][k]) for k in states[0])
    assert not all(torch.equal(states[0][k], states[2][k]) for k in states[0])
    assert not runs[0].training
    p = M.frown_scores(runs[0], frames.images)
    assert p.dtype == np.float64 and p.shape == (len(frames),) and ((p >= 0) & (p <= 1)).all()


def test_scores_do_not_depend_on_the_chunk_size():
    frames = make_frames(30, 1, 4, seed=8, frown_prevalence=0.3, fps=10)
    model = M.frown_cnn(8, 128, seed=1)
    whole = M.frown_scores(model, frames.images, batch_size=len(frames))
    assert len(frames) > 1024   # the default chunk splits these faces
    for batch_size in (None, 300, 1000, 4096):
        chunked = (M.frown_scores(model, frames.images) if batch_size is None
                   else M.frown_scores(model, frames.images, batch_size=batch_size))
        assert np.array_equal(chunked, whole), (batch_size, np.abs(chunked - whole).max())
    tiny = M.frown_scores(model, frames.images, batch_size=7)
    assert np.abs(tiny - whole).max() < 1e-6


def test_train_hooks_are_called():
    frames = make_frames(6, 1, 4, seed=6, frown_prevalence=0.3, fps=3)
    seen, steps = [], []

    def loss_fn(logits, idx):
        seen.append(idx.clone())
        return F.cross_entropy(logits, torch.as_tensor(frames.labels)[idx])

    M.train_frown_cnn(M.frown_cnn(4, 8), frames.images, frames.labels, epochs=1, batch_size=8,
                      loss_fn=loss_fn, after_step=lambda m: steps.append(1))
    assert sorted(torch.cat(seen).tolist()) == list(range(len(frames)))
    assert len(steps) == math.ceil(len(frames) / 8)
    with pytest.raises(ValueError, match="labels"):
        M.train_frown_cnn(M.frown_cnn(4, 8), frames.images, frames.labels[:-1])


def test_production_weights_reach_the_target():
    labels = np.array([1] * 30 + [0] * 60 + [-1] * 10)
    w = M.production_weights(labels)
    assert math.isclose(w[labels == 1].sum() / w[labels >= 0].sum(), SPEC.window_prevalence)
    assert (w[labels == -1] == 0).all()
    with pytest.raises(ValueError, match="both frown and calm"):
        M.production_weights(np.zeros(5, dtype=int))


def _brute_force(labels, votes, floor, weights):
    best, best_recall = math.inf, -1.0
    for t in np.unique(votes)[::-1]:
        m = nudge_metrics(labels, votes >= t, weights)
        if m["precision"] >= floor and m["nudges"] > m["false_nudges"] and m["recall"] > best_recall:
            best, best_recall = float(t), m["recall"]
    return best


@pytest.mark.parametrize("seed", range(6))
def test_choose_threshold_matches_a_brute_force_search(seed):
    rng = np.random.default_rng(seed)
    labels = rng.choice([1, 0, -1], size=300, p=[0.2, 0.75, 0.05])
    votes = np.round(np.clip(0.35 * (labels == 1) + rng.normal(0.3, 0.2, 300), 0, 1), 2)  # ties on purpose
    for floor in (0.5, 0.8, 0.9):
        w = M.production_weights(labels)
        assert M.choose_threshold(labels, votes, floor) == _brute_force(labels, votes, floor, w)
        assert M.choose_threshold(labels, votes, floor, weights=np.ones(300)) == \
            _brute_force(labels, votes, floor, np.ones(300))


def test_choose_threshold_reweights_to_production():
    # 50 frown windows and 100 calm ones, two calm windows score as high as the frowns: unweighted
    # precision 50/52 = 0.96, at a 2% prevalence far below the floor
    labels = np.array([1] * 50 + [0] * 100)
    votes = np.r_[np.full(50, 0.9), 0.9, 0.9, np.full(98, 0.1)]
    assert M.choose_threshold(labels, votes, 0.9, weights=np.ones(150)) == 0.9
    assert M.choose_threshold(labels, votes, 0.9) == math.inf


def test_nudge_report_and_detector_windows():
    frames = make_frames(12, 1, 4, seed=7, frown_prevalence=0.3)
    scores = frames.labels.astype(float)            # a perfect model
    report = M.nudge_report(frames.meta, scores, 0.5)
    assert report["precision"] == 1.0 and report["recall"] == 1.0 and report["worst_tone_recall"] == 1.0
    windows = window_table(frames.meta)
    assert report["frown_windows"] == int((windows["label"] == 1).sum())
    detector = M.Detector(model=M.frown_cnn(4, 8).eval(), threshold=0.5)
    table = detector.windows(frames.meta, scores=scores)
    assert list(table["fired"]) == list(window_scores(frames.meta, scores) >= 0.5)
    with pytest.raises(ValueError, match="exactly one"):
        detector.windows(frames.meta)
