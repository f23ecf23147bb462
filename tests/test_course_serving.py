"""course.serving: a clock that moves only when asked, a fake model of known latency, request streams."""
from __future__ import annotations

import time

import numpy as np
import pytest

from course.serving import FakeClock, SleepyModel, poisson_arrivals, zipf_requests


def test_fake_clock_moves_only_when_someone_sleeps():
    clock = FakeClock()
    assert clock() == 0.0 and clock() == 0.0
    clock.sleep(0.25)
    clock.sleep(0.0)
    assert clock() == 0.25
    assert FakeClock(start=10.0)() == 10.0
    with pytest.raises(ValueError):
        clock.sleep(-1.0)
    with pytest.raises(TypeError):
        clock.sleep(float("nan"))


def test_sleepy_model_latency_is_known_on_a_fake_clock():
    clock = FakeClock()
    model = SleepyModel(base_ms=3.0, per_item_ms=0.5, warmup_calls=2, warmup_ms=40.0, clock=clock)
    elapsed = []
    for _ in range(4):
        start = clock()
        out = model(np.zeros((4, 7)))
        elapsed.append(clock() - start)
    assert out.shape == (4, 2) and out.dtype == np.float32 and not out.any()
    assert np.allclose(elapsed, [0.045, 0.045, 0.005, 0.005])
    assert model.calls == 4 and model.history_ms == pytest.approx([45.0, 45.0, 5.0, 5.0])
    assert model.expected_ms(10) == pytest.approx(8.0)


def test_sleepy_model_tail_is_seeded_and_positive():
    runs = []
    for _ in range(2):
        clock = FakeClock()
        model = SleepyModel(base_ms=1.0, jitter_ms=2.0, seed=3, clock=clock)
        for _ in range(200):
            model([0])
        runs.append(model.history_ms)
    assert runs[0] == runs[1]
    tail = np.asarray(runs[0]) - 1.0
    assert tail.min() >= 0 and 1.5 < tail.mean() < 2.5
    other = SleepyModel(base_ms=1.0, jitter_ms=2.0, seed=4, clock=FakeClock())
    for _ in range(5):
        other([0])
    assert other.history_ms != runs[0][:5]


def test_sleepy_model_really_sleeps_without_a_clock():
    model = SleepyModel(base_ms=5.0)
    start = time.perf_counter()
    model([1, 2, 3])
    assert time.perf_counter() - start >= 0.0045


def test_sleepy_model_rejects_bad_arguments():
    with pytest.raises(ValueError):
        SleepyModel(base_ms=-1.0)
    with pytest.raises(TypeError):
        SleepyModel(clock=time.perf_counter)
    with pytest.raises(TypeError):
        SleepyModel(clock=FakeClock())(5)


def test_zipf_requests_are_skewed_and_reproducible():
    a = zipf_requests(20_000, 1000, exponent=1.1, seed=1)
    assert a.shape == (20_000,) and a.dtype == np.int64
    assert a.min() >= 0 and a.max() < 1000
    assert np.array_equal(a, zipf_requests(20_000, 1000, exponent=1.1, seed=1))
    assert not np.array_equal(a, zipf_requests(20_000, 1000, exponent=1.1, seed=2))
    counts = np.sort(np.bincount(a, minlength=1000))[::-1]
    weights = 1.0 / np.arange(1, 1001) ** 1.1
    assert counts[0] / len(a) == pytest.approx(weights[0] / weights.sum(), rel=0.1)
    assert counts[:10].sum() > 0.3 * len(a)          # a few items carry much of the traffic
    tops = {int(np.argmax(np.bincount(zipf_requests(5_000, 1000, seed=seed)))) for seed in range(5)}
    assert len(tops) > 1                              # the popular ids change with the seed
    assert zipf_requests(0, 5).shape == (0,)
    uniform = zipf_requests(50_000, 10, exponent=0.0, seed=0)
    assert np.bincount(uniform).min() > 4000


def test_poisson_arrivals_have_the_right_rate():
    t = poisson_arrivals(500.0, 20_000, seed=0)
    assert t.shape == (20_000,) and np.all(np.diff(t) > 0) and t[0] > 0
    assert len(t) / t[-1] == pytest.approx(500.0, rel=0.03)
    gaps = np.diff(t)
    assert gaps.std() / gaps.mean() == pytest.approx(1.0, rel=0.05)  # exponential gaps
    assert np.array_equal(t, poisson_arrivals(500.0, 20_000, seed=0))
    with pytest.raises(ValueError):
        poisson_arrivals(0.0, 10)
