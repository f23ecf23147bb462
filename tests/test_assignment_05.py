"""Assignment 05 (deployment and compression): the examples and wrong-but-plausible answers, graded for real.

One batch through the real grader: the perfect, partial and blank examples plus two variants of
the perfect example, each carrying several wrong answers in different parts. Every wrong answer
must lose the points of the part meant to catch it. A few parts build on another part (the
throughput sweep calls the latency harness, the sparsity curve calls the pruning function, the
student is trained with the distillation loss); when the wrong answer sits upstream, those parts
are listed as "may also fail" and nothing else may.
"""
from __future__ import annotations

import nbformat
import pytest

from autograder import cells as C
from tests import helpers as H
from tests import honest_globals as HG

A = "05-deployment-and-compression"

PER_LAYER_PRUNE = '''def global_magnitude_prune(model: nn.Module, sparsity: float) -> dict:
    """Prunes each layer to the same sparsity: not global."""
    masks = {}
    with torch.no_grad():
        for name, w in prunable_weights(model).items():
            k = int(round(sparsity * w.numel()))
            if k == 0:
                masks[name] = torch.ones_like(w, dtype=torch.bool)
                continue
            threshold = torch.kthvalue(w.abs().flatten(), k).values
            keep = w.abs() > threshold
            w.mul_(keep)
            masks[name] = keep
    return masks'''

# name -> (answer cell, [(text in the reference answer, replacement)] or None with a whole new
#          cell, the test cell that must fail, test cells that may fail too because they build on it)
WRONG_A = {
    "parameters counted over the state dict (buffers, tied weights twice)": (
        "count_params", [("sum(p.numel() for p in model.parameters())", "sum(t.numel() for t in model.state_dict().values())")],
        "test_count_params", set()),
    "workers rounded down": (
        "littles_law", [("int(math.ceil(in_flight(arrival_rate, batch_latency) / batch_size - 1e-9))",
                         "int(in_flight(arrival_rate, batch_latency) / batch_size)")],
        "test_littles_law", set()),
    "percentiles without a warm-up": (
        "measure_latency", [("    for _ in range(n_warmup):\n        predict(batch)\n", "")],
        "test_measure_latency", {"test_throughput"}),
    "zero point with the wrong sign": (
        "quantize_asymmetric", [("np.round(-lo / scale)", "np.round(lo / scale)")],
        "test_quantize_asymmetric", set()),
    "per-channel scales always along axis 0": (
        "quantize_per_channel", [("if i != axis % w.ndim)", "if i != 0)")],
        "test_quantize_per_channel", set()),
    "float16 instead of int8": (
        "quantize_linear_layers", [("dtype=torch.qint8", "dtype=torch.float16")],
        "test_quantize_linear_layers", set()),
    "pruning per layer instead of globally": (
        "global_magnitude_prune", None, PER_LAYER_PRUNE,
        "test_global_magnitude_prune", {"test_accuracy_vs_sparsity", "test_fine_tune_pruned"}),
    "low-rank factors without the bias": (
        "factorize_linear", [("        if layer.bias is not None:\n            second.bias.copy_(layer.bias.detach())\n", "")],
        "test_factorize_linear", set()),
    "distillation without the temperature-squared factor": (
        "distillation_loss", [("alpha * T * T * soft", "alpha * soft")],
        "test_distillation_loss", {"test_student"}),
    "size ties broken by table order, not recall": (
        "choose_model", [('sort_values(["size_bytes", "_neg_recall"], kind="stable")', 'sort_values(["size_bytes"], kind="stable")')],
        "test_choose_model", set()),
    "throughput in batches per second, not items": (
        "throughput", [('result[int(b)] = float(b / (stats["p50"] / 1000.0))', 'result[int(b)] = float(1 / (stats["p50"] / 1000.0))')],
        "test_throughput", set()),
    "the smallest wait that meets the objective": (
        "largest_max_wait", [("return max(meeting) if meeting else None", "return min(meeting) if meeting else None")],
        "test_largest_max_wait", set()),
}

WRONG_B = {
    "weight bytes of the parameters only (no BatchNorm statistics)": (
        "sizes", [("sum(t.numel() for t in model.state_dict().values() if t.is_floating_point())",
                   "sum(t.numel() for t in model.parameters())")],
        "test_sizes", set()),
    "MACs that forget the stride": (
        "count_macs", [("h_out = (h + 2 * ph - kh) // sh + 1", "h_out = h + 2 * ph - kh + 1"),
                       ("w_out = (w + 2 * pw - kw) // sw + 1", "w_out = w + 2 * pw - kw + 1")],
        "test_count_macs", set()),
    "nearest-rank percentiles instead of the stated definition": (
        "measure_latency", [("np.percentile(times_ms, ", 'np.percentile(times_ms, method="inverted_cdf", q=')],
        "test_measure_latency", {"test_throughput"}),
    "symmetric scale over 128 levels": (
        "quantize_symmetric", [("scale = largest / qmax if", "scale = largest / (qmax + 1) if")],
        "test_quantize_symmetric", set()),
    "fine-tuning lets the pruned weights grow back": (
        "fine_tune_pruned", [("after_step=keep_zeros", "after_step=None")],
        "test_fine_tune_pruned", set()),
    "energy from s instead of s squared": (
        "rank_for_energy", [("np.cumsum(s ** 2) / np.sum(s ** 2)", "np.cumsum(s) / np.sum(s)")],
        "test_rank_for_energy", set()),
    "a student only 2x smaller": (
        "student", [("make_frown_cnn(width=8, hidden=16)", "make_frown_cnn(width=8, hidden=64)")],
        "test_student", set()),
    "a pickled model instead of a weights-only state dict": (
        "export", [("torch.save(model.state_dict(), weights_path)", "torch.save(model, weights_path)"),
                   ("    model = make_model()\n    model.load_state_dict(torch.load(path, weights_only=True))\n",
                    "    model = torch.load(path, weights_only=False)\n")],
        "test_export", set()),
    "identical variants dominate each other": (
        "pareto_front", [("if at_least_as_good and strictly_better:", "if at_least_as_good and j != i:")],
        "test_pareto_front", set()),
    "a FIFO cache instead of LRU": (
        "lru_hit_rate", [("            cache.move_to_end(item)\n", "")],
        "test_lru_hit_rate", set()),
    "batches that do not wait for a busy server": (
        "simulate_batching", [("start = max(ready, free)", "start = ready")],
        "test_simulate_batching", set()),
    "the smallest variant shipped even though it cannot be exported": (
        "choose_model", [('ok = table[table["exportable"].astype(bool)\n               & (table["recall"]', 'ok = table[(table["recall"]')],
        "test_choose_model", set()),
    "accuracy recorded before pruning": (
        "accuracy_vs_sparsity", [("        global_magnitude_prune(pruned, level)\n        accuracies.append(float(evaluate(pruned)))",
                                  "        accuracies.append(float(evaluate(pruned)))\n        global_magnitude_prune(pruned, level)")],
        "test_accuracy_vs_sparsity", set()),
}


def _variant(perfect, wrong: dict):
    nb = perfect
    for cell, edits, *rest in wrong.values():
        if edits is None:
            nb = H.with_answers(nb, {cell: rest[0]})
        else:
            for old, new in edits:
                nb = H.replace_in_answer(nb, cell, old, new)
    return nb


def _must_and_may(wrong: dict):
    must, may = set(), set()
    for spec in wrong.values():
        must.add(spec[-2])
        may |= spec[-1]
    return must, may - must


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    perfect = H.example(A, "perfect")
    return H.grade_examples(A, tmp_path_factory.mktemp("a05"), wrong_a=_variant(perfect, WRONG_A),
                            wrong_b=_variant(perfect, WRONG_B), honest_and_memory=H.honest_with_memory_mistake(A))


def test_honest_globals_named_like_test_names_keep_full_marks(graded):
    """Issue 19: a test's temporaries and the grader's aliases never reach the student's globals."""
    HG.check_full_marks(graded["honest_and_memory"])


# ---------------------------------------------------------------------------------------------
# the examples
# ---------------------------------------------------------------------------------------------
@pytest.mark.slow
def test_perfect_gets_full_marks(graded):
    H.check_perfect(graded["perfect"], min_parts=15)


@pytest.mark.slow
def test_blank_gets_zero(graded):
    H.check_blank(graded["blank"], all_not_attempted=False)


@pytest.mark.slow
def test_partial_is_in_between(graded):
    H.check_partial(graded["partial"])


@pytest.mark.slow
def test_memory_mistake_costs_no_other_part(graded):
    H.check_memory_mistake(graded["honest_and_memory"])


# ---------------------------------------------------------------------------------------------
# wrong but plausible
# ---------------------------------------------------------------------------------------------
CASES = [("wrong_a", name, spec[-2]) for name, spec in WRONG_A.items()] + \
        [("wrong_b", name, spec[-2]) for name, spec in WRONG_B.items()]


@pytest.mark.slow
@pytest.mark.parametrize("variant,name,part", CASES, ids=[c[1] for c in CASES])
def test_wrong_answer_loses_its_part(graded, variant, name, part):
    outcome = H.outcomes(graded[variant])[part]
    assert outcome == "failed", f"{name!r} should fail {part}, got {outcome}"


@pytest.mark.slow
@pytest.mark.parametrize("variant,wrong", [("wrong_a", WRONG_A), ("wrong_b", WRONG_B)])
def test_wrong_answers_cost_nothing_else(graded, variant, wrong):
    must, may = _must_and_may(wrong)
    H.check_lost_exactly(graded[variant], must=must, may=may)


# ---------------------------------------------------------------------------------------------
# release and examples are what the source makes
# ---------------------------------------------------------------------------------------------


def test_the_spec_comes_from_the_course_not_from_literals():
    """Issue 14: part 9 and 10 ship against the course's one spec (course.spec.SPEC), its metric per
    nudge window and its budgets, not against numbers restated in the notebook or an accuracy floor."""
    import re

    source = nbformat.read(H.COURSE.source_notebook(A), as_version=4)
    spec = next(C.source(c) for c in source.cells if C.grade_id(c) == "spec")
    for name in ("SPEC.target_recall", "SPEC.worst_tone_recall", "SPEC.latency_budget_ms", "SPEC.model_mb"):
        assert name in spec
    code = "\n".join(line.split("#")[0] for line in spec.splitlines())
    assert not re.search(r"(?<![\w.])\d", code), f"the spec cell restates a number: {code}"
    everything = "\n".join(C.source(c) for c in source.cells)
    assert "accuracy_floor" not in everything


def test_nothing_is_chosen_on_the_test_calls():
    """Issue 14: the variants are measured and chosen on validation calls; the test calls are read in
    the cell that loads them and once more, after the choice, in the cell that ships."""
    source = nbformat.read(H.COURSE.source_notebook(A), as_version=4)
    readers = [C.grade_id(c) for c in source.cells if "test_calls" in C.source(c)]
    assert readers == ["data_and_teacher", "ship"], readers
    order = [C.grade_id(c) for c in source.cells]
    assert order.index("ship") > order.index("pareto_plot")
