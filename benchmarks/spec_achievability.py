"""Can a reasonable model meet the course's spec? Measure it on new participants.

    python benchmarks/spec_achievability.py [--days 4] [--seeds 0 1 2] [--floor 0.9] [--choose-at P]

The recipe a careful student would follow, with the course's own tools:

1. train on video frames of some participants (``course.calls.make_frames``: 200 calls of 12 s,
   frowns made common, 25%, so there is enough to learn from);
2. choose the threshold on *other* participants' calls (300 calls of 6 s: the calls, not the
   frames, are the independent units, and the false nudges come from a few hard calls), with the
   nudge vote of ``course.nudges`` and every window reweighted to the production prevalence: the
   highest nudge recall whose reweighted precision meets the floor;
3. replay production days of new participants at the production prevalence (50 calls of 60 s
   each) and measure nudge precision, recall and the worst skin tone's recall at that threshold.

Models: the logistic regression of ``course.behaviour`` (trained on independent faces, not on
video) and a small CNN with per-image normalisation trained on the frames (a few seeds). Prints a
table; asserts nothing. Takes about 7 minutes on 2 busy cores (rendering about 240,000 frames,
training three CNNs).
"""
from __future__ import annotations

import argparse
import time

import numpy as np

from course.behaviour import reference_model
from course.calls import make_frames
from course.nudges import CALM, FROWN, nudge_metrics, window_scores, window_table
from course.spec import SPEC


def small_cnn(seed: int):
    """Two 3x3 convolutions and a small dense head: about 35,000 weights (0.14 MB in float32)."""
    import torch
    from torch import nn

    torch.manual_seed(seed)
    return nn.Sequential(
        nn.Conv2d(1, 8, 3, stride=2, padding=1), nn.ReLU(),
        nn.Conv2d(8, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
        nn.Linear(16 * 8 * 8, 32), nn.ReLU(), nn.Linear(32, 1))


def _normalised(images):
    import torch

    x = torch.tensor(images[:, None])
    return (x - x.mean((2, 3), keepdim=True)) / (x.std((2, 3), keepdim=True) + 1e-3)


def train_cnn(images, labels, seed: int, epochs: int = 3):
    """Adam, batches of 128, binary cross-entropy; returns ``predict(images) -> p(frown)``."""
    import torch
    from torch import nn

    model = small_cnn(seed)
    x, y = _normalised(images), torch.tensor(labels, dtype=torch.float32)
    optimiser = torch.optim.Adam(model.parameters(), 3e-3)
    order = torch.Generator().manual_seed(seed)
    for _ in range(epochs):
        perm = torch.randperm(len(y), generator=order)
        for start in range(0, len(y), 128):
            batch = perm[start:start + 128]
            loss = nn.functional.binary_cross_entropy_with_logits(model(x[batch]).squeeze(1), y[batch])
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
    model.eval()

    def predict(images):
        with torch.no_grad():
            return torch.sigmoid(model(_normalised(images)).squeeze(1)).numpy().astype(float)

    return predict


def production_weights(labels: np.ndarray) -> np.ndarray:
    """Window weights that make the frown windows SPEC.window_prevalence of frown + calm windows."""
    counted = labels >= CALM
    sample = np.mean(labels[counted] == FROWN)
    target = SPEC.window_prevalence
    return np.where(labels == FROWN, target / sample, (1 - target) / (1 - sample))


def choose_threshold(labels, votes, floor) -> float:
    """Highest nudge recall whose precision, reweighted to production, is >= floor (inf if none)."""
    weights = production_weights(labels)
    best, best_recall = np.inf, -1.0
    for t in np.unique(votes)[::-1]:
        m = nudge_metrics(labels, votes >= t, weights)
        if m["precision"] >= floor and m["recall"] > best_recall:
            best, best_recall = float(t), m["recall"]
    return best


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--days", type=int, default=4, help="production replays (50 people x 60 s each)")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2], help="CNN training seeds")
    parser.add_argument("--floor", type=float, default=SPEC.min_precision, help="precision floor")
    parser.add_argument("--choose-at", type=float, default=None, metavar="P",
                        help="choose the threshold for this validation precision (default: the floor; "
                             "a little above it leaves a margin for the noise of validation)")
    parser.add_argument("--train", type=int, nargs=2, default=[200, 12], metavar=("CALLS", "SECONDS"),
                        help="training calls (one per participant) and their length")
    parser.add_argument("--valid", type=int, nargs=2, default=[300, 6], metavar=("CALLS", "SECONDS"),
                        help="validation calls (one per participant) and their length")
    args = parser.parse_args(argv)
    import torch

    torch.set_num_threads(1)
    started = time.perf_counter()
    train = make_frames(args.train[0], 1, args.train[1], seed=1, frown_prevalence=0.25)
    valid = make_frames(args.valid[0], 1, args.valid[1], seed=2, frown_prevalence=0.25)
    days = [make_frames(50, 1, 60, seed=100 + k) for k in range(args.days)]
    frames_made = len(train) + len(valid) + sum(len(d) for d in days)
    print(f"{frames_made:,} frames in {time.perf_counter() - started:.0f} s; spec: precision >= "
          f"{args.floor:g}, recall >= {SPEC.target_recall:g}, worst tone recall >= "
          f"{SPEC.worst_tone_recall:g}, per nudge window at prevalence {SPEC.window_prevalence:.4f}")

    models = {"logistic regression (course.behaviour)": reference_model()}
    for seed in args.seeds:
        models[f"small CNN, seed {seed}"] = train_cnn(train.images, train.labels, seed)
    valid_windows = window_table(valid.meta)["label"].to_numpy()
    day_windows = [window_table(d.meta) for d in days]
    labels = np.concatenate([w["label"].to_numpy() for w in day_windows])
    tones = np.concatenate([w["tone"].to_numpy() for w in day_windows])
    print(f"production: {np.sum(labels == FROWN)} frown windows, {np.sum(labels == CALM)} calm windows")
    print(f"{'model':<40s} {'threshold':>9s} {'precision':>9s} {'recall':>7s} {'worst tone':>10s}  meets spec")
    for name, predict in models.items():
        threshold = choose_threshold(valid_windows, window_scores(valid.meta, predict(valid.images)),
                                     args.floor if args.choose_at is None else args.choose_at)
        votes = np.concatenate([window_scores(d.meta, predict(d.images)) for d in days])
        m = nudge_metrics(labels, votes >= threshold)
        worst = min(nudge_metrics(labels[tones == t], votes[tones == t] >= threshold)["recall"]
                    for t in np.unique(tones))
        verdict = {"precision": m["precision"] >= args.floor, "recall": m["recall"] >= SPEC.target_recall,
                   "tone": worst >= SPEC.worst_tone_recall}
        failed = [k for k, ok in verdict.items() if not ok]
        print(f"{name:<40s} {threshold:9.3f} {m['precision']:9.3f} {m['recall']:7.3f} {worst:10.3f}  "
              f"{'yes' if not failed else 'no: ' + ', '.join(failed)}")
    print(f"total {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
