"""Wrong-but-plausible answers of 07-capstone (issue 20), as data.

tests/test_assignment_07.py grades them; benchmarks/visible_catch.py runs them through the visible
tests only (what a student sees before submitting). Both build the wrong notebooks with `build`.
"""
from __future__ import annotations

from tests import helpers as H

ASSIGNMENT = "07-capstone"

# name -> (answer cell, text of the reference answer, replacement, the test cells that must fail)
WRONG_A = {
    "threshold chosen at the validation set's prevalence": (
        "system", "THRESHOLD = choose_threshold(_valid_labels, _valid_votes, weights=production_weights(_valid_labels))",
        "THRESHOLD = choose_threshold(_valid_labels, _valid_votes, weights=np.ones(len(_valid_labels)))",
        "test_threshold"),
    "a monitor that never alarms": (
        "system", "        hours[\"alert\"] = alert\n", "        hours[\"alert\"] = np.zeros(len(hours), dtype=bool)\n",
        "test_monitor_alarm"),
    "every other pixel instead of 2x2 means": (
        "preprocess", "    faces = (blocks / (4 * 255.0)).astype(np.float32)",
        "    faces = (crops[:, ::2, ::2] / 255.0).astype(np.float32)", "test_preprocess"),
    # "a nudge when a face frowns": each face decides, and a window fires when any of its faces does
    "per-face decisions instead of the window's vote": (
        "system", '        table["vote"] = window_scores(meta, system_scores(self.model, crops))\n',
        '        _faces = pd.Series(system_scores(self.model, crops))\n'
        '        table["vote"] = _faces.groupby([meta["call"].to_numpy(), meta["window"].to_numpy()], sort=False).max().to_numpy()\n',
        "test_nudge_precision"),
    # the detector wrapper kept as .model (the system still runs: it scores with self.model.model)
    "the detector instead of its torch model as .model": (
        "system", "        self.model = detector.model\n", "        self.model = detector\n", "test_budget"),
    "the interview starts with the model": (
        "design", 'for topic in ("goal", "traffic", "latency", "privacy", "labels", "costs"):',
        'interview.ask("model")\n    for topic in ("goal", "traffic", "latency", "privacy", "labels", "costs"):',
        "test_design_asks"),
}

# ...which the rest of that system unwraps to score (so that only the judged .model is wrong)
UNWRAP = {"scores through the detector's model": (
    "system", "system_scores(self.model, crops)", "system_scores(self.model.model, crops)")}

WRONG_B = {
    # a missed frown costs three false nudges, so "when in doubt, nudge" sounds prudent; a covered
    # camera then nudges every two seconds. (Scoring broken crops like any other is harmless here: the
    # model's per-image normalisation maps a constant crop to zeros, which it scores calm.)
    "a broken crop counts as a frown": (
        "system", "    scores = np.zeros(len(faces))\n", "    scores = np.ones(len(faces))\n", "test_fallback"),
    "monitor band of one standard deviation": (
        "system", "    z = float(stdtrit(n - 1, 1 - SPEC.max_false_alarm_rate / 4)) * np.sqrt(1 + 1 / n)", "    z = 1.0",
        "test_monitor_quiet"),
    "the daily average rate for peak QPS": (
        "design", 'peak_qps = facts["daily_users"] * facts["requests_per_user"] / 86_400 * facts["peak_to_mean"]',
        'peak_qps = facts["daily_users"] * facts["requests_per_user"] / 86_400', "test_design_numbers"),
    # the Bayes threshold upside down: "the costlier mistake gets the bigger share"
    "the Bayes threshold inverted": (
        "design", "threshold = c_fp / (c_fp + c_fn)", "threshold = c_fn / (c_fp + c_fn)", "test_design_choices"),
}

# Not yet a variant: "a covered camera gives a flat crop" with a margin (crop std > 30 counts as usable) takes
# low-contrast dark faces for covered cameras and costs only the dark tone's recall (0.68 and 0.79 on two
# unseen days), but the one day the worst-tone criterion replays is easy for that tone (0.90, above 0.8),
# and next to wrong_b's "broken crop counts as a frown" it turns those faces into frowns.
WRONG_C = {
    # "a covered camera never nudges", applied to the whole window: one broken crop silences its window
    "a window with a broken crop stays calm": (
        "system", '        table["fired"] = np.asarray(table["vote"], dtype=float) >= self.threshold\n',
        '        _broken = pd.Series(~preprocess(crops)[1]).groupby([meta["call"].to_numpy(), meta["window"].to_numpy()], sort=False).any().to_numpy()\n'
        '        table["fired"] = (np.asarray(table["vote"], dtype=float) >= self.threshold) & ~_broken\n',
        ("test_nudge_recall", "test_worst_tone")),
}

VARIANTS = {"wrong_a": WRONG_A, "wrong_b": WRONG_B, "wrong_c": WRONG_C}


def build(perfect, variant: str):
    """The wrong notebook `variant`: the perfect example with that variant's mistakes put in (wrong_a
    also unwraps the detector where the rest of the system scores, so only the judged .model is wrong)."""
    nb = H.with_mistakes(perfect, VARIANTS[variant])
    return H.with_mistakes(nb, UNWRAP) if variant == "wrong_a" else nb


def parts(spec) -> tuple[tuple[str, ...], frozenset[str]]:
    """(parts the mistake must fail, parts that may fail too)."""
    return H.parts_of(spec), frozenset()
