"""Wrong-but-plausible answers of 04-modeling (issue 20), as data.

tests/test_assignment_04.py grades them; benchmarks/visible_catch.py runs them through the visible
tests only (what a student sees before submitting). Both build the wrong notebooks with `build`.
"""
from __future__ import annotations

from tests import helpers as H

ASSIGNMENT = "04-modeling"

# The brightness lesson of 4a, done the way many tutorials suggest: batch normalisation first.
FROWN_CNN_WITH_BATCH_NORM = """\
class FrownCNN(nn.Module):
    def __init__(self, width: int = 8, hidden: int = 32, image_size: int = IMAGE_SIZE):
        super().__init__()
        self.norm = nn.BatchNorm2d(1)
        self.conv1 = nn.Conv2d(1, width, kernel_size=3, stride=2, padding=1)
        self.conv2 = nn.Conv2d(width, 2 * width, kernel_size=3, padding=1)
        self.pool = nn.MaxPool2d(2)
        self.dense = nn.Linear(2 * width * (image_size // 4) ** 2, hidden)
        self.logits = nn.Linear(hidden, 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.norm(x)
        x = self.pool(F.relu(self.conv2(F.relu(self.conv1(x)))))
        return self.logits(F.relu(self.dense(x.flatten(1))))


def make_model(seed: int = 0, width: int = 8, hidden: int = 32, image_size: int = IMAGE_SIZE) -> FrownCNN:
    torch.manual_seed(seed)
    model = FrownCNN(width, hidden, image_size)
    last = [m for m in model.modules() if isinstance(m, nn.Linear)][-1]
    with torch.no_grad():
        last.weight.mul_(0.01)
        last.bias.zero_()
    return model
"""

# name: (answer cell, text in the reference answer, wrong replacement, parts that must fail)
WRONG_A = {
    "python_hash_for_the_hashing_trick": (
        "stable_bucket", 'digest = hashlib.md5(token.encode("utf-8")).digest()\n    return int.from_bytes(digest[:8], "little") % n_buckets',
        "return hash(token) % n_buckets", {"test_stable_bucket"}),
    "pipeline_fitted_on_all_splits": (
        "featurize", "pipe = make_feature_pipeline(n_hash_buckets).fit(train)",
        "pipe = make_feature_pipeline(n_hash_buckets).fit(pd.concat([train, *others]))", {"test_featurize_train_only"}),
    "gradient_missing_the_factor_two": (
        "mse_gradient", "return 2.0 / n * (X.T @ residual), float(2.0 * residual.mean())",
        "return 1.0 / n * (X.T @ residual), float(residual.mean())",
        # SGD replays the protocol with the true gradient, so it loses its points too
        {"test_gradient", "test_minibatch_sgd"}),
    "degree_chosen_by_training_error": (
        "polynomial_sweep", 'best = table["val_mse"].min()\n    return int(min(degree for degree, value in table["val_mse"].items() if value == best))',
        'return int(table["train_mse"].idxmin())', {"test_polynomial_sweep"}),
    "more_data_judged_by_the_gap_only": (
        "more_data_will_help", "return bool(still_falling and gap_left)", "return bool(gap_left)",
        {"test_more_data_will_help"}),
    "focal_loss_from_log_of_softmax": (
        "focal_loss", "log_p = F.log_softmax(logits, dim=1).gather(1, targets.unsqueeze(1)).squeeze(1)",
        "log_p = torch.log(torch.softmax(logits, dim=1)).gather(1, targets.unsqueeze(1)).squeeze(1)",
        {"test_focal_loss"}),
    "weighted_loss_averaged_over_examples": (
        "weighted_cross_entropy", "return (w * nll).sum() / w.sum()", "return (w * nll).mean()",
        {"test_weighted_cross_entropy"}),
    "flipper_bins_of_equal_width": (
        "make_feature_pipeline", 'encode="onehot-dense", strategy="quantile"', 'encode="onehot-dense", strategy="uniform"',
        {"test_feature_pipeline"}),
    "bias_never_updated": (
        "batch_gd", "        b = b - lr * db\n", "",
        # SGD with one batch per epoch must match batch GD (a visible check of 2d)
        {"test_batch_gd", "test_minibatch_sgd"}),
    "baseline_validated_on_real_images": (
        "baseline", "torch.zeros_like(X_val), y_val", "X_val, y_val", {"test_baseline_is_worse"}),
}
WRONG_B = {
    "evaluation_left_in_train_mode": (
        "evaluate", "    model.eval()\n    total_loss, correct = 0.0, 0", "    total_loss, correct = 0.0, 0",
        {"test_evaluate"}),
    "last_layer_initialised_to_zero": (
        "frown_cnn", "last.weight.mul_(0.01)", "last.weight.zero_()", {"test_gradients_flow"}),
    "tie_counts_as_improvement": (
        "early_stopping", "if value < self.best_value - self.min_delta:", "if value <= self.best_value - self.min_delta:",
        {"test_early_stopping"}),
    "search_peeks_at_the_test_split": (
        "random_search", 'result = fit_fn(config, splits["train"], splits["val"])',
        'result = min((fit_fn(config, splits["train"], splits[name]) for name in ("val", "test")), key=lambda r: r["val_loss"])',
        {"test_random_search"}),
    "top_losses_in_train_mode": (
        "top_loss_indices", "    model.eval()\n    with torch.no_grad():\n        losses", "    with torch.no_grad():\n        losses",
        {"test_top_loss"}),
    "worst_slice_by_error_count": (
        "slice_confusion", 'key = (row["error_rate"], row["errors"])', 'key = (row["errors"], row["error_rate"])',
        {"test_worst_slice"}),
    "cnn_trained_for_one_epoch": (
        "train_cnn", "epochs=EPOCHS, seed=SEED)", "epochs=1, seed=SEED)",
        # the baseline must lose to the real model by a wide margin
        {"test_accuracy_floor", "test_baseline_is_worse"}),
}
WRONG_C = {
    "gradient_with_the_wrong_sign": (
        "mse_gradient", "residual = X @ W + b - y\n    n = len(y)", "residual = y - (X @ W + b)\n    n = len(y)",
        {"test_gradient", "test_batch_gd", "test_minibatch_sgd"}),
    "standardized_with_its_own_statistics": (
        "standardize", "mean = X_fit.mean(axis=0)\n    std = X_fit.std(axis=0)", "mean = X.mean(axis=0)\n    std = X.std(axis=0)",
        {"test_standardize_speeds_up"}),
    "training_error_on_the_whole_training_set": (
        "learning_curve", '"train_mse": float(np.mean((model.predict(X_train[:m]) - y_train[:m]) ** 2))',
        '"train_mse": float(np.mean((model.predict(X_train) - y_train) ** 2))', {"test_learning_curve"}),
    "overfit_loop_without_zero_grad": (
        "overfit_one_batch", "        optimizer.zero_grad()\n        loss = F.cross_entropy(model(X), y)",
        "        loss = F.cross_entropy(model(X), y)", {"test_overfit_one_batch"}),
    "shuffling_ignores_the_seed": (
        "train_model", "order = torch.randperm(n, generator=generator)", "order = torch.randperm(n)",
        {"test_seeded_training"}),
    "stale_gradients_counted": (
        "parameters_without_gradient", "    model.zero_grad(set_to_none=True)\n", "",
        {"test_gradients_flow"}),
    "early_stopping_keeps_the_last_weights": (
        "fit_mlp", "    model.load_state_dict(best_state)\n", "", {"test_fit_mlp"}),
    "last_layer_not_scaled_down": (
        "frown_cnn", "    with torch.no_grad():\n        last.weight.mul_(0.01)\n        last.bias.zero_()\n", "",
        # 4b's visible check expects an untrained model's loss to be ln 2 as well
        {"test_initial_loss", "test_evaluate"}),
}
WRONG_D = {
    "resting_face_from_all_the_participants_frames": (
        "serving_baseline",
        "    values = pd.Series(np.asarray(bend, dtype=float))\n    calls = pd.Series(np.asarray(meta[\"call\"]))\n"
        "    running = values.groupby(calls).expanding().median().reset_index(level=0, drop=True)\n"
        "    return running.sort_index().to_numpy(dtype=float)",
        "    values = pd.Series(np.asarray(bend, dtype=float))\n"
        "    return values.groupby(np.asarray(meta[\"participant\"])).transform(\"median\").to_numpy()",
        {"test_serving_baseline"}),
    "feature_plan_chosen_by_the_offline_estimate": (
        "choose_feature_plan", 'served = table["as_served"]', 'served = table["offline_estimate"]',
        {"test_choose_feature_plan"}),
    "batch_norm_instead_of_per_image_normalisation": (
        "frown_cnn", None, FROWN_CNN_WITH_BATCH_NORM, {"test_per_image_norm"}),
    "missing_value_written_as_nan": (
        "hash_cross", '"missing" if pd.isna(value) else str(value)', "str(value)", {"test_hash_cross"}),
    "least_squares_without_the_column_of_ones": (
        "fit_closed_form",
        "A = np.column_stack([X, np.ones(len(X))])\n    theta, *_ = np.linalg.lstsq(A, y, rcond=None)\n    return theta[:-1], float(theta[-1])",
        "theta, *_ = np.linalg.lstsq(X, y, rcond=None)\n    return theta, 0.0", {"test_closed_form"}),
    "false_positives_and_negatives_swapped": (
        "slice_confusion", "tp, fp = int(np.sum((t == 1) & (p == 1))), int(np.sum((t == 0) & (p == 1)))\n"
        "        fn, tn = int(np.sum((t == 1) & (p == 0)))",
        "tp, fp = int(np.sum((t == 1) & (p == 1))), int(np.sum((t == 1) & (p == 0)))\n"
        "        fn, tn = int(np.sum((t == 0) & (p == 1)))", {"test_slice_confusion"}),
    "skin_tone_fixed_by_augmentation": (
        "data_fix", 'if column in ("lighting", "occlusion", "pose", "noise"):',
        'if column in ("lighting", "occlusion", "pose", "noise", "tone"):', {"test_data_fix"}),
}
VARIANTS = {"wrong_a": WRONG_A, "wrong_b": WRONG_B, "wrong_c": WRONG_C, "wrong_d": WRONG_D}


def build(perfect, variant: str):
    """The wrong notebook `variant`: the perfect example with that variant's mistakes put in."""
    return H.with_mistakes(perfect, VARIANTS[variant])


def parts(spec) -> tuple[tuple[str, ...], frozenset[str]]:
    """(parts the mistake must fail, parts that may fail too)."""
    return H.parts_of(spec), frozenset()
