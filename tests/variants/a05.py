"""Wrong-but-plausible answers of 05-deployment-and-compression (issue 20), as data.

tests/test_assignment_05.py grades them; benchmarks/visible_catch.py runs them through the visible
tests only (what a student sees before submitting). Both build the wrong notebooks with `build`.
"""
from __future__ import annotations

from tests import helpers as H

ASSIGNMENT = "05-deployment-and-compression"

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


VARIANTS = {"wrong_a": WRONG_A, "wrong_b": WRONG_B}


def build(perfect, variant: str):
    """The wrong notebook `variant`: the perfect example with that variant's mistakes put in."""
    return _variant(perfect, VARIANTS[variant])


def parts(spec) -> tuple[tuple[str, ...], frozenset[str]]:
    """(the part the mistake must fail, parts that may fail too because they build on it)."""
    return (spec[-2],), frozenset(spec[-1]) - {spec[-2]}
